//! The conflict rules: how one pushed mutation changes a row's stored state.
//!
//! A row's state is its data (a JSON object of fields) plus, per field, the HLC stamp of
//! the write that set it. Applying a mutation is deterministic and idempotent: the same
//! mutation applied twice, or two mutations applied in either order, give the same state.
//! That is what lets the server accept duplicate and reordered deliveries, and what the
//! model-based tests check.

use crate::entity::{Entity, Policy};
use crate::wire::Op;
use cuecard_core::Hlc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The clock key of the row-level delete flag (for entities without a tombstone field).
const DELETED_KEY: &str = "_deleted";

/// One row as the server stores it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RowState {
    /// The row's fields.
    pub data: Map<String, Value>,
    /// Per field, the stamp of the write that set it (plus `_deleted` for delete/insert).
    pub clocks: BTreeMap<String, Hlc>,
    /// Whether the row is a tombstone.
    pub deleted: bool,
}

impl RowState {
    /// The newest stamp of any write to the row.
    pub fn hlc(&self) -> Hlc {
        self.clocks.values().copied().max().unwrap_or_default()
    }
}

/// What a mutation did to a row.
#[derive(Clone, Debug, PartialEq)]
pub enum MergeOutcome {
    /// The row changed (or was created); store this state and log the change.
    Changed(RowState),
    /// Nothing to store: every field already held this or a newer write.
    Unchanged,
}

/// Why a mutation was refused. Refused mutations are still acknowledged, with this reason,
/// so the app's outbox moves past them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejection(pub String);

/// Who is writing, as far as the rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Writer {
    /// A manager or an admin.
    pub is_manager: bool,
}

/// Applies one mutation to a row's current state (None when the server has never seen the
/// row).
pub fn merge(
    entity: Entity,
    current: Option<&RowState>,
    op: Op,
    changed: &Value,
    hlc: Hlc,
    writer: Writer,
) -> Result<MergeOutcome, Rejection> {
    let Value::Object(fields) = changed else {
        return Err(Rejection(format!(
            "{entity}: `changed` must be a JSON object of fields"
        )));
    };
    if let Some(key) = fields.keys().find(|k| k.starts_with('_')) {
        return Err(Rejection(format!(
            "{entity}: field names may not start with '_' ({key:?})"
        )));
    }
    may_write(entity, writer)?;
    let policy = entity.policy();
    match policy {
        Policy::Immutable => return merge_immutable(entity, current, op, fields, hlc),
        Policy::InsertOnce { mutable } => {
            if op == Op::Delete {
                return Err(Rejection(format!("{entity}: rows cannot be deleted")));
            }
            if let Some(current) = current {
                for (key, value) in fields {
                    if !mutable.contains(&key.as_str())
                        && current.data.get(key).is_some_and(|stored| stored != value)
                    {
                        return Err(Rejection(format!(
                            "{entity}: `{key}` cannot change once the row is stored"
                        )));
                    }
                }
            }
        }
        Policy::Monotonic { field, order } => {
            if let Some(value) = fields.get(field)
                && rank(order, value).is_none()
            {
                return Err(Rejection(format!(
                    "{entity}: `{field}` must be one of {order:?}, not {value}"
                )));
            }
        }
        Policy::FieldLww | Policy::ManagerOnly => {}
    }

    let mut next = current.cloned().unwrap_or_default();
    for (key, value) in fields {
        if let Policy::Monotonic { field, order } = policy
            && key == field
            && let Some(stored) = next.data.get(key)
            && rank(order, stored) > rank(order, value)
        {
            // A status never moves back, whatever the clocks say.
            continue;
        }
        if next.clocks.get(key).is_none_or(|&at| at < hlc) {
            next.data.insert(key.clone(), value.clone());
            next.clocks.insert(key.clone(), hlc);
        }
    }
    match entity.tombstone_field() {
        // Soft-deleted through a data field: the field's own last-writer-wins decides,
        // so a restore (the field set back to null) lifts the tombstone.
        Some(field) => next.deleted = next.data.get(field).is_some_and(|v| !v.is_null()),
        // Deleted by operation: an insert or delete newer than the last one decides.
        None => {
            if matches!(op, Op::Insert | Op::Delete)
                && next.clocks.get(DELETED_KEY).is_none_or(|&at| at < hlc)
            {
                next.clocks.insert(DELETED_KEY.into(), hlc);
                next.deleted = op == Op::Delete;
            }
        }
    }
    // A newer stamp on an unchanged value is still a change: later merges compare against
    // it, so dropping it would make the result depend on delivery order.
    Ok(if current == Some(&next) {
        MergeOutcome::Unchanged
    } else {
        MergeOutcome::Changed(next)
    })
}

/// Whether `writer` may write `entity` rows at all (reviews are for managers).
pub fn may_write(entity: Entity, writer: Writer) -> Result<(), Rejection> {
    if entity.policy() == Policy::ManagerOnly && !writer.is_manager {
        return Err(Rejection(format!(
            "{entity}: only managers and admins can write these"
        )));
    }
    Ok(())
}

fn merge_immutable(
    entity: Entity,
    current: Option<&RowState>,
    op: Op,
    fields: &Map<String, Value>,
    hlc: Hlc,
) -> Result<MergeOutcome, Rejection> {
    if op != Op::Insert {
        return Err(Rejection(format!(
            "{entity} are immutable: they can only be inserted"
        )));
    }
    match current {
        None => Ok(MergeOutcome::Changed(RowState {
            data: fields.clone(),
            clocks: fields.keys().map(|k| (k.clone(), hlc)).collect(),
            deleted: false,
        })),
        Some(stored) if &stored.data == fields => Ok(MergeOutcome::Unchanged),
        Some(_) => Err(Rejection(format!(
            "{entity} are immutable: this row is already stored with other content"
        ))),
    }
}

fn rank(order: &[&str], value: &Value) -> Option<usize> {
    value
        .as_str()
        .and_then(|s| order.iter().position(|o| *o == s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const REP: Writer = Writer { is_manager: false };

    fn stamp(wall_ms: u64, node: u32) -> Hlc {
        Hlc {
            wall_ms,
            counter: 0,
            node,
        }
    }

    fn apply_all(entity: Entity, writes: &[(Op, Value, Hlc)]) -> Option<RowState> {
        let mut state: Option<RowState> = None;
        for (op, changed, hlc) in writes {
            if let Ok(MergeOutcome::Changed(next)) =
                merge(entity, state.as_ref(), *op, changed, *hlc, REP)
            {
                state = Some(next);
            }
        }
        state
    }

    fn write() -> impl Strategy<Value = (Op, Value, Hlc)> {
        (
            prop_oneof![Just(Op::Insert), Just(Op::Update), Just(Op::Delete)],
            prop::sample::subsequence(vec!["name", "title", "company"], 1..=3),
            0u64..50,
            0u32..3,
            0u8..4,
        )
            .prop_map(|(op, fields, wall, node, value)| {
                let changed: Map<String, Value> = fields
                    .into_iter()
                    .map(|f| (f.to_owned(), json!(format!("{f}-{value}"))))
                    .collect();
                (op, Value::Object(changed), stamp(wall, node))
            })
    }

    proptest! {
        /// Last-writer-wins rows converge whatever order and however often writes arrive.
        #[test]
        fn field_lww_converges_in_any_order_with_repeats(
            writes in prop::collection::vec(write(), 1..12),
            seed in any::<u64>(),
        ) {
            // Distinct stamps, as the HLC guarantees for distinct writes.
            let mut writes = writes;
            for (i, w) in writes.iter_mut().enumerate() {
                w.2.counter = i as u32;
            }
            let forward = apply_all(Entity::Dnc, &writes);
            let mut shuffled = writes.clone();
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            shuffled.extend(writes.iter().cloned());
            let other = apply_all(Entity::Dnc, &shuffled);
            prop_assert_eq!(forward, other);
        }
    }

    #[test]
    fn a_status_never_moves_back_and_unknown_statuses_are_refused() {
        let card = apply_all(
            Entity::Scorecards,
            &[
                (
                    Op::Insert,
                    json!({"status": "final", "total": 70}),
                    stamp(1, 1),
                ),
                (
                    Op::Update,
                    json!({"status": "draft", "total": 71}),
                    stamp(2, 1),
                ),
            ],
        );
        assert_eq!(
            card.map(|c| Value::Object(c.data)),
            Some(json!({"status": "final", "total": 71}))
        );
        let refused = merge(
            Entity::Scorecards,
            None,
            Op::Insert,
            &json!({"status": "perfect"}),
            stamp(1, 1),
            REP,
        );
        assert!(refused.is_err());
    }

    #[test]
    fn immutable_rows_accept_an_identical_repeat_only() {
        let line = json!({"text": "hello", "call_id": "c"});
        let stored = apply_all(
            Entity::Utterances,
            &[(Op::Insert, line.clone(), stamp(1, 1))],
        );
        let again = merge(
            Entity::Utterances,
            stored.as_ref(),
            Op::Insert,
            &line,
            stamp(2, 1),
            REP,
        );
        assert_eq!(again, Ok(MergeOutcome::Unchanged));
        let edited = json!({"text": "bye", "call_id": "c"});
        let changed = merge(
            Entity::Utterances,
            stored.as_ref(),
            Op::Insert,
            &edited,
            stamp(3, 1),
            REP,
        );
        assert!(changed.is_err());
        let deleted = merge(
            Entity::Utterances,
            stored.as_ref(),
            Op::Delete,
            &json!({}),
            stamp(4, 1),
            REP,
        );
        assert!(deleted.is_err());
    }

    #[test]
    fn a_newer_insert_lifts_an_older_delete_but_not_a_newer_one() {
        let gone = apply_all(
            Entity::Dnc,
            &[
                (Op::Insert, json!({"reason": "asked"}), stamp(1, 1)),
                (Op::Delete, json!({}), stamp(3, 1)),
                (Op::Insert, json!({"reason": "again"}), stamp(2, 2)),
            ],
        );
        assert_eq!(gone.as_ref().map(|s| s.deleted), Some(true));
        let back = apply_all(
            Entity::Dnc,
            &[
                (Op::Insert, json!({"reason": "asked"}), stamp(1, 1)),
                (Op::Delete, json!({}), stamp(3, 1)),
                (Op::Insert, json!({"reason": "again"}), stamp(4, 2)),
            ],
        );
        assert_eq!(back.as_ref().map(|s| s.deleted), Some(false));
    }
}
