//! The phone's flow to its SIP proxy over UDP, TCP or TLS (RFC 3261 §18). Incoming bytes
//! become [`Incoming`] items on a channel; messages go out through [`Transport::send`].
//! Stream transports are framed by Content-Length; CRLF keep-alives (RFC 5626 §4.4.1)
//! are sent on a timer and taken off the stream before parsing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::error::{Result, SipError};
use crate::message::{Message, Request};
use crate::parse::{self, MAX_MESSAGE};

/// Which transport the flow runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportKind {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl TransportKind {
    /// The token in Via (`SIP/2.0/UDP`).
    pub fn via_token(self) -> &'static str {
        match self {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
            TransportKind::Tls => "TLS",
        }
    }

    /// The `transport=` URI parameter.
    pub fn param(self) -> &'static str {
        match self {
            TransportKind::Udp => "udp",
            TransportKind::Tcp => "tcp",
            TransportKind::Tls => "tls",
        }
    }

    pub fn is_reliable(self) -> bool {
        self != TransportKind::Udp
    }
}

/// Where and how to reach the proxy.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub kind: TransportKind,
    pub proxy: SocketAddr,
    /// The proxy's name, checked against its TLS certificate.
    pub proxy_host: String,
    /// The local address to bind (the interface the proxy is reached through).
    pub local_ip: IpAddr,
    /// Extra trusted roots for TLS (PEM), on top of the system's.
    pub tls_ca_pem: Option<Vec<u8>>,
    /// How often to send a CRLF keep-alive; `None` for never.
    pub keepalive: Option<Duration>,
}

/// What the flow delivers.
#[derive(Debug)]
pub enum Incoming {
    Message {
        message: Message,
        from: SocketAddr,
    },
    /// Bytes that are not a valid message. `request` holds what could be read of a
    /// request (for a 400 answer), when its headers were readable.
    Invalid {
        from: SocketAddr,
        error: SipError,
        request: Option<Box<Request>>,
    },
    /// The stream to the proxy closed (TCP/TLS only).
    Closed(String),
}

/// An open flow.
pub struct Transport {
    kind: TransportKind,
    proxy: SocketAddr,
    local: SocketAddr,
    udp: Option<Arc<UdpSocket>>,
    stream: Option<Mutex<WriteHalf<Box<dyn AsyncReadWrite>>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Transport {
    /// Binds or connects, and starts delivering incoming messages to `tx`.
    pub async fn open(config: &TransportConfig, tx: mpsc::Sender<Incoming>) -> Result<Transport> {
        let unreachable = |source| SipError::Unreachable {
            addr: config.proxy.to_string(),
            source,
        };
        let mut tasks = Vec::new();
        let (udp, stream, local) = match config.kind {
            TransportKind::Udp => {
                let socket = Arc::new(UdpSocket::bind(SocketAddr::new(config.local_ip, 0)).await?);
                let local = socket.local_addr()?;
                tasks.push(tokio::spawn(read_datagrams(socket.clone(), tx)));
                (Some(socket), None, local)
            }
            TransportKind::Tcp | TransportKind::Tls => {
                let tcp =
                    tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(config.proxy))
                        .await
                        .map_err(|_| {
                            unreachable(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "connect timed out",
                            ))
                        })?
                        .map_err(unreachable)?;
                tcp.set_nodelay(true)?;
                let local = tcp.local_addr()?;
                let stream: Box<dyn AsyncReadWrite> = if config.kind == TransportKind::Tls {
                    Box::new(tls_connect(config, tcp).await?)
                } else {
                    Box::new(tcp)
                };
                let (reader, writer) = tokio::io::split(stream);
                tasks.push(tokio::spawn(read_stream(reader, config.proxy, tx)));
                (None, Some(Mutex::new(writer)), local)
            }
        };
        let transport = Transport {
            kind: config.kind,
            proxy: config.proxy,
            local,
            udp,
            stream,
            tasks,
        };
        Ok(transport)
    }

    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// The local address of the flow (what Via and Contact start from).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn proxy(&self) -> SocketAddr {
        self.proxy
    }

    /// Sends bytes: over UDP to `to`, over a stream to the proxy.
    pub async fn send(&self, bytes: &[u8], to: SocketAddr) -> Result<()> {
        if let Some(udp) = &self.udp {
            udp.send_to(bytes, to).await?;
        } else if let Some(stream) = &self.stream {
            let mut writer = stream.lock().await;
            writer.write_all(bytes).await?;
            writer.flush().await?;
        }
        Ok(())
    }

    /// A CRLF keep-alive to the proxy.
    pub async fn keepalive(&self) -> Result<()> {
        self.send(b"\r\n\r\n", self.proxy).await
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

trait AsyncReadWrite: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncReadWrite for T {}

async fn tls_connect(
    config: &TransportConfig,
    tcp: TcpStream,
) -> Result<tokio_native_tls::TlsStream<TcpStream>> {
    let tls_error = |reason: String| SipError::Tls {
        addr: config.proxy.to_string(),
        reason,
    };
    let mut builder = native_tls::TlsConnector::builder();
    if let Some(pem) = &config.tls_ca_pem {
        let cert = native_tls::Certificate::from_pem(pem)
            .map_err(|e| tls_error(format!("bad CA certificate: {e}")))?;
        builder.add_root_certificate(cert);
    }
    let connector = builder.build().map_err(|e| tls_error(e.to_string()))?;
    let connector = tokio_native_tls::TlsConnector::from(connector);
    tokio::time::timeout(
        Duration::from_secs(10),
        connector.connect(&config.proxy_host, tcp),
    )
    .await
    .map_err(|_| tls_error("handshake timed out".into()))?
    .map_err(|e| tls_error(e.to_string()))
}

async fn read_datagrams(socket: Arc<UdpSocket>, tx: mpsc::Sender<Incoming>) {
    let mut buf = vec![0u8; MAX_MESSAGE + 1];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(got) => got,
            Err(e) => {
                // ICMP port-unreachable and the like surface here on Linux; keep reading.
                tracing::debug!("UDP receive error: {e}");
                continue;
            }
        };
        let bytes = &buf[..len];
        if bytes.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
            continue; // keep-alive
        }
        let item = match parse::parse_message(bytes) {
            Ok(message) => Incoming::Message { message, from },
            Err(error) => {
                tracing::warn!(%from, "dropping a datagram that is not a SIP message: {error}");
                Incoming::Invalid {
                    from,
                    error,
                    request: parse::parse_request_head(bytes).map(Box::new),
                }
            }
        };
        if tx.send(item).await.is_err() {
            return;
        }
    }
}

async fn read_stream<R: AsyncRead + Unpin>(
    mut reader: R,
    from: SocketAddr,
    tx: mpsc::Sender<Incoming>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16384];
    let reason = loop {
        // Take whole messages off the front.
        loop {
            let skip = buf
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            buf.drain(..skip);
            match parse::message_length(&buf) {
                Ok(Some(length)) => {
                    let item = match parse::parse_message(&buf[..length]) {
                        Ok(message) => Incoming::Message { message, from },
                        Err(error) => {
                            tracing::warn!(%from, "dropping a malformed message from the stream: {error}");
                            Incoming::Invalid {
                                from,
                                error,
                                request: parse::parse_request_head(&buf[..length]).map(Box::new),
                            }
                        }
                    };
                    buf.drain(..length);
                    if tx.send(item).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    // A stream that cannot be framed cannot be resynchronised (RFC 3261 §18.3).
                    let _ = tx
                        .send(Incoming::Closed(format!("unframeable stream: {error}")))
                        .await;
                    return;
                }
            }
        }
        match reader.read(&mut chunk).await {
            Ok(0) => break "the proxy closed the connection".to_string(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => break format!("read failed: {e}"),
        }
    };
    let _ = tx.send(Incoming::Closed(reason)).await;
}
