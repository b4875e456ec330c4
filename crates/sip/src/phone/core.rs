//! The phone's one task: it owns the transport, the registration, the transactions and
//! the calls, and reacts to three things — messages from the proxy, commands from
//! [`super::Phone`] handles, and timers (retransmissions, refreshes, keep-alives).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::sync::{mpsc, oneshot};

use super::dialog::{Dialog, new_branch, new_tag, random_hex};
use super::transaction::{ClientTransaction, Purpose, ServerTransaction, T2, TimerStep};
use super::{CallId, Command, EndReason, MediaSockets, PhoneConfig, PhoneEvent};
use crate::digest::{Challenge, DigestClient, Signed};
use crate::error::{Result, SipError};
use crate::header::{CSeq, NameAddr, Via};
use crate::message::{Message, Method, Request, Response};
use crate::parse::check_request;
use crate::sdp::{
    CryptoLine, Direction, LocalMedia, Negotiated, SessionDescription, SrtpPolicy, g711_codecs,
    opus_codec,
};
use crate::transport::{Incoming, Transport, TransportConfig, TransportKind};
use crate::uri::Uri;

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY";
const USER_AGENT: &str = concat!("Cuecard/", env!("CARGO_PKG_VERSION"));
/// The SDES suites we offer, strongest first.
const SUITES: [&str; 2] = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    /// Our INVITE is out, nothing back yet.
    Calling,
    /// Our INVITE got a provisional answer.
    Ringing,
    /// An INVITE came in and we are ringing.
    Incoming,
    Established,
}

/// A 2xx we sent to an INVITE, re-sent until its ACK (RFC 3261 §13.3.1.4).
struct PendingAck {
    bytes: Vec<u8>,
    to: SocketAddr,
    cseq: u32,
    next: Instant,
    interval: Duration,
    deadline: Instant,
}

struct Call {
    id: CallId,
    state: CallState,
    /// Our last INVITE (for CANCEL, retries with credentials, ACK of 2xx).
    invite: Option<Request>,
    dialog: Option<Dialog>,
    local_media: LocalMedia,
    sockets: Option<MediaSockets>,
    media: Option<Negotiated>,
    session_id: String,
    sdp_version: u64,
    local_hold: bool,
    remote_hold: bool,
    /// Hang up asked before the far end answered anything: CANCEL on the first 1xx.
    cancel_pending: bool,
    cancelled: bool,
    /// The incoming INVITE we are ringing for, and where it came from.
    incoming: Option<(Request, SocketAddr)>,
    /// The ACK we sent for the 2xx, re-sent if the 2xx comes again.
    ack: Option<Vec<u8>>,
    pending_ack: Option<PendingAck>,
    hold_waiter: Option<oneshot::Sender<Result<()>>>,
    transfer_waiter: Option<oneshot::Sender<Result<()>>>,
    /// For a call placed because the far end of `parent` asked (REFER).
    referred_by: Option<CallId>,
    ringing_reported: bool,
    /// Over (transferred away); dropped once the current message is handled.
    ended: bool,
}

#[derive(Default)]
struct Registration {
    call_id: String,
    tag: String,
    cseq: u32,
    /// Granted lifetime; `None` while not registered.
    expires: Option<u32>,
    refresh_at: Option<Instant>,
    retry_at: Option<Instant>,
    backoff: Duration,
    waiters: Vec<oneshot::Sender<Result<u32>>>,
    unregister_waiters: Vec<oneshot::Sender<Result<()>>>,
    /// Wanted: the phone keeps a registration up.
    active: bool,
}

pub(crate) struct Core {
    config: PhoneConfig,
    transport_config: TransportConfig,
    transport: Transport,
    incoming: mpsc::Receiver<Incoming>,
    incoming_tx: mpsc::Sender<Incoming>,
    events: mpsc::Sender<PhoneEvent>,
    digest: DigestClient,
    aor: Uri,
    /// The address in our Contact: local, or as the proxy sees us (rport).
    contact_addr: SocketAddr,
    clients: HashMap<String, ClientTransaction>,
    servers: Vec<ServerTransaction>,
    calls: HashMap<CallId, Call>,
    next_call: u64,
    registration: Registration,
    next_keepalive: Option<Instant>,
    reconnect_at: Option<Instant>,
    shutdown: Option<(oneshot::Sender<()>, Instant)>,
}

impl Core {
    pub async fn spawn(
        config: PhoneConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<PhoneEvent>,
    ) -> Result<SocketAddr> {
        let proxy = resolve(&config.proxy, config.transport).await?;
        let local_ip = match config.local_ip {
            Some(ip) => ip,
            None => route_to(proxy)?,
        };
        let proxy_host = config
            .proxy
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(&config.proxy)
            .to_string();
        let transport_config = TransportConfig {
            kind: config.transport,
            proxy,
            proxy_host,
            local_ip,
            tls_ca_pem: config.tls_ca_pem.clone(),
            keepalive: config.keepalive,
        };
        let (incoming_tx, incoming) = mpsc::channel(256);
        let transport = Transport::open(&transport_config, incoming_tx.clone()).await?;
        let local = transport.local_addr();
        let aor = Uri::sip(Some(&config.user), &config.domain, None);
        let digest = DigestClient::new(
            config
                .auth_user
                .clone()
                .unwrap_or_else(|| config.user.clone()),
            config.password.clone(),
        );
        let registration = Registration {
            call_id: format!("{}@cuecard", random_hex(12)),
            tag: new_tag(),
            backoff: Duration::from_secs(5),
            ..Registration::default()
        };
        let next_keepalive = config.keepalive.map(|k| Instant::now() + k);
        let core = Core {
            config,
            transport_config,
            transport,
            incoming,
            incoming_tx,
            events,
            digest,
            aor,
            contact_addr: local,
            clients: HashMap::new(),
            servers: Vec::new(),
            calls: HashMap::new(),
            next_call: 1,
            registration,
            next_keepalive,
            reconnect_at: None,
            shutdown: None,
        };
        tokio::spawn(core.run(commands));
        Ok(local)
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut commands_open = true;
        loop {
            let wake = self.next_wake();
            tokio::select! {
                item = self.incoming.recv() => {
                    if let Some(item) = item {
                        self.on_incoming(item).await;
                    }
                }
                command = commands.recv(), if commands_open => match command {
                    Some(command) => self.on_command(command).await,
                    None => {
                        commands_open = false;
                        let (tx, _) = oneshot::channel();
                        self.begin_shutdown(tx).await;
                    }
                },
                _ = tokio::time::sleep_until(wake.into()) => self.on_timers().await,
            }
            if let Some((_, deadline)) = &self.shutdown {
                let settled = self.calls.is_empty() && self.clients.is_empty();
                if settled || Instant::now() >= *deadline {
                    if let Some((tx, _)) = self.shutdown.take() {
                        let _ = tx.send(());
                    }
                    tracing::debug!("phone stopped");
                    return;
                }
            }
        }
    }

    fn next_wake(&self) -> Instant {
        let mut wake = Instant::now() + Duration::from_secs(3600);
        let mut consider = |at: Option<Instant>| {
            if let Some(at) = at {
                wake = wake.min(at);
            }
        };
        for txn in self.clients.values() {
            consider(Some(txn.next_wake()));
        }
        for txn in &self.servers {
            consider(Some(txn.expires));
            consider(txn.until_ack.map(|(at, _)| at));
        }
        for call in self.calls.values() {
            consider(call.pending_ack.as_ref().map(|p| p.next.min(p.deadline)));
        }
        consider(self.registration.refresh_at);
        consider(self.registration.retry_at);
        consider(self.next_keepalive);
        consider(self.reconnect_at);
        consider(self.shutdown.as_ref().map(|(_, d)| *d));
        wake
    }

    async fn emit(&self, event: PhoneEvent) {
        if self.events.send(event).await.is_err() {
            tracing::debug!("no one is listening to phone events");
        }
    }

    // ----- sending -------------------------------------------------------------------

    fn via(&self, branch: &str) -> String {
        let local = self.transport.local_addr();
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            self.transport.kind().via_token(),
            host_port(local)
        )
    }

    fn contact(&self) -> String {
        let mut uri = Uri::for_addr(Some(&self.config.user), self.contact_addr);
        if self.transport.kind() != TransportKind::Udp {
            uri.params
                .set("transport", Some(self.transport.kind().param()));
        }
        format!("<{uri}>")
    }

    /// Sends a request in a new client transaction; returns its branch.
    async fn send_request(&mut self, mut request: Request, purpose: Purpose) -> String {
        let branch = new_branch();
        request.headers.push_front("via", self.via(&branch));
        if !matches!(request.method, Method::Ack | Method::Cancel | Method::Bye)
            && request.headers.get("contact").is_none()
        {
            request.headers.push("contact", self.contact());
        }
        if request.headers.get("user-agent").is_none() {
            request.headers.push("user-agent", USER_AGENT);
        }
        self.start_transaction(request, branch.clone(), purpose)
            .await;
        branch
    }

    async fn start_transaction(&mut self, request: Request, branch: String, purpose: Purpose) {
        let bytes = request.to_bytes();
        tracing::debug!(method = %request.method, uri = %request.uri, "sending request");
        self.send_bytes(&bytes, self.transport.proxy()).await;
        let reliable = self.transport.kind().is_reliable();
        let txn = ClientTransaction::new(
            request,
            bytes,
            purpose,
            self.config.t1,
            reliable,
            Instant::now(),
        );
        self.clients.insert(branch, txn);
    }

    async fn send_bytes(&self, bytes: &[u8], to: SocketAddr) {
        if let Err(e) = self.transport.send(bytes, to).await {
            tracing::warn!(%to, "send failed: {e}");
        }
    }

    /// Sends an answer to `request` and records it in the server transaction.
    /// Sends an answer to `request`, records it in the server transaction, and returns
    /// the bytes sent (a 2xx to an INVITE is re-sent until its ACK).
    async fn respond(
        &mut self,
        request: &Request,
        from: SocketAddr,
        mut response: Response,
    ) -> Vec<u8> {
        if response.status > 100
            && response
                .headers
                .get("to")
                .is_some_and(|t| !t.contains("tag="))
            && let Some(to) = response
                .headers
                .get("to")
                .and_then(|t| NameAddr::parse(t).ok())
        {
            response
                .headers
                .set("to", to.with_tag(&new_tag()).to_string());
        }
        if response.headers.get("server").is_none() {
            response.headers.push("server", USER_AGENT);
        }
        let bytes = response.to_bytes();
        tracing::debug!(status = response.status, method = %request.method, "sending response");
        self.send_bytes(&bytes, from).await;
        let Some((branch, _)) = txn_key(request) else {
            return bytes;
        };
        let now = Instant::now();
        let index = match self
            .servers
            .iter()
            .position(|t| t.matches(&branch, &request.method))
        {
            Some(i) => i,
            None => {
                self.servers.push(ServerTransaction::new(
                    request,
                    &branch,
                    from,
                    self.config.t1,
                    now,
                ));
                self.servers.len() - 1
            }
        };
        let reliable = self.transport.kind().is_reliable();
        let t1 = self.config.t1;
        let txn = &mut self.servers[index];
        txn.last_response = Some(bytes.clone());
        if response.status >= 200 {
            txn.final_status = Some(response.status);
            if request.method == Method::Invite && response.status >= 300 && !reliable {
                txn.until_ack = Some((now + t1, t1));
            }
        }
        bytes
    }

    async fn reply(&mut self, request: &Request, from: SocketAddr, status: u16, reason: &str) {
        let mut response = Response::to(request, status, reason);
        if status == 405 {
            response.headers.push("allow", ALLOW);
        }
        self.respond(request, from, response).await;
    }

    // ----- commands ------------------------------------------------------------------

    async fn on_command(&mut self, command: Command) {
        if self.shutdown.is_some() {
            reply_stopped(command);
            return;
        }
        match command {
            Command::Register(tx) => {
                self.registration.active = true;
                self.registration.waiters.push(tx);
                self.send_register(self.config.register_expires).await;
            }
            Command::Unregister(tx) => {
                self.registration.active = false;
                self.registration.refresh_at = None;
                self.registration.retry_at = None;
                self.registration.unregister_waiters.push(tx);
                self.send_register(0).await;
            }
            Command::Call(target, tx) => {
                let result = self.place_call(&target, None).await;
                let _ = tx.send(result);
            }
            Command::Answer(id, tx) => {
                let result = self.answer(id).await;
                let _ = tx.send(result);
            }
            Command::Reject(id, status, tx) => {
                let result = self.reject(id, status).await;
                let _ = tx.send(result);
            }
            Command::Hangup(id, tx) => {
                let result = self.hangup(id).await;
                let _ = tx.send(result);
            }
            Command::Hold(id, hold, tx) => self.hold(id, hold, tx).await,
            Command::Transfer(id, target, tx) => self.transfer(id, &target, tx).await,
            Command::Info(id, digit, tx) => {
                let result = self.send_info(id, digit).await;
                let _ = tx.send(result);
            }
            Command::Shutdown(tx) => self.begin_shutdown(tx).await,
        }
    }

    async fn begin_shutdown(&mut self, tx: oneshot::Sender<()>) {
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            let _ = self.hangup(id).await;
        }
        if self.registration.expires.is_some() {
            self.registration.active = false;
            self.send_register(0).await;
        }
        self.shutdown = Some((tx, Instant::now() + Duration::from_secs(3)));
    }

    // ----- registration --------------------------------------------------------------

    async fn send_register(&mut self, expires: u32) {
        // One REGISTER at a time: drop any still in flight.
        self.clients
            .retain(|_, t| !matches!(t.purpose, Purpose::Register { .. }));
        self.registration.cseq += 1;
        self.registration.retry_at = None;
        let mut request = Request::new(Method::Register, Uri::sip(None, &self.config.domain, None));
        request.headers.push("max-forwards", "70");
        request.headers.push(
            "from",
            self.our_address()
                .with_tag(&self.registration.tag)
                .to_string(),
        );
        request
            .headers
            .push("to", NameAddr::new(self.aor.clone()).to_string());
        request
            .headers
            .push("call-id", self.registration.call_id.clone());
        request.headers.push(
            "cseq",
            CSeq {
                seq: self.registration.cseq,
                method: Method::Register,
            }
            .to_string(),
        );
        // Un-REGISTER says it twice (Contact parameter and header), as most phones do.
        let contact = if expires == 0 {
            format!("{};expires=0", self.contact())
        } else {
            self.contact()
        };
        request.headers.push("contact", contact);
        request.headers.push("expires", expires.to_string());
        request.headers.push("allow", ALLOW);
        self.send_request(request, Purpose::Register { expires })
            .await;
    }

    fn our_address(&self) -> NameAddr {
        NameAddr {
            display: self.config.display_name.clone(),
            ..NameAddr::new(self.aor.clone())
        }
    }

    async fn on_register_response(&mut self, asked: u32, request: &Request, response: &Response) {
        let status = response.status;
        if (200..300).contains(&status) {
            if asked == 0 {
                self.registration.expires = None;
                for tx in self.registration.unregister_waiters.drain(..) {
                    let _ = tx.send(Ok(()));
                }
                self.emit(PhoneEvent::Unregistered).await;
                return;
            }
            // rport: the proxy tells us where it sees us; register that if it differs.
            if let Some(seen) = response
                .headers
                .get("via")
                .and_then(|v| Via::parse(v).ok())
                .and_then(|v| v.seen_from())
                && let (Ok(ip), Some(port)) = (seen.0.parse::<IpAddr>(), seen.1)
            {
                let public = SocketAddr::new(ip, port);
                if public != self.contact_addr && self.transport.kind() == TransportKind::Udp {
                    tracing::info!(%public, "the proxy sees us at another address; registering that");
                    self.contact_addr = public;
                    self.send_register(asked).await;
                    return;
                }
            }
            let granted = granted_expires(request, response).unwrap_or(asked);
            self.registration.expires = Some(granted);
            self.registration.backoff = Duration::from_secs(5);
            let refresh = if granted <= 120 {
                granted / 2
            } else {
                granted - 60
            };
            self.registration.refresh_at = self
                .registration
                .active
                .then(|| Instant::now() + Duration::from_secs(refresh.max(1) as u64));
            for tx in self.registration.waiters.drain(..) {
                let _ = tx.send(Ok(granted));
            }
            tracing::info!(granted, "registered");
            self.emit(PhoneEvent::Registered {
                expires: granted,
                contact: self.contact(),
            })
            .await;
            return;
        }
        if status == 423
            && let Some(min) = response
                .headers
                .get("min-expires")
                .and_then(|m| m.trim().parse::<u32>().ok())
            && min > asked
            && min < 86_400
        {
            self.send_register(min).await;
            return;
        }
        let error = SipError::Rejected {
            method: "REGISTER".into(),
            status,
            reason: response.reason.clone(),
        };
        self.registration_failed(error).await;
    }

    async fn registration_failed(&mut self, error: SipError) {
        let unauthorized = matches!(error, SipError::Unauthorized { .. });
        let reason = error.to_string();
        tracing::warn!("registration failed: {reason}");
        self.registration.expires = None;
        self.registration.refresh_at = None;
        if unauthorized {
            // Wrong credentials do not get better by retrying.
            self.registration.active = false;
        } else if self.registration.active {
            self.registration.retry_at = Some(Instant::now() + self.registration.backoff);
            self.registration.backoff =
                (self.registration.backoff * 2).min(Duration::from_secs(300));
        }
        for tx in self.registration.waiters.drain(..) {
            let _ = tx.send(Err(clone_error(&error)));
        }
        for tx in self.registration.unregister_waiters.drain(..) {
            let _ = tx.send(Err(clone_error(&error)));
        }
        self.emit(PhoneEvent::RegistrationFailed {
            reason,
            unauthorized,
        })
        .await;
    }

    // ----- placing and answering calls -------------------------------------------------

    fn target_uri(&self, target: &str) -> Result<Uri> {
        let target = target.trim();
        let lower = target.to_ascii_lowercase();
        if lower.starts_with("sip:") || lower.starts_with("sips:") {
            return Uri::parse(target);
        }
        if target.contains('@') {
            return Uri::parse(&format!("sip:{target}"));
        }
        let number: String = target
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let valid = !number.is_empty()
            && number
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || (i == 0 && c == '+') || c == '*' || c == '#')
            || (!number.is_empty() && number.bytes().all(crate::uri::is_token_byte));
        if !valid {
            return Err(SipError::Config {
                what: "call target",
                reason: format!("{target:?} is neither a number nor a SIP address"),
            });
        }
        Ok(Uri::sip(Some(&number), &self.config.domain, None))
    }

    fn bind_media(&self) -> Result<MediaSockets> {
        let ip = self.transport.local_addr().ip();
        let (low, high) = self.config.rtp_ports;
        let span = u32::from(high - low) / 2;
        let mut seed = [0u8; 4];
        let _ = getrandom::fill(&mut seed);
        let start = u32::from_le_bytes(seed) % span.max(1);
        for i in 0..span.min(200) {
            let port = low + (((start + i) % span) * 2) as u16;
            let Ok(rtp) = UdpSocket::bind((ip, port)) else {
                continue;
            };
            let Ok(rtcp) = UdpSocket::bind((ip, port + 1)) else {
                continue;
            };
            return Ok(MediaSockets { rtp, rtcp });
        }
        Err(SipError::Io(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "no free RTP port pair in the configured range",
        )))
    }

    fn local_media(&self, sockets: &MediaSockets) -> Result<LocalMedia> {
        let mut keys = Vec::new();
        if self.config.srtp != SrtpPolicy::Off {
            for suite in SUITES {
                let mut key = [0u8; 30];
                getrandom::fill(&mut key)
                    .map_err(|e| SipError::Io(std::io::Error::other(e.to_string())))?;
                let inline = base64::engine::general_purpose::STANDARD.encode(key);
                keys.push(CryptoLine {
                    tag: 0,
                    suite: suite.to_string(),
                    key_params: format!("inline:{inline}"),
                });
            }
        }
        Ok(LocalMedia {
            addr: sockets.rtp.local_addr()?,
            codecs: g711_codecs(),
            answer_codecs: vec![opus_codec()],
            dtmf_payload_type: 101,
            srtp: self.config.srtp,
            keys,
            direction: Direction::SendRecv,
        })
    }

    fn new_call(&mut self, local_media: LocalMedia, sockets: MediaSockets) -> Call {
        let id = CallId(self.next_call);
        self.next_call += 1;
        Call {
            id,
            state: CallState::Calling,
            invite: None,
            dialog: None,
            local_media,
            sockets: Some(sockets),
            media: None,
            session_id: random_u32().to_string(),
            sdp_version: 1,
            local_hold: false,
            remote_hold: false,
            cancel_pending: false,
            cancelled: false,
            incoming: None,
            ack: None,
            pending_ack: None,
            hold_waiter: None,
            transfer_waiter: None,
            referred_by: None,
            ringing_reported: false,
            ended: false,
        }
    }

    async fn place_call(&mut self, target: &str, referred_by: Option<CallId>) -> Result<CallId> {
        let uri = self.target_uri(target)?;
        let sockets = self.bind_media()?;
        let local_media = self.local_media(&sockets)?;
        let mut call = self.new_call(local_media, sockets);
        call.referred_by = referred_by;
        let offer = call.local_media.offer(&call.session_id, call.sdp_version);
        let mut invite = Request::new(Method::Invite, uri.clone());
        invite.headers.push("max-forwards", "70");
        invite
            .headers
            .push("from", self.our_address().with_tag(&new_tag()).to_string());
        invite.headers.push("to", NameAddr::new(uri).to_string());
        invite
            .headers
            .push("call-id", format!("{}@cuecard", random_hex(12)));
        invite.headers.push(
            "cseq",
            CSeq {
                seq: 1,
                method: Method::Invite,
            }
            .to_string(),
        );
        invite.headers.push("contact", self.contact());
        invite.headers.push("allow", ALLOW);
        invite.headers.push("content-type", "application/sdp");
        invite.body = offer.to_bytes();
        let id = call.id;
        let branch = self.send_request(invite, Purpose::Invite(id)).await;
        call.invite = self.clients.get(&branch).map(|t| t.request.clone());
        tracing::info!(call = %id, %target, "calling");
        self.calls.insert(id, call);
        Ok(id)
    }

    async fn answer(&mut self, id: CallId) -> Result<()> {
        let mut call = self
            .calls
            .remove(&id)
            .ok_or_else(|| SipError::Call(id.0, "no such call".into()))?;
        let Some((invite, from)) = call
            .incoming
            .take()
            .filter(|_| call.state == CallState::Incoming)
        else {
            self.calls.insert(id, call);
            return Err(SipError::Call(id.0, "is not ringing in".into()));
        };
        let dialog_tag = call
            .dialog
            .as_ref()
            .and_then(|d| d.local.tag().map(str::to_string))
            .unwrap_or_else(new_tag);
        let mut response = Response::to(&invite, 200, "OK");
        if let Some(to) = response
            .headers
            .get("to")
            .and_then(|t| NameAddr::parse(t).ok())
        {
            response
                .headers
                .set("to", to.with_tag(&dialog_tag).to_string());
        }
        response.headers.copy_from(&invite.headers, "record-route");
        response.headers.push("contact", self.contact());
        response.headers.push("allow", ALLOW);
        response.headers.push("content-type", "application/sdp");
        let media = if invite.body.is_empty() {
            // No offer: ours goes in the 200, theirs comes in the ACK.
            response.body = call
                .local_media
                .offer(&call.session_id, call.sdp_version)
                .to_bytes();
            None
        } else {
            let offer = SessionDescription::parse(&invite.body)?;
            let (answer, agreed) =
                call.local_media
                    .answer(&offer, &call.session_id, call.sdp_version)?;
            response.body = answer.to_bytes();
            Some(agreed)
        };
        let bytes = self.respond(&invite, from, response).await;
        let now = Instant::now();
        let cseq = invite
            .headers
            .get("cseq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(0);
        if !self.transport.kind().is_reliable() {
            call.pending_ack = Some(PendingAck {
                bytes,
                to: from,
                cseq,
                next: now + self.config.t1,
                interval: self.config.t1,
                deadline: now + self.config.t1 * 64,
            });
        }
        call.state = CallState::Established;
        if let Some(agreed) = media {
            self.start_media(&mut call, agreed).await;
        }
        self.emit(PhoneEvent::Established { call: id }).await;
        self.calls.insert(id, call);
        Ok(())
    }

    async fn reject(&mut self, id: CallId, status: u16) -> Result<()> {
        if !(400..700).contains(&status) {
            return Err(SipError::Call(
                id.0,
                format!("{status} is not a refusal (4xx-6xx)"),
            ));
        }
        let call = self
            .calls
            .remove(&id)
            .ok_or_else(|| SipError::Call(id.0, "no such call".into()))?;
        let Some((invite, from)) = call.incoming.filter(|_| call.state == CallState::Incoming)
        else {
            return Err(SipError::Call(id.0, "is not ringing in".into()));
        };
        self.reply(&invite, from, status, reason_phrase(status))
            .await;
        self.emit(PhoneEvent::Ended {
            call: id,
            reason: EndReason::Declined,
        })
        .await;
        Ok(())
    }

    async fn hangup(&mut self, id: CallId) -> Result<()> {
        let mut call = self
            .calls
            .remove(&id)
            .ok_or_else(|| SipError::Call(id.0, "no such call".into()))?;
        match call.state {
            CallState::Incoming => {
                if let Some((invite, from)) = call.incoming.take() {
                    self.reply(&invite, from, 603, "Decline").await;
                }
                self.emit(PhoneEvent::Ended {
                    call: id,
                    reason: EndReason::Declined,
                })
                .await;
            }
            CallState::Calling => {
                // RFC 3261 §9.1: no CANCEL before a provisional answer; send it on the first.
                call.cancel_pending = true;
                self.calls.insert(id, call);
            }
            CallState::Ringing => {
                self.send_cancel(&mut call).await;
                self.calls.insert(id, call);
            }
            CallState::Established => {
                self.send_bye(&mut call).await;
                self.emit(PhoneEvent::Ended {
                    call: id,
                    reason: EndReason::Local,
                })
                .await;
                self.finish_referral(&call, 200).await;
            }
        }
        Ok(())
    }

    async fn send_cancel(&mut self, call: &mut Call) {
        let Some(invite) = &call.invite else { return };
        let branch = invite
            .headers
            .get("via")
            .and_then(|v| Via::parse(v).ok())
            .and_then(|v| v.branch().map(str::to_string));
        let Some(branch) = branch else { return };
        let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
        for name in ["via", "route", "max-forwards", "from", "to", "call-id"] {
            cancel.headers.copy_from(&invite.headers, name);
        }
        let seq = invite
            .headers
            .get("cseq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        cancel.headers.push(
            "cseq",
            CSeq {
                seq,
                method: Method::Cancel,
            }
            .to_string(),
        );
        cancel.headers.push("user-agent", USER_AGENT);
        call.cancelled = true;
        // A CANCEL shares the INVITE's branch but is its own transaction: key it apart.
        self.start_transaction(cancel, format!("{branch}/cancel"), Purpose::Cancel(call.id))
            .await;
    }

    async fn send_bye(&mut self, call: &mut Call) {
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        let bye = dialog.request(Method::Bye);
        call.pending_ack = None;
        self.send_request(bye, Purpose::Bye(call.id)).await;
    }

    async fn hold(&mut self, id: CallId, hold: bool, tx: oneshot::Sender<Result<()>>) {
        let Some(mut call) = self.calls.remove(&id) else {
            let _ = tx.send(Err(SipError::Call(id.0, "no such call".into())));
            return;
        };
        if call.state != CallState::Established
            || call.dialog.is_none()
            || call.hold_waiter.is_some()
        {
            let _ = tx.send(Err(SipError::Call(
                id.0,
                "is not up, or a hold change is already under way".into(),
            )));
            self.calls.insert(id, call);
            return;
        }
        call.local_hold = hold;
        call.local_media.direction = if hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        call.sdp_version += 1;
        call.hold_waiter = Some(tx);
        self.send_reinvite(&mut call).await;
        self.calls.insert(id, call);
    }

    async fn send_reinvite(&mut self, call: &mut Call) {
        let offer = call.local_media.offer(&call.session_id, call.sdp_version);
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        let mut invite = dialog.request(Method::Invite);
        invite.headers.push("content-type", "application/sdp");
        invite.body = offer.to_bytes();
        let branch = self.send_request(invite, Purpose::ReInvite(call.id)).await;
        call.invite = self.clients.get(&branch).map(|t| t.request.clone());
    }

    async fn transfer(&mut self, id: CallId, target: &str, tx: oneshot::Sender<Result<()>>) {
        let uri = match self.target_uri(target) {
            Ok(uri) => uri,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let Some(mut call) = self.calls.remove(&id) else {
            let _ = tx.send(Err(SipError::Call(id.0, "no such call".into())));
            return;
        };
        let Some(dialog) = call
            .dialog
            .as_mut()
            .filter(|_| call.state == CallState::Established)
        else {
            let _ = tx.send(Err(SipError::Call(id.0, "is not up".into())));
            self.calls.insert(id, call);
            return;
        };
        let mut refer = dialog.request(Method::Refer);
        refer.headers.push("refer-to", format!("<{uri}>"));
        refer
            .headers
            .push("referred-by", self.our_address().to_string());
        call.transfer_waiter = Some(tx);
        self.send_request(refer, Purpose::Refer(id)).await;
        self.calls.insert(id, call);
    }

    async fn send_info(&mut self, id: CallId, digit: char) -> Result<()> {
        if !matches!(digit, '0'..='9' | '*' | '#' | 'A'..='D') {
            return Err(SipError::Call(
                id.0,
                format!("{digit:?} is not a DTMF digit"),
            ));
        }
        let call = self
            .calls
            .get_mut(&id)
            .ok_or_else(|| SipError::Call(id.0, "no such call".into()))?;
        let dialog = call
            .dialog
            .as_mut()
            .filter(|_| call.state == CallState::Established);
        let dialog = dialog.ok_or_else(|| SipError::Call(id.0, "is not up".into()))?;
        let mut info = dialog.request(Method::Info);
        info.headers.push("content-type", "application/dtmf-relay");
        info.body = format!("Signal={digit}\r\nDuration=160\r\n").into_bytes();
        self.send_request(info, Purpose::Info(id)).await;
        Ok(())
    }

    async fn start_media(&mut self, call: &mut Call, agreed: Negotiated) {
        let first = call.media.is_none();
        call.media = Some(agreed.clone());
        match call.sockets.take() {
            Some(sockets) if first => {
                self.emit(PhoneEvent::MediaStart {
                    call: call.id,
                    sockets,
                    media: agreed,
                })
                .await;
            }
            other => {
                call.sockets = other;
                self.emit(PhoneEvent::MediaChange {
                    call: call.id,
                    media: agreed,
                })
                .await;
            }
        }
    }

    /// Tells the transferor how the call it asked for went (RFC 3515 NOTIFY).
    async fn finish_referral(&mut self, call: &Call, status: u16) {
        let Some(parent_id) = call.referred_by else {
            return;
        };
        let Some(mut parent) = self.calls.remove(&parent_id) else {
            return;
        };
        self.send_notify(&mut parent, status, true).await;
        self.calls.insert(parent_id, parent);
    }

    async fn send_notify(&mut self, call: &mut Call, status: u16, last: bool) {
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        let mut notify = dialog.request(Method::Notify);
        notify.headers.push("event", "refer");
        notify.headers.push(
            "subscription-state",
            if last {
                "terminated;reason=noresource"
            } else {
                "active;expires=60"
            },
        );
        notify
            .headers
            .push("content-type", "message/sipfrag;version=2.0");
        notify.body = format!("SIP/2.0 {status} {}\r\n", reason_phrase(status)).into_bytes();
        self.send_request(notify, Purpose::Notify(call.id)).await;
    }

    // ----- incoming ------------------------------------------------------------------

    async fn on_incoming(&mut self, item: Incoming) {
        match item {
            Incoming::Message {
                message: Message::Request(request),
                from,
            } => self.on_request(request, from).await,
            Incoming::Message {
                message: Message::Response(response),
                ..
            } => self.on_response(response).await,
            Incoming::Invalid {
                from,
                error,
                request,
            } => {
                if let Some(request) =
                    request.filter(|r| r.method != Method::Ack && r.headers.get("via").is_some())
                {
                    let reason = format!("Bad Request ({error})");
                    let reason: String = reason
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(120)
                        .collect();
                    self.reply(&request, from, 400, &reason).await;
                }
            }
            Incoming::Closed(reason) => {
                tracing::warn!("the flow to the proxy closed: {reason}");
                if self.reconnect_at.is_none() {
                    self.reconnect_at = Some(Instant::now() + Duration::from_secs(1));
                }
            }
        }
    }

    async fn on_request(&mut self, request: Request, from: SocketAddr) {
        if let Err(error) = check_request(&request) {
            tracing::warn!(%from, "bad {} request: {error}", request.method);
            if request.method != Method::Ack && request.headers.get("via").is_some() {
                let reason: String = format!("Bad Request ({error})")
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(120)
                    .collect();
                self.reply(&request, from, 400, &reason).await;
            }
            return;
        }
        // A retransmission: answer again, do not act again.
        if let Some((branch, _)) = txn_key(&request)
            && let Some(txn) = self
                .servers
                .iter_mut()
                .find(|t| t.matches(&branch, &request.method))
        {
            if request.method == Method::Ack {
                txn.until_ack = None;
                return;
            }
            if let Some(bytes) = txn.last_response.clone() {
                let to = txn.to;
                self.send_bytes(&bytes, to).await;
            }
            return;
        }
        let to_tag = request
            .headers
            .get("to")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|t| t.tag().map(str::to_string));
        match (&request.method, to_tag) {
            (Method::Invite, None) => self.on_new_invite(request, from).await,
            (Method::Cancel, _) => self.on_cancel(request, from).await,
            (Method::Options, None) => {
                let mut ok = Response::to(&request, 200, "OK");
                ok.headers.push("allow", ALLOW);
                ok.headers.push("accept", "application/sdp");
                self.respond(&request, from, ok).await;
            }
            (Method::Ack, None) => {}
            (_, None) => {
                let (status, reason) = match request.method {
                    Method::Bye | Method::Info | Method::Notify | Method::Refer => {
                        (481, "Call/Transaction Does Not Exist")
                    }
                    _ => (405, "Method Not Allowed"),
                };
                self.reply(&request, from, status, reason).await;
            }
            (_, Some(_)) => self.on_in_dialog(request, from).await,
        }
    }

    async fn on_new_invite(&mut self, invite: Request, from: SocketAddr) {
        if self.shutdown.is_some() {
            self.reply(&invite, from, 480, "Temporarily Unavailable")
                .await;
            return;
        }
        let sockets = match self.bind_media() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("no media ports for an incoming call: {e}");
                self.reply(&invite, from, 503, "Service Unavailable").await;
                return;
            }
        };
        let local_media = match self.local_media(&sockets) {
            Ok(m) => m,
            Err(_) => {
                self.reply(&invite, from, 500, "Server Internal Error")
                    .await;
                return;
            }
        };
        let mut call = self.new_call(local_media, sockets);
        // Check the offer now: an offer we cannot take is refused before ringing.
        if !invite.body.is_empty() {
            let check = SessionDescription::parse(&invite.body).and_then(|offer| {
                call.local_media
                    .answer(&offer, &call.session_id, call.sdp_version)
            });
            if let Err(e) = check {
                tracing::info!("refusing an incoming call's offer: {e}");
                let mut refusal = Response::to(&invite, 488, "Not Acceptable Here");
                refusal.headers.push(
                    "warning",
                    format!("399 cuecard \"{}\"", e.to_string().replace('"', "'")),
                );
                self.respond(&invite, from, refusal).await;
                return;
            }
        }
        let tag = new_tag();
        let Some(dialog) = Dialog::from_request(&invite, &tag) else {
            self.reply(
                &invite,
                from,
                400,
                "Bad Request (no usable From, To or Contact)",
            )
            .await;
            return;
        };
        let caller = dialog.remote.clone();
        call.dialog = Some(dialog);
        call.state = CallState::Incoming;
        let mut ringing = Response::to(&invite, 180, "Ringing");
        if let Some(to) = ringing
            .headers
            .get("to")
            .and_then(|t| NameAddr::parse(t).ok())
        {
            ringing.headers.set("to", to.with_tag(&tag).to_string());
        }
        ringing.headers.copy_from(&invite.headers, "record-route");
        ringing.headers.push("contact", self.contact());
        self.respond(&invite, from, ringing).await;
        let id = call.id;
        call.incoming = Some((invite, from));
        self.calls.insert(id, call);
        tracing::info!(call = %id, from = %caller.uri, "incoming call");
        self.emit(PhoneEvent::Incoming {
            call: id,
            from: caller.uri.address_of_record(),
            display: caller.display,
        })
        .await;
    }

    async fn on_cancel(&mut self, cancel: Request, from: SocketAddr) {
        let branch = txn_key(&cancel).map(|(b, _)| b);
        let id = self.calls.values().find_map(|c| {
            let (invite, _) = c.incoming.as_ref()?;
            (txn_key(invite).map(|(b, _)| b) == branch && c.state == CallState::Incoming)
                .then_some(c.id)
        });
        let Some(id) = id else {
            self.reply(&cancel, from, 481, "Call/Transaction Does Not Exist")
                .await;
            return;
        };
        self.reply(&cancel, from, 200, "OK").await;
        if let Some(call) = self.calls.remove(&id) {
            if let Some((invite, invite_from)) = call.incoming {
                self.reply(&invite, invite_from, 487, "Request Terminated")
                    .await;
            }
            self.emit(PhoneEvent::Ended {
                call: id,
                reason: EndReason::Remote,
            })
            .await;
        }
    }

    async fn on_in_dialog(&mut self, request: Request, from: SocketAddr) {
        let id = self
            .calls
            .values()
            .find(|c| {
                c.dialog
                    .as_ref()
                    .is_some_and(|d| d.matches_request(&request))
            })
            .map(|c| c.id);
        let Some(id) = id else {
            if request.method != Method::Ack {
                self.reply(&request, from, 481, "Call/Transaction Does Not Exist")
                    .await;
            }
            return;
        };
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        let cseq = request
            .headers
            .get("cseq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(0);
        if request.method == Method::Ack {
            if call.pending_ack.as_ref().is_some_and(|p| p.cseq == cseq) {
                call.pending_ack = None;
            }
            if call.media.is_none() && !request.body.is_empty() {
                match SessionDescription::parse(&request.body)
                    .and_then(|a| call.local_media.read_answer(&a))
                {
                    Ok(agreed) => self.start_media(&mut call, agreed).await,
                    Err(e) => tracing::warn!(call = %id, "the ACK's answer is unusable: {e}"),
                }
            }
            self.calls.insert(id, call);
            return;
        }
        if let Some(dialog) = call.dialog.as_mut() {
            // RFC 3261 §12.2.2: a CSeq lower than the last is out of order.
            if dialog.remote_cseq.is_some_and(|last| cseq <= last) {
                self.calls.insert(id, call);
                self.reply(
                    &request,
                    from,
                    500,
                    "Server Internal Error (CSeq out of order)",
                )
                .await;
                return;
            }
            dialog.remote_cseq = Some(cseq);
        }
        match request.method {
            Method::Bye => {
                self.reply(&request, from, 200, "OK").await;
                tracing::info!(call = %id, "the far end hung up");
                self.emit(PhoneEvent::Ended {
                    call: id,
                    reason: EndReason::Remote,
                })
                .await;
                self.finish_referral(&call, 200).await;
                return;
            }
            Method::Invite => self.on_reinvite(&mut call, request, from).await,
            Method::Info => {
                let digit = dtmf_from_info(&request);
                match digit {
                    Some(digit) => {
                        self.reply(&request, from, 200, "OK").await;
                        self.emit(PhoneEvent::Dtmf { call: id, digit }).await;
                    }
                    None if request.body.is_empty() => self.reply(&request, from, 200, "OK").await,
                    None => {
                        self.reply(&request, from, 415, "Unsupported Media Type")
                            .await
                    }
                }
            }
            Method::Refer => self.on_refer(&mut call, request, from).await,
            Method::Notify => {
                self.reply(&request, from, 200, "OK").await;
                self.on_transfer_notify(&mut call, &request).await;
            }
            Method::Options => self.reply(&request, from, 200, "OK").await,
            _ => self.reply(&request, from, 405, "Method Not Allowed").await,
        }
        if !call.ended {
            self.calls.insert(id, call);
        }
    }

    async fn on_reinvite(&mut self, call: &mut Call, request: Request, from: SocketAddr) {
        if call.hold_waiter.is_some() {
            // Glare: ours is in flight (RFC 3261 §14.2).
            self.reply(&request, from, 491, "Request Pending").await;
            return;
        }
        if let Some(contact) = request
            .headers
            .get_all("contact")
            .first()
            .and_then(|c| NameAddr::parse(c).ok())
            && let Some(d) = call.dialog.as_mut()
        {
            d.remote_target = contact.uri;
        }
        call.sdp_version += 1;
        let mut ok = Response::to(&request, 200, "OK");
        ok.headers.push("contact", self.contact());
        ok.headers.push("content-type", "application/sdp");
        let mut agreed = None;
        let mut held = None;
        if request.body.is_empty() {
            ok.body = call
                .local_media
                .offer(&call.session_id, call.sdp_version)
                .to_bytes();
        } else {
            let offer = match SessionDescription::parse(&request.body) {
                Ok(o) => o,
                Err(e) => {
                    self.reply(&request, from, 488, &format!("Not Acceptable Here ({e})"))
                        .await;
                    return;
                }
            };
            match call
                .local_media
                .answer(&offer, &call.session_id, call.sdp_version)
            {
                Ok((answer, negotiated)) => {
                    let on_hold = !negotiated.direction.receives()
                        || offer
                            .audio()
                            .and_then(|a| a.connection.or(offer.connection))
                            .is_some_and(|ip| ip.is_unspecified());
                    held = Some(on_hold);
                    ok.body = answer.to_bytes();
                    agreed = Some(negotiated);
                }
                Err(e) => {
                    self.reply(&request, from, 488, &format!("Not Acceptable Here ({e})"))
                        .await;
                    return;
                }
            }
        }
        // An in-dialog request already carries our tag in To, so the answer does too.
        let bytes = self.respond(&request, from, ok).await;
        if !self.transport.kind().is_reliable() {
            let now = Instant::now();
            let cseq = request
                .headers
                .get("cseq")
                .and_then(|c| CSeq::parse(c).ok())
                .map(|c| c.seq)
                .unwrap_or(0);
            call.pending_ack = Some(PendingAck {
                bytes,
                to: from,
                cseq,
                next: now + self.config.t1,
                interval: self.config.t1,
                deadline: now + self.config.t1 * 64,
            });
        }
        if let Some(agreed) = agreed {
            self.start_media(call, agreed).await;
        }
        match held {
            Some(true) if !call.remote_hold => {
                call.remote_hold = true;
                self.emit(PhoneEvent::Held {
                    call: call.id,
                    by_remote: true,
                })
                .await;
            }
            Some(false) if call.remote_hold => {
                call.remote_hold = false;
                self.emit(PhoneEvent::Resumed {
                    call: call.id,
                    by_remote: true,
                })
                .await;
            }
            _ => {}
        }
    }

    async fn on_refer(&mut self, call: &mut Call, request: Request, from: SocketAddr) {
        let target = request
            .headers
            .get("refer-to")
            .and_then(|r| NameAddr::parse(r).ok());
        let Some(target) = target else {
            self.reply(&request, from, 400, "Bad Request (no usable Refer-To)")
                .await;
            return;
        };
        self.reply(&request, from, 202, "Accepted").await;
        self.send_notify(call, 100, false).await;
        let mut uri = target.uri.clone();
        uri.headers = None;
        let new_call = match self.place_call(&uri.to_string(), Some(call.id)).await {
            Ok(new) => Some(new),
            Err(e) => {
                tracing::warn!(call = %call.id, "cannot place the referred call: {e}");
                self.send_notify(call, 503, true).await;
                None
            }
        };
        self.emit(PhoneEvent::TransferRequested {
            call: call.id,
            target: uri.to_string(),
            new_call,
        })
        .await;
    }

    async fn on_transfer_notify(&mut self, call: &mut Call, request: &Request) {
        let body = String::from_utf8_lossy(&request.body);
        let status = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("SIP/2.0 "))
            .and_then(|l| l.get(..3))
            .and_then(|c| c.parse::<u16>().ok());
        let Some(status) = status else { return };
        self.emit(PhoneEvent::TransferProgress {
            call: call.id,
            status,
        })
        .await;
        if (200..300).contains(&status) {
            // The far end reached the target: our part is done.
            self.send_bye(call).await;
            call.ended = true;
            self.emit(PhoneEvent::Ended {
                call: call.id,
                reason: EndReason::Transferred,
            })
            .await;
        }
    }

    // ----- responses to our requests -----------------------------------------------------

    async fn on_response(&mut self, response: Response) {
        let Some(branch) = response
            .headers
            .get("via")
            .and_then(|v| Via::parse(v).ok())
            .and_then(|v| v.branch().map(str::to_string))
        else {
            return;
        };
        let method = response
            .headers
            .get("cseq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.method);
        let key = if method == Some(Method::Cancel) {
            format!("{branch}/cancel")
        } else {
            branch
        };
        let Some(mut txn) = self.clients.remove(&key) else {
            // A 2xx to an INVITE again (our ACK was lost): ACK it again.
            if (200..300).contains(&response.status) && method == Some(Method::Invite) {
                self.reack(&response).await;
            }
            return;
        };
        if response.status < 200 {
            txn.on_provisional(Instant::now());
            let purpose = txn.purpose.clone();
            let invite = txn.request.clone();
            self.clients.insert(key, txn);
            if let Purpose::Invite(id) = purpose {
                self.on_invite_provisional(id, &invite, &response).await;
            }
            return;
        }
        if txn.is_invite() && response.status >= 300 {
            self.ack_failure(&txn.request, &response).await;
        }
        if matches!(response.status, 401 | 407) {
            match self.retry_with_credentials(&mut txn, &response).await {
                Ok(true) => return,
                Ok(false) => {}
                Err(error) => {
                    self.transaction_failed(txn.purpose.clone(), error).await;
                    return;
                }
            }
        }
        let request = txn.request.clone();
        match txn.purpose {
            Purpose::Register { expires } => {
                self.on_register_response(expires, &request, &response)
                    .await
            }
            Purpose::Invite(id) => self.on_invite_final(id, &request, &response).await,
            Purpose::ReInvite(id) => self.on_reinvite_final(id, &request, &response).await,
            Purpose::Refer(id) => {
                if let Some(call) = self.calls.get_mut(&id)
                    && let Some(tx) = call.transfer_waiter.take()
                {
                    let result = if (200..300).contains(&response.status) {
                        Ok(())
                    } else {
                        Err(SipError::Rejected {
                            method: "REFER".into(),
                            status: response.status,
                            reason: response.reason.clone(),
                        })
                    };
                    let _ = tx.send(result);
                }
            }
            Purpose::Bye(_) | Purpose::Cancel(_) | Purpose::Info(_) | Purpose::Notify(_) => {
                if response.status >= 300 {
                    tracing::info!(status = response.status, method = %request.method, "request refused");
                }
            }
        }
    }

    /// Answers a 401/407 once with credentials (again only if the nonce went stale).
    /// `Ok(true)`: re-sent. `Ok(false)`: not ours to retry. `Err`: refused credentials.
    async fn retry_with_credentials(
        &mut self,
        txn: &mut ClientTransaction,
        response: &Response,
    ) -> Result<bool> {
        let header = if response.status == 401 {
            "www-authenticate"
        } else {
            "proxy-authenticate"
        };
        let challenge = Challenge::pick(
            response
                .headers
                .0
                .iter()
                .filter(|h| h.name == header)
                .map(|h| h.value.as_str()),
        )?;
        if txn.auth_tries >= 1 && !challenge.stale || txn.auth_tries >= 3 {
            return Err(SipError::Unauthorized {
                user: self.digest.username().to_string(),
                realm: challenge.realm,
            });
        }
        let mut request = txn.request.clone();
        request.headers.remove("via");
        // The same transaction's request again with the next CSeq (RFC 3261 §22.2).
        let cseq = request
            .headers
            .get("cseq")
            .and_then(|c| CSeq::parse(c).ok());
        let Some(cseq) = cseq else { return Ok(false) };
        let next = cseq.seq + 1;
        request.headers.set(
            "cseq",
            CSeq {
                seq: next,
                method: cseq.method.clone(),
            }
            .to_string(),
        );
        match &txn.purpose {
            Purpose::Register { .. } => self.registration.cseq = next,
            Purpose::Invite(id)
            | Purpose::ReInvite(id)
            | Purpose::Bye(id)
            | Purpose::Info(id)
            | Purpose::Refer(id)
            | Purpose::Notify(id) => {
                if let Some(d) = self.calls.get_mut(id).and_then(|c| c.dialog.as_mut()) {
                    d.local_cseq = d.local_cseq.max(next);
                }
            }
            Purpose::Cancel(_) => return Ok(false),
        }
        let uri = request.uri.to_string();
        let value = self.digest.authorize(
            &challenge,
            Signed {
                method: request.method.as_str(),
                uri: &uri,
                body: &request.body,
            },
        )?;
        request.headers.remove("authorization");
        request.headers.remove("proxy-authorization");
        request.headers.push(
            if response.status == 401 {
                "authorization"
            } else {
                "proxy-authorization"
            },
            value,
        );
        let tries = txn.auth_tries + 1;
        let purpose = txn.purpose.clone();
        let branch = new_branch();
        request.headers.push_front("via", self.via(&branch));
        if let Purpose::Invite(id) | Purpose::ReInvite(id) = purpose
            && let Some(call) = self.calls.get_mut(&id)
        {
            call.invite = Some(request.clone());
        }
        self.start_transaction(request, branch.clone(), purpose)
            .await;
        if let Some(new) = self.clients.get_mut(&branch) {
            new.auth_tries = tries;
        }
        Ok(true)
    }

    async fn transaction_failed(&mut self, purpose: Purpose, error: SipError) {
        match purpose {
            Purpose::Register { .. } => self.registration_failed(error).await,
            Purpose::Invite(id) => {
                if self.calls.remove(&id).is_some() {
                    tracing::warn!(call = %id, "call failed: {error}");
                    self.emit(PhoneEvent::Ended {
                        call: id,
                        reason: EndReason::Failed(error.to_string()),
                    })
                    .await;
                }
            }
            Purpose::ReInvite(id) => {
                if let Some(call) = self.calls.get_mut(&id)
                    && let Some(tx) = call.hold_waiter.take()
                {
                    let _ = tx.send(Err(error));
                }
            }
            Purpose::Refer(id) => {
                if let Some(tx) = self
                    .calls
                    .get_mut(&id)
                    .and_then(|c| c.transfer_waiter.take())
                {
                    let _ = tx.send(Err(error));
                }
            }
            Purpose::Bye(id) | Purpose::Cancel(id) | Purpose::Info(id) | Purpose::Notify(id) => {
                tracing::info!(call = %id, "no good answer: {error}");
            }
        }
    }

    /// The ACK for a failure answer to an INVITE: part of the INVITE transaction (§17.1.1.3).
    async fn ack_failure(&mut self, invite: &Request, response: &Response) {
        let mut ack = Request::new(Method::Ack, invite.uri.clone());
        if let Some(via) = invite.headers.get_all("via").first() {
            ack.headers.push("via", via.to_string());
        }
        for name in ["route", "max-forwards", "from"] {
            ack.headers.copy_from(&invite.headers, name);
        }
        ack.headers.copy_from(&response.headers, "to");
        ack.headers.copy_from(&invite.headers, "call-id");
        let seq = invite
            .headers
            .get("cseq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        ack.headers.push(
            "cseq",
            CSeq {
                seq,
                method: Method::Ack,
            }
            .to_string(),
        );
        self.send_bytes(&ack.to_bytes(), self.transport.proxy())
            .await;
    }

    async fn reack(&mut self, response: &Response) {
        let call_id = response.headers.get("call-id");
        let ack = self
            .calls
            .values()
            .find(|c| c.dialog.as_ref().map(|d| Some(d.call_id.as_str())) == Some(call_id))
            .and_then(|c| c.ack.clone());
        if let Some(ack) = ack {
            self.send_bytes(&ack, self.transport.proxy()).await;
        }
    }

    async fn on_invite_provisional(&mut self, id: CallId, invite: &Request, response: &Response) {
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        if response.status > 100 {
            if call.state == CallState::Calling {
                call.state = CallState::Ringing;
            }
            if call.dialog.is_none() {
                call.dialog = Dialog::from_response(invite, response);
            }
            if call.media.is_none() && !response.body.is_empty() {
                // 183 with SDP: early media (ring-back, announcements).
                if let Ok(agreed) = SessionDescription::parse(&response.body)
                    .and_then(|a| call.local_media.read_answer(&a))
                {
                    self.start_media(&mut call, agreed).await;
                }
            }
            if !call.ringing_reported {
                call.ringing_reported = true;
                self.emit(PhoneEvent::Ringing { call: id }).await;
            }
        }
        if call.cancel_pending && !call.cancelled {
            if call.state == CallState::Calling {
                call.state = CallState::Ringing;
            }
            self.send_cancel(&mut call).await;
        }
        self.calls.insert(id, call);
    }

    async fn on_invite_final(&mut self, id: CallId, invite: &Request, response: &Response) {
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        let status = response.status;
        if !(200..300).contains(&status) {
            let reason = match status {
                486 | 600 => EndReason::Busy,
                487 if call.cancelled || call.cancel_pending => EndReason::Local,
                _ => EndReason::Rejected(status, response.reason.clone()),
            };
            tracing::info!(call = %id, status, "call not answered");
            self.finish_referral(&call, status).await;
            self.emit(PhoneEvent::Ended { call: id, reason }).await;
            return;
        }
        let Some(mut dialog) = Dialog::from_response(invite, response) else {
            tracing::warn!(call = %id, "a 2xx without a usable To tag; ending the call");
            self.emit(PhoneEvent::Ended {
                call: id,
                reason: EndReason::Failed("unusable 2xx".into()),
            })
            .await;
            return;
        };
        let seq = invite
            .headers
            .get("cseq")
            .and_then(|c| CSeq::parse(c).ok())
            .map(|c| c.seq)
            .unwrap_or(1);
        dialog.local_cseq = seq;
        let mut ack = dialog.request_with_cseq(Method::Ack, seq);
        ack.headers.push_front("via", self.via(&new_branch()));
        let ack_bytes = ack.to_bytes();
        self.send_bytes(&ack_bytes, self.transport.proxy()).await;
        call.ack = Some(ack_bytes);
        call.dialog = Some(dialog);
        call.state = CallState::Established;
        if call.media.is_none() {
            match SessionDescription::parse(&response.body)
                .and_then(|a| call.local_media.read_answer(&a))
            {
                Ok(agreed) => self.start_media(&mut call, agreed).await,
                Err(e) => {
                    tracing::warn!(call = %id, "the answer's SDP is unusable, hanging up: {e}");
                    self.send_bye(&mut call).await;
                    self.emit(PhoneEvent::Ended {
                        call: id,
                        reason: EndReason::Failed(e.to_string()),
                    })
                    .await;
                    return;
                }
            }
        }
        if call.cancel_pending || call.cancelled {
            // Answered while we were hanging up: ACK, then BYE (§15).
            self.send_bye(&mut call).await;
            self.emit(PhoneEvent::Ended {
                call: id,
                reason: EndReason::Local,
            })
            .await;
            return;
        }
        tracing::info!(call = %id, "call established");
        self.emit(PhoneEvent::Established { call: id }).await;
        self.finish_referral(&call, 200).await;
        if call.referred_by.is_some() {
            call.referred_by = None;
        }
        self.calls.insert(id, call);
    }

    async fn on_reinvite_final(&mut self, id: CallId, invite: &Request, response: &Response) {
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        let waiter = call.hold_waiter.take();
        if (200..300).contains(&response.status) {
            let seq = invite
                .headers
                .get("cseq")
                .and_then(|c| CSeq::parse(c).ok())
                .map(|c| c.seq)
                .unwrap_or(1);
            if let Some(dialog) = call.dialog.as_mut() {
                let mut ack = dialog.request_with_cseq(Method::Ack, seq);
                ack.headers.push_front("via", self.via(&new_branch()));
                let bytes = ack.to_bytes();
                self.send_bytes(&bytes, self.transport.proxy()).await;
                call.ack = Some(bytes);
            }
            match SessionDescription::parse(&response.body)
                .and_then(|a| call.local_media.read_answer(&a))
            {
                Ok(agreed) => self.start_media(&mut call, agreed).await,
                Err(e) => tracing::warn!(call = %id, "the re-INVITE's answer is unusable: {e}"),
            }
            let event = if call.local_hold {
                PhoneEvent::Held {
                    call: id,
                    by_remote: false,
                }
            } else {
                PhoneEvent::Resumed {
                    call: id,
                    by_remote: false,
                }
            };
            self.emit(event).await;
            if let Some(tx) = waiter {
                let _ = tx.send(Ok(()));
            }
        } else {
            // The session stays as it was (RFC 3261 §14.1).
            call.local_hold = !call.local_hold;
            call.local_media.direction = if call.local_hold {
                Direction::SendOnly
            } else {
                Direction::SendRecv
            };
            if let Some(tx) = waiter {
                let _ = tx.send(Err(SipError::Rejected {
                    method: "re-INVITE".into(),
                    status: response.status,
                    reason: response.reason.clone(),
                }));
            }
        }
        self.calls.insert(id, call);
    }

    // ----- timers ------------------------------------------------------------------------

    async fn on_timers(&mut self) {
        let now = Instant::now();
        let mut timed_out = Vec::new();
        let mut resend = Vec::new();
        for (branch, txn) in self.clients.iter_mut() {
            match txn.on_timer(now) {
                TimerStep::Wait => {}
                TimerStep::Retransmit => resend.push(txn.bytes.clone()),
                TimerStep::TimedOut => timed_out.push(branch.clone()),
            }
        }
        for bytes in resend {
            self.send_bytes(&bytes, self.transport.proxy()).await;
        }
        for branch in timed_out {
            if let Some(txn) = self.clients.remove(&branch) {
                let what = format!("{} {}", txn.request.method, txn.request.uri);
                tracing::warn!("{what}: no answer in time");
                self.transaction_failed(txn.purpose, SipError::Timeout(what))
                    .await;
            }
        }
        self.servers.retain(|t| t.expires > now);
        let mut server_resend = Vec::new();
        for txn in self.servers.iter_mut() {
            if let Some((at, interval)) = txn.until_ack
                && now >= at
            {
                let next = (interval * 2).min(T2);
                txn.until_ack = Some((now + next, next));
                if let Some(bytes) = &txn.last_response {
                    server_resend.push((bytes.clone(), txn.to));
                }
            }
        }
        for (bytes, to) in server_resend {
            self.send_bytes(&bytes, to).await;
        }
        let ids: Vec<CallId> = self.calls.keys().copied().collect();
        for id in ids {
            let Some(mut call) = self.calls.remove(&id) else {
                continue;
            };
            let mut keep = true;
            if let Some(pending) = call.pending_ack.as_mut() {
                if now >= pending.deadline {
                    // No ACK for our 2xx: the dialog is dead (§13.3.1.4).
                    tracing::warn!(call = %id, "no ACK for our 200 OK; hanging up");
                    call.pending_ack = None;
                    self.send_bye(&mut call).await;
                    self.emit(PhoneEvent::Ended {
                        call: id,
                        reason: EndReason::Failed("no ACK".into()),
                    })
                    .await;
                    keep = false;
                } else if now >= pending.next {
                    pending.interval = (pending.interval * 2).min(T2);
                    pending.next = now + pending.interval;
                    let (bytes, to) = (pending.bytes.clone(), pending.to);
                    self.send_bytes(&bytes, to).await;
                }
            }
            if keep {
                self.calls.insert(id, call);
            }
        }
        if self.registration.refresh_at.is_some_and(|at| now >= at)
            || self.registration.retry_at.is_some_and(|at| now >= at)
        {
            self.registration.refresh_at = None;
            self.send_register(self.config.register_expires).await;
        }
        if let Some(at) = self.next_keepalive
            && now >= at
        {
            if let Err(e) = self.transport.keepalive().await {
                tracing::debug!("keep-alive failed: {e}");
            }
            self.next_keepalive = self.config.keepalive.map(|k| now + k);
        }
        if self.reconnect_at.is_some_and(|at| now >= at) {
            self.reconnect_at = None;
            match Transport::open(&self.transport_config, self.incoming_tx.clone()).await {
                Ok(transport) => {
                    tracing::info!("reconnected to the proxy");
                    self.transport = transport;
                    self.contact_addr = self.transport.local_addr();
                    if self.registration.active {
                        self.send_register(self.config.register_expires).await;
                    }
                }
                Err(e) => {
                    tracing::warn!("reconnect failed: {e}");
                    self.reconnect_at = Some(now + Duration::from_secs(10));
                }
            }
        }
    }
}

fn txn_key(request: &Request) -> Option<(String, u32)> {
    let via = Via::parse(request.headers.get_all("via").first()?).ok()?;
    let cseq = CSeq::parse(request.headers.get("cseq")?).ok()?;
    Some((via.branch()?.to_string(), cseq.seq))
}

/// The lifetime the registrar granted our binding: our Contact's `expires`, else Expires.
fn granted_expires(request: &Request, response: &Response) -> Option<u32> {
    let ours = request
        .headers
        .get("contact")
        .and_then(|c| NameAddr::parse(c).ok())?;
    for contact in response.headers.get_all("contact") {
        let Ok(binding) = NameAddr::parse(contact) else {
            continue;
        };
        if binding.uri.user == ours.uri.user
            && binding.uri.host == ours.uri.host
            && binding.uri.port == ours.uri.port
            && let Some(e) = binding.params.value("expires").and_then(|e| e.parse().ok())
        {
            return Some(e);
        }
    }
    response
        .headers
        .get("expires")
        .and_then(|e| e.trim().parse().ok())
}

/// A digit from an INFO body: `application/dtmf-relay` (`Signal=5`) or `application/dtmf` (`5`).
fn dtmf_from_info(request: &Request) -> Option<char> {
    let kind = request.headers.get("content-type")?.to_ascii_lowercase();
    let body = std::str::from_utf8(&request.body).ok()?;
    let text = if kind.starts_with("application/dtmf-relay") {
        body.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| v.trim())
        })?
    } else if kind.starts_with("application/dtmf") {
        body.trim()
    } else {
        return None;
    };
    let mut chars = text.chars();
    let digit = chars.next()?.to_ascii_uppercase();
    let digit = match (digit, chars.next()) {
        (d, None) if matches!(d, '0'..='9' | '*' | '#' | 'A'..='D') => d,
        _ if text == "10" => '*',
        _ if text == "11" => '#',
        _ => return None,
    };
    Some(digit)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => "Unknown",
    }
}

fn host_port(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    u32::from_le_bytes(b) & 0x7fff_ffff
}

async fn resolve(proxy: &str, kind: TransportKind) -> Result<SocketAddr> {
    let default_port = if kind == TransportKind::Tls {
        5061
    } else {
        5060
    };
    let with_port = if proxy
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        proxy.to_string()
    } else {
        format!("{proxy}:{default_port}")
    };
    let unreachable = |source| SipError::Unreachable {
        addr: proxy.to_string(),
        source,
    };
    let mut addrs = tokio::net::lookup_host(&with_port)
        .await
        .map_err(unreachable)?;
    addrs.next().ok_or_else(|| {
        unreachable(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no address",
        ))
    })
}

/// The local address the OS would use to reach `to` (no packet is sent).
fn route_to(to: SocketAddr) -> Result<IpAddr> {
    let any: SocketAddr = if to.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(any)?;
    socket.connect(to)?;
    Ok(socket.local_addr()?.ip())
}

fn clone_error(error: &SipError) -> SipError {
    match error {
        SipError::Unauthorized { user, realm } => SipError::Unauthorized {
            user: user.clone(),
            realm: realm.clone(),
        },
        SipError::Rejected {
            method,
            status,
            reason,
        } => SipError::Rejected {
            method: method.clone(),
            status: *status,
            reason: reason.clone(),
        },
        SipError::Timeout(what) => SipError::Timeout(what.clone()),
        other => SipError::Challenge(other.to_string()),
    }
}

fn reply_stopped(command: Command) {
    match command {
        Command::Register(tx) => drop(tx.send(Err(SipError::Stopped))),
        Command::Unregister(tx)
        | Command::Answer(_, tx)
        | Command::Reject(_, _, tx)
        | Command::Hangup(_, tx)
        | Command::Hold(_, _, tx)
        | Command::Transfer(_, _, tx)
        | Command::Info(_, _, tx) => drop(tx.send(Err(SipError::Stopped))),
        Command::Call(_, tx) => drop(tx.send(Err(SipError::Stopped))),
        Command::Shutdown(tx) => drop(tx.send(())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_message;

    fn request(text: &str) -> Request {
        match parse_message(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn info_bodies_give_digits() {
        let relay = request(
            "INFO sip:a@b SIP/2.0\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n",
        );
        assert_eq!(dtmf_from_info(&relay), Some('5'));
        let plain = request(
            "INFO sip:a@b SIP/2.0\r\nContent-Type: application/dtmf\r\nContent-Length: 1\r\n\r\n#",
        );
        assert_eq!(dtmf_from_info(&plain), Some('#'));
        let junk = request(
            "INFO sip:a@b SIP/2.0\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 9\r\n\r\nSignal=XY",
        );
        assert_eq!(dtmf_from_info(&junk), None);
    }

    #[test]
    fn the_granted_lifetime_comes_from_our_contact() {
        let reg = request(
            "REGISTER sip:d SIP/2.0\r\nContact: <sip:alice@10.0.0.1:5060>\r\nContent-Length: 0\r\n\r\n",
        );
        let Ok(Message::Response(ok)) = parse_message(
            b"SIP/2.0 200 OK\r\nContact: <sip:alice@10.0.0.9:5060>;expires=50, <sip:alice@10.0.0.1:5060>;expires=120\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n",
        ) else {
            panic!()
        };
        assert_eq!(granted_expires(&reg, &ok), Some(120));
    }
}
