//! Reading and writing `records`, the synced rows in their merged state.

use crate::db::placeholders;
use cuecard_sync_protocol::{Entity, RowState};
use sqlx::{Any, Transaction};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A row's identity within an organisation.
pub type RowKey = (Entity, String);

/// A stored row: its owner and merged state.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    pub owner: Option<Uuid>,
    pub state: RowState,
}

/// Values per row in a multi-row statement, and rows per statement (SQLite allows 32,766
/// parameters, PostgreSQL 65,535).
const UPSERT_COLUMNS: usize = 10;
const CHUNK: usize = 500;
/// Rows per upsert statement. Kept small because sqlx's SQLite driver asks
/// `sqlite3_bind_parameter_name` for every placeholder, which walks the statement's list
/// of names: binding n placeholders costs n²/2 steps, ~25 ms for 500 rows' 5,000 (a third
/// of a 1,000-mutation push's CPU); 100 rows' 1,000 cost ~1 ms.
const UPSERT_ROWS: usize = 100;

// The lookups by a list of ids below are sent unprepared (`persistent(false)`), so that
// PostgreSQL plans each with its values (a hashed list). A kept statement switches to a
// generic plan after five runs, which compares each candidate row with every placeholder
// in turn; planned while a freshly filled table had no statistics, that meant a whole
// entity's rows of the organisation per lookup (1.3 s for 500 ids at 36,000 rows).

/// Loads the stored rows among `keys`.
///
/// One query per entity, so each lookup is a primary-key lookup on
/// (org_id, entity, row_id): no index starts with (org_id, row_id), and a lookup by row id
/// alone read every row of the organisation (about 60 ms a push on SQLite at 100,000
/// rows, seconds on PostgreSQL).
pub async fn load(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    keys: &[RowKey],
) -> Result<HashMap<RowKey, StoredRow>, sqlx::Error> {
    let mut out = HashMap::with_capacity(keys.len());
    let mut by_entity: BTreeMap<Entity, Vec<&str>> = BTreeMap::new();
    for (entity, id) in keys {
        by_entity.entry(*entity).or_default().push(id.as_str());
    }
    for (entity, mut ids) in by_entity {
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(CHUNK * 4) {
            let sql = format!(
                "SELECT row_id, owner_id, data, clocks, deleted FROM records
                 WHERE org_id = $1 AND entity = $2 AND row_id IN ({})",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, Option<String>, String, String, i64)>(
                crate::db::built(sql),
            )
            .persistent(false)
            .bind(org.to_string())
            .bind(entity.name());
            for id in chunk {
                query = query.bind(*id);
            }
            for (row_id, owner, data, clocks, deleted) in query.fetch_all(&mut **tx).await? {
                let state = decode_state(&data, &clocks, deleted)?;
                let owner = owner.and_then(|o| o.parse().ok());
                out.insert((entity, row_id), StoredRow { owner, state });
            }
        }
    }
    Ok(out)
}

/// Rows of `entity` hanging off any of `parents` (a call's scorecards, say).
pub async fn children(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    entity: Entity,
    parents: &[String],
) -> Result<Vec<(String, String, RowState)>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in parents.chunks(CHUNK * 4) {
        let sql = format!(
            "SELECT parent_id, row_id, data, clocks, deleted FROM records
             WHERE org_id = $1 AND entity = $2 AND parent_id IN ({})",
            placeholders(3, chunk.len())
        );
        let mut query =
            sqlx::query_as::<_, (String, String, String, String, i64)>(crate::db::built(sql))
                .persistent(false)
                .bind(org.to_string())
                .bind(entity.name());
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for (parent, row_id, data, clocks, deleted) in query.fetch_all(&mut **tx).await? {
            out.push((parent, row_id, decode_state(&data, &clocks, deleted)?));
        }
    }
    Ok(out)
}

/// Writes rows, each with its new change number.
pub async fn upsert(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    rows: &[(i64, &RowKey, &StoredRow)],
) -> Result<(), sqlx::Error> {
    let org = org.to_string();
    for chunk in rows.chunks(UPSERT_ROWS) {
        let values = (0..chunk.len())
            .map(|i| format!("({})", placeholders(1 + i * UPSERT_COLUMNS, UPSERT_COLUMNS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO records (org_id, entity, row_id, owner_id, parent_id, seq, hlc, deleted, data, clocks)
             VALUES {values}
             ON CONFLICT (org_id, entity, row_id) DO UPDATE SET owner_id = excluded.owner_id,
                parent_id = excluded.parent_id, seq = excluded.seq, hlc = excluded.hlc,
                deleted = excluded.deleted, data = excluded.data, clocks = excluded.clocks"
        );
        let mut query = sqlx::query(crate::db::built(sql));
        for (seq, (entity, row_id), row) in chunk {
            query = query
                .bind(org.as_str())
                .bind(entity.name())
                .bind(row_id.as_str())
                .bind(row.owner.map(|o| o.to_string()))
                .bind(entity.parent_of(&row.state.data))
                .bind(*seq)
                .bind(row.state.hlc().to_string())
                .bind(i64::from(row.state.deleted))
                .bind(serde_json::Value::Object(row.state.data.clone()).to_string())
                .bind(serde_json::to_string(&row.state.clocks).unwrap_or_else(|_| "{}".into()));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rebuilds a row's state from its stored columns.
pub fn decode_state(data: &str, clocks: &str, deleted: i64) -> Result<RowState, sqlx::Error> {
    let data = match serde_json::from_str(data) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => return Err(corrupt("a stored row's data is not a JSON object")),
        Err(e) => return Err(corrupt(&format!("a stored row's data is not JSON: {e}"))),
    };
    let clocks = serde_json::from_str(clocks)
        .map_err(|e| corrupt(&format!("a stored row's clocks are unreadable: {e}")))?;
    Ok(RowState {
        data,
        clocks,
        deleted: deleted != 0,
    })
}

fn corrupt(message: &str) -> sqlx::Error {
    sqlx::Error::Decode(message.to_owned().into())
}
