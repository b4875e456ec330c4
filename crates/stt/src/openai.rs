//! OpenAI-compatible batch transcription (`POST {base}/audio/transcriptions`), as a
//! [`SpeechEngine`] that only does [`SpeechEngine::transcribe`]: each channel goes up as
//! a 16 kHz mono 16-bit WAV (split into chunks of at most ten minutes when it is over
//! the upload limit), and the `verbose_json` answer's segments and words come back as
//! [`Segment`]s on that channel's clock.
//!
//! Errors follow the documented error body: a refused key is [`SttError::Auth`] with the
//! server's message; rate limits and server errors are retried a few times (honouring
//! `Retry-After`) and then reported as [`SttError::Engine`]; timeouts and dropped
//! connections are [`SttError::Connection`].

use crate::audio_file::Clip;
use crate::engine::{EngineKind, SpeechEngine, StreamConfig, StreamSession};
use crate::event::{EventSink, Segment};
use crate::{Channel, Result, SttError, WordTiming};
use reqwest::blocking::{Client, multipart};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

const ENGINE: &str = "openai";
const WAV_HEADER_BYTES: usize = 44;

/// OpenAI's hosted API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The model used unless the settings name another.
pub const DEFAULT_MODEL: &str = "whisper-1";

/// Settings of [`OpenAiEngine`].
#[derive(Clone)]
pub struct OpenAiConfig {
    /// `https://api.openai.com/v1`, or any compatible server's `/v1`.
    pub base_url: String,
    pub api_key: String,
    pub model: String,
    /// Limit on one request, upload and answer included.
    pub timeout: Duration,
    /// Retries after a 429 or 5xx.
    pub retries: u32,
    /// The wait before the first retry when the server gives no `Retry-After`; it
    /// doubles for each further one.
    pub retry_backoff: Duration,
    /// The longest wait honoured from `Retry-After`.
    pub max_retry_wait: Duration,
    /// The API's upload limit: audio whose WAV is larger is sent in chunks.
    pub max_upload_bytes: usize,
    /// The longest chunk when audio has to be split.
    pub max_chunk: Duration,
}

impl OpenAiConfig {
    /// OpenAI's hosted API with `whisper-1`.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            api_key: api_key.into(),
            model: DEFAULT_MODEL.into(),
            timeout: Duration::from_secs(300),
            retries: 2,
            retry_backoff: Duration::from_secs(1),
            max_retry_wait: Duration::from_secs(30),
            max_upload_bytes: 25 * 1000 * 1000,
            max_chunk: Duration::from_secs(600),
        }
    }

    /// The same settings against another compatible server.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("max_chunk", &self.max_chunk)
            .finish()
    }
}

/// Batch transcription over an OpenAI-compatible API. It uses a blocking HTTP client:
/// call it from ordinary threads, not from inside an async runtime.
#[derive(Clone, Debug)]
pub struct OpenAiEngine {
    config: OpenAiConfig,
}

impl OpenAiEngine {
    pub fn new(config: OpenAiConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    fn client(&self) -> Result<Client> {
        Client::builder()
            .timeout(self.config.timeout)
            .build()
            .map_err(|e| SttError::Engine {
                engine: ENGINE,
                message: format!("cannot set up the HTTP client: {e}"),
            })
    }

    /// Samples per request: everything when it fits the upload limit, else chunks of
    /// at most `max_chunk` that do.
    fn chunk_samples(&self, total: usize) -> usize {
        if WAV_HEADER_BYTES + total * 2 <= self.config.max_upload_bytes {
            return total.max(1);
        }
        let by_time = (self.config.max_chunk.as_millis() as usize)
            .saturating_mul(crate::SAMPLE_RATE as usize)
            / 1000;
        let by_size = self
            .config
            .max_upload_bytes
            .saturating_sub(WAV_HEADER_BYTES)
            / 2;
        by_time.min(by_size).max(crate::SAMPLE_RATE as usize)
    }

    /// One request, retried on 429/5xx.
    fn request(&self, client: &Client, wav: &[u8], language: &str) -> Result<Verbose> {
        let url = format!(
            "{}/audio/transcriptions",
            self.config.base_url.trim_end_matches('/')
        );
        let language = primary_language(language);
        let mut attempt = 0;
        loop {
            let file = multipart::Part::bytes(wav.to_vec())
                .file_name("audio.wav")
                .mime_str("audio/wav")
                .map_err(|e| SttError::Engine {
                    engine: ENGINE,
                    message: format!("cannot build the upload: {e}"),
                })?;
            let mut form = multipart::Form::new()
                .part("file", file)
                .text("model", self.config.model.clone())
                .text("response_format", "verbose_json")
                .text("timestamp_granularities[]", "word")
                .text("timestamp_granularities[]", "segment");
            if !language.is_empty() {
                form = form.text("language", language.clone());
            }
            let response = client
                .post(&url)
                .bearer_auth(&self.config.api_key)
                .multipart(form)
                .send()
                .map_err(|e| self.connection_error(e))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64);
            let body = response.text().map_err(|e| self.connection_error(e))?;
            if status.is_success() {
                return serde_json::from_str::<Verbose>(&body).map_err(|e| SttError::Engine {
                    engine: ENGINE,
                    message: format!(
                        "the answer is not the verbose_json transcription asked for: {e}"
                    ),
                });
            }
            let message = error_message(&body, status);
            if status.as_u16() == 401 || status.as_u16() == 403 {
                return Err(SttError::Auth {
                    engine: ENGINE,
                    message,
                });
            }
            let retryable = status.as_u16() == 429 || status.is_server_error();
            if retryable && attempt < self.config.retries {
                attempt += 1;
                let backoff = self
                    .config
                    .retry_backoff
                    .saturating_mul(1 << (attempt - 1).min(16));
                let wait = retry_after
                    .unwrap_or(backoff)
                    .min(self.config.max_retry_wait);
                tracing::warn!(
                    status = status.as_u16(),
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "openai: retrying transcription"
                );
                std::thread::sleep(wait);
                continue;
            }
            let mut text = format!("HTTP {status}: {message}");
            if attempt > 0 {
                text.push_str(&format!(" (after {} attempts)", attempt + 1));
            }
            return Err(SttError::Engine {
                engine: ENGINE,
                message: text,
            });
        }
    }

    fn connection_error(&self, error: reqwest::Error) -> SttError {
        let message = if error.is_timeout() {
            format!(
                "no answer within {:.1} s",
                self.config.timeout.as_secs_f64()
            )
        } else {
            let mut causes = String::new();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                causes.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            format!("{}{causes}", error.without_url())
        };
        SttError::Connection {
            engine: ENGINE,
            message,
        }
    }
}

impl SpeechEngine for OpenAiEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Openai
    }

    fn start(&self, _config: StreamConfig, _events: EventSink) -> Result<Box<dyn StreamSession>> {
        Err(SttError::Unsupported {
            engine: ENGINE,
            what: "live streaming",
        })
    }

    fn transcribe(&self, clip: &Clip, language: &str) -> Result<Vec<Segment>> {
        let client = self.client()?;
        let mut segments = Vec::new();
        for (channel, samples) in &clip.channels {
            if samples.is_empty() {
                continue;
            }
            let chunk = self.chunk_samples(samples.len());
            for (i, piece) in samples.chunks(chunk).enumerate() {
                let offset_ms = crate::samples_to_ms(i * chunk);
                let wav = encode_wav(piece)?;
                tracing::debug!(
                    channel = ?channel,
                    bytes = wav.len(),
                    offset_ms,
                    "openai: transcribing"
                );
                let answer = self.request(&client, &wav, language)?;
                segments.extend(answer.into_segments(*channel, offset_ms));
            }
        }
        segments.sort_by_key(|s| (s.start_ms, s.end_ms));
        Ok(segments)
    }
}

/// `en-US` → `en`: the API takes ISO-639-1.
fn primary_language(language: &str) -> String {
    language
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

/// 16 kHz mono 16-bit PCM WAV in memory.
fn encode_wav(samples: &[f32]) -> Result<Vec<u8>> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: crate::SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let error = |e: hound::Error| SttError::Engine {
        engine: ENGINE,
        message: format!("cannot encode the audio as WAV: {e}"),
    };
    let mut cursor = std::io::Cursor::new(Vec::with_capacity(WAV_HEADER_BYTES + samples.len() * 2));
    {
        let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(error)?;
        for s in samples {
            writer
                .write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                .map_err(error)?;
        }
        writer.finalize().map_err(error)?;
    }
    Ok(cursor.into_inner())
}

/// The server's own words from the documented error body, else the status and body.
fn error_message(body: &str, status: reqwest::StatusCode) -> String {
    #[derive(Deserialize)]
    struct Body {
        error: ErrorDetail,
    }
    #[derive(Deserialize)]
    struct ErrorDetail {
        message: String,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        code: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Body>(body) {
        Ok(Body { error }) => {
            let mut text = error.message;
            let code = error.code.and_then(|c| match c {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if let Some(tag) = code.or(error.kind) {
                text.push_str(&format!(" ({tag})"));
            }
            text
        }
        Err(_) if body.trim().is_empty() => status
            .canonical_reason()
            .unwrap_or("no explanation given")
            .to_string(),
        Err(_) => body.trim().chars().take(200).collect(),
    }
}

/// The `verbose_json` answer.
#[derive(Debug, Deserialize)]
struct Verbose {
    #[serde(default)]
    text: String,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    segments: Vec<VerboseSegment>,
    #[serde(default)]
    words: Vec<VerboseWord>,
}

#[derive(Debug, Deserialize)]
struct VerboseSegment {
    start: f64,
    end: f64,
    text: String,
    #[serde(default)]
    avg_logprob: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct VerboseWord {
    word: String,
    start: f64,
    end: f64,
}

fn secs_to_ms(secs: f64) -> u32 {
    if secs.is_finite() && secs > 0.0 {
        u32::try_from((secs * 1000.0).round() as u64).unwrap_or(u32::MAX)
    } else {
        0
    }
}

impl Verbose {
    /// Segments on `channel`, `offset_ms` added, each with the words inside it.
    fn into_segments(self, channel: Channel, offset_ms: u32) -> Vec<Segment> {
        let at = |secs: f64| offset_ms.saturating_add(secs_to_ms(secs));
        let mut per_segment: Vec<Vec<WordTiming>> = vec![Vec::new(); self.segments.len()];
        let mut loose = Vec::new();
        for word in &self.words {
            let text = word.word.trim();
            if text.is_empty() {
                continue;
            }
            let timing = WordTiming {
                word: text.to_string(),
                start_ms: at(word.start),
                end_ms: at(word.end.max(word.start)),
                confidence: None,
            };
            let middle = (word.start + word.end) / 2.0;
            let home = self
                .segments
                .iter()
                .position(|s| s.start <= middle && middle <= s.end)
                .or_else(|| {
                    // Outside every segment (rounding): the nearest one.
                    self.segments
                        .iter()
                        .enumerate()
                        .min_by(|a, b| {
                            let d = |s: &VerboseSegment| {
                                (s.start - middle).abs().min((s.end - middle).abs())
                            };
                            d(a.1).total_cmp(&d(b.1))
                        })
                        .map(|(i, _)| i)
                });
            match home {
                Some(i) => per_segment[i].push(timing),
                None => loose.push(timing),
            }
        }
        let mut out: Vec<Segment> = self
            .segments
            .into_iter()
            .zip(per_segment)
            .filter_map(|(s, words)| {
                let text = s.text.trim().to_string();
                if text.is_empty() {
                    return None;
                }
                let start_ms = at(s.start);
                Some(Segment {
                    channel,
                    speaker: None,
                    start_ms,
                    end_ms: at(s.end).max(start_ms),
                    text,
                    confidence: s
                        .avg_logprob
                        .filter(|p| p.is_finite())
                        .map(|p| p.exp().clamp(0.0, 1.0) as f32),
                    words,
                })
            })
            .collect();
        if out.is_empty() && !self.text.trim().is_empty() {
            // No segments (some compatible servers): the whole text as one.
            let start_ms = loose.first().map(|w| w.start_ms).unwrap_or(offset_ms);
            let end_ms = loose
                .last()
                .map(|w| w.end_ms)
                .unwrap_or_else(|| at(self.duration.unwrap_or(0.0)))
                .max(start_ms);
            out.push(Segment {
                channel,
                speaker: None,
                start_ms,
                end_ms,
                text: self.text.trim().to_string(),
                confidence: None,
                words: loose,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let config = OpenAiConfig::new("sk-secret-123");
        let shown = format!("{config:?} {:?}", OpenAiEngine::new(config.clone()));
        assert!(!shown.contains("sk-secret-123"), "{shown}");
    }

    #[test]
    fn words_go_to_the_segment_they_fall_in_and_times_are_offset() {
        let verbose: Verbose = serde_json::from_str(
            r#"{"task":"transcribe","language":"english","duration":3.0,"text":"Hi there. Bye.",
                "segments":[
                  {"id":0,"seek":0,"start":0.0,"end":1.2,"text":" Hi there.","tokens":[1],
                   "temperature":0.0,"avg_logprob":-0.1,"compression_ratio":1.0,"no_speech_prob":0.0},
                  {"id":1,"seek":0,"start":1.5,"end":2.5,"text":" Bye.","tokens":[2],
                   "temperature":0.0,"avg_logprob":-0.5,"compression_ratio":1.0,"no_speech_prob":0.0}],
                "words":[{"word":"Hi","start":0.1,"end":0.4},{"word":"there","start":0.5,"end":1.21},
                         {"word":"Bye","start":1.6,"end":2.0}]}"#,
        )
        .expect("verbose");
        let segments = verbose.into_segments(Channel::FarEnd, 10_000);
        assert_eq!(segments.len(), 2);
        assert_eq!(segments[0].text, "Hi there.");
        assert_eq!((segments[0].start_ms, segments[0].end_ms), (10_000, 11_200));
        assert_eq!(segments[0].words.len(), 2);
        assert_eq!(segments[0].words[1].end_ms, 11_210);
        assert_eq!(segments[1].words[0].word, "Bye");
        let c = segments[1].confidence.expect("confidence");
        assert!((c - (-0.5f32).exp()).abs() < 1e-6);
    }

    #[test]
    fn error_bodies_give_the_servers_message() {
        let body = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        assert_eq!(
            error_message(body, reqwest::StatusCode::UNAUTHORIZED),
            "Incorrect API key provided (invalid_api_key)"
        );
        assert_eq!(
            error_message("", reqwest::StatusCode::BAD_GATEWAY),
            "Bad Gateway"
        );
        assert_eq!(primary_language("en-US"), "en");
    }

    #[test]
    fn long_audio_is_split_only_when_over_the_limit() {
        let mut config = OpenAiConfig::new("k");
        let engine = OpenAiEngine::new(config.clone());
        assert_eq!(engine.chunk_samples(16_000 * 60), 16_000 * 60);
        config.max_upload_bytes = 44 + 2 * 16_000 * 30;
        config.max_chunk = Duration::from_secs(20);
        let engine = OpenAiEngine::new(config);
        assert_eq!(engine.chunk_samples(16_000 * 60), 16_000 * 20);
        assert_eq!(engine.chunk_samples(16_000 * 30), 16_000 * 30);
    }

    #[test]
    fn wav_is_16_khz_mono_16_bit() {
        let wav = encode_wav(&[0.0, 0.5, -0.5]).expect("wav");
        let reader = hound::WavReader::new(std::io::Cursor::new(wav)).expect("read");
        assert_eq!(reader.spec().sample_rate, 16_000);
        assert_eq!(reader.spec().channels, 1);
        assert_eq!(reader.spec().bits_per_sample, 16);
        assert_eq!(reader.duration(), 3);
    }
}
