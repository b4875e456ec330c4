//! Signing in and out, one sync round (push the outbox, pull what changed), and the
//! background loop that runs rounds with long polls while idle and backoff while offline.
//!
//! Order of a round: push first, then pull, so a pulled row already includes this
//! device's latest writes whenever the server has them. A pulled row may still carry an
//! older value for a field this device changed after the push; the next round pushes that
//! change and pulls the merged row, so every device converges.

use crate::api::Api;
use crate::error::SyncError;
use crate::status::{SyncState, SyncStatus};
use cuecard_secrets::{SecretName, Secrets};
use cuecard_store::{OutboxEntry, OutboxOp, RemoteRow, Store, StoreError, SyncAccount};
use cuecard_sync_protocol::{
    AckStatus, DeviceInfo, Mutation, Op, PushRequest, SCHEMA_VERSION, Session,
};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Notify, watch};

/// Mutations per push (the server accepts up to 1,000).
const PUSH_BATCH: u32 = 500;
/// How long an idle pull waits for a change on the server.
const LONG_POLL: Duration = Duration::from_secs(25);
/// Backoff bounds while the server cannot be reached.
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How long one round may spend uploading recordings before it pulls again.
const UPLOAD_BUDGET: Duration = Duration::from_secs(20);

/// Access to the app's store from the sync task; the store is locked only for the
/// synchronous steps of a round, never across a network wait.
pub trait LocalStore: Send + Sync {
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, SyncError>;
}

impl LocalStore for std::sync::Mutex<Store> {
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, SyncError> {
        // A panic elsewhere while holding the lock leaves a store whose transactions
        // rolled back: still consistent.
        let mut store = self.lock().unwrap_or_else(|e| e.into_inner());
        Ok(work(&mut store)?)
    }
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncRound {
    pub pushed: usize,
    pub rejected: usize,
    pub pulled: usize,
    pub evicted: usize,
    /// The server's epoch changed (it was restored from a backup): pulled from the start.
    pub epoch_reset: bool,
}

/// The sync client of one app (one store, one device).
pub struct SyncClient {
    secrets: Secrets,
    device_name: String,
    platform: String,
    session: Mutex<Connection>,
    status: watch::Sender<SyncStatus>,
    nudge: Notify,
}

/// The server this device talks to and its current access token.
#[derive(Default)]
struct Connection {
    api: Option<Api>,
    access: Option<(String, Instant)>,
}

impl SyncClient {
    /// A client that keeps its refresh token in `secrets`, naming this device
    /// `device_name` on the server.
    pub fn new(secrets: Secrets, device_name: &str, platform: &str) -> SyncClient {
        SyncClient {
            secrets,
            device_name: device_name.to_owned(),
            platform: platform.to_owned(),
            session: Mutex::new(Connection::default()),
            status: watch::channel(SyncStatus::default()).0,
            nudge: Notify::new(),
        }
    }

    /// The status now.
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Status changes, for pushing them to the UI.
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Asks the background loop to sync now (after a local write, say).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Reads the signed-in account from the store (at start-up).
    pub async fn load(&self, store: &impl LocalStore) -> Result<SyncStatus, SyncError> {
        let marks = store.with(|s| s.sync_marks())?;
        let mut conn = self.session.lock().await;
        conn.api = match &marks.account {
            Some(account) => Some(Api::new(&account.server_url)?),
            None => None,
        };
        conn.access = None;
        drop(conn);
        self.refresh_status(store, |status| {
            status.state = if marks.account.is_some() {
                SyncState::Idle
            } else {
                SyncState::SignedOut
            };
        })?;
        Ok(self.status())
    }

    /// Signs this device in. The first account to sign in owns the store's data: another
    /// account is refused, so one rep's data never syncs into another's.
    pub async fn sign_in(
        &self,
        store: &impl LocalStore,
        server_url: &str,
        email: &str,
        password: &str,
    ) -> Result<SyncStatus, SyncError> {
        let api = Api::new(server_url)?;
        let session = api.login(email.trim(), password, self.device()).await?;
        self.adopt(store, api, session).await
    }

    /// Accepts an invitation: creates the account on the server and signs this device in
    /// as it. Refused, before the server is asked, when this store already syncs as
    /// another account.
    pub async fn sign_up(
        &self,
        store: &impl LocalStore,
        server_url: &str,
        invitation: &str,
        name: &str,
        password: &str,
    ) -> Result<SyncStatus, SyncError> {
        let api = Api::new(server_url)?;
        if store.with(|s| s.sync_marks())?.user_id.is_some() {
            return Err(SyncError::AlreadyOwned);
        }
        let session = api
            .signup(invitation.trim(), name.trim(), password, self.device())
            .await?;
        self.adopt(store, api, session).await
    }

    /// This device as sign-in and sign-up describe it. A sign-in is a new device to the
    /// server, which is sent the whole outbox from the start: what an earlier sign-in
    /// delivered is acknowledged as unchanged, and whatever a server restored from a
    /// backup has lost is delivered again.
    fn device(&self) -> DeviceInfo {
        DeviceInfo {
            name: self.device_name.clone(),
            platform: self.platform.clone(),
            first_seq: Some(1),
        }
    }

    /// Makes `session` this device's: checks the account owns this store's data, keeps
    /// the refresh token in the keychain and the account in the store, and starts syncing.
    async fn adopt(
        &self,
        store: &impl LocalStore,
        api: Api,
        session: Session,
    ) -> Result<SyncStatus, SyncError> {
        let mut marks = store.with(|s| s.sync_marks())?;
        let user_id = session.user.id.to_string();
        if marks
            .user_id
            .as_ref()
            .is_some_and(|owner| *owner != user_id)
        {
            let _ = api.logout(&session.access_token).await;
            return Err(SyncError::WrongAccount {
                email: session.user.email,
            });
        }
        self.secrets
            .set(SecretName::SyncRefreshToken, &session.refresh_token)?;
        marks.user_id = Some(user_id);
        marks.account = Some(SyncAccount {
            server_url: api.base_url().to_owned(),
            device_id: session.device_id.to_string(),
            email: session.user.email.clone(),
            name: session.user.name.clone(),
            role: session.user.role.name().to_owned(),
            org_name: session.user.org.name.clone(),
        });
        store.with(|s| {
            s.write(|w| {
                w.set_sync_marks(&marks)?;
                w.rewind_outbox(0)
            })
        })?;
        let mut conn = self.session.lock().await;
        conn.access = Some(access_of(&session));
        conn.api = Some(api);
        drop(conn);
        tracing::info!(device = %session.device_id, "signed in to the sync server");
        self.refresh_status(store, |status| {
            status.state = SyncState::Idle;
            status.error = None;
        })?;
        self.nudge();
        Ok(self.status())
    }

    /// Signs this device out: the server revokes its tokens (when reachable), the
    /// keychain forgets the refresh token. Local data stays, and unsynced changes stay
    /// queued for the next sign-in.
    pub async fn sign_out(&self, store: &impl LocalStore) -> Result<SyncStatus, SyncError> {
        let mut conn = self.session.lock().await;
        if let (Some(api), Some((token, _))) = (&conn.api, &conn.access)
            && let Err(error) = api.logout(token).await
        {
            tracing::info!(%error, "the server could not be told of the sign-out");
        }
        *conn = Connection::default();
        drop(conn);
        self.forget_account(store)?;
        self.refresh_status(store, |status| {
            status.state = SyncState::SignedOut;
            status.error = None;
        })?;
        Ok(self.status())
    }

    /// One round: push every pending change, then pull everything new.
    pub async fn sync_once(&self, store: &impl LocalStore) -> Result<SyncRound, SyncError> {
        let mut round = SyncRound::default();
        self.push_all(store, &mut round).await?;
        self.pull_all(store, None, &mut round).await?;
        Ok(round)
    }

    /// Runs rounds until `stop` turns true: after a round, long-polls for others'
    /// changes (cut short by [`SyncClient::nudge`]); offline, retries with backoff.
    pub async fn run(&self, store: &impl LocalStore, mut stop: watch::Receiver<bool>) {
        let mut backoff = BACKOFF_MIN;
        loop {
            if *stop.borrow() {
                return;
            }
            let signed_in = self.session.lock().await.api.is_some();
            if !signed_in {
                tokio::select! {
                    () = self.nudge.notified() => continue,
                    _ = stop.changed() => return,
                }
            }
            let _ = self.refresh_status(store, |s| s.state = SyncState::Syncing);
            let outcome = match self.sync_once(store).await {
                Ok(round) => {
                    self.synced(store, &round);
                    self.upload_recordings(store, UPLOAD_BUDGET).await
                }
                Err(e) => Err(e),
            };
            let wait = match outcome {
                // More recordings to send: go round again (pushing and pulling first)
                // instead of waiting on a long poll.
                Ok(pass)
                    if pass.remaining > 0
                        && !pass.kept_on_device
                        && pass.uploaded + pass.failed > 0 =>
                {
                    backoff = BACKOFF_MIN;
                    self.uploaded(&pass);
                    None
                }
                Ok(pass) => {
                    backoff = BACKOFF_MIN;
                    self.uploaded(&pass);
                    let mut round = SyncRound::default();
                    tokio::select! {
                        pulled = self.pull_all(store, Some(LONG_POLL), &mut round) => match pulled {
                            Ok(()) => {
                                if round.pulled + round.evicted > 0 {
                                    self.synced(store, &round);
                                }
                                None
                            }
                            Err(e) => Some(self.failed(store, &e, &mut backoff)),
                        },
                        () = self.nudge.notified() => None,
                        _ = stop.changed() => return,
                    }
                }
                Err(e) => Some(self.failed(store, &e, &mut backoff)),
            };
            if let Some(wait) = wait {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.nudge.notified() => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }

    /// Records an upload pass in the status.
    fn uploaded(&self, pass: &crate::uploads::UploadPass) {
        if pass.uploaded + pass.failed > 0 {
            tracing::debug!(?pass, "recordings uploaded");
        }
        self.status.send_if_modified(|s| {
            let waiting = u32::try_from(pass.remaining).unwrap_or(u32::MAX);
            let changed = s.recordings_waiting != waiting
                || s.recordings_kept_on_device != pass.kept_on_device;
            s.recordings_waiting = waiting;
            s.recordings_kept_on_device = pass.kept_on_device;
            changed
        });
    }

    /// Records a finished round in the status.
    fn synced(&self, store: &impl LocalStore, round: &SyncRound) {
        tracing::debug!(?round, "synced");
        let _ = self.refresh_status(store, |s| {
            s.state = SyncState::Idle;
            s.error = None;
            s.retry_in_secs = None;
            s.rejected += u32::try_from(round.rejected).unwrap_or(u32::MAX);
            s.last_synced_at =
                Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        });
    }

    /// Records a failed round; returns how long to wait before the next.
    fn failed(
        &self,
        store: &impl LocalStore,
        error: &SyncError,
        backoff: &mut Duration,
    ) -> Duration {
        let jitter = rand::random_range(0.8..1.2);
        let wait = backoff.mul_f64(jitter);
        *backoff = (*backoff * 2).min(BACKOFF_MAX);
        let state = match error {
            e if e.is_transient() => SyncState::Offline,
            SyncError::Unauthorized(_) | SyncError::NotSignedIn => SyncState::SignedOut,
            _ => SyncState::Error,
        };
        tracing::warn!(%error, retry_in = ?wait, "sync round failed");
        let _ = self.refresh_status(store, |s| {
            s.state = state;
            s.error = Some(error.to_string());
            s.retry_in_secs = Some(wait.as_secs().max(1));
        });
        wait
    }

    async fn push_all(
        &self,
        store: &impl LocalStore,
        round: &mut SyncRound,
    ) -> Result<(), SyncError> {
        let mut rewinds = 0;
        loop {
            let pending = store.with(|s| s.outbox_pending(PUSH_BATCH))?;
            if pending.is_empty() {
                return Ok(());
            }
            let device_id = self.device_id(store)?;
            let request = PushRequest {
                device_id,
                schema_version: SCHEMA_VERSION,
                mutations: pending.iter().map(mutation).collect(),
            };
            let request = &request;
            match self
                .authed(|api, token| async move { api.push(&token, request).await })
                .await
            {
                Ok(response) => {
                    self.note_epoch(store, &response.server_epoch, round)?;
                    for ack in response
                        .acks
                        .iter()
                        .filter(|a| a.status == AckStatus::Rejected)
                    {
                        tracing::warn!(seq = ack.seq, reason = ?ack.reason, "the server refused a change");
                        round.rejected += 1;
                    }
                    round.pushed += response
                        .acks
                        .iter()
                        .filter(|a| a.status == AckStatus::Applied)
                        .count();
                    store.with(|s| s.outbox_ack_through(response.acked_through))?;
                }
                Err(SyncError::Server {
                    status: 409,
                    expected_seq: Some(expected),
                    ..
                }) if rewinds < 3 => {
                    // The server holds fewer of this device's changes than the outbox
                    // says were acknowledged: it was restored from a backup. Send again
                    // from where it stands.
                    let last = store.with(|s| s.outbox_last_seq())?;
                    if expected > last + 1 {
                        return Err(SyncError::OutboxBehind { expected, last });
                    }
                    tracing::warn!(
                        expected,
                        "the server lost changes of this device; sending them again"
                    );
                    store.with(|s| s.write(|w| w.rewind_outbox(expected - 1)))?;
                    rewinds += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn pull_all(
        &self,
        store: &impl LocalStore,
        wait: Option<Duration>,
        round: &mut SyncRound,
    ) -> Result<(), SyncError> {
        let mut marks = store.with(|s| s.sync_marks())?;
        let mut bootstrap = marks.cursor == 0;
        let mut wait = wait.filter(|_| !bootstrap);
        loop {
            let cursor = marks.cursor;
            let page = self
                .authed(|api, token| async move { api.pull(&token, cursor, wait, bootstrap).await })
                .await?;
            wait = None;
            if marks
                .epoch
                .as_ref()
                .is_some_and(|e| *e != page.server_epoch)
            {
                tracing::warn!(
                    "the sync server was restored from a backup; pulling everything again"
                );
                marks.cursor = 0;
                marks.epoch = Some(page.server_epoch);
                store.with(|s| {
                    s.write(|w| {
                        w.set_sync_marks(&marks)?;
                        w.forget_uploaded_recordings()
                    })
                })?;
                round.epoch_reset = true;
                bootstrap = true;
                continue;
            }
            let rows: Vec<RemoteRow> = page
                .changes
                .into_iter()
                .filter_map(|c| match c.data {
                    serde_json::Value::Object(data) => Some(RemoteRow {
                        entity: c.entity.name().to_owned(),
                        row_id: c.row_id,
                        data,
                        deleted: c.deleted,
                        hlc: c.hlc,
                    }),
                    _ => None,
                })
                .collect();
            marks.cursor = page.cursor;
            marks.epoch = Some(page.server_epoch);
            let evictions = page.evictions;
            let report = store.with(|s| {
                s.write(|w| {
                    let report = w.apply_remote(&rows)?;
                    for e in &evictions {
                        w.evict(e.entity.name(), &e.row_id)?;
                    }
                    w.set_sync_marks(&marks)?;
                    Ok(report)
                })
            })?;
            round.pulled += report.applied;
            round.evicted += evictions.len();
            if !page.more {
                return Ok(());
            }
        }
    }

    /// Runs `call` with a valid access token, refreshing it first when needed and once
    /// more if the server refuses it.
    pub(crate) async fn authed<T, F, Fut>(&self, call: F) -> Result<T, SyncError>
    where
        F: Fn(Api, String) -> Fut,
        Fut: Future<Output = Result<T, SyncError>>,
    {
        let (api, token) = self.access(false).await?;
        match call(api, token).await {
            Err(SyncError::Unauthorized(_)) => {
                let (api, token) = self.access(true).await?;
                call(api, token).await
            }
            other => other,
        }
    }

    /// The server and an access token, refreshed when it is about to expire (or `renew`).
    async fn access(&self, renew: bool) -> Result<(Api, String), SyncError> {
        let mut conn = self.session.lock().await;
        let api = conn.api.clone().ok_or(SyncError::NotSignedIn)?;
        if !renew
            && let Some((token, until)) = &conn.access
            && Instant::now() < *until
        {
            return Ok((api, token.clone()));
        }
        let refresh = self
            .secrets
            .get(SecretName::SyncRefreshToken)?
            .ok_or(SyncError::NotSignedIn)?
            .0;
        match api.refresh(refresh.expose()).await {
            Ok(session) => {
                // The old refresh token is spent: keep the new one before anything else.
                self.secrets
                    .set(SecretName::SyncRefreshToken, &session.refresh_token)?;
                let access = access_of(&session);
                conn.access = Some(access.clone());
                Ok((api, access.0))
            }
            Err(SyncError::Unauthorized(message)) => {
                conn.access = None;
                conn.api = None;
                let _ = self.secrets.delete(SecretName::SyncRefreshToken);
                Err(SyncError::Unauthorized(message))
            }
            Err(e) => Err(e),
        }
    }

    fn device_id(&self, store: &impl LocalStore) -> Result<uuid::Uuid, SyncError> {
        let marks = store.with(|s| s.sync_marks())?;
        marks
            .account
            .and_then(|a| a.device_id.parse().ok())
            .ok_or(SyncError::NotSignedIn)
    }

    /// Notices a new server epoch on a push: the next pull starts over.
    fn note_epoch(
        &self,
        store: &impl LocalStore,
        epoch: &str,
        round: &mut SyncRound,
    ) -> Result<(), SyncError> {
        let mut marks = store.with(|s| s.sync_marks())?;
        match &marks.epoch {
            Some(known) if known != epoch => {
                marks.cursor = 0;
                marks.epoch = Some(epoch.to_owned());
                store.with(|s| {
                    s.write(|w| {
                        w.set_sync_marks(&marks)?;
                        w.forget_uploaded_recordings()
                    })
                })?;
                round.epoch_reset = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn forget_account(&self, store: &impl LocalStore) -> Result<(), SyncError> {
        self.secrets.delete(SecretName::SyncRefreshToken)?;
        let mut marks = store.with(|s| s.sync_marks())?;
        marks.account = None;
        store.with(|s| s.write(|w| w.set_sync_marks(&marks)))
    }

    /// Updates the status from the store (account, pending count) and `change`.
    fn refresh_status(
        &self,
        store: &impl LocalStore,
        change: impl FnOnce(&mut SyncStatus),
    ) -> Result<(), SyncError> {
        let (marks, pending, waiting) = store.with(|s| {
            Ok((
                s.sync_marks()?,
                s.outbox_pending_count()?,
                s.parked_count()?,
            ))
        })?;
        self.status.send_modify(|status| {
            let account = marks.account.as_ref();
            status.server_url = account.map(|a| a.server_url.clone());
            status.email = account.map(|a| a.email.clone());
            status.name = account.map(|a| a.name.clone());
            status.org_name = account.map(|a| a.org_name.clone());
            status.pending = pending;
            status.waiting = waiting;
            change(status);
        });
        Ok(())
    }
}

/// An outbox entry on the wire.
fn mutation(entry: &OutboxEntry) -> Mutation {
    Mutation {
        seq: entry.seq,
        mutation_id: entry.mutation_id.as_uuid(),
        entity: entry.entity.clone(),
        row_id: entry.row_id.clone(),
        op: match entry.op {
            OutboxOp::Insert => Op::Insert,
            OutboxOp::Update => Op::Update,
            OutboxOp::Delete => Op::Delete,
        },
        changed: entry.changed.clone(),
        hlc: entry.hlc,
    }
}

/// The session's access token and when to stop using it (a little before it expires).
fn access_of(session: &Session) -> (String, Instant) {
    let life = Duration::from_secs(session.access_expires_in.saturating_sub(30).max(1));
    (session.access_token.clone(), Instant::now() + life)
}
