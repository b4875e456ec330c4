//! Which call recordings still have to go to the sync server: calls whose recording file
//! is on this device and whose hash the server has not confirmed, and marking them done
//! (or given up on) once it has.

use crate::error::Result;
use crate::paths::recordings_dir;
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{CallId, RecordingRef};
use std::path::PathBuf;

/// A recording waiting to be uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRecording {
    pub call_id: CallId,
    pub recording: RecordingRef,
    /// The file on this device.
    pub file: PathBuf,
}

impl Store {
    /// Recordings to upload, oldest call first: the call has a closed recording (with its
    /// hash), its file is on this device (a call synced from another device has its file
    /// there), and this hash has not been uploaded or given up on.
    pub fn recordings_to_upload(&self) -> Result<Vec<PendingRecording>> {
        let Some(db) = self.path() else {
            return Ok(Vec::new());
        };
        let dir = recordings_dir(db);
        let mut stmt = self.conn().prepare_cached(
            "SELECT c.id, c.recording FROM calls c
             LEFT JOIN recording_uploads u ON u.call_id = c.id
             WHERE c.recording IS NOT NULL
               AND json_extract(c.recording, '$.sha256') IS NOT NULL
               AND (u.sha256 IS NULL OR u.sha256 <> json_extract(c.recording, '$.sha256'))
             ORDER BY c.started_at, c.id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut pending = Vec::new();
        for row in rows {
            let (id, json) = row?;
            let recording: RecordingRef = sql::from_json("recording", &json)?;
            let Ok(call_id) = id.parse::<CallId>() else {
                continue;
            };
            // A bare file name inside the recordings directory; anything else is not ours.
            if recording.path.contains(['/', '\\']) || recording.path.starts_with('.') {
                continue;
            }
            let file = dir.join(&recording.path);
            if file.is_file() {
                pending.push(PendingRecording {
                    call_id,
                    recording,
                    file,
                });
            }
        }
        Ok(pending)
    }
}

impl Writer<'_> {
    /// The server holds this call's recording with `sha256`.
    pub fn mark_recording_uploaded(&mut self, call_id: CallId, sha256: &str) -> Result<()> {
        self.mark_recording(call_id, sha256, "uploaded", None)
    }

    /// Stops trying to upload this call's recording with `sha256` (the server refused the
    /// file itself, e.g. its bytes no longer match the hash recorded when it closed).
    pub fn mark_recording_failed(
        &mut self,
        call_id: CallId,
        sha256: &str,
        detail: &str,
    ) -> Result<()> {
        self.mark_recording(call_id, sha256, "failed", Some(detail))
    }

    /// Forgets which recordings the server held (it was restored from a backup, maybe
    /// without them): each is offered again, and the server answers at once for those it
    /// still has. Files it refused stay given up on.
    pub fn forget_uploaded_recordings(&mut self) -> Result<()> {
        self.tx
            .execute("DELETE FROM recording_uploads WHERE state = 'uploaded'", [])?;
        Ok(())
    }

    fn mark_recording(
        &mut self,
        call_id: CallId,
        sha256: &str,
        state: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO recording_uploads (call_id, sha256, state, detail, at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (call_id) DO UPDATE SET sha256 = excluded.sha256,
                 state = excluded.state, detail = excluded.detail, at = excluded.at",
            (
                call_id.to_string(),
                sha256,
                state,
                detail,
                sql::ts(&self.now),
            ),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuecard_core::{Call, CallDirection, CallStatus};

    fn call_with(recording: Option<RecordingRef>) -> Call {
        Call {
            id: CallId::new(),
            contact_id: None,
            direction: CallDirection::Outbound,
            status: CallStatus::Completed,
            from: "+14155550100".into(),
            to: "+14155550199".into(),
            started_at: cuecard_core::now(),
            answered_at: None,
            ended_at: None,
            duration_secs: 3,
            disposition: None,
            recording,
            notes: String::new(),
        }
    }

    fn recording(path: &str, sha256: Option<&str>) -> RecordingRef {
        RecordingRef {
            path: path.into(),
            format: "wav".into(),
            duration_ms: 3000,
            sha256: sha256.map(str::to_owned),
        }
    }

    #[test]
    fn only_closed_recordings_on_this_device_and_not_yet_uploaded_are_pending() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("cuecard.db");
        let mut store = Store::open(&db).expect("store");
        let recordings = recordings_dir(&db);
        std::fs::create_dir_all(&recordings).expect("dir");
        std::fs::write(recordings.join("a.wav"), b"RIFF").expect("file");
        std::fs::write(recordings.join("open.wav"), b"RIFF").expect("file");
        let here = call_with(Some(recording("a.wav", Some("aa"))));
        let elsewhere = call_with(Some(recording("b.wav", Some("bb"))));
        let still_open = call_with(Some(recording("open.wav", None)));
        let escaping = call_with(Some(recording("../cuecard.db", Some("cc"))));
        let none = call_with(None);
        store
            .write(|w| {
                for call in [&here, &elsewhere, &still_open, &escaping, &none] {
                    w.save_call(call)?;
                }
                Ok(())
            })
            .expect("saved");
        let pending = store.recordings_to_upload().expect("pending");
        assert_eq!(
            pending.iter().map(|p| p.call_id).collect::<Vec<_>>(),
            vec![here.id]
        );
        assert_eq!(pending[0].file, recordings.join("a.wav"));

        store
            .write(|w| w.mark_recording_uploaded(here.id, "aa"))
            .expect("marked");
        assert!(store.recordings_to_upload().expect("pending").is_empty());
        // Recorded again (a new hash): it goes again.
        let mut redone = here.clone();
        redone.recording = Some(recording("a.wav", Some("a2")));
        store.write(|w| w.save_call(&redone)).expect("saved");
        assert_eq!(store.recordings_to_upload().expect("pending").len(), 1);
        store
            .write(|w| w.mark_recording_failed(here.id, "a2", "hash_mismatch"))
            .expect("marked");
        assert!(store.recordings_to_upload().expect("pending").is_empty());
        store
            .write(|w| w.forget_uploaded_recordings())
            .expect("forgot");
        assert!(
            store.recordings_to_upload().expect("pending").is_empty(),
            "a refused file stays given up on"
        );
    }
}
