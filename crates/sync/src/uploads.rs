//! Uploading call recordings once their call rows have synced: when the team's policy lets
//! recordings leave the device, each waiting file goes in 4 MiB chunks to a resumable
//! upload session on the server, which checks the whole file's SHA-256 before keeping it.
//! A pass stops between chunks when its time budget runs out (so pulls are not held up
//! by a long upload) and the next pass resumes where the server's copy stands, also after
//! the app or the server restarted.

use crate::client::{LocalStore, SyncClient};
use crate::error::SyncError;
use cuecard_store::PendingRecording;
use cuecard_sync_protocol::{RecordingPolicy, UploadRequest, recording_media_type};
use std::io::SeekFrom;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes per chunk (the server takes up to 8 MiB).
pub const CHUNK_BYTES: u64 = 4 * 1024 * 1024;

/// What one pass of uploads did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadPass {
    /// Recordings the server now holds.
    pub uploaded: usize,
    /// Recordings the server refused for good (named in the log); not tried again.
    pub failed: usize,
    /// Recordings still waiting after this pass.
    pub remaining: usize,
    /// Bytes the server took in this pass (also of recordings not finished yet).
    pub bytes_sent: u64,
    /// The team keeps recordings on reps' devices: nothing was sent.
    pub kept_on_device: bool,
}

/// How a single recording's upload ended.
enum Outcome {
    Stored,
    OutOfTime,
}

impl SyncClient {
    /// Uploads waiting recordings until `budget` runs out; the rest wait for the next pass.
    pub async fn upload_recordings(
        &self,
        store: &impl LocalStore,
        budget: Duration,
    ) -> Result<UploadPass, SyncError> {
        let pending = store.with(|s| s.recordings_to_upload())?;
        let mut pass = UploadPass {
            remaining: pending.len(),
            ..UploadPass::default()
        };
        if pending.is_empty() {
            return Ok(pass);
        }
        let settings = self
            .authed(|api, token| async move { api.org_settings(&token).await })
            .await?;
        if settings.recording_policy == RecordingPolicy::KeepOnDevice {
            pass.kept_on_device = true;
            return Ok(pass);
        }
        let deadline = Instant::now() + budget;
        for item in pending {
            if Instant::now() >= deadline {
                break;
            }
            let Some(sha256) = item.recording.sha256.clone() else {
                continue;
            };
            match self
                .upload_one(&item, &sha256, deadline, &mut pass.bytes_sent)
                .await
            {
                Ok(Outcome::Stored) => {
                    store
                        .with(|s| s.write(|w| w.mark_recording_uploaded(item.call_id, &sha256)))?;
                    tracing::info!(call = %item.call_id, "recording uploaded");
                    pass.uploaded += 1;
                    pass.remaining -= 1;
                }
                Ok(Outcome::OutOfTime) => break,
                Err(SyncError::Server { code, .. }) if code == "recordings_kept_on_device" => {
                    pass.kept_on_device = true;
                    break;
                }
                // The call is not on the server (yet): try again next pass.
                Err(SyncError::Server { status: 404, .. }) => {}
                // The file itself is refused: damaged (its bytes no longer match the
                // hash taken when it closed), empty, or over the server's size limit.
                Err(SyncError::Server {
                    status: 413 | 422,
                    code,
                    message,
                    ..
                }) => {
                    tracing::warn!(call = %item.call_id, %code, %message, "recording not uploaded");
                    store.with(|s| {
                        s.write(|w| w.mark_recording_failed(item.call_id, &sha256, &message))
                    })?;
                    pass.failed += 1;
                    pass.remaining -= 1;
                }
                // The file went away or cannot be read: it is listed again (or not) next pass.
                Err(e @ SyncError::Recording { .. }) => {
                    tracing::warn!(call = %item.call_id, error = %e, "recording not uploaded");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(pass)
    }

    /// Sends one recording from wherever the server's copy stands.
    async fn upload_one(
        &self,
        item: &PendingRecording,
        sha256: &str,
        deadline: Instant,
        bytes_sent: &mut u64,
    ) -> Result<Outcome, SyncError> {
        let io = |e: std::io::Error| SyncError::Recording {
            path: item.file.clone(),
            detail: e.to_string(),
        };
        let mut file = tokio::fs::File::open(&item.file).await.map_err(io)?;
        let size = file.metadata().await.map_err(io)?.len();
        let request = UploadRequest {
            call_id: item.call_id.as_uuid(),
            sha256: sha256.to_owned(),
            size,
            content_type: content_type(&item.recording.format),
        };
        let mut state = self
            .authed(|api, token| {
                let request = request.clone();
                async move { api.start_upload(&token, &request).await }
            })
            .await?;
        while !state.complete {
            if Instant::now() >= deadline {
                return Ok(Outcome::OutOfTime);
            }
            let upload_id = state
                .upload_id
                .ok_or_else(|| SyncError::Decode("an unfinished upload without an id".into()))?;
            let start = state.offset;
            let len = CHUNK_BYTES.min(size.saturating_sub(start));
            if len == 0 {
                return Err(SyncError::Decode(format!(
                    "the server expects bytes from {start} of a {size}-byte recording"
                )));
            }
            let mut chunk = vec![0; usize::try_from(len).unwrap_or(usize::MAX)];
            file.seek(SeekFrom::Start(start)).await.map_err(io)?;
            file.read_exact(&mut chunk).await.map_err(io)?;
            let sent = self
                .authed(|api, token| {
                    let chunk = chunk.clone();
                    async move { api.put_chunk(&token, upload_id, start, chunk, size).await }
                })
                .await;
            match sent {
                Ok(next) => {
                    *bytes_sent += next.offset.saturating_sub(start);
                    state = next;
                }
                // The server holds a different amount (an earlier chunk's answer was
                // lost, or another try got there first): go on from there.
                Err(SyncError::Server {
                    code,
                    offset: Some(offset),
                    ..
                }) if code == "offset_mismatch" => state.offset = offset,
                Err(e) => return Err(e),
            }
        }
        Ok(Outcome::Stored)
    }
}

/// The media type declared for a recording: its format's, or a generic audio type for a
/// format this app does not write (the server wants `audio/*`).
pub fn content_type(format: &str) -> String {
    recording_media_type(format)
        .unwrap_or("audio/octet-stream")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn formats_map_to_audio_types() {
        assert_eq!(content_type("ogg/opus"), "audio/ogg");
        assert_eq!(content_type("wav"), "audio/wav");
        assert_eq!(content_type("flac"), "audio/flac");
        assert_eq!(content_type("../x"), "audio/octet-stream");
    }
}
