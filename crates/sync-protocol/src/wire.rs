//! What crosses HTTP between the app and the server, as JSON.
//!
//! Push: the app sends outbox mutations in device-sequence order; the server answers with
//! one acknowledgement per mutation (applied, duplicate, or rejected with a reason) and the
//! highest sequence it now holds for the device. A push that skips a sequence number is
//! refused whole (409 `sequence_gap`, naming the expected number).
//!
//! Pull and bootstrap: the app asks for the changes after its cursor; the server answers
//! with the current state of each changed row it may see (newest write wins, so a row
//! changed ten times arrives once), evictions of rows it may no longer see, and the cursor
//! to ask from next time. Cursors are only meaningful within one server epoch.
//!
//! Recordings: the call row syncs first; the recording follows as a chunked, resumable
//! upload ([`UploadRequest`], then chunks at [`UploadState::offset`]) when the
//! organisation's [`RecordingPolicy`] lets it leave the device.

use crate::entity::Entity;
use cuecard_core::Hlc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Kind of change, as the outbox records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Insert,
    Update,
    Delete,
}

/// One outbox entry on its way to the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    /// The device's outbox sequence number: consecutive, starting at 1.
    pub seq: i64,
    /// Minted on the device; the same mutation always carries the same id.
    pub mutation_id: Uuid,
    /// Kept as text so that one unknown entity is rejected alone, not the whole push.
    pub entity: String,
    pub row_id: String,
    pub op: Op,
    /// The fields that changed, with their new values.
    pub changed: Value,
    pub hlc: Hlc,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub device_id: Uuid,
    /// The sync schema the app speaks ([`crate::SCHEMA_VERSION`] of its build).
    pub schema_version: u32,
    pub mutations: Vec<Mutation>,
}

/// What happened to one pushed mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Applied now (possibly changing nothing, when newer writes already won).
    Applied,
    /// Already applied by an earlier push; nothing done.
    Duplicate,
    /// Refused for good; `reason` says why. The app records it and moves on.
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub seq: i64,
    pub mutation_id: Uuid,
    pub status: AckStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub acks: Vec<Ack>,
    /// Every mutation of this device up to here is safely stored.
    pub acked_through: i64,
    pub server_epoch: String,
}

/// One changed row, as a pull or bootstrap returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The organisation's change sequence number of the row's latest change.
    pub seq: i64,
    pub entity: Entity,
    pub row_id: String,
    /// The row's current fields (a JSON object). Kept for tombstones too.
    pub data: Value,
    pub deleted: bool,
    /// The newest write stamp of the row.
    pub hlc: Hlc,
    /// The user the row belongs to (null for organisation-wide rows).
    pub owner_id: Option<Uuid>,
}

/// A row this user may no longer see (its owner left the user's team, say). The app drops
/// its local copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eviction {
    pub seq: i64,
    pub entity: Entity,
    pub row_id: String,
}

/// The answer to a pull or a bootstrap page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub server_epoch: String,
    /// The schema the rows are in: the app's own, or the server's newest if the app is
    /// newer than the server.
    pub schema_version: u32,
    pub changes: Vec<Change>,
    pub evictions: Vec<Eviction>,
    /// Ask from here next time.
    pub cursor: i64,
    /// More changes wait beyond `cursor`: ask again now.
    pub more: bool,
}

/// A user's role in their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Rep,
    Manager,
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "rep" => Some(Role::Rep),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Managers and admins review others' work.
    pub fn is_manager(self) -> bool {
        self >= Role::Manager
    }
}

/// The device a session is for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub name: String,
    pub platform: String,
    /// The first outbox sequence number this device will push: one past what an earlier
    /// sign-in of the same app already delivered. Absent: from the start (1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub device: Option<DeviceInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignupRequest {
    /// The invitation token a manager or admin created.
    pub invitation: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub device: Option<DeviceInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgInfo {
    pub id: Uuid,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub org: OrgInfo,
}

/// A signed-in device's credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    /// Seconds the access token stays valid.
    pub access_expires_in: u64,
    /// Single use: each refresh returns a new one.
    pub refresh_token: String,
    pub device_id: Uuid,
    pub user: UserInfo,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationRequest {
    pub email: String,
    pub role: Role,
    #[serde(default)]
    pub team_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub token: String,
    pub email: String,
    pub role: Role,
    pub expires_at: String,
}

/// Every error response's body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable code for programs (`sequence_gap`, `unauthorized`, …).
    pub error: String,
    /// What was wrong, for a person.
    pub message: String,
    /// With `sequence_gap`: the device sequence number the server expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<i64>,
    /// With `offset_mismatch` (a recording chunk that does not start where the upload
    /// stands): the byte offset the server holds, where the next chunk must start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// Whether an organisation's call recordings leave reps' devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingPolicy {
    /// Apps upload each call's recording to the server (managers can listen to it).
    Upload,
    /// Recordings stay on the rep's device; the server refuses uploads.
    KeepOnDevice,
}

impl RecordingPolicy {
    pub fn name(self) -> &'static str {
        match self {
            RecordingPolicy::Upload => "upload",
            RecordingPolicy::KeepOnDevice => "keep_on_device",
        }
    }

    pub fn parse(s: &str) -> Option<RecordingPolicy> {
        match s {
            "upload" => Some(RecordingPolicy::Upload),
            "keep_on_device" => Some(RecordingPolicy::KeepOnDevice),
            _ => None,
        }
    }
}

/// The media type of a call recording's `format` as the app records it (`ogg/opus`,
/// `wav`, `flac`): what the app declares when it uploads and what the dashboard expects.
/// `None` for a format the app does not write.
pub fn recording_media_type(format: &str) -> Option<&'static str> {
    match format.split('/').next().unwrap_or("").trim() {
        "ogg" | "opus" => Some("audio/ogg"),
        "wav" => Some("audio/wav"),
        "flac" => Some("audio/flac"),
        _ => None,
    }
}

/// An organisation's settings that apps read (`GET /v1/org/settings`) and admins change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettings {
    pub recording_policy: RecordingPolicy,
}

/// Starts (or resumes) uploading a call's recording: `POST /v1/recordings/uploads`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRequest {
    pub call_id: Uuid,
    /// Hex SHA-256 of the whole file (64 characters); the server checks it at the end.
    pub sha256: String,
    /// The file's length in bytes.
    pub size: u64,
    /// The file's media type, e.g. `audio/ogg`, `audio/wav`, `audio/flac`.
    pub content_type: String,
}

/// Where an upload stands: send the bytes from `offset` on, in chunks, until `complete`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    /// The upload session to send chunks to; null once the recording is stored.
    pub upload_id: Option<Uuid>,
    pub call_id: Uuid,
    /// Bytes the server holds safely (fsynced): the next chunk starts here.
    pub offset: u64,
    pub size: u64,
    /// The whole file arrived, matched its hash and is stored for the call.
    pub complete: bool,
}
