//! A Deepgram live session: the synchronous handle ([`DeepgramSession`]) and the
//! background thread (a current-thread tokio runtime) that owns the WebSocket.
//!
//! `push` converts the samples and queues them for the thread; it never waits on the
//! network. The thread interleaves and sends audio, keeps the stream alive during
//! silence, turns server messages into [`TranscriptEvent`]s, and recovers a lost
//! connection: it reconnects with backoff, resends the audio after the last final
//! result, shifts the new connection's times by where it starts, and drops words that
//! are already final. When that fails for good it sends one error notice and the handle
//! refuses audio from then on.

use super::outgoing::{FRAMES_PER_MS, Outgoing, to_i16};
use super::protocol::{self, ListenParams, Results, ServerMessage, UtteranceEnd, secs_to_ms};
use super::{DeepgramConfig, ENGINE};
use crate::engine::{StreamConfig, StreamSession};
use crate::event::{EventSink, Notice, NoticeLevel, Segment, TranscriptEvent};
use crate::{Channel, Result, SttError, WordTiming};
use futures_util::{SinkExt, StreamExt};
use std::sync::{Arc, OnceLock, mpsc as std_mpsc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Response, header::AUTHORIZATION};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};
use url::Url;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bad frames from the server past this many are logged, not reported as notices.
const MAX_FRAME_WARNINGS: u32 = 20;

enum Command {
    Audio { channel: usize, samples: Vec<i16> },
    Finish,
}

/// Why a session stopped for good.
#[derive(Debug)]
struct Failure {
    auth: bool,
    message: String,
}

impl Failure {
    fn error(&self) -> SttError {
        if self.auth {
            SttError::Auth {
                engine: ENGINE,
                message: self.message.clone(),
            }
        } else {
            SttError::Connection {
                engine: ENGINE,
                message: self.message.clone(),
            }
        }
    }
}

/// A running Deepgram stream. Created by [`super::DeepgramEngine`].
pub struct DeepgramSession {
    channels: Vec<Channel>,
    commands: mpsc::UnboundedSender<Command>,
    failure: Arc<OnceLock<Failure>>,
    worker: JoinHandle<Result<()>>,
}

impl DeepgramSession {
    /// Connects and starts the session's thread. Fails with the handshake's error.
    pub(super) fn start(
        config: DeepgramConfig,
        stream: StreamConfig,
        events: EventSink,
    ) -> Result<Self> {
        let url = protocol::listen_url(
            &config.base_url,
            &ListenParams {
                model: &config.model,
                channels: stream.channels.len(),
                language: &stream.language,
                endpointing_ms: config.endpointing_ms,
                utterance_end_ms: config.utterance_end_ms,
            },
        )
        .map_err(|message| SttError::Engine {
            engine: ENGINE,
            message,
        })?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let failure = Arc::new(OnceLock::new());
        let (ready_tx, ready_rx) = std_mpsc::channel::<Result<()>>();
        let worker = Worker::new(
            config,
            url,
            stream.channels.clone(),
            events,
            failure.clone(),
        );
        let thread = std::thread::Builder::new()
            .name("deepgram-session".into())
            .spawn(move || worker.main(receiver, ready_tx))
            .map_err(|e| SttError::Engine {
                engine: ENGINE,
                message: format!("cannot start the session thread: {e}"),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                channels: stream.channels,
                commands,
                failure,
                worker: thread,
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                Err(SttError::Engine {
                    engine: ENGINE,
                    message: "the session thread stopped while connecting".into(),
                })
            }
        }
    }

    fn stopped(&self) -> SttError {
        self.failure
            .get()
            .map(Failure::error)
            .unwrap_or(SttError::SessionEnded)
    }
}

impl StreamSession for DeepgramSession {
    fn push(&mut self, channel: Channel, samples: &[f32]) -> Result<()> {
        let index = self
            .channels
            .iter()
            .position(|c| *c == channel)
            .ok_or(SttError::UnknownChannel(channel))?;
        if let Some(failure) = self.failure.get() {
            return Err(failure.error());
        }
        if samples.is_empty() {
            return Ok(());
        }
        self.commands
            .send(Command::Audio {
                channel: index,
                samples: to_i16(samples),
            })
            .map_err(|_| self.stopped())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let _ = self.commands.send(Command::Finish);
        match self.worker.join() {
            Ok(result) => result,
            Err(_) => Err(SttError::Engine {
                engine: ENGINE,
                message: "the session thread panicked".into(),
            }),
        }
    }
}

/// Why the handshake failed.
enum ConnectError {
    /// 401/403: the key was refused.
    Auth(String),
    /// Another 4xx: retrying will not help.
    Refused(String),
    /// Network trouble, timeouts, 5xx: worth another attempt.
    Transient(String),
}

impl ConnectError {
    fn into_error(self) -> SttError {
        match self {
            Self::Auth(message) => SttError::Auth {
                engine: ENGINE,
                message,
            },
            Self::Refused(message) => SttError::Engine {
                engine: ENGINE,
                message,
            },
            Self::Transient(message) => SttError::Connection {
                engine: ENGINE,
                message,
            },
        }
    }
}

async fn connect(config: &DeepgramConfig, url: &Url) -> Result<Ws, ConnectError> {
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| ConnectError::Refused(format!("cannot build the request: {e}")))?;
    let mut token = HeaderValue::from_str(&format!("Token {}", config.api_key)).map_err(|_| {
        ConnectError::Auth("the API key contains characters a header cannot carry".into())
    })?;
    token.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, token);
    match timeout(
        config.connect_timeout,
        connect_async_with_config(request, None, true),
    )
    .await
    {
        Err(_) => Err(ConnectError::Transient(format!(
            "no connection within {:.1} s",
            config.connect_timeout.as_secs_f64()
        ))),
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tungstenite::Error::Http(response))) => {
            let status = response.status();
            let message = describe_refusal(&response);
            if status.as_u16() == 401 || status.as_u16() == 403 {
                Err(ConnectError::Auth(message))
            } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
                Err(ConnectError::Refused(message))
            } else {
                Err(ConnectError::Transient(message))
            }
        }
        Ok(Err(e)) => Err(ConnectError::Transient(format!("cannot connect: {e}"))),
    }
}

/// `HTTP 401 Unauthorized: Invalid credentials. (INVALID_AUTH)` from a refused upgrade.
fn describe_refusal(response: &Response<Option<Vec<u8>>>) -> String {
    let status = response.status();
    let mut text = format!("the server refused the connection: HTTP {status}");
    let body = response.body().as_deref().unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<protocol::HttpError>(body)
        && let Some(message) = error.err_msg
    {
        text.push_str(": ");
        text.push_str(&message);
        if let Some(code) = error.err_code {
            text.push_str(&format!(" ({code})"));
        }
    } else if let Some(message) = response
        .headers()
        .get("dg-error")
        .and_then(|v| v.to_str().ok())
    {
        text.push_str(": ");
        text.push_str(message);
    } else if !body.is_empty() {
        let body = String::from_utf8_lossy(body);
        text.push_str(": ");
        text.push_str(&body.chars().take(200).collect::<String>());
    }
    text
}

fn describe_close(frame: Option<&CloseFrame>) -> String {
    match frame {
        Some(frame) if frame.reason.is_empty() => {
            format!("closed with code {}", u16::from(frame.code))
        }
        Some(frame) => format!(
            "closed with code {} ({})",
            u16::from(frame.code),
            frame.reason.as_str()
        ),
        None => "closed without a code".into(),
    }
}

/// Per-channel transcript state.
#[derive(Default)]
struct ChannelState {
    /// Stream ms up to which the server's results are final.
    committed_ms: u64,
    /// Finals were sent since the last end-of-utterance.
    utterance_open: bool,
    /// Channel ms of the end of the last final word.
    last_word_end_ms: u32,
    /// The last result was an interim with words.
    partial_open: bool,
    /// An `UtteranceEnd` came while words were still interim: end after the next final.
    end_pending: bool,
    /// A `from_finalize` result came after this connection's `Finalize`.
    finalized: bool,
}

/// One WebSocket connection of the session.
struct Conn {
    ws: Ws,
    /// The stream frame this connection's time 0 is.
    start_frame: u64,
    last_sent: Instant,
    /// Audio (or a `Finalize` with audio not yet final) went out and the server has not
    /// said anything since.
    awaiting_since: Option<Instant>,
    got_results: bool,
    /// After `Finalize`: when it went out or the last final came.
    final_at: Option<Instant>,
    finals_since_finalize: bool,
    finalize_sent: bool,
    close_sent: bool,
    deadline: Option<Instant>,
}

impl Conn {
    fn new(ws: Ws, start_frame: u64) -> Self {
        Self {
            ws,
            start_frame,
            last_sent: Instant::now(),
            awaiting_since: None,
            got_results: false,
            final_at: None,
            finals_since_finalize: false,
            finalize_sent: false,
            close_sent: false,
            deadline: None,
        }
    }
}

/// What one turn of the loop decided.
enum Step {
    Continue,
    /// The stream ended as asked.
    Done,
    /// The handle was dropped without `finish`.
    Abort,
    /// The connection is gone (or useless); the reason.
    Lost(String),
}

enum Wake {
    Server(Option<Result<Message, tungstenite::Error>>),
    Command(Option<Command>),
    KeepAlive,
    Stalled,
    Deadline,
}

struct Worker {
    config: DeepgramConfig,
    url: Url,
    channels: Vec<Channel>,
    events: EventSink,
    failure: Arc<OnceLock<Failure>>,
    out: Outgoing,
    state: Vec<ChannelState>,
    accepting: bool,
    finishing: bool,
    /// Failed attempts (and connections lost before any result) in a row.
    strikes: u32,
    frame_warnings: u32,
    max_frame: usize,
}

impl Worker {
    fn new(
        config: DeepgramConfig,
        url: Url,
        channels: Vec<Channel>,
        events: EventSink,
        failure: Arc<OnceLock<Failure>>,
    ) -> Self {
        let frames = |d: Duration| d.as_millis() as u64 * FRAMES_PER_MS;
        let out = Outgoing::new(
            channels.len(),
            frames(config.max_backfill),
            frames(config.max_channel_skew) as usize,
        );
        let max_frame = (frames(config.max_frame) as usize).max(FRAMES_PER_MS as usize);
        Self {
            state: channels.iter().map(|_| ChannelState::default()).collect(),
            config,
            url,
            channels,
            events,
            failure,
            out,
            accepting: true,
            finishing: false,
            strikes: 0,
            frame_warnings: 0,
            max_frame,
        }
    }

    /// The thread's body: connect, report the outcome to `start`, then run.
    fn main(
        self,
        commands: mpsc::UnboundedReceiver<Command>,
        ready: std_mpsc::Sender<Result<()>>,
    ) -> Result<()> {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = ready.send(Err(SttError::Engine {
                    engine: ENGINE,
                    message: format!("cannot start the session runtime: {e}"),
                }));
                return Ok(());
            }
        };
        runtime.block_on(async move {
            match connect(&self.config, &self.url).await {
                Ok(ws) => {
                    tracing::info!(channels = self.channels.len(), "deepgram: connected");
                    let _ = ready.send(Ok(()));
                    self.run(ws, commands).await
                }
                Err(error) => {
                    let _ = ready.send(Err(error.into_error()));
                    Ok(())
                }
            }
        })
    }

    async fn run(mut self, ws: Ws, mut commands: mpsc::UnboundedReceiver<Command>) -> Result<()> {
        let mut conn = Conn::new(ws, 0);
        loop {
            match self.step(&mut conn, &mut commands).await {
                Step::Continue => {}
                Step::Done => {
                    self.close_utterances();
                    let _ = timeout(self.config.close_timeout, conn.ws.close(None)).await;
                    tracing::info!("deepgram: stream finished");
                    return Ok(());
                }
                Step::Abort => {
                    let _ = timeout(Duration::from_millis(200), conn.ws.close(None)).await;
                    return Ok(());
                }
                Step::Lost(_) if conn.close_sent => {
                    // After CloseStream the end of the connection is the end of the stream.
                    self.close_utterances();
                    let _ = timeout(Duration::from_millis(200), conn.ws.close(None)).await;
                    tracing::info!("deepgram: stream finished");
                    return Ok(());
                }
                Step::Lost(reason) => {
                    tracing::warn!(%reason, "deepgram: connection lost");
                    self.strikes += 1;
                    conn = self.reconnect(&reason, &mut commands).await?;
                }
            }
        }
    }

    async fn step(
        &mut self,
        conn: &mut Conn,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Step {
        if let Err(lost) = self.send_audio(conn).await {
            return Step::Lost(lost);
        }
        if self.finishing && !self.out.has_pending() {
            let now = Instant::now();
            let overdue = conn.deadline.is_some_and(|d| now >= d);
            if !conn.finalize_sent {
                if let Err(lost) = self.send(conn, Message::text(protocol::FINALIZE)).await {
                    return Step::Lost(lost);
                }
                conn.finalize_sent = true;
                conn.deadline = Some(now + self.config.finalize_timeout);
                // From here on the server owes finals for the rest of the audio.
                conn.final_at = Some(now);
                conn.finals_since_finalize = false;
                for state in &mut self.state {
                    state.finalized = false;
                }
            }
            if !conn.close_sent {
                if self.all_committed() || overdue {
                    if !self.all_committed() && !conn.finals_since_finalize {
                        return Step::Lost(format!(
                            "no answer to Finalize within {:.1} s",
                            self.config.finalize_timeout.as_secs_f64()
                        ));
                    }
                    if let Err(lost) = self.send(conn, Message::text(protocol::CLOSE_STREAM)).await
                    {
                        return Step::Lost(lost);
                    }
                    conn.close_sent = true;
                    conn.deadline = Some(now + self.config.close_timeout);
                }
            } else if overdue {
                return Step::Done;
            }
        }

        let keep_alive_at = conn.last_sent + self.config.keep_alive;
        // Stalled: audio went out and nothing came back, or the server owes finals after
        // a Finalize and none came.
        let flow_stall = conn.awaiting_since.map(|t| t + self.config.stall_timeout);
        let final_stall = conn
            .final_at
            .filter(|_| !self.all_committed())
            .map(|t| t + self.config.stall_timeout);
        let stall_at = match (flow_stall, final_stall) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let deadline = conn.deadline;
        let accepting = self.accepting;
        let wake = tokio::select! {
            biased;
            message = conn.ws.next() => Wake::Server(message),
            command = commands.recv(), if accepting => Wake::Command(command),
            () = sleep_until(keep_alive_at), if !conn.close_sent => Wake::KeepAlive,
            () = until(stall_at) => Wake::Stalled,
            () = until(deadline) => Wake::Deadline,
        };
        match wake {
            Wake::Server(Some(Ok(message))) => self.on_message(conn, message),
            Wake::Server(Some(Err(e))) => Step::Lost(format!("the connection failed: {e}")),
            Wake::Server(None) => Step::Lost("the server ended the connection".into()),
            Wake::Command(None) => Step::Abort,
            Wake::Command(Some(command)) => {
                self.apply(command);
                while let Ok(command) = commands.try_recv() {
                    self.apply(command);
                }
                Step::Continue
            }
            Wake::KeepAlive => match self.send(conn, Message::text(protocol::KEEP_ALIVE)).await {
                Ok(()) => {
                    tracing::debug!("deepgram: keep-alive");
                    Step::Continue
                }
                Err(lost) => Step::Lost(lost),
            },
            Wake::Stalled if flow_stall.is_some_and(|t| t <= Instant::now()) => {
                Step::Lost(format!(
                    "no message from the server for {:.1} s while audio was flowing",
                    self.config.stall_timeout.as_secs_f64()
                ))
            }
            Wake::Stalled => Step::Lost(format!(
                "no final results from the server for {:.1} s after Finalize",
                self.config.stall_timeout.as_secs_f64()
            )),
            Wake::Deadline => Step::Continue,
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::Audio { channel, samples } => self.out.push(channel, &samples),
            Command::Finish => {
                self.finishing = true;
                self.accepting = false;
            }
        }
    }

    /// Sends the audio that is ready (all of it when finishing).
    async fn send_audio(&mut self, conn: &mut Conn) -> Result<(), String> {
        while let Some(chunk) = self.out.next_chunk(self.finishing, self.max_frame) {
            self.send(conn, Message::binary(chunk)).await?;
            conn.awaiting_since.get_or_insert_with(Instant::now);
        }
        Ok(())
    }

    async fn send(&self, conn: &mut Conn, message: Message) -> Result<(), String> {
        match timeout(self.config.stall_timeout, conn.ws.send(message)).await {
            Ok(Ok(())) => {
                conn.last_sent = Instant::now();
                Ok(())
            }
            Ok(Err(e)) => Err(format!("sending failed: {e}")),
            Err(_) => Err(format!(
                "a send was blocked for {:.1} s",
                self.config.stall_timeout.as_secs_f64()
            )),
        }
    }

    /// Every channel has final results for all the audio sent (or, after `Finalize`,
    /// its `from_finalize` answer).
    fn all_committed(&self) -> bool {
        let sent_ms = self.out.sent_frames() / FRAMES_PER_MS;
        self.state
            .iter()
            .all(|s| s.finalized || s.committed_ms + 20 >= sent_ms)
    }

    fn on_message(&mut self, conn: &mut Conn, message: Message) -> Step {
        match message {
            Message::Text(text) => {
                conn.awaiting_since = None;
                match serde_json::from_str::<ServerMessage>(text.as_str()) {
                    Ok(ServerMessage::Results(results)) => self.on_results(conn, results),
                    Ok(ServerMessage::UtteranceEnd(end)) => self.on_utterance_end(end),
                    Ok(ServerMessage::SpeechStarted(started)) => {
                        tracing::trace!(channel = ?started.channel, at = started.timestamp, "deepgram: speech started");
                    }
                    Ok(ServerMessage::Metadata(metadata)) => {
                        tracing::debug!(request_id = ?metadata.request_id, duration = ?metadata.duration, "deepgram: metadata");
                    }
                    Ok(ServerMessage::Other) => {}
                    Err(e) => self.frame_warning(format!(
                        "Deepgram sent a message that could not be read ({e}); it was ignored"
                    )),
                }
                Step::Continue
            }
            Message::Binary(bytes) => {
                conn.awaiting_since = None;
                self.frame_warning(format!(
                    "Deepgram sent an unexpected binary frame ({} bytes); it was ignored",
                    bytes.len()
                ));
                Step::Continue
            }
            Message::Close(frame) => Step::Lost(describe_close(frame.as_ref())),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Step::Continue,
        }
    }

    fn on_results(&mut self, conn: &mut Conn, results: Results) {
        let Some(index) = results
            .channel_index
            .first()
            .map(|i| *i as usize)
            .filter(|i| *i < self.channels.len())
        else {
            self.frame_warning(format!(
                "Deepgram sent results for channel {:?}, which this session does not have",
                results.channel_index
            ));
            return;
        };
        conn.got_results = true;
        self.strikes = 0;
        let channel = self.channels[index];
        let base_ms = conn.start_frame / FRAMES_PER_MS;
        let committed = self.state[index].committed_ms;
        let mut last_end = 0;
        let words: Vec<WordTiming> = results
            .channel
            .alternatives
            .first()
            .map(|alternative| alternative.words.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|w| {
                let start = base_ms + secs_to_ms(w.start);
                let end = (base_ms + secs_to_ms(w.end)).max(start);
                // Already final (resent audio after a reconnect).
                if (start + end) / 2 < committed {
                    return None;
                }
                let text = w.punctuated_word.as_deref().unwrap_or(&w.word).trim();
                if text.is_empty() {
                    return None;
                }
                last_end = last_end.max(end);
                Some(WordTiming {
                    word: text.to_string(),
                    start_ms: self.out.channel_ms(index, start),
                    end_ms: self.out.channel_ms(index, end),
                    confidence: w.confidence.map(|c| c.clamp(0.0, 1.0) as f32),
                })
            })
            .collect();
        let segment = Segment::from_words(channel, words);
        if results.is_final {
            if conn.finalize_sent {
                conn.final_at = Some(Instant::now());
                conn.finals_since_finalize = true;
            }
            let end = base_ms + secs_to_ms(results.start + results.duration);
            let state = &mut self.state[index];
            state.committed_ms = state.committed_ms.max(end).max(last_end);
            state.partial_open = false;
            if results.from_finalize && conn.finalize_sent {
                state.finalized = true;
            }
            if let Some(segment) = segment {
                state.utterance_open = true;
                state.last_word_end_ms = segment.end_ms;
                self.emit(TranscriptEvent::Final { segment });
            }
            let state = &mut self.state[index];
            if (results.speech_final || state.end_pending) && state.utterance_open {
                state.utterance_open = false;
                state.end_pending = false;
                let at_ms = state.last_word_end_ms;
                self.emit(TranscriptEvent::EndOfUtterance { channel, at_ms });
            }
            self.acknowledge();
        } else {
            let state = &mut self.state[index];
            state.partial_open = segment.is_some();
            if let Some(segment) = segment {
                self.emit(TranscriptEvent::Partial { segment });
            } else if state.end_pending {
                // The interim words were withdrawn: the utterance the end was for is over.
                state.end_pending = false;
                if state.utterance_open {
                    state.utterance_open = false;
                    let at_ms = state.last_word_end_ms;
                    self.emit(TranscriptEvent::EndOfUtterance { channel, at_ms });
                }
            }
        }
    }

    fn on_utterance_end(&mut self, end: UtteranceEnd) {
        let Some(index) = end
            .channel
            .first()
            .map(|i| *i as usize)
            .filter(|i| *i < self.channels.len())
        else {
            return;
        };
        let state = &mut self.state[index];
        if state.partial_open {
            // Words are still interim: the end follows their final.
            state.end_pending = true;
        } else if state.utterance_open {
            state.utterance_open = false;
            let at_ms = state.last_word_end_ms;
            let channel = self.channels[index];
            self.emit(TranscriptEvent::EndOfUtterance { channel, at_ms });
        }
    }

    /// Lets the backfill buffer forget audio every channel has final results for.
    fn acknowledge(&mut self) {
        let committed = self.state.iter().map(|s| s.committed_ms).min().unwrap_or(0);
        self.out.acknowledge(committed * FRAMES_PER_MS);
    }

    /// Ends the utterances still open (the stream is over).
    fn close_utterances(&mut self) {
        for index in 0..self.state.len() {
            let state = &mut self.state[index];
            if state.utterance_open {
                state.utterance_open = false;
                state.end_pending = false;
                let at_ms = state.last_word_end_ms;
                let channel = self.channels[index];
                self.emit(TranscriptEvent::EndOfUtterance { channel, at_ms });
            }
        }
    }

    /// Reconnects after a loss, resending the unacknowledged audio. Fails for good
    /// (with the error notice) when the key is refused or the attempts run out.
    async fn reconnect(
        &mut self,
        reason: &str,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Result<Conn> {
        let mut last_error = String::new();
        loop {
            let attempts = self.config.reconnect.attempts;
            if self.strikes > attempts {
                let mut message = format!(
                    "the connection to Deepgram was lost ({reason}) and {attempts} reconnection attempt{} failed",
                    if attempts == 1 { "" } else { "s" }
                );
                if !last_error.is_empty() {
                    message.push_str(&format!(" (last: {last_error})"));
                }
                return Err(self.fail(false, message));
            }
            let wait = self.config.reconnect.backoff(self.strikes);
            if !self.wait_accepting(wait, commands).await {
                return Err(SttError::SessionEnded);
            }
            match connect(&self.config, &self.url).await {
                Ok(ws) => {
                    let mut conn = Conn::new(ws, self.out.retained_from());
                    let resent = self.out.sent_frames() - self.out.retained_from();
                    let mut failed = None;
                    for chunk in self.out.backfill(self.max_frame) {
                        if let Err(e) = self.send(&mut conn, Message::binary(chunk)).await {
                            failed = Some(e);
                            break;
                        }
                    }
                    if let Some(e) = failed {
                        last_error = e;
                        self.strikes += 1;
                        continue;
                    }
                    if resent > 0 {
                        conn.awaiting_since = Some(Instant::now());
                    }
                    for state in &mut self.state {
                        state.partial_open = false;
                        state.finalized = false;
                    }
                    let dropped = self.out.take_dropped();
                    let mut message = format!(
                        "the connection to Deepgram was lost ({reason}); reconnected and resent {:.1} s of audio",
                        resent as f64 / f64::from(crate::SAMPLE_RATE)
                    );
                    if dropped > 0 {
                        message.push_str(&format!(
                            "; {:.1} s of older audio could not be resent",
                            dropped as f64 / f64::from(crate::SAMPLE_RATE)
                        ));
                    }
                    tracing::warn!("deepgram: {message}");
                    self.notice(NoticeLevel::Warning, message);
                    return Ok(conn);
                }
                Err(ConnectError::Auth(message)) => {
                    return Err(self.fail(true, format!("reconnecting failed: {message}")));
                }
                Err(ConnectError::Refused(message)) => {
                    return Err(self.fail(false, format!("reconnecting failed: {message}")));
                }
                Err(ConnectError::Transient(message)) => {
                    tracing::warn!(attempt = self.strikes, %message, "deepgram: reconnect failed");
                    last_error = message;
                    self.strikes += 1;
                }
            }
        }
    }

    /// Sleeps for `wait` while still taking audio. False when the handle is gone.
    async fn wait_accepting(
        &mut self,
        wait: Duration,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> bool {
        let until = Instant::now() + wait;
        loop {
            let accepting = self.accepting;
            tokio::select! {
                () = sleep_until(until) => return true,
                command = commands.recv(), if accepting => match command {
                    Some(command) => self.apply(command),
                    None => return false,
                },
            }
        }
    }

    /// Marks the session failed, sends the one error notice, returns the error.
    fn fail(&mut self, auth: bool, message: String) -> SttError {
        tracing::error!("deepgram: {message}");
        let failure = Failure { auth, message };
        let error = failure.error();
        let text = failure.message.clone();
        if self.failure.set(failure).is_ok() {
            self.notice(NoticeLevel::Error, text);
        }
        error
    }

    fn frame_warning(&mut self, message: String) {
        tracing::warn!("deepgram: {message}");
        self.frame_warnings += 1;
        if self.frame_warnings <= MAX_FRAME_WARNINGS {
            self.notice(NoticeLevel::Warning, message);
        }
    }

    fn notice(&self, level: NoticeLevel, message: String) {
        self.emit(TranscriptEvent::Notice {
            notice: Notice {
                level,
                engine: ENGINE.into(),
                message,
            },
        });
    }

    fn emit(&self, event: TranscriptEvent) {
        // A closed receiver is not an error: the events are dropped.
        let _ = self.events.send(event);
    }
}

async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
