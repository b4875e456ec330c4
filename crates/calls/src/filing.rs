//! Filing a finished call: its recording into the recordings directory (with its
//! SHA-256), then the call, its transcript, its scorecard and a line on the contact's
//! timeline in one transaction. `cuecard analyze --save` and the app's live calls both
//! end here.

use crate::{CallError, Result};
use cuecard_coach::Playbook;
use cuecard_coach::scorecard::{Review, Rubric, Said, review};
use cuecard_core::{
    Call, CallDirection, CallId, CallStatus, Contact, ContactId, RecordingRef, ScoreSubject,
    ScorecardId, TimelineKind, Timestamp, Utterance, UtteranceId,
};
use cuecard_store::Store;
use cuecard_stt::Segment;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Runs a call's finals through the coach and the rubric. `segments` must be sorted by
/// time (see [`sort_transcript`]).
pub fn review_call(playbook: &Playbook, rubric: &Rubric, segments: &[Segment]) -> Result<Review> {
    let said: Vec<Said<'_>> = segments
        .iter()
        .map(|s| Said {
            channel: s.channel,
            text: &s.text,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
        })
        .collect();
    review(playbook, rubric, &said).map_err(|e| CallError::Coach(e.to_string()))
}

/// Orders a transcript as the coach heard it: by end, then start.
pub fn sort_transcript(segments: &mut [Segment]) {
    segments.sort_by_key(|s| (s.end_ms, s.start_ms));
}

/// Where the recording comes from.
#[derive(Clone, Copy, Debug)]
pub enum RecordingSource<'a> {
    /// A file of the user's (`cuecard analyze`): copied, the original stays.
    Copy(&'a Path),
    /// A file the app recorded for this call: moved in.
    Move(&'a Path),
}

/// A finished call to file.
pub struct CallRecord<'a> {
    pub contact: Option<&'a Contact>,
    pub direction: CallDirection,
    /// The transcript, sorted.
    pub segments: &'a [Segment],
    pub review: &'a Review,
    pub recording: Option<RecordingSource<'a>>,
    /// How long the call lasted, when known (a live call's captured audio); otherwise
    /// the end of its last utterance.
    pub duration_ms: Option<u32>,
    pub ended_at: Timestamp,
    /// The softphone's log entry when Cuecard placed or took the call itself: the filed
    /// call keeps its id, parties, times and status, and gains the transcript, score and
    /// recording (so one call is one record).
    pub logged: Option<&'a Call>,
}

/// Where a filed call went.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct Filed {
    pub call_id: CallId,
    pub contact_id: Option<ContactId>,
    pub scorecard_id: ScorecardId,
    pub total: u8,
    /// The recording's place in the recordings directory.
    pub recording: Option<PathBuf>,
}

/// Files `record` in the database at `db` (the recordings directory is beside it).
/// Nothing is left behind on failure: a copied recording is removed, a moved one is
/// moved back.
pub fn file_call(store: &mut Store, db: &Path, record: CallRecord<'_>) -> Result<Filed> {
    let call_id = record.logged.map_or_else(CallId::new, |logged| logged.id);
    let spoken_ms = record.segments.iter().map(|s| s.end_ms).max().unwrap_or(0);
    let duration_ms = record.duration_ms.unwrap_or(0).max(spoken_ms);
    let ended_at = record.ended_at;
    let started_at = ended_at - chrono::Duration::milliseconds(i64::from(duration_ms));
    let (recording, placed) = match record.recording {
        Some(source) => {
            let (reference, placed) = place_recording(db, source, call_id, duration_ms)?;
            (Some(reference), Some((source, placed)))
        }
        None => (None, None),
    };
    let number = record
        .contact
        .and_then(|c| c.fields.phones.first())
        .map(|p| p.e164.clone())
        .unwrap_or_default();
    let (from, to) = match record.direction {
        CallDirection::Outbound => (String::new(), number),
        CallDirection::Inbound => (number, String::new()),
    };
    let notes = record.review.analysis.summary.join("\n");
    let call = match record.logged {
        Some(logged) => Call {
            contact_id: record.contact.map(|c| c.id).or(logged.contact_id),
            recording,
            notes,
            ..logged.clone()
        },
        None => Call {
            id: call_id,
            contact_id: record.contact.map(|c| c.id),
            direction: record.direction,
            status: CallStatus::Completed,
            from,
            to,
            started_at,
            answered_at: Some(started_at),
            ended_at: Some(ended_at),
            duration_secs: duration_ms / 1000,
            disposition: None,
            recording,
            notes,
        },
    };
    let contact_id = call.contact_id;
    let utterances: Vec<Utterance> = record
        .segments
        .iter()
        .map(|s| Utterance {
            id: UtteranceId::new(),
            channel: s.channel,
            speaker: s.speaker.clone(),
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            text: s.text.clone(),
            confidence: s.confidence,
            words: s.words.clone(),
        })
        .collect();
    let ids: Vec<UtteranceId> = utterances.iter().map(|u| u.id).collect();
    let card = record
        .review
        .score
        .to_scorecard(ScoreSubject::Call(call_id), &ids, ended_at);
    let (scorecard_id, total) = (card.id, card.total);
    let written = store.write(|w| {
        w.save_call(&call)?;
        w.add_utterances(call_id, &utterances)?;
        w.save_scorecard(&card)?;
        if let Some(contact_id) = contact_id {
            w.add_timeline(
                contact_id,
                TimelineKind::Call,
                Some(&call_id.to_string()),
                &format!("Call scored {total}/100"),
            )?;
        }
        Ok(())
    });
    if let Err(e) = written {
        if let Some((source, placed)) = &placed {
            undo_placement(*source, placed);
        }
        return Err(e.into());
    }
    Ok(Filed {
        call_id,
        contact_id,
        scorecard_id,
        total,
        recording: placed.map(|(_, p)| p),
    })
}

/// Puts the recording in the recordings directory as `<call id>.<ext>` and hashes it.
fn place_recording(
    db: &Path,
    source: RecordingSource<'_>,
    call_id: CallId,
    duration_ms: u32,
) -> Result<(RecordingRef, PathBuf)> {
    use sha2::Digest;
    let from = match source {
        RecordingSource::Copy(p) | RecordingSource::Move(p) => p,
    };
    let dir = cuecard_store::recordings_dir(db);
    std::fs::create_dir_all(&dir).map_err(|e| CallError::io(&dir, e))?;
    let ext = from
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("wav")
        .to_ascii_lowercase();
    let name = format!("{call_id}.{ext}");
    let target = dir.join(&name);
    let bytes = std::fs::read(from).map_err(|e| CallError::io(from, e))?;
    match source {
        RecordingSource::Copy(_) => {
            std::fs::write(&target, &bytes).map_err(|e| CallError::io(&target, e))?;
        }
        RecordingSource::Move(_) => {
            std::fs::rename(from, &target).map_err(|e| CallError::io(&target, e))?;
        }
    }
    let sha256 = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let format = match ext.as_str() {
        "ogg" | "opus" => "ogg/opus".to_owned(),
        other => other.to_owned(),
    };
    Ok((
        RecordingRef {
            path: name,
            format,
            duration_ms,
            sha256: Some(sha256),
        },
        target,
    ))
}

fn undo_placement(source: RecordingSource<'_>, placed: &Path) {
    let undone = match source {
        RecordingSource::Copy(_) => std::fs::remove_file(placed),
        RecordingSource::Move(original) => std::fs::rename(placed, original),
    };
    if let Err(e) = undone {
        tracing::warn!(path = %placed.display(), error = %e, "could not undo the recording's placement");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuecard_core::{Channel, ContactFields, Phone};

    fn said(channel: Channel, start_ms: u32, text: &str) -> Segment {
        Segment {
            channel,
            speaker: None,
            start_ms,
            end_ms: start_ms + 2_000,
            text: text.into(),
            confidence: Some(0.9),
            words: Vec::new(),
        }
    }

    #[test]
    fn a_call_the_softphone_logged_is_filed_into_the_same_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("cuecard.db");
        let mut store = Store::open(&db).expect("store");
        let contact = store
            .write(|w| {
                w.create_contact(
                    ContactFields {
                        name: "Dana Lee".into(),
                        phones: vec![Phone {
                            e164: "+14155550100".into(),
                            label: None,
                        }],
                        ..ContactFields::default()
                    },
                    &cuecard_store::Provenance::Manual,
                )
            })
            .expect("contact");
        // What the softphone's call log holds when the call ends.
        let started = cuecard_core::now() - chrono::Duration::seconds(95);
        let logged = Call {
            id: CallId::new(),
            contact_id: Some(contact.id),
            direction: CallDirection::Inbound,
            status: CallStatus::Completed,
            from: "sip:+14155550100@example.com".into(),
            to: "sip:alice@example.com".into(),
            started_at: started,
            answered_at: Some(started + chrono::Duration::seconds(5)),
            ended_at: Some(cuecard_core::now()),
            duration_secs: 90,
            disposition: None,
            recording: None,
            notes: String::new(),
        };
        store.write(|w| w.save_call(&logged)).expect("logged");
        let recording = dir.path().join("live.wav");
        std::fs::write(&recording, b"RIFF....WAVE").expect("recording");
        let segments = vec![
            said(Channel::Rep, 0, "Hi Dana, thanks for calling back."),
            said(
                Channel::FarEnd,
                2_500,
                "Sure, what is the price for fifty seats?",
            ),
        ];
        let review = review_call(
            &Playbook::default_b2b(),
            &Rubric::default_rubric(),
            &segments,
        )
        .expect("review");
        let filed = file_call(
            &mut store,
            &db,
            CallRecord {
                contact: None,
                direction: CallDirection::Inbound,
                segments: &segments,
                review: &review,
                recording: Some(RecordingSource::Move(&recording)),
                duration_ms: Some(4_500),
                ended_at: cuecard_core::now(),
                logged: Some(&logged),
            },
        )
        .expect("filed");
        assert_eq!(filed.call_id, logged.id);
        assert_eq!(
            filed.contact_id,
            Some(contact.id),
            "the log's contact is kept"
        );
        let calls = store.calls_for_contact(contact.id).expect("calls");
        assert_eq!(calls.len(), 1, "one call, not a second record: {calls:?}");
        let call = &calls[0];
        assert_eq!(
            call.duration_secs, 90,
            "the phone's talk time, not the transcript's"
        );
        assert_eq!(call.from, logged.from);
        assert_eq!(call.answered_at, logged.answered_at);
        assert!(call.recording.is_some());
        assert_eq!(store.transcript(logged.id).expect("transcript").len(), 2);
        assert_eq!(
            store
                .scorecards_for(&logged.id.to_string())
                .expect("cards")
                .len(),
            1
        );
    }
}
