//! The organisation's recording policy: whether recordings leave reps' devices.

use cuecard_sync_protocol::RecordingPolicy;
use sqlx::AnyPool;
use uuid::Uuid;

/// The policy of `org`. A value this build does not know keeps recordings on devices.
pub async fn of(db: &AnyPool, org: Uuid) -> Result<RecordingPolicy, sqlx::Error> {
    let stored: String = sqlx::query_scalar("SELECT recording_policy FROM orgs WHERE id = $1")
        .bind(org.to_string())
        .fetch_one(db)
        .await?;
    Ok(RecordingPolicy::parse(&stored).unwrap_or_else(|| {
        tracing::warn!(%org, policy = %stored, "unknown recording policy; keeping recordings on devices");
        RecordingPolicy::KeepOnDevice
    }))
}

/// Sets the policy of `org`.
pub async fn set(db: &AnyPool, org: Uuid, policy: RecordingPolicy) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orgs SET recording_policy = $1 WHERE id = $2")
        .bind(policy.name())
        .bind(org.to_string())
        .execute(db)
        .await?;
    Ok(())
}
