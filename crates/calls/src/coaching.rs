//! The coach's side of a live call: transcript events in, what the overlay shows out.
//!
//! [`CoachLoop`] feeds every partial and final to the rule engine
//! ([`cuecard_coach::LiveCoach`]) the moment it arrives and passes on each card, warning
//! and stage change with the time it took; finals also refresh the metrics bar and go to
//! the optional language-model assistant, whose answers are polled on every event and
//! tick and never hold up a card. It also keeps the finals, which become the call's
//! transcript when the call ends.

use cuecard_coach::assist::{Assist, AssistStats, Suggestion};
use cuecard_coach::live::CoachOutput;
use cuecard_coach::metrics::LiveMetrics;
use cuecard_coach::stage::Stage;
use cuecard_coach::{Heard, LiveCoach, Playbook};
use cuecard_stt::{Segment, TranscriptEvent};
use serde::Serialize;
use std::time::Instant;

/// What the live call shows, in the order it happened.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A transcript event from either side (partials replace each other per channel).
    Transcript { event: TranscriptEvent },
    /// A card, a talk-track warning or a stage change. `latency_us`: from the transcript
    /// event arriving to this output leaving the coach.
    Coach {
        output: CoachOutput,
        latency_us: u32,
    },
    /// The metrics bar, after each final.
    Metrics { metrics: LiveMetrics, stage: Stage },
    /// A language-model suggestion still in time.
    Suggestion { suggestion: Suggestion },
}

/// The coach for one live call.
pub struct CoachLoop {
    coach: LiveCoach,
    assist: Option<Assist>,
    finals: Vec<Segment>,
}

impl CoachLoop {
    pub fn new(playbook: Playbook, assist: Option<Assist>) -> Result<Self, crate::CallError> {
        let coach = LiveCoach::new(playbook).map_err(|e| crate::CallError::Coach(e.to_string()))?;
        Ok(Self {
            coach,
            assist,
            finals: Vec::new(),
        })
    }

    /// Takes one transcript event (`received`: when it arrived) and hands what to show to
    /// `out`: the event itself first, then the coach's outputs, then the metrics.
    pub fn on_event(
        &mut self,
        event: TranscriptEvent,
        received: Instant,
        out: &mut impl FnMut(LiveEvent),
    ) {
        let heard = match &event {
            TranscriptEvent::Partial { segment } => Some((segment.clone(), false)),
            TranscriptEvent::Final { segment } => Some((segment.clone(), true)),
            TranscriptEvent::EndOfUtterance { .. } | TranscriptEvent::Notice { .. } => None,
        };
        let Some((segment, is_final)) = heard else {
            out(LiveEvent::Transcript { event });
            self.poll_assist(out);
            return;
        };
        // Cards first: the transcript line can wait a few microseconds, the card is what
        // the rep needs.
        let outputs = self.coach.hear(Heard {
            channel: segment.channel,
            text: &segment.text,
            start_ms: segment.start_ms,
            end_ms: segment.end_ms,
            is_final,
        });
        let latency_us = u32::try_from(received.elapsed().as_micros()).unwrap_or(u32::MAX);
        for output in outputs {
            out(LiveEvent::Coach { output, latency_us });
        }
        out(LiveEvent::Transcript { event });
        if is_final {
            if let Some(assist) = &mut self.assist {
                assist.heard(
                    segment.channel,
                    &segment.text,
                    segment.end_ms,
                    self.coach.stage(),
                );
            }
            out(LiveEvent::Metrics {
                metrics: self.coach.metrics(),
                stage: self.coach.stage(),
            });
            self.finals.push(segment);
        }
        self.poll_assist(out);
    }

    /// Moves the call clock on (`now_ms`, call time) without speech: required disclosures
    /// whose deadline passed raise their warnings; the assistant's answers are collected.
    pub fn on_tick(&mut self, now_ms: u32, out: &mut impl FnMut(LiveEvent)) {
        for output in self.coach.tick(now_ms) {
            out(LiveEvent::Coach {
                output,
                latency_us: 0,
            });
        }
        self.poll_assist(out);
    }

    fn poll_assist(&mut self, out: &mut impl FnMut(LiveEvent)) {
        if let Some(assist) = &mut self.assist {
            for suggestion in assist.poll() {
                out(LiveEvent::Suggestion { suggestion });
            }
        }
    }

    /// What became of the assistant's requests (`None` without one).
    pub fn assist_stats(&self) -> Option<AssistStats> {
        self.assist.as_ref().map(Assist::stats)
    }

    /// The finals heard, in arrival order: the call's transcript.
    pub fn into_finals(self) -> Vec<Segment> {
        self.finals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuecard_core::Channel;

    fn final_event(channel: Channel, text: &str, start_ms: u32, end_ms: u32) -> TranscriptEvent {
        TranscriptEvent::Final {
            segment: Segment {
                channel,
                speaker: None,
                start_ms,
                end_ms,
                text: text.into(),
                confidence: None,
                words: Vec::new(),
            },
        }
    }

    fn collect(coach: &mut CoachLoop, event: TranscriptEvent) -> Vec<LiveEvent> {
        let mut shown = Vec::new();
        coach.on_event(event, Instant::now(), &mut |e| shown.push(e));
        shown
    }

    #[test]
    fn an_objection_shows_its_card_before_its_transcript_line_and_updates_the_metrics() {
        let mut coach = CoachLoop::new(Playbook::default_b2b(), None).expect("coach");
        let shown = collect(
            &mut coach,
            final_event(
                Channel::FarEnd,
                "Honestly it is too expensive for us right now.",
                1_000,
                3_500,
            ),
        );
        let first = shown.first().expect("something shown");
        let LiveEvent::Coach {
            output: CoachOutput::Card(card),
            ..
        } = first
        else {
            panic!("the card comes first: {shown:?}");
        };
        assert_eq!(card.channel, Channel::FarEnd);
        // On the wire the output's tag and the card's kind do not collide.
        let json = serde_json::to_value(first).expect("json");
        assert_eq!(json["kind"], "coach");
        assert_eq!(json["output"]["kind"], "card");
        assert_eq!(json["output"]["card_kind"], "objection");
        assert!(
            shown
                .iter()
                .any(|e| matches!(e, LiveEvent::Transcript { .. }))
        );
        let Some(LiveEvent::Metrics { metrics, .. }) = shown.last() else {
            panic!("metrics last: {shown:?}");
        };
        assert_eq!(metrics.prospect_talk_ms, 2_500);
        assert_eq!(coach.into_finals().len(), 1);
    }

    #[test]
    fn partials_are_coached_but_only_finals_are_kept() {
        let mut coach = CoachLoop::new(Playbook::default_b2b(), None).expect("coach");
        let partial = TranscriptEvent::Partial {
            segment: Segment {
                channel: Channel::FarEnd,
                speaker: None,
                start_ms: 0,
                end_ms: 900,
                text: "we already use".into(),
                confidence: None,
                words: Vec::new(),
            },
        };
        let shown = collect(&mut coach, partial);
        assert!(
            !shown.iter().any(|e| matches!(e, LiveEvent::Metrics { .. })),
            "no metrics from a partial"
        );
        let eou = TranscriptEvent::EndOfUtterance {
            channel: Channel::FarEnd,
            at_ms: 900,
        };
        assert_eq!(collect(&mut coach, eou).len(), 1);
        assert!(coach.into_finals().is_empty());
    }

    #[test]
    fn a_missed_disclosure_is_warned_about_on_a_tick() {
        let mut coach = CoachLoop::new(Playbook::default_b2b(), None).expect("coach");
        let mut shown = Vec::new();
        coach.on_tick(10 * 60 * 1000, &mut |e| shown.push(e));
        assert!(
            shown.iter().any(|e| matches!(
                e,
                LiveEvent::Coach {
                    output: CoachOutput::Warning(w),
                    ..
                } if w.said.is_none()
            )),
            "{shown:?}"
        );
    }
}
