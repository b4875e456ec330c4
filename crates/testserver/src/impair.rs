//! A UDP relay on loopback that impairs what passes through it, both ways: it drops
//! datagrams at random with a given probability and delays each by a base delay plus
//! jitter (uniform or normal), deterministically for a seed. Put it between a phone under
//! test and its peer (SIP or RTP) to test loss and jitter handling; the client side's
//! address is learned from the first datagram that reaches [`UdpImpairment::addr`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the jitter around the base delay is distributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Uniform in `delay ± jitter`.
    #[default]
    Uniform,
    /// Normal with mean `delay` and standard deviation `jitter` (cut at 0 and at
    /// `delay + 4 × jitter`).
    Normal,
}

/// How to impair.
#[derive(Debug, Clone)]
pub struct ImpairOptions {
    /// Where datagrams from the client go (and answers come from).
    pub upstream: SocketAddr,
    /// Probability (0–1) that a datagram is dropped, each direction.
    pub loss: f64,
    /// Spread of the delay, milliseconds.
    pub jitter_ms: f64,
    /// Base one-way delay, milliseconds.
    pub delay_ms: f64,
    pub jitter: Jitter,
    /// Never let a datagram overtake an earlier one of the same direction (jitter
    /// then bunches datagrams up instead of reordering them).
    pub preserve_order: bool,
    /// The same seed drops and delays the same datagrams (by their order in each
    /// direction).
    pub seed: u64,
}

impl ImpairOptions {
    /// A relay to `upstream` that does not impair (yet).
    pub fn new(upstream: SocketAddr) -> Self {
        Self {
            upstream,
            loss: 0.0,
            jitter_ms: 0.0,
            delay_ms: 0.0,
            jitter: Jitter::Uniform,
            preserve_order: false,
            seed: 1,
        }
    }
}

/// Datagram counts so far. Upstream: client → upstream; downstream: upstream → client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImpairStats {
    pub forwarded_upstream: u64,
    pub dropped_upstream: u64,
    pub forwarded_downstream: u64,
    pub dropped_downstream: u64,
}

impl ImpairStats {
    pub fn forwarded(&self) -> u64 {
        self.forwarded_upstream + self.forwarded_downstream
    }

    pub fn dropped(&self) -> u64 {
        self.dropped_upstream + self.dropped_downstream
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Upstream,
    Downstream,
}

#[derive(Debug, Clone, Copy)]
struct Params {
    loss: f64,
    delay_ms: f64,
    jitter_ms: f64,
}

/// A datagram waiting for its time: ordered by (due, arrival number).
type Pending = Reverse<(Instant, u64, Direction, Vec<u8>)>;

struct Shared {
    front: UdpSocket,
    back: UdpSocket,
    upstream: SocketAddr,
    client: Mutex<Option<SocketAddr>>,
    params: Mutex<Params>,
    jitter: Jitter,
    preserve_order: bool,
    /// One generator per direction, so each direction's fate depends only on its own
    /// datagram order.
    rngs: [Mutex<SplitMix64>; 2],
    last_due: [Mutex<Option<Instant>>; 2],
    queue: Mutex<BinaryHeap<Pending>>,
    queued: Condvar,
    arrivals: AtomicU64,
    stop: AtomicBool,
    forwarded: [AtomicU64; 2],
    dropped: [AtomicU64; 2],
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running relay; stops (its threads joined, datagrams in flight dropped) when dropped.
pub struct UdpImpairment {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl UdpImpairment {
    /// Starts the relay on `127.0.0.1:0`: send to [`UdpImpairment::addr`] instead of
    /// `options.upstream`.
    pub fn start(options: ImpairOptions) -> io::Result<Self> {
        let front = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let back = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        for socket in [&front, &back] {
            socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        }
        let addr = front.local_addr()?;
        let shared = Arc::new(Shared {
            front,
            back,
            upstream: options.upstream,
            client: Mutex::new(None),
            params: Mutex::new(Params {
                loss: options.loss.clamp(0.0, 1.0),
                delay_ms: options.delay_ms.max(0.0),
                jitter_ms: options.jitter_ms.max(0.0),
            }),
            jitter: options.jitter,
            preserve_order: options.preserve_order,
            rngs: [
                Mutex::new(SplitMix64(options.seed)),
                Mutex::new(SplitMix64(options.seed ^ 0x9E37_79B9_7F4A_7C15)),
            ],
            last_due: [Mutex::new(None), Mutex::new(None)],
            queue: Mutex::new(BinaryHeap::new()),
            queued: Condvar::new(),
            arrivals: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            forwarded: [AtomicU64::new(0), AtomicU64::new(0)],
            dropped: [AtomicU64::new(0), AtomicU64::new(0)],
        });
        let mut threads = Vec::new();
        for (name, direction) in [
            ("impair-up", Direction::Upstream),
            ("impair-down", Direction::Downstream),
        ] {
            let shared = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(move || receive(&shared, direction))?,
            );
        }
        let sender = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("impair-send".into())
                .spawn(move || deliver(&sender))?,
        );
        Ok(Self {
            addr,
            shared,
            threads,
        })
    }

    /// Where the client sends (instead of upstream).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the relay's upstream-facing socket: what upstream sees as the
    /// sender.
    pub fn upstream_facing_addr(&self) -> io::Result<SocketAddr> {
        self.shared.back.local_addr()
    }

    /// The client, once its first datagram arrived.
    pub fn client(&self) -> Option<SocketAddr> {
        *lock(&self.shared.client)
    }

    pub fn stats(&self) -> ImpairStats {
        let get =
            |counters: &[AtomicU64; 2], d: Direction| counters[d as usize].load(Ordering::SeqCst);
        ImpairStats {
            forwarded_upstream: get(&self.shared.forwarded, Direction::Upstream),
            dropped_upstream: get(&self.shared.dropped, Direction::Upstream),
            forwarded_downstream: get(&self.shared.forwarded, Direction::Downstream),
            dropped_downstream: get(&self.shared.dropped, Direction::Downstream),
        }
    }

    /// Changes the loss probability from now on (e.g. 1.0 for an outage).
    pub fn set_loss(&self, loss: f64) {
        lock(&self.shared.params).loss = loss.clamp(0.0, 1.0);
    }

    /// Changes the delay and jitter from now on.
    pub fn set_delay(&self, delay_ms: f64, jitter_ms: f64) {
        let mut params = lock(&self.shared.params);
        params.delay_ms = delay_ms.max(0.0);
        params.jitter_ms = jitter_ms.max(0.0);
    }
}

impl Drop for UdpImpairment {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.queued.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn receive(shared: &Shared, direction: Direction) {
    let socket = match direction {
        Direction::Upstream => &shared.front,
        Direction::Downstream => &shared.back,
    };
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::SeqCst) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        match direction {
            Direction::Upstream => {
                let mut client = lock(&shared.client);
                if client.is_none() {
                    *client = Some(from);
                }
            }
            // Only what upstream sends goes back to the client.
            Direction::Downstream if from != shared.upstream => continue,
            Direction::Downstream => {}
        }
        let params = *lock(&shared.params);
        // Three draws per datagram whatever happens: each datagram's fate depends only
        // on its position in its direction.
        let (drop_draw, u1, u2) = {
            let mut rng = lock(&shared.rngs[direction as usize]);
            (rng.next_f64(), rng.next_f64(), rng.next_f64())
        };
        if drop_draw < params.loss {
            shared.dropped[direction as usize].fetch_add(1, Ordering::SeqCst);
            continue;
        }
        let offset = match shared.jitter {
            Jitter::Uniform => (2.0 * u1 - 1.0) * params.jitter_ms,
            Jitter::Normal => {
                // Box-Muller
                let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                (z * params.jitter_ms).clamp(-4.0 * params.jitter_ms, 4.0 * params.jitter_ms)
            }
        };
        let delay_ms = (params.delay_ms + offset).max(0.0);
        let mut due = Instant::now() + Duration::from_secs_f64(delay_ms / 1000.0);
        if shared.preserve_order {
            let mut last = lock(&shared.last_due[direction as usize]);
            if let Some(last) = *last {
                due = due.max(last);
            }
            *last = Some(due);
        }
        let arrival = shared.arrivals.fetch_add(1, Ordering::SeqCst);
        lock(&shared.queue).push(Reverse((due, arrival, direction, buf[..n].to_vec())));
        shared.queued.notify_all();
    }
}

fn deliver(shared: &Shared) {
    let mut queue = lock(&shared.queue);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let now = Instant::now();
        let wait = match queue.peek() {
            Some(Reverse((due, ..))) if *due <= now => None,
            Some(Reverse((due, ..))) => Some(*due - now),
            None => Some(Duration::from_millis(50)),
        };
        if let Some(wait) = wait {
            queue = shared
                .queued
                .wait_timeout(queue, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        let Some(Reverse((_, _, direction, datagram))) = queue.pop() else {
            continue;
        };
        drop(queue);
        // Counted before the send: whoever receives it sees the count already.
        let counter = &shared.forwarded[direction as usize];
        counter.fetch_add(1, Ordering::SeqCst);
        let sent = match direction {
            Direction::Upstream => shared.back.send_to(&datagram, shared.upstream).is_ok(),
            Direction::Downstream => match *lock(&shared.client) {
                Some(client) => shared.front.send_to(&datagram, client).is_ok(),
                None => false,
            },
        };
        if !sent {
            counter.fetch_sub(1, Ordering::SeqCst);
        }
        queue = lock(&shared.queue);
    }
}

/// SplitMix64: small, fast, and the same on every platform and version.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Sends `count` numbered datagrams through a relay with `options` to a sink and
    /// returns the numbers that arrived, with the relay's counts.
    fn run(
        options: impl Fn(SocketAddr) -> ImpairOptions,
        count: u32,
    ) -> (BTreeSet<u32>, ImpairStats) {
        let sink = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("sink");
        sink.set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        let relay = UdpImpairment::start(options(sink.local_addr().expect("addr"))).expect("relay");
        // Read while sending: a socket buffer holds only a few hundred datagrams.
        let reader = std::thread::spawn(move || {
            let mut got = BTreeSet::new();
            let mut buf = [0u8; 16];
            while let Ok((n, _)) = sink.recv_from(&mut buf) {
                if n == 4 {
                    got.insert(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
                }
            }
            got
        });
        let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("client");
        for i in 0..count {
            client
                .send_to(&i.to_be_bytes(), relay.addr())
                .expect("send");
            if i % 20 == 19 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let got = reader.join().expect("sink thread");
        (got, relay.stats())
    }

    #[test]
    fn the_same_seed_drops_the_same_datagrams() {
        let options = |seed| {
            move |upstream| ImpairOptions {
                loss: 0.3,
                seed,
                ..ImpairOptions::new(upstream)
            }
        };
        let (first, stats) = run(options(7), 1000);
        let (second, _) = run(options(7), 1000);
        let (other, _) = run(options(8), 1000);
        assert_eq!(first, second);
        assert_ne!(first, other);
        assert_eq!(stats.forwarded_upstream + stats.dropped_upstream, 1000);
        assert_eq!(stats.forwarded_upstream, first.len() as u64);
        let loss = stats.dropped_upstream as f64 / 1000.0;
        assert!((loss - 0.3).abs() < 0.05, "loss {loss}");
    }

    #[test]
    fn datagrams_are_delayed_both_ways_and_answers_reach_the_client() {
        let echo = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("echo");
        let upstream = echo.local_addr().expect("addr");
        let echo_thread = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            echo.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            for _ in 0..5 {
                let Ok((n, from)) = echo.recv_from(&mut buf) else {
                    return;
                };
                echo.send_to(&buf[..n], from).expect("echo");
            }
        });
        let relay = UdpImpairment::start(ImpairOptions {
            delay_ms: 60.0,
            jitter_ms: 10.0,
            jitter: Jitter::Normal,
            preserve_order: true,
            ..ImpairOptions::new(upstream)
        })
        .expect("relay");
        let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("client");
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut buf = [0u8; 64];
        for i in 0..5u8 {
            let sent = Instant::now();
            client.send_to(&[i], relay.addr()).expect("send");
            let (n, from) = client.recv_from(&mut buf).expect("answer");
            let rtt = sent.elapsed();
            assert_eq!((&buf[..n], from), (&[i][..], relay.addr()));
            // two legs of 60 ms ± 40 ms (4 sigma)
            assert!(
                rtt >= Duration::from_millis(40) && rtt < Duration::from_millis(400),
                "{rtt:?}"
            );
        }
        echo_thread.join().expect("echo thread");
        assert_eq!(relay.client(), Some(client.local_addr().expect("addr")));
        let stats = relay.stats();
        assert_eq!(
            (stats.forwarded_upstream, stats.forwarded_downstream),
            (5, 5)
        );
        assert_eq!(stats.dropped(), 0);
    }

    #[test]
    fn the_generator_is_uniform_enough() {
        let mut rng = SplitMix64(42);
        let draws: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
