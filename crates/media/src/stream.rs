//! [`MediaStream`]: the media of one call, run by one real-time thread that owns the
//! call's UDP socket(s).
//!
//! Every 20 ms, against absolute deadlines on the monotonic clock, the thread takes a
//! frame from the microphone ring, sends it as RTP (or SRTP), and plays one frame from
//! the jitter buffer into the far-end ring. Between ticks it waits on the socket for
//! the peer's packets. RTCP goes on the same socket (rtcp-mux, demultiplexed by packet
//! type) or on a second socket (RFC 3550's port + 1). Anything that is not valid media
//! from the peer is counted and dropped; nothing a datagram contains can stop the call.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng as _;

use crate::codec::{Codec, Encoder, FRAME_DURATION, FRAME_SAMPLES};
use crate::dtmf::{self, DtmfPacket, DtmfReceiver};
use crate::emodel::EModel;
use crate::jitter::{JitterBuffer, JitterConfig};
use crate::packet::{self, DatagramKind, RtpHeader};
use crate::sdes::SdesKey;
use crate::srtp::{SrtpError, SrtpSession};
use crate::stats::{self, NtpClock, ReceiverStats, RtcpPacket, SenderStats};

/// Capacity of the microphone and far-end rings: one second of 8 kHz audio.
const RING_SAMPLES: usize = 8_000;
/// Microphone audio queued beyond this (100 ms) is discarded to bound latency.
const MAX_MIC_BACKLOG: usize = 800;
/// A tick this late means the thread was starved; the schedule restarts from now.
const MAX_TICK_LATENESS: Duration = Duration::from_millis(100);
/// Largest datagram read.
const MAX_DATAGRAM: usize = 2048;
/// Ticks of audio between two queued DTMF digits.
const DTMF_GAP_TICKS: u32 = 3;
/// Longest wait between polls of a separate RTCP socket.
const RTCP_POLL_INTERVAL: Duration = Duration::from_millis(5);
/// Comfort noise (RFC 3389), which we do not render.
const COMFORT_NOISE_PT: u8 = 13;

/// What a call's media needs: the sockets, where the peer is, and what was negotiated.
#[derive(Debug)]
pub struct MediaConfig {
    /// The RTP socket, already bound (its port is in our SDP).
    pub socket: UdpSocket,
    /// A separate RTCP socket (RFC 3550: RTP port + 1); `None` for rtcp-mux.
    pub rtcp_socket: Option<UdpSocket>,
    /// Where the peer receives RTP.
    pub remote: SocketAddr,
    /// Where the peer receives RTCP (SDP `a=rtcp`); default: RTP port + 1 with an
    /// RTCP socket, the RTP address without.
    pub remote_rtcp: Option<SocketAddr>,
    pub codec: Codec,
    /// The negotiated `telephone-event/8000` payload type, if any.
    pub dtmf_payload_type: Option<u8>,
    /// SDES keys (ours, the peer's) for SRTP; `None` for plain RTP.
    pub srtp: Option<(SdesKey, SdesKey)>,
    /// Jitter-buffer tuning.
    pub jitter: JitterConfig,
    /// Mean interval between our RTCP reports (randomised ±50 %).
    pub rtcp_interval: Duration,
}

impl MediaConfig {
    /// Plain RTP with rtcp-mux, default jitter buffer and 5 s RTCP interval.
    pub fn new(socket: UdpSocket, remote: SocketAddr, codec: Codec) -> MediaConfig {
        MediaConfig {
            socket,
            rtcp_socket: None,
            remote,
            remote_rtcp: None,
            codec,
            dtmf_payload_type: Some(dtmf::DEFAULT_PAYLOAD_TYPE),
            srtp: None,
            jitter: JitterConfig::default(),
            rtcp_interval: Duration::from_secs(5),
        }
    }
}

/// The audio ends the caller plugs into the audio engine: 8 kHz mono f32 in −1..1.
pub struct MediaIo {
    /// Write the microphone here (one 20 ms frame is taken per tick).
    pub mic: rtrb::Producer<f32>,
    /// Read the decoded far end here (one 20 ms frame per tick, concealment included).
    pub far_end: rtrb::Consumer<f32>,
}

impl std::fmt::Debug for MediaIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaIo").finish_non_exhaustive()
    }
}

/// Why a stream could not start or a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media socket: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Srtp(#[from] SrtpError),
    #[error("no telephone-event payload type was negotiated, so DTMF cannot be sent")]
    DtmfNotNegotiated,
    #[error("{0:?} is not a DTMF digit (0-9, *, #, A-D)")]
    BadDigit(char),
    #[error("the media stream has stopped")]
    Stopped,
    #[error("the {codec} encoder: {reason}")]
    Codec { codec: Codec, reason: String },
}

/// The state of a call's media, as of the last tick.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MediaStats {
    /// The codec the call runs (`PCMU`, `PCMA`, `opus`).
    pub codec: &'static str,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// RTP packets the peer sent that never arrived (RFC 3550 cumulative loss).
    pub packets_lost: u64,
    /// Packets that arrived after their playout time.
    pub late_packets: u64,
    pub duplicate_packets: u64,
    /// Frames concealed because their audio was missing at playout.
    pub concealed_frames: u64,
    /// Share of played frames that were concealed, in percent.
    pub playout_loss_percent: f64,
    /// RFC 3550 interarrival jitter of the peer's stream.
    pub jitter_ms: f64,
    /// Current and target jitter-buffer delay.
    pub buffer_delay_ms: f64,
    pub buffer_target_ms: f64,
    /// Round-trip time from the peer's reports, once known.
    pub rtt_ms: Option<f64>,
    /// How the peer says it receives us (its last report block on our stream).
    pub remote_fraction_lost: Option<f64>,
    pub remote_jitter_ms: Option<f64>,
    /// E-model rating and MOS of what we hear: measured playout loss and burstiness,
    /// and delay = buffer delay + RTT/2 + 20 ms packetisation.
    pub r_factor: f64,
    pub mos: f64,
    /// Datagrams that were not valid media (dropped).
    pub malformed_packets: u64,
    /// SRTP/SRTCP packets that failed authentication or replay checks (dropped).
    pub srtp_failures: u64,
    /// Packets from an SSRC other than the current one (dropped unless it takes over).
    pub foreign_ssrc_packets: u64,
    /// Times the peer's stream switched SSRC.
    pub ssrc_changes: u64,
    pub dtmf_sent: u64,
    pub dtmf_received: u64,
    /// Ticks that found less than a frame of microphone audio.
    pub mic_underruns: u64,
    /// Frames not delivered because the far-end ring was full.
    pub far_end_overruns: u64,
    /// Ticks that ran more than 100 ms late (the thread was starved).
    pub late_ticks: u64,
    pub send_errors: u64,
    /// CPU time the media thread has used (where the platform reports it).
    pub thread_cpu_ms: Option<f64>,
}

enum Command {
    SetRemote(SocketAddr),
    SetRemoteRtcp(Option<SocketAddr>),
    SetSending(bool),
    SetMute(bool),
    SendDtmf(char),
}

struct Shared {
    stats: Mutex<MediaStats>,
    stop: AtomicBool,
}

/// The media of one call. Dropping it stops the thread.
pub struct MediaStream {
    commands: mpsc::Sender<Command>,
    dtmf_events: Mutex<mpsc::Receiver<char>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    local_addr: SocketAddr,
    dtmf_negotiated: bool,
}

impl std::fmt::Debug for MediaStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStream")
            .field("local_addr", &self.local_addr)
            .field("running", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}

impl MediaStream {
    /// Starts the call's media thread. Returns the stream (control) and the audio ends.
    pub fn start(config: MediaConfig) -> Result<(MediaStream, MediaIo), MediaError> {
        let local_addr = config.socket.local_addr()?;
        let srtp = config
            .srtp
            .as_ref()
            .map(|(local, remote)| SrtpSession::new(local, remote))
            .transpose()?;
        if let Some(rtcp) = &config.rtcp_socket {
            rtcp.set_nonblocking(true)?;
        }
        let (mic, mic_consumer) = rtrb::RingBuffer::new(RING_SAMPLES);
        let (far_end_producer, far_end) = rtrb::RingBuffer::new(RING_SAMPLES);
        let (commands, command_rx) = mpsc::channel();
        let (dtmf_tx, dtmf_rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            stats: Mutex::new(MediaStats::default()),
            stop: AtomicBool::new(false),
        });
        let dtmf_negotiated = config.dtmf_payload_type.is_some();
        let encoder = Encoder::new(config.codec).map_err(|e| MediaError::Codec {
            codec: config.codec,
            reason: e.to_string(),
        })?;
        let engine = Engine::new(
            config,
            encoder,
            srtp,
            mic_consumer,
            far_end_producer,
            command_rx,
            dtmf_tx,
            Arc::clone(&shared),
        );
        let thread = std::thread::Builder::new()
            .name("cuecard-media".into())
            .spawn(move || engine.run())?;
        tracing::info!(%local_addr, "media stream started");
        Ok((
            MediaStream {
                commands,
                dtmf_events: Mutex::new(dtmf_rx),
                shared,
                thread: Some(thread),
                local_addr,
                dtmf_negotiated,
            },
            MediaIo { mic, far_end },
        ))
    }

    /// Our RTP socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Sends RTP to a new address from now on (a re-INVITE moved the peer). RTCP
    /// follows unless [`MediaStream::set_remote_rtcp`] says otherwise.
    pub fn set_remote(&self, remote: SocketAddr) -> Result<(), MediaError> {
        self.command(Command::SetRemote(remote))
    }

    /// Where to send RTCP (`None`: the default for the RTP address).
    pub fn set_remote_rtcp(&self, remote_rtcp: Option<SocketAddr>) -> Result<(), MediaError> {
        self.command(Command::SetRemoteRtcp(remote_rtcp))
    }

    /// Whether to send audio (false: on hold; RTCP and receiving carry on).
    pub fn set_sending(&self, sending: bool) -> Result<(), MediaError> {
        self.command(Command::SetSending(sending))
    }

    /// Whether to send silence instead of the microphone.
    pub fn set_mute(&self, muted: bool) -> Result<(), MediaError> {
        self.command(Command::SetMute(muted))
    }

    /// Queues one DTMF digit (RFC 4733, 100 ms) for sending.
    pub fn send_dtmf(&self, digit: char) -> Result<(), MediaError> {
        if !self.dtmf_negotiated {
            return Err(MediaError::DtmfNotNegotiated);
        }
        if dtmf::event_code(digit).is_none() {
            return Err(MediaError::BadDigit(digit));
        }
        self.command(Command::SendDtmf(digit))
    }

    /// Digits the peer sent since the last call.
    pub fn dtmf_events(&self) -> Vec<char> {
        match self.dtmf_events.lock() {
            Ok(events) => events.try_iter().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The call's media statistics as of the last tick.
    pub fn stats(&self) -> MediaStats {
        match self.shared.stats.lock() {
            Ok(stats) => stats.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether the media thread is still running.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the thread (sending an RTCP BYE) and waits for it. Idempotent.
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("media thread panicked");
            }
            tracing::info!(local_addr = %self.local_addr, "media stream stopped");
        }
    }

    fn command(&self, command: Command) -> Result<(), MediaError> {
        self.commands.send(command).map_err(|_| MediaError::Stopped)
    }
}

impl Drop for MediaStream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A digit being sent, one packet per tick.
struct DtmfSending {
    packets: Vec<DtmfPacket>,
    next: usize,
    timestamp: u32,
}

/// Everything the media thread owns.
struct Engine {
    socket: UdpSocket,
    rtcp_socket: Option<UdpSocket>,
    remote: SocketAddr,
    remote_rtcp: Option<SocketAddr>,
    codec: Codec,
    encoder: Encoder,
    dtmf_payload_type: Option<u8>,
    srtp: Option<SrtpSession>,
    rtcp_interval: Duration,

    mic: rtrb::Consumer<f32>,
    far_end: rtrb::Producer<f32>,
    commands: mpsc::Receiver<Command>,
    dtmf_out: mpsc::Sender<char>,
    shared: Arc<Shared>,

    // Sending.
    ssrc: u32,
    cname: String,
    sequence: u16,
    timestamp: u32,
    sending: bool,
    muted: bool,
    marker_next: bool,
    dtmf_queue: VecDeque<char>,
    dtmf_sending: Option<DtmfSending>,
    dtmf_gap: u32,
    sender_stats: SenderStats,

    // Receiving.
    remote_ssrc: Option<u32>,
    ssrc_candidate: Option<(u32, u16)>,
    jitter: JitterBuffer,
    receiver_stats: ReceiverStats,
    dtmf_in: DtmfReceiver,
    clock: NtpClock,
    next_rtcp: Instant,
    rtt: Option<Duration>,
    remote_report: Option<rtcp::reception_report::ReceptionReport>,

    stats: MediaStats,
    frame: [i16; FRAME_SAMPLES],
    payload: Vec<u8>,
    buffer: Vec<u8>,
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    fn new(
        config: MediaConfig,
        encoder: Encoder,
        srtp: Option<SrtpSession>,
        mic: rtrb::Consumer<f32>,
        far_end: rtrb::Producer<f32>,
        commands: mpsc::Receiver<Command>,
        dtmf_out: mpsc::Sender<char>,
        shared: Arc<Shared>,
    ) -> Engine {
        let mut rng = rand::rng();
        let now = Instant::now();
        Engine {
            socket: config.socket,
            rtcp_socket: config.rtcp_socket,
            remote: config.remote,
            remote_rtcp: config.remote_rtcp,
            codec: config.codec,
            encoder,
            dtmf_payload_type: config.dtmf_payload_type,
            srtp,
            rtcp_interval: config.rtcp_interval,
            mic,
            far_end,
            commands,
            dtmf_out,
            shared,
            ssrc: rng.random(),
            cname: format!("{:016x}@cuecard", rng.random::<u64>()),
            sequence: rng.random(),
            timestamp: rng.random(),
            sending: true,
            muted: false,
            marker_next: true,
            dtmf_queue: VecDeque::new(),
            dtmf_sending: None,
            dtmf_gap: 0,
            sender_stats: SenderStats::default(),
            remote_ssrc: None,
            ssrc_candidate: None,
            jitter: JitterBuffer::with_config(config.codec, config.jitter),
            receiver_stats: ReceiverStats::new(config.codec.clock_rate()),
            dtmf_in: DtmfReceiver::new(),
            clock: NtpClock::new(),
            next_rtcp: now + config.rtcp_interval.mul_f64(rng.random_range(0.25..0.75)),
            rtt: None,
            remote_report: None,
            stats: MediaStats::default(),
            frame: [0; FRAME_SAMPLES],
            payload: Vec::with_capacity(FRAME_SAMPLES),
            buffer: vec![0; MAX_DATAGRAM],
        }
    }

    fn run(mut self) {
        let mut next_tick = Instant::now();
        while !self.shared.stop.load(Ordering::Acquire) {
            self.apply_commands();
            let now = Instant::now();
            if now >= next_tick {
                self.tick(next_tick, now);
                next_tick += FRAME_DURATION;
                if now > next_tick + MAX_TICK_LATENESS {
                    // The thread was starved. Skip the missed ticks, but keep the RTP
                    // clock on real time: the peer sees a gap in our audio (as after
                    // silence suppression), not a step in our packets' delay.
                    let missed = ((now - next_tick).as_nanos() / FRAME_DURATION.as_nanos()) as u32;
                    self.timestamp = self
                        .timestamp
                        .wrapping_add(missed.wrapping_mul(self.timestamp_step()));
                    self.stats.late_ticks += 1;
                    tracing::debug!(missed, "media thread starved; restarting the tick schedule");
                    next_tick += FRAME_DURATION * missed;
                }
                continue;
            }
            // A separate RTCP socket is polled between waits, so cap the wait: its
            // reports' arrival times feed the round-trip time.
            let wait = next_tick - now;
            if self.rtcp_socket.is_some() {
                self.wait_for_packets(wait.min(RTCP_POLL_INTERVAL));
                self.drain_rtcp_socket();
            } else {
                self.wait_for_packets(wait);
            }
        }
        self.send_bye();
    }

    fn apply_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::SetRemote(remote) => {
                    tracing::info!(%remote, "media: peer moved");
                    self.remote = remote;
                }
                Command::SetRemoteRtcp(remote_rtcp) => self.remote_rtcp = remote_rtcp,
                Command::SetSending(sending) => {
                    if sending && !self.sending {
                        self.marker_next = true;
                    }
                    self.sending = sending;
                }
                Command::SetMute(muted) => self.muted = muted,
                Command::SendDtmf(digit) => self.dtmf_queue.push_back(digit),
            }
        }
    }

    /// Waits up to `timeout` for one datagram on the RTP socket and handles it.
    fn wait_for_packets(&mut self, timeout: Duration) {
        let timeout = timeout.max(Duration::from_micros(100));
        if let Err(error) = self.socket.set_read_timeout(Some(timeout)) {
            tracing::warn!(%error, "media: cannot set socket timeout");
            std::thread::sleep(timeout);
            return;
        }
        let mut buffer = std::mem::take(&mut self.buffer);
        match self.socket.recv_from(&mut buffer) {
            Ok((len, _from)) => {
                let arrival = Instant::now();
                self.on_datagram(buffer.get(..len).unwrap_or_default(), arrival, false);
            }
            Err(error) => self.on_recv_error(&error, timeout),
        }
        self.buffer = buffer;
    }

    fn on_recv_error(&mut self, error: &io::Error, timeout: Duration) {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted => {}
            // An ICMP "port unreachable" for an earlier send (the peer is not up yet).
            io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => {}
            _ => {
                tracing::warn!(%error, "media: receive failed");
                std::thread::sleep(timeout);
            }
        }
    }

    fn drain_rtcp_socket(&mut self) {
        let Some(socket) = self.rtcp_socket.as_ref() else {
            return;
        };
        let mut datagrams = Vec::new();
        loop {
            match socket.recv_from(&mut self.buffer) {
                Ok((len, _)) => {
                    datagrams.push((
                        Bytes::copy_from_slice(self.buffer.get(..len).unwrap_or_default()),
                        Instant::now(),
                    ));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) => {
                    tracing::trace!(%error, "media: RTCP receive failed");
                    break;
                }
            }
        }
        for (datagram, arrival) in datagrams {
            self.on_datagram(&datagram, arrival, true);
        }
    }

    fn on_datagram(&mut self, datagram: &[u8], arrival: Instant, on_rtcp_socket: bool) {
        match packet::classify(datagram) {
            DatagramKind::Rtcp => self.on_rtcp(datagram, arrival),
            DatagramKind::Rtp if !on_rtcp_socket => self.on_rtp(datagram, arrival),
            _ => {
                self.stats.malformed_packets += 1;
                tracing::trace!(
                    len = datagram.len(),
                    "media: dropped a datagram that is not RTP/RTCP"
                );
            }
        }
    }

    fn on_rtp(&mut self, datagram: &[u8], arrival: Instant) {
        let plain = match self.srtp.as_mut() {
            Some(srtp) => match srtp.unprotect_rtp(datagram) {
                Ok(plain) => plain,
                Err(error) => {
                    self.count_srtp_error(&error);
                    return;
                }
            },
            None => Bytes::copy_from_slice(datagram),
        };
        let packet = match packet::parse_rtp(&plain) {
            Ok(packet) => packet,
            Err(error) => {
                self.stats.malformed_packets += 1;
                tracing::trace!(%error, "media: dropped malformed RTP");
                return;
            }
        };
        let header = &packet.header;
        if !self.accept_ssrc(header.ssrc, header.sequence_number) {
            return;
        }
        let payload_type = header.payload_type;
        if Some(payload_type) == self.dtmf_payload_type {
            self.receiver_stats.on_rtp(
                header.ssrc,
                header.sequence_number,
                header.timestamp,
                arrival,
            );
            self.stats.packets_received += 1;
            for digit in self.dtmf_in.on_packet(header.timestamp, &packet.payload) {
                self.stats.dtmf_received += 1;
                tracing::debug!(digit = %digit.digit, "media: DTMF received");
                let _ = self.dtmf_out.send(digit.digit);
            }
            if let Ok(event) = dtmf::TelephoneEvent::parse(&packet.payload) {
                self.jitter.push_silence(
                    header.sequence_number,
                    header.timestamp,
                    usize::from(event.duration),
                );
            }
        } else if let Some(codec) = (payload_type == self.codec.payload_type())
            .then_some(self.codec)
            .or_else(|| Codec::from_payload_type(payload_type))
        {
            self.receiver_stats.on_rtp(
                header.ssrc,
                header.sequence_number,
                header.timestamp,
                arrival,
            );
            self.stats.packets_received += 1;
            if codec != self.jitter.codec() {
                tracing::info!(%codec, "media: peer switched codec");
                self.jitter.set_codec(codec);
            }
            self.jitter.push(
                header.sequence_number,
                header.timestamp,
                &packet.payload,
                arrival,
            );
        } else if payload_type == COMFORT_NOISE_PT {
            self.receiver_stats.on_rtp(
                header.ssrc,
                header.sequence_number,
                header.timestamp,
                arrival,
            );
            self.stats.packets_received += 1;
        } else {
            self.stats.malformed_packets += 1;
            tracing::trace!(
                payload_type,
                "media: dropped RTP with an unknown payload type"
            );
        }
    }

    /// Locks onto the peer's SSRC; a new SSRC takes over after two packets in sequence
    /// (a re-INVITE or transfer changed the source), resynchronising the buffer.
    fn accept_ssrc(&mut self, ssrc: u32, seq: u16) -> bool {
        match self.remote_ssrc {
            None => {
                self.remote_ssrc = Some(ssrc);
                true
            }
            Some(current) if current == ssrc => {
                self.ssrc_candidate = None;
                true
            }
            Some(_) => {
                let takes_over = matches!(
                    self.ssrc_candidate,
                    Some((candidate, last_seq)) if candidate == ssrc && seq == last_seq.wrapping_add(1)
                );
                if takes_over {
                    tracing::info!(ssrc, "media: peer changed SSRC; resync");
                    self.remote_ssrc = Some(ssrc);
                    self.ssrc_candidate = None;
                    self.stats.ssrc_changes += 1;
                    self.jitter.reset_source();
                    true
                } else {
                    self.ssrc_candidate = Some((ssrc, seq));
                    self.stats.foreign_ssrc_packets += 1;
                    false
                }
            }
        }
    }

    fn on_rtcp(&mut self, datagram: &[u8], arrival: Instant) {
        let plain = match self.srtp.as_mut() {
            Some(srtp) => match srtp.unprotect_rtcp(datagram) {
                Ok(plain) => plain,
                Err(error) => {
                    self.count_srtp_error(&error);
                    return;
                }
            },
            None => Bytes::copy_from_slice(datagram),
        };
        let packets = match stats::parse_compound(&plain) {
            Ok(packets) => packets,
            Err(error) => {
                self.stats.malformed_packets += 1;
                tracing::trace!(%error, "media: dropped malformed RTCP");
                return;
            }
        };
        for packet in packets {
            if let RtcpPacket::SenderReport(sr) = &packet
                && Some(sr.ssrc) == self.remote_ssrc
            {
                self.receiver_stats.on_sender_report(sr, arrival);
            }
            if let RtcpPacket::Goodbye(bye) = &packet {
                tracing::debug!(sources = ?bye.sources, "media: peer sent RTCP BYE");
            }
            for block in packet.reports().iter().filter(|b| b.ssrc == self.ssrc) {
                if let Some(rtt) = stats::round_trip_time(block, &self.clock, arrival) {
                    self.rtt = Some(rtt);
                }
                self.remote_report = Some(block.clone());
            }
        }
    }

    fn count_srtp_error(&mut self, error: &SrtpError) {
        match error {
            SrtpError::Rejected(_) | SrtpError::RtcpNotEncrypted => self.stats.srtp_failures += 1,
            _ => self.stats.malformed_packets += 1,
        }
        tracing::trace!(%error, "media: dropped SRTP packet");
    }

    /// RTP timestamp units in one 20 ms frame (160 for G.711, 960 for Opus).
    fn timestamp_step(&self) -> u32 {
        FRAME_SAMPLES as u32 * self.codec.timestamp_scale()
    }

    /// One 20 ms step: send a frame, play a frame, report now and then.
    fn tick(&mut self, deadline: Instant, now: Instant) {
        self.read_mic();
        self.send_media(now);
        self.timestamp = self.timestamp.wrapping_add(self.timestamp_step());
        self.play(deadline);
        if now >= self.next_rtcp {
            self.send_report(now);
            let jittered = self
                .rtcp_interval
                .mul_f64(rand::rng().random_range(0.5..1.5));
            self.next_rtcp = now + jittered;
        }
        self.publish_stats();
    }

    fn read_mic(&mut self) {
        let available = self.mic.slots();
        if available > MAX_MIC_BACKLOG {
            let excess = available - FRAME_SAMPLES;
            if let Ok(chunk) = self.mic.read_chunk(excess) {
                chunk.commit_all();
            }
        }
        let take = self.mic.slots().min(FRAME_SAMPLES);
        if take < FRAME_SAMPLES {
            self.stats.mic_underruns += 1;
        }
        self.frame = [0; FRAME_SAMPLES];
        if let Ok(chunk) = self.mic.read_chunk(take) {
            let (first, second) = chunk.as_slices();
            for (slot, &sample) in self.frame.iter_mut().zip(first.iter().chain(second)) {
                *slot = (sample.clamp(-1.0, 1.0) * 32_767.0) as i16;
            }
            chunk.commit_all();
        }
    }

    fn send_media(&mut self, now: Instant) {
        if !self.sending {
            return;
        }
        if self.dtmf_sending.is_none()
            && self.dtmf_gap == 0
            && let Some(digit) = self.dtmf_queue.pop_front()
        {
            match dtmf::digit_packets(digit, dtmf::DEFAULT_DIGIT_MS, self.codec.timestamp_scale()) {
                Ok(packets) => {
                    self.dtmf_sending = Some(DtmfSending {
                        packets,
                        next: 0,
                        timestamp: self.timestamp,
                    });
                    self.stats.dtmf_sent += 1;
                }
                Err(error) => tracing::warn!(%error, "media: DTMF digit refused"),
            }
        }
        self.dtmf_gap = self.dtmf_gap.saturating_sub(1);
        if let (Some(sending), Some(payload_type)) =
            (self.dtmf_sending.as_mut(), self.dtmf_payload_type)
        {
            let Some(packet) = sending.packets.get(sending.next).copied() else {
                self.dtmf_sending = None;
                return;
            };
            sending.next += 1;
            let timestamp = sending.timestamp;
            if sending.next >= sending.packets.len() {
                self.dtmf_sending = None;
                self.dtmf_gap = DTMF_GAP_TICKS;
                self.marker_next = true;
            }
            let header = RtpHeader {
                payload_type,
                marker: packet.marker,
                sequence_number: self.sequence,
                timestamp,
                ssrc: self.ssrc,
            };
            self.send_rtp(header, &packet.event.to_bytes(), now);
            return;
        }

        self.payload.clear();
        if self.muted {
            self.frame = [0; FRAME_SAMPLES];
        }
        self.encoder.encode(&self.frame, &mut self.payload);
        if self.payload.is_empty() {
            return;
        }
        let header = RtpHeader {
            payload_type: self.codec.payload_type(),
            marker: std::mem::take(&mut self.marker_next),
            sequence_number: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        let payload = std::mem::take(&mut self.payload);
        self.send_rtp(header, &payload, now);
        self.payload = payload;
    }

    fn send_rtp(&mut self, header: RtpHeader, payload: &[u8], now: Instant) {
        self.sequence = self.sequence.wrapping_add(1);
        let packet = packet::build_rtp(header, payload);
        let wire = match self.srtp.as_mut() {
            Some(srtp) => match srtp.protect_rtp(&packet) {
                Ok(wire) => wire,
                Err(error) => {
                    self.stats.send_errors += 1;
                    tracing::warn!(%error, "media: SRTP protect failed");
                    return;
                }
            },
            None => packet,
        };
        match self.socket.send_to(&wire, self.remote) {
            Ok(_) => {
                self.stats.packets_sent += 1;
                self.sender_stats
                    .on_sent(header.timestamp, payload.len(), now);
            }
            Err(error) => {
                self.stats.send_errors += 1;
                tracing::trace!(%error, "media: RTP send failed");
            }
        }
    }

    fn play(&mut self, deadline: Instant) {
        let samples = self.jitter.pop(deadline).samples();
        match self.far_end.write_chunk_uninit(FRAME_SAMPLES) {
            Ok(chunk) => {
                chunk.fill_from_iter(samples.iter().map(|&s| f32::from(s) / 32_768.0));
            }
            Err(_) => self.stats.far_end_overruns += 1,
        }
    }

    fn rtcp_destination(&self) -> SocketAddr {
        self.remote_rtcp.unwrap_or_else(|| {
            if self.rtcp_socket.is_some() {
                SocketAddr::new(self.remote.ip(), self.remote.port().wrapping_add(1))
            } else {
                self.remote
            }
        })
    }

    fn send_rtcp(&mut self, compound: &[u8]) {
        let wire = match self.srtp.as_mut() {
            Some(srtp) => match srtp.protect_rtcp(compound) {
                Ok(wire) => wire,
                Err(error) => {
                    tracing::warn!(%error, "media: SRTCP protect failed");
                    return;
                }
            },
            None => Bytes::copy_from_slice(compound),
        };
        let destination = self.rtcp_destination();
        let socket = self.rtcp_socket.as_ref().unwrap_or(&self.socket);
        if let Err(error) = socket.send_to(&wire, destination) {
            tracing::trace!(%error, "media: RTCP send failed");
        }
    }

    fn send_report(&mut self, now: Instant) {
        match stats::build_report(
            self.ssrc,
            &self.cname,
            &mut self.sender_stats,
            &mut self.receiver_stats,
            &self.clock,
            now,
        ) {
            Ok(compound) => self.send_rtcp(&compound),
            Err(error) => tracing::warn!(%error, "media: could not build RTCP report"),
        }
    }

    fn send_bye(&mut self) {
        match stats::build_bye(self.ssrc) {
            Ok(bye) => self.send_rtcp(&bye),
            Err(error) => tracing::warn!(%error, "media: could not build RTCP BYE"),
        }
    }

    fn publish_stats(&mut self) {
        let jitter = self.jitter.stats();
        let loss = self.jitter.loss_pattern();
        let rtt_ms = self.rtt.map(|rtt| rtt.as_secs_f64() * 1000.0);
        let one_way_delay = jitter.delay_ms + rtt_ms.unwrap_or(0.0) / 2.0 + 20.0;
        let quality =
            EModel::G711_WITH_PLC.quality(one_way_delay, loss.loss_percent(), loss.burst_ratio());

        let stats = &mut self.stats;
        stats.codec = self.codec.name();
        stats.packets_lost = self.receiver_stats.cumulative_lost();
        stats.late_packets = jitter.late;
        stats.duplicate_packets = jitter.duplicates;
        stats.concealed_frames = jitter.concealed;
        stats.playout_loss_percent = loss.loss_percent();
        stats.jitter_ms = self.receiver_stats.jitter_ms();
        stats.buffer_delay_ms = jitter.delay_ms;
        stats.buffer_target_ms = jitter.target_ms;
        stats.rtt_ms = rtt_ms;
        stats.remote_fraction_lost = self
            .remote_report
            .as_ref()
            .map(|r| f64::from(r.fraction_lost) / 256.0);
        stats.remote_jitter_ms = self
            .remote_report
            .as_ref()
            .map(|r| f64::from(r.jitter) * 1000.0 / f64::from(self.codec.clock_rate()));
        stats.r_factor = quality.r_factor;
        stats.mos = quality.mos;
        stats.thread_cpu_ms = thread_cpu_time().map(|d| d.as_secs_f64() * 1000.0);

        if let Ok(mut shared) = self.shared.stats.try_lock() {
            shared.clone_from(&self.stats);
        }
    }
}

/// CPU time used by the calling thread.
#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return None;
    }
    Some(Duration::new(
        u64::try_from(ts.tv_sec).ok()?,
        u32::try_from(ts.tv_nsec).ok()?,
    ))
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}
