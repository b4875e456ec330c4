//! Deepgram's live streaming wire format: the `/v1/listen` URL and its query, the text
//! control messages the client sends, and the JSON messages the server sends.
//!
//! Audio itself goes as binary frames of interleaved little-endian 16-bit PCM; every
//! other client message is a text frame holding one JSON object with a `type`.

use serde::Deserialize;
use url::Url;

/// Keeps the connection open while no audio flows (the server closes it with NET-0001
/// after 10 s without audio or a text message).
pub const KEEP_ALIVE: &str = r#"{"type":"KeepAlive"}"#;
/// Flushes the server's buffered audio: the results that follow carry `from_finalize`.
pub const FINALIZE: &str = r#"{"type":"Finalize"}"#;
/// Ends the stream: the server flushes, sends a `Metadata` summary and closes.
pub const CLOSE_STREAM: &str = r#"{"type":"CloseStream"}"#;

/// What the listen URL is built from.
pub struct ListenParams<'a> {
    pub model: &'a str,
    pub channels: usize,
    pub language: &'a str,
    pub endpointing_ms: u32,
    pub utterance_end_ms: u32,
}

/// `{base}/v1/listen?…` for linear16 at 16 kHz, one Deepgram channel per session channel.
pub fn listen_url(base: &str, params: &ListenParams<'_>) -> Result<Url, String> {
    let base = base.trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}/v1/listen"))
        .map_err(|e| format!("the Deepgram URL {base:?} is not valid: {e}"))?;
    match url.scheme() {
        "ws" | "wss" => {}
        other => {
            return Err(format!(
                "the Deepgram URL must start with wss:// (or ws:// for a local server), not {other}://"
            ));
        }
    }
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("model", params.model)
            .append_pair("encoding", "linear16")
            .append_pair("sample_rate", &crate::SAMPLE_RATE.to_string())
            .append_pair("channels", &params.channels.to_string())
            .append_pair("multichannel", "true")
            .append_pair("interim_results", "true")
            .append_pair("endpointing", &params.endpointing_ms.to_string())
            .append_pair("utterance_end_ms", &params.utterance_end_ms.to_string())
            .append_pair("vad_events", "true")
            .append_pair("punctuate", "true");
        if !params.language.is_empty() {
            query.append_pair("language", params.language);
        }
    }
    Ok(url)
}

/// One message from the server. Types this client does not use are `Other`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum ServerMessage {
    Results(Results),
    UtteranceEnd(UtteranceEnd),
    SpeechStarted(SpeechStarted),
    Metadata(Metadata),
    #[serde(other)]
    Other,
}

/// A transcript of the audio from `start` for `duration` seconds on one channel.
#[derive(Debug, Deserialize)]
pub struct Results {
    /// `[channel, channel count]`.
    pub channel_index: Vec<u32>,
    #[serde(default)]
    pub start: f64,
    #[serde(default)]
    pub duration: f64,
    /// The words will not change: the audio up to `start + duration` is done.
    #[serde(default)]
    pub is_final: bool,
    /// The speaker paused for the endpointing time: the utterance ended.
    #[serde(default)]
    pub speech_final: bool,
    /// The result answers a `Finalize`.
    #[serde(default)]
    pub from_finalize: bool,
    pub channel: ResultChannel,
}

#[derive(Debug, Deserialize)]
pub struct ResultChannel {
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
}

#[derive(Debug, Deserialize)]
pub struct Alternative {
    #[serde(default)]
    pub transcript: String,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub words: Vec<Word>,
}

#[derive(Debug, Deserialize)]
pub struct Word {
    pub word: String,
    pub start: f64,
    pub end: f64,
    #[serde(default)]
    pub confidence: Option<f64>,
    /// The word with punctuation and capitals, when `punctuate` or `smart_format` is on.
    #[serde(default)]
    pub punctuated_word: Option<String>,
}

/// A gap of `utterance_end_ms` after the last finalised word on a channel.
#[derive(Debug, Deserialize)]
pub struct UtteranceEnd {
    /// `[channel, channel count]`.
    pub channel: Vec<u32>,
    #[serde(default)]
    pub last_word_end: f64,
}

/// Voice activity began (sent with `vad_events=true`).
#[derive(Debug, Deserialize)]
pub struct SpeechStarted {
    #[serde(default)]
    pub channel: Vec<u32>,
    #[serde(default)]
    pub timestamp: f64,
}

/// The summary sent before the server closes the stream.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub duration: Option<f64>,
}

/// The JSON body of a refused handshake (`401 INVALID_AUTH` and friends).
#[derive(Debug, Deserialize)]
pub struct HttpError {
    #[serde(default)]
    pub err_code: Option<String>,
    #[serde(default)]
    pub err_msg: Option<String>,
}

/// Seconds on the wire to whole milliseconds.
pub fn secs_to_ms(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs * 1000.0).round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listen_url_carries_the_documented_query() {
        let url = listen_url(
            "wss://api.deepgram.com/",
            &ListenParams {
                model: "nova-3",
                channels: 2,
                language: "en",
                endpointing_ms: 300,
                utterance_end_ms: 1000,
            },
        )
        .expect("url");
        assert_eq!(url.path(), "/v1/listen");
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        for (k, v) in [
            ("model", "nova-3"),
            ("encoding", "linear16"),
            ("sample_rate", "16000"),
            ("channels", "2"),
            ("multichannel", "true"),
            ("interim_results", "true"),
            ("endpointing", "300"),
            ("utterance_end_ms", "1000"),
            ("vad_events", "true"),
            ("punctuate", "true"),
            ("language", "en"),
        ] {
            assert!(
                query.contains(&(k.to_string(), v.to_string())),
                "{k}={v} missing from {url}"
            );
        }
        assert!(
            listen_url(
                "https://api.deepgram.com",
                &ListenParams {
                    model: "nova-3",
                    channels: 1,
                    language: "",
                    endpointing_ms: 10,
                    utterance_end_ms: 1000,
                }
            )
            .is_err()
        );
    }

    #[test]
    fn server_messages_parse_and_unknown_types_are_other() {
        let results: ServerMessage = serde_json::from_str(
            r#"{"type":"Results","channel_index":[1,2],"duration":1.5,"start":0.5,
                "is_final":true,"speech_final":false,
                "channel":{"alternatives":[{"transcript":"hi there","confidence":0.9,
                  "words":[{"word":"hi","start":0.6,"end":0.8,"confidence":0.95,"punctuated_word":"Hi"}]}]},
                "metadata":{"request_id":"x"}}"#,
        )
        .expect("results");
        match results {
            ServerMessage::Results(r) => {
                assert_eq!(r.channel_index, vec![1, 2]);
                assert!(r.is_final && !r.speech_final && !r.from_finalize);
                assert_eq!(
                    r.channel.alternatives[0].words[0]
                        .punctuated_word
                        .as_deref(),
                    Some("Hi")
                );
            }
            other => panic!("{other:?}"),
        }
        let other: ServerMessage =
            serde_json::from_str(r#"{"type":"SomethingNew","x":1}"#).expect("other");
        assert!(matches!(other, ServerMessage::Other));
        assert!(serde_json::from_str::<ServerMessage>(r#"{"type":"Results"}"#).is_err());
        assert_eq!(secs_to_ms(1.2345), 1235);
        assert_eq!(secs_to_ms(f64::NAN), 0);
    }
}
