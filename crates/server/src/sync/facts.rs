//! The dashboard's call facts: one row per call with what the dashboard filters and
//! aggregates on (rep, time, duration, score, category scores, reviewed), kept up to date
//! inside the same transaction as the synced rows they come from.

use crate::db::placeholders;
use crate::sync::rows::{self, RowKey, StoredRow};
use cuecard_sync_protocol::{Entity, RowState};
use serde_json::{Map, Value};
use sqlx::{Any, Transaction};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// Columns of one `call_facts` row.
const COLUMNS: usize = 14;

/// Brings the facts up to date after `touched` rows changed.
pub async fn refresh(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    touched: &[(&RowKey, &StoredRow)],
) -> Result<(), sqlx::Error> {
    let mut calls: BTreeSet<String> = BTreeSet::new();
    let mut contacts: BTreeMap<String, Option<String>> = BTreeMap::new();
    for ((entity, row_id), row) in touched {
        match entity {
            Entity::Calls => {
                calls.insert(row_id.clone());
            }
            Entity::Scorecards | Entity::Reviews => {
                if let Some(parent) = entity.parent_of(&row.state.data) {
                    calls.insert(parent);
                }
            }
            Entity::Contacts => {
                contacts.insert(row_id.clone(), text(&row.state.data, "name"));
            }
            _ => {}
        }
    }
    if !contacts.is_empty() {
        rename_contacts(tx, org, &contacts).await?;
    }
    if calls.is_empty() {
        return Ok(());
    }
    let calls: Vec<String> = calls.into_iter().collect();
    let call_keys: Vec<RowKey> = calls.iter().map(|id| (Entity::Calls, id.clone())).collect();
    let call_rows = rows::load(tx, org, &call_keys).await?;
    let contact_keys: Vec<RowKey> = call_rows
        .values()
        .filter_map(|r| text(&r.state.data, "contact_id"))
        .map(|id| (Entity::Contacts, id))
        .collect();
    let contact_rows = rows::load(tx, org, &contact_keys).await?;
    let mut scorecards: HashMap<String, RowState> = HashMap::new();
    for (call, _, card) in rows::children(tx, org, Entity::Scorecards, &calls).await? {
        if card.deleted {
            continue;
        }
        let newer = scorecards
            .get(&call)
            .is_none_or(|held| text(&held.data, "created_at") <= text(&card.data, "created_at"));
        if newer {
            scorecards.insert(call, card);
        }
    }
    let reviewed: BTreeSet<String> = rows::children(tx, org, Entity::Reviews, &calls)
        .await?
        .into_iter()
        .filter(|(_, _, r)| !r.deleted)
        .map(|(call, _, _)| call)
        .collect();

    let org = org.to_string();
    let mut facts = Vec::new();
    for ((_, call_id), row) in &call_rows {
        let (Some(owner), data) = (row.owner, &row.state.data) else {
            continue;
        };
        let contact_id = text(data, "contact_id");
        let contact_name = contact_id
            .as_ref()
            .and_then(|id| contact_rows.get(&(Entity::Contacts, id.clone())))
            .and_then(|c| text(&c.state.data, "name"));
        let card = scorecards.get(call_id);
        facts.push(Fact {
            call_id: call_id.clone(),
            owner: owner.to_string(),
            contact_id,
            contact_name,
            direction: text(data, "direction").unwrap_or_default(),
            status: text(data, "status").unwrap_or_default(),
            from: text(data, "from").unwrap_or_default(),
            to: text(data, "to").unwrap_or_default(),
            started_at: text(data, "started_at")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map_or(0, |t| t.timestamp_millis()),
            duration_secs: data
                .get("duration_secs")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            score: card
                .and_then(|c| c.data.get("total"))
                .and_then(Value::as_i64),
            categories: card
                .and_then(|c| c.data.get("categories"))
                .map(Value::to_string),
            reviewed: reviewed.contains(call_id),
        });
    }
    for chunk in facts.chunks(400) {
        let values = (0..chunk.len())
            .map(|i| format!("({})", placeholders(1 + i * COLUMNS, COLUMNS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO call_facts (org_id, call_id, owner_id, contact_id, contact_name, direction,
                status, from_addr, to_addr, started_at, duration_secs, score, categories, reviewed)
             VALUES {values}
             ON CONFLICT (org_id, call_id) DO UPDATE SET owner_id = excluded.owner_id,
                contact_id = excluded.contact_id, contact_name = excluded.contact_name,
                direction = excluded.direction, status = excluded.status,
                from_addr = excluded.from_addr, to_addr = excluded.to_addr,
                started_at = excluded.started_at, duration_secs = excluded.duration_secs,
                score = excluded.score, categories = excluded.categories,
                reviewed = excluded.reviewed"
        );
        let mut query = sqlx::query(crate::db::built(sql));
        for f in chunk {
            query = query
                .bind(org.as_str())
                .bind(f.call_id.as_str())
                .bind(f.owner.as_str())
                .bind(f.contact_id.clone())
                .bind(f.contact_name.clone())
                .bind(f.direction.as_str())
                .bind(f.status.as_str())
                .bind(f.from.as_str())
                .bind(f.to.as_str())
                .bind(f.started_at)
                .bind(f.duration_secs)
                .bind(f.score)
                .bind(f.categories.clone())
                .bind(i64::from(f.reviewed));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

struct Fact {
    call_id: String,
    owner: String,
    contact_id: Option<String>,
    contact_name: Option<String>,
    direction: String,
    status: String,
    from: String,
    to: String,
    started_at: i64,
    duration_secs: i64,
    score: Option<i64>,
    categories: Option<String>,
    reviewed: bool,
}

/// Carries contacts' new names onto their calls' facts.
async fn rename_contacts(
    tx: &mut Transaction<'_, Any>,
    org: Uuid,
    contacts: &BTreeMap<String, Option<String>>,
) -> Result<(), sqlx::Error> {
    let entries: Vec<(&String, &Option<String>)> = contacts.iter().collect();
    for chunk in entries.chunks(500) {
        let cases = (0..chunk.len())
            .map(|i| format!("WHEN ${} THEN ${}", 2 + i * 2, 3 + i * 2))
            .collect::<Vec<_>>()
            .join(" ");
        let ids = placeholders(2 + chunk.len() * 2, chunk.len());
        let sql = format!(
            "UPDATE call_facts SET contact_name = CASE contact_id {cases} END
             WHERE org_id = $1 AND contact_id IN ({ids})"
        );
        // Planned with its values each time, like `rows::load`.
        let mut query = sqlx::query(crate::db::built(sql))
            .persistent(false)
            .bind(org.to_string());
        for (id, name) in chunk {
            query = query.bind(id.as_str()).bind((*name).clone());
        }
        for (id, _) in chunk {
            query = query.bind(id.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn text(data: &Map<String, Value>, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::to_owned)
}
