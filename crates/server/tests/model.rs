//! A model-based test of sync (issue 7): a proptest state machine drives the real
//! `cuecard-server` (on loopback, through its HTTP API) from six simulated devices, and
//! checks every answer and the stored state against an ideal model. It runs twice: over
//! SQLite, and over a PostgreSQL cluster the test starts itself (each case on its own
//! copy of a template database).
//!
//! The organisation: an admin, a manager who manages one team, and three reps — Dana (two
//! devices) and Omar in the team, Lee outside it. Every user has a device; each device has
//! an outbox (consecutive sequence numbers, mutation ids, HLC stamps from its own clock
//! with an adjustable skew), the watermark of what it believes the server holds, a pull
//! cursor and a replica of the rows it pulled.
//!
//! Transitions: local writes (contacts with tombstones and restores, calls whose
//! who/when are fixed once stored, organisation-wide do-not-call entries with
//! delete/re-add, all over a small pool of row ids so that devices and users collide),
//! pushes, pushes whose answer is lost, duplicate deliveries of acknowledged batches,
//! reordered deliveries (a later batch first), pulls (paged, to the end or one page),
//! client crashes (losing acknowledgements and pull progress), clock skew, a rep moved in
//! or out of the manager's team, and a server restart on the same database. At the end
//! every device pushes everything and pulls to the end.
//!
//! The ideal model is written out here, not borrowed from `cuecard-sync-protocol`: per
//! field, the write with the newest stamp wins; a row belongs to its first writer;
//! writes outside the writer's scope, deletes of calls and changes to a call's fixed
//! fields are refused. Invariants, after every step:
//! - the server answers every push exactly as the model predicts (each mutation
//!   `applied`/`rejected` once, then `duplicate`; a gap refused with the number expected);
//! - no mutation is applied twice, and every applied mutation's fields still hold its
//!   value or one with a newer stamp (no acknowledged write lost);
//! - the stored rows (data, per-field stamps, tombstone, owner) and every device's
//!   watermark equal the model's;
//! - a rep's replica never holds another user's rows, and a pull to the end leaves a
//!   device's replica equal to the model's view for its user (so a revoked manager's
//!   devices drop the rep's rows);
//!
//! and after the final drain all devices have converged on the model.
//!
//! `PROPTEST_CASES` sets the number of cases (by default 64 on SQLite and 16 on
//! PostgreSQL, where each request costs more).

mod support;

use cuecard_core::{Hlc, HlcClock};
use cuecard_server::{Config, Running};
use cuecard_sync_protocol::{
    AckStatus, ErrorBody, Mutation, Op, PullResponse, PushResponse, Session,
};
use cuecard_testserver::postgres::TempCluster;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use support::{Backend, Harness};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// The organisation
// ---------------------------------------------------------------------------------------

const ADMIN: usize = 0;
const MANAGER: usize = 1;
const DANA: usize = 2;
const OMAR: usize = 3;
const LEE: usize = 4;
const USERS: usize = 5;
const USER_NAMES: [&str; USERS] = ["admin", "manager", "dana", "omar", "lee"];
/// Each device's user: the admin, the manager, Dana's laptop and phone, Omar, Lee.
const DEVICE_USER: [usize; 6] = [ADMIN, MANAGER, DANA, DANA, OMAR, LEE];
const DEVICES: usize = DEVICE_USER.len();
/// Who is in the manager's team at the start.
const INITIAL_TEAM: [bool; USERS] = [false, true, true, true, false];
/// The simulated wall clock at the start (November 2026).
const START_MS: u64 = 1_795_000_000_000;
/// A call's fields that never change once it is stored (the model's own list).
const CALL_FIXED: &[&str] = &["direction", "started_at"];

fn is_rep(user: usize) -> bool {
    user >= DANA
}

fn mutation_id(device: usize, seq: i64) -> Uuid {
    Uuid::from_u128(
        0x00c0_ffee_0000_0000_0000_0000_0000_0000 | ((device as u128) << 64) | seq as u128,
    )
}

// ---------------------------------------------------------------------------------------
// Transitions
// ---------------------------------------------------------------------------------------

/// A rep whose team membership changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rep {
    Dana,
    Omar,
    Lee,
}

impl Rep {
    fn user(self) -> usize {
        match self {
            Rep::Dana => DANA,
            Rep::Omar => OMAR,
            Rep::Lee => LEE,
        }
    }
}

#[derive(Clone, Debug)]
enum ContactEdit {
    Create { name: u8 },
    Rename { name: u8 },
    Retitle { title: u8 },
    Delete,
    Restore,
}

#[derive(Clone, Debug)]
enum CallEdit {
    /// Insert the call: direction, start, status.
    Log {
        inbound: bool,
    },
    Status {
        status: u8,
    },
    Notes {
        notes: u8,
    },
    /// Try to change the direction of a stored call (refused when it differs).
    Redirect,
    /// Calls cannot be deleted.
    Delete,
}

/// One local change in the app, recorded in its outbox.
#[derive(Clone, Debug)]
enum LocalWrite {
    Contact { id: u8, edit: ContactEdit },
    Call { id: u8, edit: CallEdit },
    Dnc { id: u8, remove: bool, reason: u8 },
}

impl LocalWrite {
    /// The outbox entry's entity, row, operation and changed fields; `device` marks the
    /// values so that a winner can be told apart.
    fn mutation(&self, device: usize) -> (&'static str, String, Op, Value) {
        match self {
            LocalWrite::Contact { id, edit } => {
                let row = format!("contact-{id}");
                let (op, changed) = match edit {
                    ContactEdit::Create { name } => (
                        Op::Insert,
                        json!({"name": format!("name-{name}@{device}"), "deleted_at": null}),
                    ),
                    ContactEdit::Rename { name } => {
                        (Op::Update, json!({"name": format!("name-{name}@{device}")}))
                    }
                    ContactEdit::Retitle { title } => (
                        Op::Update,
                        json!({"title": format!("title-{title}@{device}")}),
                    ),
                    ContactEdit::Delete => {
                        (Op::Delete, json!({"deleted_at": "2026-11-21T10:00:00Z"}))
                    }
                    ContactEdit::Restore => (Op::Update, json!({"deleted_at": null})),
                };
                ("contacts", row, op, changed)
            }
            LocalWrite::Call { id, edit } => {
                let row = format!("call-{id}");
                let (op, changed) = match edit {
                    CallEdit::Log { inbound } => (
                        Op::Insert,
                        json!({"direction": if *inbound { "inbound" } else { "outbound" },
                               "started_at": "2026-11-20T15:04:00Z", "status": "ringing"}),
                    ),
                    CallEdit::Status { status } => {
                        let status = ["ringing", "in_progress", "completed"][*status as usize % 3];
                        (Op::Update, json!({"status": status}))
                    }
                    CallEdit::Notes { notes } => (
                        Op::Update,
                        json!({"notes": format!("notes-{notes}@{device}")}),
                    ),
                    CallEdit::Redirect => (Op::Update, json!({"direction": "inbound"})),
                    CallEdit::Delete => (Op::Delete, json!({})),
                };
                ("calls", row, op, changed)
            }
            LocalWrite::Dnc { id, remove, reason } => {
                let row = format!("+1415555010{id}");
                if *remove {
                    ("dnc", row, Op::Delete, json!({}))
                } else {
                    (
                        "dnc",
                        row,
                        Op::Insert,
                        json!({"reason": format!("reason-{reason}@{device}")}),
                    )
                }
            }
        }
    }
}

/// What a client crash loses of its pull progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PullLoss {
    Nothing,
    /// The cursor goes back to the last completed pull; the rows applied since stay.
    Cursor,
    /// Cursor and rows go back to the last completed pull.
    CursorAndRows,
}

#[derive(Clone, Debug)]
enum Transition {
    /// The device's clock moves on by `advance_ms`, then the app makes a local change.
    Write {
        device: usize,
        write: LocalWrite,
        advance_ms: u64,
    },
    /// Sends up to `max` unacknowledged outbox entries and hears the answer.
    Push { device: usize, max: usize },
    /// The server applies the push but the answer never reaches the device.
    PushAnswerLost { device: usize, max: usize },
    /// The network delivers the last `count` acknowledged entries again.
    DuplicateDelivery { device: usize, count: usize },
    /// The device sends its unacknowledged entries in two batches; the network delivers
    /// the later one (from entry `split` on) first, then the earlier one.
    ReorderedDelivery { device: usize, split: usize },
    /// Pulls pages of `limit` rows: to the end, or one page.
    Pull {
        device: usize,
        limit: u32,
        to_end: bool,
    },
    /// The app dies: it keeps its outbox and at most `keep_acked` acknowledgements.
    ClientCrash {
        device: usize,
        keep_acked: i64,
        loses: PullLoss,
    },
    /// The device's wall clock is set `skew_ms` off the true time.
    ClockSkew { device: usize, skew_ms: i64 },
    /// The admin adds a rep to the manager's team or takes them out.
    Membership { rep: Rep, in_team: bool },
    /// The server stops and starts again on the same database.
    ServerRestart,
}

fn contact_edit() -> impl Strategy<Value = ContactEdit> {
    prop_oneof![
        3 => (0u8..3).prop_map(|name| ContactEdit::Create { name }),
        2 => (0u8..3).prop_map(|name| ContactEdit::Rename { name }),
        2 => (0u8..3).prop_map(|title| ContactEdit::Retitle { title }),
        1 => Just(ContactEdit::Delete),
        1 => Just(ContactEdit::Restore),
    ]
}

fn call_edit() -> impl Strategy<Value = CallEdit> {
    prop_oneof![
        3 => any::<bool>().prop_map(|inbound| CallEdit::Log { inbound }),
        2 => (0u8..3).prop_map(|status| CallEdit::Status { status }),
        2 => (0u8..3).prop_map(|notes| CallEdit::Notes { notes }),
        1 => Just(CallEdit::Redirect),
        1 => Just(CallEdit::Delete),
    ]
}

fn local_write() -> impl Strategy<Value = LocalWrite> {
    prop_oneof![
        4 => (0u8..3, contact_edit()).prop_map(|(id, edit)| LocalWrite::Contact { id, edit }),
        2 => (0u8..2, call_edit()).prop_map(|(id, edit)| LocalWrite::Call { id, edit }),
        2 => (0u8..2, any::<bool>(), 0u8..3)
            .prop_map(|(id, remove, reason)| LocalWrite::Dnc { id, remove, reason }),
    ]
}

/// A device, weighted towards the manager's and Dana's, whose rows move in and out of
/// the manager's view.
fn device() -> impl Strategy<Value = usize> + Clone {
    prop_oneof![
        1 => Just(ADMIN),
        3 => Just(MANAGER),
        3 => Just(2),
        2 => Just(3),
        2 => Just(4),
        1 => Just(5),
    ]
}

fn transition() -> impl Strategy<Value = Transition> {
    let device = device();
    prop_oneof![
        8 => (device.clone(), local_write(), 0u64..40)
            .prop_map(|(device, write, advance_ms)| Transition::Write { device, write, advance_ms }),
        5 => (device.clone(), 1usize..6).prop_map(|(device, max)| Transition::Push { device, max }),
        2 => (device.clone(), 1usize..6)
            .prop_map(|(device, max)| Transition::PushAnswerLost { device, max }),
        1 => (device.clone(), 1usize..5)
            .prop_map(|(device, count)| Transition::DuplicateDelivery { device, count }),
        2 => (device.clone(), 1usize..5)
            .prop_map(|(device, split)| Transition::ReorderedDelivery { device, split }),
        6 => (device.clone(), 1u32..5, any::<bool>())
            .prop_map(|(device, limit, to_end)| Transition::Pull { device, limit, to_end }),
        1 => (
            device.clone(),
            0i64..8,
            prop_oneof![Just(PullLoss::Nothing), Just(PullLoss::Cursor), Just(PullLoss::CursorAndRows)],
        )
            .prop_map(|(device, keep_acked, loses)| Transition::ClientCrash { device, keep_acked, loses }),
        1 => (device, prop_oneof![Just(0i64), Just(-200), Just(-60), Just(60), Just(200)])
            .prop_map(|(device, skew_ms)| Transition::ClockSkew { device, skew_ms }),
        3 => (prop_oneof![Just(Rep::Dana), Just(Rep::Omar), Just(Rep::Lee)], any::<bool>())
            .prop_map(|(rep, in_team)| Transition::Membership { rep, in_team }),
        1 => Just(Transition::ServerRestart),
    ]
}

// ---------------------------------------------------------------------------------------
// The ideal model
// ---------------------------------------------------------------------------------------

/// A row's identity: entity name and row id.
type RowKey = (String, String);

/// A row as the ideal server holds it.
#[derive(Clone, Debug)]
struct IdealRow {
    /// The first writer (None: organisation-wide).
    owner: Option<usize>,
    /// Per field, the newest write's value and stamp.
    fields: BTreeMap<String, (Value, Hlc)>,
    /// For entities deleted by operation: the newest insert/delete and whether it deleted.
    delete_op: Option<(Hlc, bool)>,
}

impl IdealRow {
    fn deleted(&self, entity: &str) -> bool {
        if entity == "contacts" {
            self.fields
                .get("deleted_at")
                .is_some_and(|(v, _)| !v.is_null())
        } else {
            self.delete_op.is_some_and(|(_, deleted)| deleted)
        }
    }

    fn hlc(&self) -> Hlc {
        let fields = self.fields.values().map(|(_, at)| *at);
        fields
            .chain(self.delete_op.map(|(at, _)| at))
            .max()
            .unwrap_or_default()
    }

    fn data(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|(k, (v, _))| (k.clone(), v.clone()))
                .collect(),
        )
    }

    fn clocks(&self) -> BTreeMap<String, Hlc> {
        let mut clocks: BTreeMap<String, Hlc> = self
            .fields
            .iter()
            .map(|(k, (_, at))| (k.clone(), *at))
            .collect();
        if let Some((at, _)) = self.delete_op {
            clocks.insert("_deleted".into(), at);
        }
        clocks
    }
}

/// A device as the model sees it: the app's outbox and clock, and both watermarks.
#[derive(Clone, Debug)]
struct DeviceModel {
    clock: HlcClock,
    skew_ms: i64,
    outbox: Vec<Mutation>,
    /// What the app believes the server holds.
    acked: i64,
    /// What the server holds.
    delivered: i64,
}

/// What the server must answer to one push.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Acks {
        acks: Vec<(i64, AckStatus)>,
        acked_through: i64,
    },
    Gap {
        expected_seq: i64,
    },
}

#[derive(Clone)]
struct Model {
    now_ms: u64,
    in_team: [bool; USERS],
    devices: Vec<DeviceModel>,
    rows: BTreeMap<RowKey, IdealRow>,
    /// Each mutation's one non-duplicate answer (applied or rejected).
    fate: BTreeMap<Uuid, AckStatus>,
    /// The answers the server owes to the pushes of the latest transition, in order.
    expect: Vec<Expect>,
}

/// Short, since proptest prints the initial state with every failure.
impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let team: Vec<&str> = (DANA..USERS)
            .filter(|u| self.in_team[*u])
            .map(|u| USER_NAMES[u])
            .collect();
        let outboxes: Vec<usize> = self.devices.iter().map(|d| d.outbox.len()).collect();
        f.debug_struct("Model")
            .field("team", &team)
            .field("outboxes", &outboxes)
            .field("rows", &self.rows.len())
            .finish_non_exhaustive()
    }
}

/// A row as a user's device should hold it after pulling to the end.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    owner: Option<Uuid>,
    data: Value,
    deleted: bool,
    hlc: Hlc,
}

type Replica = BTreeMap<RowKey, Seen>;

impl Model {
    fn new() -> Model {
        Model {
            now_ms: START_MS,
            in_team: INITIAL_TEAM,
            devices: (0..DEVICES)
                .map(|d| DeviceModel {
                    clock: HlcClock::new(100 + d as u32, None),
                    skew_ms: 0,
                    outbox: Vec::new(),
                    acked: 0,
                    delivered: 0,
                })
                .collect(),
            rows: BTreeMap::new(),
            fate: BTreeMap::new(),
            expect: Vec::new(),
        }
    }

    /// Whether `viewer` may see (and write) a row owned by `owner`.
    fn sees(&self, viewer: usize, owner: Option<usize>) -> bool {
        match owner {
            None => true,
            Some(owner) => {
                viewer == ADMIN
                    || viewer == owner
                    || (viewer == MANAGER && is_rep(owner) && self.in_team[owner])
            }
        }
    }

    /// The rows `user` may see now, as a device of theirs holds them after pulling.
    fn view(&self, user: usize, ids: &[Uuid; USERS]) -> Replica {
        self.rows
            .iter()
            .filter(|(_, row)| self.sees(user, row.owner))
            .map(|(key, row)| {
                (
                    key.clone(),
                    Seen {
                        owner: row.owner.map(|o| ids[o]),
                        data: row.data(),
                        deleted: row.deleted(&key.0),
                        hlc: row.hlc(),
                    },
                )
            })
            .collect()
    }

    fn step(&mut self, transition: &Transition) {
        self.expect.clear();
        match transition {
            Transition::Write {
                device,
                write,
                advance_ms,
            } => {
                self.now_ms += advance_ms;
                let now = self.now_ms;
                let dev = &mut self.devices[*device];
                let hlc = dev.clock.tick(now.saturating_add_signed(dev.skew_ms));
                let (entity, row_id, op, changed) = write.mutation(*device);
                let seq = dev.outbox.len() as i64 + 1;
                dev.outbox.push(Mutation {
                    seq,
                    mutation_id: mutation_id(*device, seq),
                    entity: entity.into(),
                    row_id,
                    op,
                    changed,
                    hlc,
                });
            }
            Transition::Push { device, max } => self.push(*device, *max, true),
            Transition::PushAnswerLost { device, max } => self.push(*device, *max, false),
            Transition::DuplicateDelivery { device, count } => {
                if let Some(batch) = resend_batch(
                    &self.devices[*device].outbox,
                    self.devices[*device].acked,
                    *count,
                ) {
                    let answer = self.deliver(*device, &batch);
                    self.expect.push(answer);
                }
            }
            Transition::ReorderedDelivery { device, split } => {
                let dev = &self.devices[*device];
                if let Some((later, earlier)) = reordered_batches(&dev.outbox, dev.acked, *split) {
                    for batch in [later, earlier] {
                        let answer = self.deliver(*device, &batch);
                        self.hear(*device, &answer);
                        self.expect.push(answer);
                    }
                }
            }
            Transition::Pull { device, to_end, .. } => {
                if *to_end {
                    // The app's clock observes the newest stamp it pulled.
                    let user = DEVICE_USER[*device];
                    let newest = self
                        .rows
                        .values()
                        .filter(|row| self.sees(user, row.owner))
                        .map(IdealRow::hlc)
                        .max();
                    let now = self.now_ms;
                    let dev = &mut self.devices[*device];
                    if let Some(newest) = newest {
                        dev.clock
                            .observe(newest, now.saturating_add_signed(dev.skew_ms));
                    }
                }
            }
            Transition::ClientCrash {
                device, keep_acked, ..
            } => {
                let dev = &mut self.devices[*device];
                dev.acked = dev.acked.min(*keep_acked);
            }
            Transition::ClockSkew { device, skew_ms } => self.devices[*device].skew_ms = *skew_ms,
            Transition::Membership { rep, in_team } => self.in_team[rep.user()] = *in_team,
            Transition::ServerRestart => {}
        }
    }

    fn push(&mut self, device: usize, max: usize, hears: bool) {
        let dev = &self.devices[device];
        if let Some(batch) = push_batch(&dev.outbox, dev.acked, max) {
            let answer = self.deliver(device, &batch);
            if hears {
                self.hear(device, &answer);
            }
            self.expect.push(answer);
        }
    }

    /// The app's reaction to an answer: move its watermark up, or back to the gap.
    fn hear(&mut self, device: usize, answer: &Expect) {
        let dev = &mut self.devices[device];
        match answer {
            Expect::Acks { acked_through, .. } => dev.acked = dev.acked.max(*acked_through),
            Expect::Gap { expected_seq } => dev.acked = expected_seq - 1,
        }
    }

    /// The ideal server receiving a push.
    fn deliver(&mut self, device: usize, batch: &[Mutation]) -> Expect {
        let has = self.devices[device].delivered;
        if let Some(first) = batch.iter().find(|m| m.seq > has)
            && first.seq != has + 1
        {
            return Expect::Gap {
                expected_seq: has + 1,
            };
        }
        let mut acks = Vec::with_capacity(batch.len());
        for m in batch {
            let status = if m.seq <= has {
                AckStatus::Duplicate
            } else {
                let status = self.merge(DEVICE_USER[device], m);
                let before = self.fate.insert(m.mutation_id, status);
                assert!(before.is_none(), "model: {m:?} delivered twice");
                status
            };
            acks.push((m.seq, status));
        }
        let acked_through = batch.last().map_or(has, |m| m.seq.max(has));
        self.devices[device].delivered = acked_through;
        Expect::Acks {
            acks,
            acked_through,
        }
    }

    /// The ideal merge of one new mutation by `user`.
    fn merge(&mut self, user: usize, m: &Mutation) -> AckStatus {
        let key = (m.entity.clone(), m.row_id.clone());
        let Some(changed) = m.changed.as_object() else {
            return AckStatus::Rejected;
        };
        let existing = self.rows.get(&key);
        if let Some(row) = existing
            && !self.sees(user, row.owner)
        {
            return AckStatus::Rejected;
        }
        if m.entity == "calls" {
            if m.op == Op::Delete {
                return AckStatus::Rejected;
            }
            if let Some(row) = existing
                && changed.iter().any(|(k, v)| {
                    CALL_FIXED.contains(&k.as_str())
                        && row.fields.get(k).is_some_and(|(stored, _)| stored != v)
                })
            {
                return AckStatus::Rejected;
            }
        }
        let owner = (m.entity != "dnc").then_some(user);
        let row = self.rows.entry(key).or_insert_with(|| IdealRow {
            owner,
            fields: BTreeMap::new(),
            delete_op: None,
        });
        for (k, v) in changed {
            if row.fields.get(k).is_none_or(|(_, at)| *at < m.hlc) {
                row.fields.insert(k.clone(), (v.clone(), m.hlc));
            }
        }
        if m.entity != "contacts"
            && matches!(m.op, Op::Insert | Op::Delete)
            && row.delete_op.is_none_or(|(at, _)| at < m.hlc)
        {
            row.delete_op = Some((m.hlc, m.op == Op::Delete));
        }
        AckStatus::Applied
    }
}

/// The next push: up to `max` entries after the watermark.
fn push_batch(outbox: &[Mutation], acked: i64, max: usize) -> Option<Vec<Mutation>> {
    let start = usize::try_from(acked).ok()?.min(outbox.len());
    let end = (start + max).min(outbox.len());
    (start < end).then(|| outbox[start..end].to_vec())
}

/// The last `count` acknowledged entries.
fn resend_batch(outbox: &[Mutation], acked: i64, count: usize) -> Option<Vec<Mutation>> {
    let end = usize::try_from(acked).ok()?.min(outbox.len());
    let start = end.saturating_sub(count);
    (start < end).then(|| outbox[start..end].to_vec())
}

/// The unacknowledged entries split in two: (later, earlier).
fn reordered_batches(
    outbox: &[Mutation],
    acked: i64,
    split: usize,
) -> Option<(Vec<Mutation>, Vec<Mutation>)> {
    let start = usize::try_from(acked).ok()?.min(outbox.len());
    let pending = outbox.len() - start;
    if pending < 2 {
        return None;
    }
    let cut = start + split.clamp(1, pending - 1);
    Some((outbox[cut..].to_vec(), outbox[start..cut].to_vec()))
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::new()).boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Transition> {
        transition().boxed()
    }

    fn apply(mut state: Model, transition: &Transition) -> Model {
        state.step(transition);
        state
    }
}

// ---------------------------------------------------------------------------------------
// The system under test: the real server and the simulated apps
// ---------------------------------------------------------------------------------------

/// Built once per test: the organisation's database as a template (signing up costs
/// Argon2 hashes), the sessions of its six devices, and the runtime.
struct Fixture {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    template: Template,
    sessions: Vec<Session>,
    users: [Uuid; USERS],
    org: Uuid,
    team: Uuid,
}

/// What each case's database is made from.
enum Template {
    /// The SQLite database's bytes, written out as each case's file.
    Sqlite(Vec<u8>),
    /// The cluster's `cuecard` database: each case gets `CREATE DATABASE … TEMPLATE
    /// cuecard`, dropped when the case ends.
    Postgres {
        /// A URL with `{db}` where the database's name goes.
        url: String,
        cases: AtomicU32,
    },
}

impl Template {
    fn url(&self, database: &str) -> String {
        match self {
            Template::Sqlite(_) => unreachable!("SQLite cases are files"),
            Template::Postgres { url, .. } => url.replace("{db}", database),
        }
    }
}

/// Which database the server runs on: a marker type per backend, each with its fixture.
trait OnDatabase {
    fn fixture() -> &'static Fixture;
}

struct OnSqlite;
struct OnPostgres;

static SQLITE_FIXTURE: OnceLock<Fixture> = OnceLock::new();
/// Set by the PostgreSQL test, which owns the cluster (stopped when the test ends).
static POSTGRES_FIXTURE: OnceLock<Fixture> = OnceLock::new();

impl OnDatabase for OnSqlite {
    fn fixture() -> &'static Fixture {
        SQLITE_FIXTURE.get_or_init(|| Fixture::build(Backend::Sqlite).0)
    }
}

impl OnDatabase for OnPostgres {
    fn fixture() -> &'static Fixture {
        POSTGRES_FIXTURE
            .get()
            .expect("the PostgreSQL test sets its fixture up first")
    }
}

impl Fixture {
    /// The organisation on `backend`, and for PostgreSQL the cluster holding the template,
    /// which the caller keeps running while cases run.
    fn build(backend: Backend) -> (Fixture, Option<TempCluster>) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (template, cluster, sessions, team) = rt.block_on(async {
            // Tokens issued now must outlive the whole run.
            let mut h = Harness::start_with(backend, |c| c.access_ttl_secs = 24 * 3600).await;
            let admin = h.org("Acme", "admin@acme.test").await;
            let team = h.new_team(&admin, "Enterprise").await;
            let manager = h
                .invite(&admin, "manager@acme.test", "manager", Some(team))
                .await;
            let dana = h
                .invite(&manager, "dana@acme.test", "rep", Some(team))
                .await;
            let dana_phone = h.log_in("dana@acme.test").await;
            let omar = h
                .invite(&manager, "omar@acme.test", "rep", Some(team))
                .await;
            let lee = h.invite(&admin, "lee@acme.test", "rep", None).await;
            let (template, cluster) = match backend {
                Backend::Sqlite => {
                    let path = h.dir.path().join("template.db");
                    sqlx::query(cuecard_server::db::built(format!(
                        "VACUUM INTO '{}'",
                        path.display()
                    )))
                    .execute(&h.running.state.db.write)
                    .await
                    .expect("database copied");
                    let bytes = std::fs::read(&path).expect("template read");
                    (Template::Sqlite(bytes), None)
                }
                Backend::Postgres => {
                    // A template database must have no connections when it is copied.
                    h.running.state.db.read.close().await;
                    h.running.state.db.write.close().await;
                    let cluster = h.cluster.take().expect("the harness's cluster");
                    let url = cluster.url_for("{db}");
                    let template = Template::Postgres {
                        url,
                        cases: AtomicU32::new(0),
                    };
                    (template, Some(cluster))
                }
            };
            drop(h);
            (
                template,
                cluster,
                vec![admin, manager, dana, dana_phone, omar, lee],
                team,
            )
        });
        let mut users = [Uuid::nil(); USERS];
        for (device, session) in sessions.iter().enumerate() {
            users[DEVICE_USER[device]] = session.user.id;
        }
        let fixture = Fixture {
            http: reqwest::Client::new(),
            org: sessions[ADMIN].user.org.id,
            rt,
            template,
            sessions,
            users,
            team,
        };
        (fixture, cluster)
    }
}

struct Server {
    running: Running,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    base: String,
}

impl Server {
    async fn start(url: &str, dir: &Path) -> Server {
        let config = Config::for_tests(url, dir.join("blobs"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = cuecard_server::serve(config, async {
            let _ = stopped.await;
        })
        .await
        .expect("server starts");
        Server {
            base: format!("http://{}", running.addr),
            running,
            stop: Some(stop),
        }
    }

    /// Stops serving; a server that does not finish in a second is cut off.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let abort = self.running.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(1), &mut self.running.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// A simulated app on one device.
#[derive(Default)]
struct App {
    /// Its watermark: every entry up to here is known to be stored.
    acked: i64,
    cursor: i64,
    replica: Replica,
    /// Cursor and rows as of the last pull to the end (what survives a crash).
    saved: (i64, Replica),
}

struct Sut {
    fix: &'static Fixture,
    dir: tempfile::TempDir,
    /// The case's database.
    url: String,
    /// Its name, on PostgreSQL (dropped when the case ends).
    pg_database: Option<String>,
    server: Option<Server>,
    epoch: String,
    apps: Vec<App>,
    /// Each mutation's non-duplicate answers as the server gave them.
    answered: BTreeMap<Uuid, Vec<AckStatus>>,
}

/// A stored row as the database holds it.
#[derive(Debug, PartialEq)]
struct StoredRow {
    owner: Option<Uuid>,
    data: Value,
    clocks: BTreeMap<String, Hlc>,
    deleted: bool,
}

impl Sut {
    fn start(fix: &'static Fixture) -> Sut {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_database) = match &fix.template {
            Template::Sqlite(bytes) => {
                let file = dir.path().join("server.db");
                std::fs::write(&file, bytes).expect("database written");
                (format!("sqlite://{}", file.display()), None)
            }
            Template::Postgres { cases, .. } => {
                let name = format!("model_case_{}", cases.fetch_add(1, Ordering::Relaxed));
                fix.rt.block_on(postgres_admin(
                    fix,
                    format!("CREATE DATABASE {name} TEMPLATE cuecard"),
                ));
                (fix.template.url(&name), Some(name))
            }
        };
        let server = fix.rt.block_on(Server::start(&url, dir.path()));
        let epoch = fix
            .rt
            .block_on(async { server.running.state.db.epoch().await.expect("epoch") });
        Sut {
            fix,
            dir,
            url,
            pg_database,
            server: Some(server),
            epoch,
            apps: (0..DEVICES).map(|_| App::default()).collect(),
            answered: BTreeMap::new(),
        }
    }

    fn server(&self) -> &Server {
        self.server.as_ref().expect("a running server")
    }

    fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            self.fix.rt.block_on(server.stop());
        }
    }

    fn run(&mut self, transition: &Transition, model: &Model) {
        let mut expect = model.expect.iter();
        match transition {
            Transition::Write { .. } | Transition::ClockSkew { .. } => {}
            Transition::Push { device, max } | Transition::PushAnswerLost { device, max } => {
                let outbox = &model.devices[*device].outbox;
                if let Some(batch) = push_batch(outbox, self.apps[*device].acked, *max) {
                    let answer = self.push(*device, &batch, expect.next());
                    if matches!(transition, Transition::Push { .. }) {
                        self.hear(*device, &answer);
                    }
                }
            }
            Transition::DuplicateDelivery { device, count } => {
                let outbox = &model.devices[*device].outbox;
                if let Some(batch) = resend_batch(outbox, self.apps[*device].acked, *count) {
                    self.push(*device, &batch, expect.next());
                }
            }
            Transition::ReorderedDelivery { device, split } => {
                let outbox = &model.devices[*device].outbox;
                if let Some((later, earlier)) =
                    reordered_batches(outbox, self.apps[*device].acked, *split)
                {
                    for batch in [later, earlier] {
                        let answer = self.push(*device, &batch, expect.next());
                        self.hear(*device, &answer);
                    }
                }
            }
            Transition::Pull {
                device,
                limit,
                to_end,
            } => {
                self.pull(*device, *limit, *to_end, model);
            }
            Transition::ClientCrash {
                device,
                keep_acked,
                loses,
            } => {
                let app = &mut self.apps[*device];
                app.acked = app.acked.min(*keep_acked);
                match loses {
                    PullLoss::Nothing => {}
                    PullLoss::Cursor => app.cursor = app.saved.0,
                    PullLoss::CursorAndRows => {
                        (app.cursor, app.replica) = app.saved.clone();
                    }
                }
            }
            Transition::Membership { rep, in_team } => {
                let fix = self.fix;
                let url = format!(
                    "{}/v1/teams/{}/members/{}",
                    self.server().base,
                    fix.team,
                    fix.users[rep.user()]
                );
                let request = if *in_team {
                    fix.http.put(url).json(&json!({"manages": false}))
                } else {
                    fix.http.delete(url)
                };
                let (status, body) = fix
                    .rt
                    .block_on(send(request.bearer_auth(&fix.sessions[ADMIN].access_token)));
                assert_eq!(status, StatusCode::NO_CONTENT, "membership change: {body}");
            }
            Transition::ServerRestart => {
                if let Some(server) = self.server.take() {
                    self.fix.rt.block_on(server.stop());
                }
                self.server = Some(
                    self.fix
                        .rt
                        .block_on(Server::start(&self.url, self.dir.path())),
                );
            }
        }
        assert!(
            expect.next().is_none(),
            "the model expected more pushes than the app made: {:?}",
            model.expect
        );
    }

    fn hear(&mut self, device: usize, answer: &Expect) {
        let app = &mut self.apps[device];
        match answer {
            Expect::Acks { acked_through, .. } => app.acked = app.acked.max(*acked_through),
            Expect::Gap { expected_seq } => app.acked = expected_seq - 1,
        }
    }

    /// Sends one push and checks the answer against the model's; returns the answer.
    fn push(&mut self, device: usize, batch: &[Mutation], expected: Option<&Expect>) -> Expect {
        let fix = self.fix;
        let session = &fix.sessions[device];
        let request = fix
            .http
            .post(format!("{}/v1/sync/push", self.server().base))
            .bearer_auth(&session.access_token)
            .json(
                &json!({"device_id": session.device_id, "schema_version": 2, "mutations": batch}),
            );
        let (status, body) = fix.rt.block_on(send(request));
        let seqs: Vec<i64> = batch.iter().map(|m| m.seq).collect();
        let answer = match status {
            StatusCode::OK => {
                let response: PushResponse = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("push answer {body}: {e}"));
                assert_eq!(response.server_epoch, self.epoch, "the epoch changed");
                assert_eq!(
                    response
                        .acks
                        .iter()
                        .map(|a| (a.seq, a.mutation_id))
                        .collect::<Vec<_>>(),
                    batch
                        .iter()
                        .map(|m| (m.seq, m.mutation_id))
                        .collect::<Vec<_>>(),
                    "one acknowledgement per mutation, in order: {body}"
                );
                for ack in &response.acks {
                    if ack.status != AckStatus::Duplicate {
                        let answers = self.answered.entry(ack.mutation_id).or_default();
                        answers.push(ack.status);
                        assert_eq!(
                            answers.len(),
                            1,
                            "device {device} seq {}: applied or rejected twice ({answers:?})",
                            ack.seq
                        );
                    }
                }
                Expect::Acks {
                    acks: response.acks.iter().map(|a| (a.seq, a.status)).collect(),
                    acked_through: response.acked_through,
                }
            }
            StatusCode::CONFLICT => {
                let error: ErrorBody = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("push error {body}: {e}"));
                assert_eq!(error.error, "sequence_gap", "{body}");
                Expect::Gap {
                    expected_seq: error.expected_seq.expect("expected_seq with a gap"),
                }
            }
            other => panic!("device {device} pushing {seqs:?}: {other} {body}"),
        };
        assert_eq!(
            Some(&answer),
            expected,
            "device {device} pushed seqs {seqs:?}: the server's answer (left) is not the model's (right)"
        );
        answer
    }

    /// Pulls one page or to the end, applying changes and evictions in number order.
    fn pull(&mut self, device: usize, limit: u32, to_end: bool, model: &Model) {
        let fix = self.fix;
        let user = DEVICE_USER[device];
        loop {
            let app = &self.apps[device];
            let request = fix
                .http
                .get(format!(
                    "{}/v1/sync/pull?cursor={}&limit={limit}",
                    self.server().base,
                    app.cursor
                ))
                .bearer_auth(&fix.sessions[device].access_token);
            let (status, body) = fix.rt.block_on(send(request));
            assert_eq!(status, StatusCode::OK, "pull: {body}");
            let page: PullResponse =
                serde_json::from_str(&body).unwrap_or_else(|e| panic!("pull answer {body}: {e}"));
            assert_eq!(page.server_epoch, self.epoch, "the epoch changed");
            let app = &mut self.apps[device];
            assert!(page.cursor >= app.cursor, "the cursor went back: {body}");
            let mut steps: Vec<(i64, RowKey, Option<Seen>)> = Vec::new();
            let mut rows_in_page = BTreeSet::new();
            for change in page.changes {
                let key = (change.entity.name().to_owned(), change.row_id);
                assert!(
                    change.seq > app.cursor && change.seq <= page.cursor,
                    "change {key:?} numbered {} outside ({}, {}]",
                    change.seq,
                    app.cursor,
                    page.cursor
                );
                assert!(
                    rows_in_page.insert(key.clone()),
                    "{key:?} twice in one page"
                );
                let owner_user = change.owner_id.map(|o| {
                    fix.users
                        .iter()
                        .position(|u| *u == o)
                        .expect("a known owner")
                });
                assert!(
                    model.sees(user, owner_user),
                    "{} pulled {key:?} owned by {:?}, outside their scope",
                    USER_NAMES[user],
                    owner_user.map(|o| USER_NAMES[o])
                );
                steps.push((
                    change.seq,
                    key,
                    Some(Seen {
                        owner: change.owner_id,
                        data: change.data,
                        deleted: change.deleted,
                        hlc: change.hlc,
                    }),
                ));
            }
            for eviction in page.evictions {
                assert!(
                    eviction.seq > app.cursor && eviction.seq <= page.cursor,
                    "eviction numbered outside the page"
                );
                steps.push((
                    eviction.seq,
                    (eviction.entity.name().to_owned(), eviction.row_id),
                    None,
                ));
            }
            steps.sort_by_key(|(seq, _, _)| *seq);
            for (_, key, row) in steps {
                match row {
                    Some(row) => app.replica.insert(key, row),
                    None => app.replica.remove(&key),
                };
            }
            app.cursor = page.cursor;
            if !page.more || !to_end {
                break;
            }
        }
        if to_end {
            let app = &mut self.apps[device];
            app.saved = (app.cursor, app.replica.clone());
            let expected = model.view(user, &fix.users);
            assert_replica(&app.replica, &expected, device);
        }
    }

    /// The database's rows and device watermarks.
    fn stored(&self) -> (BTreeMap<RowKey, StoredRow>, BTreeMap<Uuid, i64>) {
        let fix = self.fix;
        let pool = &self.server().running.state.db.read;
        fix.rt.block_on(async {
            let rows: Vec<(String, String, Option<String>, i64, String, String)> = sqlx::query_as(
                "SELECT entity, row_id, owner_id, deleted, data, clocks FROM records WHERE org_id = $1",
            )
            .bind(fix.org.to_string())
            .fetch_all(pool)
            .await
            .expect("records read");
            let rows = rows
                .into_iter()
                .map(|(entity, row_id, owner, deleted, data, clocks)| {
                    (
                        (entity, row_id),
                        StoredRow {
                            owner: owner.map(|o| o.parse().expect("owner id")),
                            data: serde_json::from_str(&data).expect("row data"),
                            clocks: serde_json::from_str(&clocks).expect("row clocks"),
                            deleted: deleted != 0,
                        },
                    )
                })
                .collect();
            let devices: Vec<(String, i64)> =
                sqlx::query_as("SELECT id, last_seq FROM devices WHERE org_id = $1")
                    .bind(fix.org.to_string())
                    .fetch_all(pool)
                    .await
                    .expect("devices read");
            let devices = devices
                .into_iter()
                .map(|(id, seq)| (id.parse().expect("device id"), seq))
                .collect();
            (rows, devices)
        })
    }

    fn check(&self, model: &Model) {
        let fix = self.fix;
        let (rows, watermarks) = self.stored();

        // The stored rows are the model's, field by field and stamp by stamp.
        let expected: BTreeMap<RowKey, StoredRow> = model
            .rows
            .iter()
            .map(|(key, row)| {
                (
                    key.clone(),
                    StoredRow {
                        owner: row.owner.map(|o| fix.users[o]),
                        data: row.data(),
                        clocks: row.clocks(),
                        deleted: row.deleted(&key.0),
                    },
                )
            })
            .collect();
        if rows != expected {
            let keys: BTreeSet<&RowKey> = rows.keys().chain(expected.keys()).collect();
            let diff: Vec<String> = keys
                .into_iter()
                .filter(|k| rows.get(*k) != expected.get(*k))
                .map(|k| {
                    format!(
                        "{k:?}:\n  server {:?}\n  model  {:?}",
                        rows.get(k),
                        expected.get(k)
                    )
                })
                .collect();
            panic!(
                "the server's rows differ from the model's:\n{}",
                diff.join("\n")
            );
        }

        // Nothing acknowledged is lost: each applied mutation's fields hold its value or
        // a newer stamp.
        for dev in &model.devices {
            for m in &dev.outbox {
                let Some(answers) = self.answered.get(&m.mutation_id) else {
                    continue;
                };
                if answers != &[AckStatus::Applied] {
                    continue;
                }
                let key = (m.entity.clone(), m.row_id.clone());
                let row = rows
                    .get(&key)
                    .unwrap_or_else(|| panic!("applied {m:?} but its row is gone"));
                for (field, value) in m.changed.as_object().into_iter().flatten() {
                    let at = row.clocks.get(field).copied().unwrap_or_default();
                    assert!(
                        at > m.hlc || (at == m.hlc && row.data.get(field) == Some(value)),
                        "applied {m:?} is lost: `{field}` is {:?} at {at}",
                        row.data.get(field)
                    );
                }
            }
        }

        // The answers seen are the model's fates (each given once).
        let answered: BTreeMap<Uuid, AckStatus> = self
            .answered
            .iter()
            .map(|(id, answers)| (*id, answers[0]))
            .collect();
        assert_eq!(
            answered, model.fate,
            "the mutations' fates differ from the model's"
        );

        for (device, app) in self.apps.iter().enumerate() {
            let dev = &model.devices[device];
            assert_eq!(
                watermarks.get(&fix.sessions[device].device_id),
                Some(&dev.delivered),
                "device {device}: the server's watermark is not the model's"
            );
            assert_eq!(app.acked, dev.acked, "device {device}: the app's watermark");
            // A rep's device never holds another user's rows.
            let user = DEVICE_USER[device];
            if is_rep(user) {
                for (key, row) in &app.replica {
                    assert!(
                        row.owner.is_none() || row.owner == Some(fix.users[user]),
                        "{}'s device {device} holds {key:?} of another user",
                        USER_NAMES[user]
                    );
                }
            }
        }
    }
}

impl Drop for Sut {
    fn drop(&mut self) {
        self.shutdown();
        if let Some(name) = self.pg_database.take() {
            self.fix.rt.block_on(postgres_admin(
                self.fix,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ));
        }
    }
}

/// Runs `sql` (creating or dropping a case's database) on the cluster's `postgres`
/// database.
async fn postgres_admin(fix: &Fixture, sql: String) {
    use sqlx::Connection;
    let url = fix.template.url("postgres");
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connected to the cluster");
    sqlx::query(cuecard_server::db::built(sql.clone()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, String) {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

fn assert_replica(replica: &Replica, expected: &Replica, device: usize) {
    if replica != expected {
        let keys: BTreeSet<&RowKey> = replica.keys().chain(expected.keys()).collect();
        let diff: Vec<String> = keys
            .into_iter()
            .filter(|k| replica.get(*k) != expected.get(*k))
            .map(|k| {
                format!(
                    "{k:?}:\n  device {:?}\n  model  {:?}",
                    replica.get(k),
                    expected.get(k)
                )
            })
            .collect();
        panic!(
            "device {device} ({}) after pulling to the end differs from the model:\n{}",
            USER_NAMES[DEVICE_USER[device]],
            diff.join("\n")
        );
    }
}

struct SyncMachine<D>(PhantomData<D>);

impl<D: OnDatabase> StateMachineTest for SyncMachine<D> {
    type SystemUnderTest = Sut;
    type Reference = Reference;

    fn init_test(_: &Model) -> Sut {
        Sut::start(D::fixture())
    }

    fn apply(mut sut: Sut, model: &Model, transition: Transition) -> Sut {
        sut.run(&transition, model);
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        sut.check(model);
    }

    /// Every device pushes everything and pulls to the end: all converge on the model.
    fn teardown(mut sut: Sut, mut model: Model) {
        for device in 0..DEVICES {
            let drain = Transition::Push { device, max: 1000 };
            model.step(&drain);
            sut.run(&drain, &model);
            assert_eq!(
                model.devices[device].acked,
                model.devices[device].outbox.len() as i64,
                "device {device} drained"
            );
        }
        sut.check(&model);
        for device in 0..DEVICES {
            let pull = Transition::Pull {
                device,
                limit: 1000,
                to_end: true,
            };
            model.step(&pull);
            sut.run(&pull, &model);
        }
        sut.check(&model);
        // Every mutation was answered applied or rejected, once.
        for dev in &model.devices {
            for m in &dev.outbox {
                assert!(
                    sut.answered
                        .get(&m.mutation_id)
                        .is_some_and(|a| a.len() == 1),
                    "{m:?} never applied or rejected"
                );
            }
        }
        // Devices of one user hold the same rows; the admin's hold every row.
        assert_eq!(
            sut.apps[2].replica, sut.apps[3].replica,
            "Dana's two devices"
        );
        assert_eq!(
            sut.apps[ADMIN].replica.len(),
            model.rows.len(),
            "the admin sees every row"
        );
        sut.shutdown();
    }
}

/// `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `cases` random sequences of 1 to 63 transitions against the server on `D`,
/// shrinking a failure to its smallest sequence.
fn check_against_the_model<D: OnDatabase>(cases: u32) {
    let config = ProptestConfig {
        cases,
        max_shrink_iters: 4096,
        source_file: Some(file!()),
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config.clone());
    let outcome = runner.run(
        &Reference::sequential_strategy(1..64),
        |(initial, transitions, seen)| {
            SyncMachine::<D>::test_sequential(config.clone(), initial, transitions, seen);
            Ok(())
        },
    );
    if let Err(failure) = outcome {
        panic!("{failure}\n{runner}");
    }
}

/// Six devices against the real server on SQLite: see the module documentation.
#[test]
fn sync_matches_the_ideal_model() {
    check_against_the_model::<OnSqlite>(cases(64));
}

/// The same on PostgreSQL, in a cluster this test starts and stops.
#[test]
fn sync_matches_the_ideal_model_on_postgres() {
    let (fixture, cluster) = Fixture::build(Backend::Postgres);
    // Dropped when the test ends, passed or failed: the cluster stops.
    let _cluster = cluster;
    assert!(
        POSTGRES_FIXTURE.set(fixture).is_ok(),
        "one PostgreSQL fixture per process"
    );
    check_against_the_model::<OnPostgres>(cases(16));
}
