//! A local server for the stand-ins of cloud services that tests talk to (the OpenAI and
//! Deepgram speech stand-ins, the chat completions stand-in): it listens on
//! `127.0.0.1:0`, runs each accepted connection on a tokio runtime of its own thread (so
//! synchronous tests can use it), and shuts down when dropped. What a connection speaks
//! (HTTP, WebSocket) is the stand-in's business.
//!
//! Beside it: [`impair`], a UDP relay that drops and delays datagrams, and (feature
//! `sip-peers`) [`sip`], real SIP peers on loopback (kamailio, baresip, sipp); (feature
//! `postgres`) [`postgres`], a throw-away PostgreSQL cluster.

pub mod events;
pub mod impair;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sip-peers")]
pub mod sip;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// When the server is stopping: `changed()` resolves (long-lived connections watch it).
pub type Stopping = watch::Receiver<bool>;

/// A running server; stops (and joins its thread) when dropped.
pub struct LocalServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl LocalServer {
    /// Listens on `127.0.0.1:0` on a thread named `name`; each connection is handed to
    /// `on_connection`, whose future runs as its own task.
    pub fn start<F, Fut>(name: &str, mut on_connection: F) -> std::io::Result<Self>
    where
        F: FnMut(TcpStream, Stopping) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, mut stop) = watch::channel(false);
        let label = name.to_owned();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => {
                            tracing::error!("{label}: cannot listen: {e}");
                            return;
                        }
                    };
                    loop {
                        tokio::select! {
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                tokio::spawn(on_connection(stream, stop.clone()));
                            }
                            _ = stop.changed() => return,
                        }
                    }
                });
            })?;
        Ok(Self {
            addr,
            shutdown,
            thread: Some(thread),
        })
    }

    /// Serves HTTP/1.1 on `127.0.0.1:0`: every request goes to `handler`. An `Err`
    /// from the handler closes the connection without an answer (how a stand-in scripts
    /// a dropped connection).
    pub fn start_http<H, Fut, E>(name: &str, handler: H) -> std::io::Result<Self>
    where
        H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Self::start(name, move |stream, _| {
            let handler = handler.clone();
            async move {
                let service = service_fn(handler);
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            }
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn each_connection_is_served_and_the_server_stops_when_dropped() {
        let server = LocalServer::start("echo", |mut stream: TcpStream, _| async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 5];
            if stream.read_exact(&mut buf).await.is_ok() {
                let _ = stream.write_all(&buf).await;
            }
        })
        .expect("start");
        let addr = server.addr();
        for word in [b"hello", b"again"] {
            let mut client = std::net::TcpStream::connect(addr).expect("connect");
            client.write_all(word).expect("write");
            let mut back = [0u8; 5];
            client.read_exact(&mut back).expect("read");
            assert_eq!(&back, word);
        }
        drop(server);
        assert!(std::net::TcpStream::connect(addr).is_err(), "stopped");
    }
}
