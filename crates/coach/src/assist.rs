//! The optional language-model path: after each of the customer's finals, ask a model
//! (any OpenAI-compatible endpoint, [`cuecard_llm`]) what the rep could say next, in the
//! background. The rules never wait for it: [`crate::LiveCoach`] has already shown its
//! cards by the time the request goes out. An answer is shown only while it is still
//! about the moment it was asked for: one that comes back after `max_age`, or after the
//! customer has spoken again (the newer final's request replaces it), is dropped and
//! counted.

use crate::stage::Stage;
use cuecard_core::Channel;
use cuecard_llm::{ChatClient, ChatMessage, LlmError};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How the assistant is used.
#[derive(Clone, Debug)]
pub struct AssistConfig {
    /// An answer older than this (from the customer's final) is not shown.
    pub max_age: Duration,
    /// How many recent utterances the model sees.
    pub context: usize,
    /// The playbook's name, for the prompt.
    pub playbook: String,
}

impl Default for AssistConfig {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(6),
            context: 8,
            playbook: String::new(),
        }
    }
}

/// A suggestion from the model, still in time.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct Suggestion {
    pub text: String,
    /// The end of the customer's final it answers (call time, ms).
    pub for_ms: u32,
    /// From the final to the answer, ms.
    pub latency_ms: u32,
}

/// What became of the requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, specta::Type)]
pub struct AssistStats {
    pub asked: u32,
    pub shown: u32,
    /// Answered (or timed out) after `max_age`.
    pub late: u32,
    /// Replaced by a newer final's request before answering.
    pub superseded: u32,
    pub failed: u32,
}

enum Outcome {
    Answer {
        generation: u64,
        text: String,
        for_ms: u32,
        asked_at: Instant,
    },
    Failed {
        generation: u64,
        error: LlmError,
    },
}

/// The assistant for one call.
pub struct Assist {
    client: ChatClient,
    config: AssistConfig,
    runtime: tokio::runtime::Handle,
    transcript: VecDeque<(Channel, String)>,
    in_flight: Option<tokio::task::JoinHandle<()>>,
    generation: u64,
    sender: mpsc::Sender<Outcome>,
    results: mpsc::Receiver<Outcome>,
    stats: AssistStats,
    last_error: Option<String>,
}

impl Assist {
    /// Requests run on `runtime`.
    pub fn new(client: ChatClient, config: AssistConfig, runtime: tokio::runtime::Handle) -> Self {
        let (sender, results) = mpsc::channel();
        Self {
            client,
            config,
            runtime,
            transcript: VecDeque::new(),
            in_flight: None,
            generation: 0,
            sender,
            results,
            stats: AssistStats::default(),
            last_error: None,
        }
    }

    /// Takes a final. After the customer's, a request goes out in the background (the
    /// one still in flight, if any, is cancelled). Never blocks.
    pub fn heard(&mut self, channel: Channel, text: &str, end_ms: u32, stage: Stage) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.transcript.push_back((channel, text.to_owned()));
        while self.transcript.len() > self.config.context.max(1) {
            self.transcript.pop_front();
        }
        if channel != Channel::FarEnd {
            return;
        }
        if let Some(previous) = self.in_flight.take()
            && !previous.is_finished()
        {
            previous.abort();
            self.stats.superseded += 1;
        }
        self.generation += 1;
        self.stats.asked += 1;
        let messages = self.prompt(stage);
        let client = self.client.clone();
        let sender = self.sender.clone();
        let generation = self.generation;
        let asked_at = Instant::now();
        self.in_flight = Some(self.runtime.spawn(async move {
            let outcome = match client.complete(&messages).await {
                Ok(text) => Outcome::Answer {
                    generation,
                    text,
                    for_ms: end_ms,
                    asked_at,
                },
                Err(error) => Outcome::Failed { generation, error },
            };
            let _ = sender.send(outcome);
        }));
    }

    fn prompt(&self, stage: Stage) -> Vec<ChatMessage> {
        let playbook = if self.config.playbook.is_empty() {
            String::new()
        } else {
            format!(" ({} playbook)", self.config.playbook)
        };
        let system = format!(
            "You coach a sales rep during a live phone call{playbook}. The call is in the {} \
             stage. Reply with one suggestion for what the rep could say or ask next: at \
             most 25 words, no preamble, no quotation marks.",
            stage.label().to_lowercase()
        );
        let lines: Vec<String> = self
            .transcript
            .iter()
            .map(|(channel, text)| match channel {
                Channel::Rep => format!("Rep: {text}"),
                Channel::FarEnd => format!("Customer: {text}"),
            })
            .collect();
        vec![
            ChatMessage::system(system),
            ChatMessage::user(lines.join("\n")),
        ]
    }

    /// The suggestions that arrived and are still in time. Never blocks.
    pub fn poll(&mut self) -> Vec<Suggestion> {
        let mut out = Vec::new();
        while let Ok(outcome) = self.results.try_recv() {
            match outcome {
                Outcome::Answer {
                    generation,
                    text,
                    for_ms,
                    asked_at,
                } => {
                    let age = asked_at.elapsed();
                    if generation != self.generation {
                        // Finished just as a newer final replaced it.
                        self.stats.superseded += 1;
                    } else if age > self.config.max_age {
                        self.stats.late += 1;
                        tracing::debug!(
                            age_ms = age.as_millis() as u64,
                            "assist: late answer dropped"
                        );
                    } else {
                        self.stats.shown += 1;
                        out.push(Suggestion {
                            text,
                            for_ms,
                            latency_ms: age.as_millis().min(u128::from(u32::MAX)) as u32,
                        });
                    }
                }
                Outcome::Failed { generation, error } => {
                    if matches!(error, LlmError::Timeout { .. }) {
                        self.stats.late += 1;
                    } else {
                        self.stats.failed += 1;
                        if generation == self.generation {
                            tracing::warn!("assist: {error}");
                        }
                        self.last_error = Some(error.to_string());
                    }
                }
            }
        }
        out
    }

    pub fn stats(&self) -> AssistStats {
        self.stats
    }

    /// The last failure, for the settings screen ("the model at … refused the key").
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }
}

impl Drop for Assist {
    fn drop(&mut self) {
        if let Some(task) = self.in_flight.take() {
            task.abort();
        }
    }
}
