//! The call list (filtered and paged over `call_facts`) and one call with its scorecard,
//! transcript, reviews and recording (from the synced rows).

use crate::auth::Caller;
use crate::dashboard::{Ref, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::recordings::stored::{self, Stored};
use crate::sync::scope::{self, Scope};
use cuecard_sync_protocol::RecordingPolicy;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::AnyPool;
use uuid::Uuid;

/// The most calls one page may hold.
pub const MAX_LIMIT: u32 = 200;
/// The longest search text accepted.
const MAX_QUERY: usize = 200;

/// The call list's filters, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallFilter {
    pub rep_id: Option<Uuid>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub min_score: Option<i64>,
    pub max_score: Option<i64>,
    pub q: Option<String>,
    pub reviewed: Option<bool>,
    pub limit: u32,
    pub offset: u32,
}

impl CallFilter {
    /// Refuses filters that cannot mean anything, naming the parameter.
    pub fn check(&self) -> ApiResult<()> {
        for (name, value) in [("min_score", self.min_score), ("max_score", self.max_score)] {
            if let Some(v) = value
                && !(0..=100).contains(&v)
            {
                return Err(ApiError::invalid(format!(
                    "`{name}` must be 0 to 100, not {v}"
                )));
            }
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(ApiError::invalid(format!(
                "`limit` must be 1 to {MAX_LIMIT}, not {}",
                self.limit
            )));
        }
        if let Some(q) = &self.q
            && q.chars().count() > MAX_QUERY
        {
            return Err(ApiError::invalid(format!(
                "`q` may have at most {MAX_QUERY} characters"
            )));
        }
        Ok(())
    }
}

/// A call in the list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallSummary {
    pub id: String,
    pub rep: Ref,
    pub contact_name: Option<String>,
    pub direction: String,
    pub status: String,
    pub from: String,
    pub to: String,
    pub started_at: String,
    pub duration_secs: i64,
    pub score: Option<i64>,
    pub reviewed: bool,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct CallsPage {
    pub total: i64,
    pub calls: Vec<CallSummary>,
}

/// A call with the fields only its own page shows.
#[derive(Debug, PartialEq, Serialize)]
pub struct CallInfo {
    #[serde(flatten)]
    pub summary: CallSummary,
    pub notes: Option<String>,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Utterance {
    pub id: String,
    pub channel: Value,
    pub speaker: Value,
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Review {
    pub id: String,
    pub author: Ref,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Recording {
    /// `available` (on the server), `pending` (still to be uploaded) or `not_uploaded`
    /// (the team keeps recordings on reps' devices).
    pub status: &'static str,
    pub url: String,
    pub duration_ms: Option<i64>,
    /// The stored file's type when available, else the one its format implies.
    pub content_type: Option<String>,
    /// The stored file's length in bytes (null until available).
    pub size: Option<u64>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct CallDetail {
    pub call: CallInfo,
    /// The scorecard's own fields (total, status, rubric version, categories, checks).
    pub scorecard: Option<Value>,
    pub transcript: Vec<Utterance>,
    pub reviews: Vec<Review>,
    pub recording: Option<Recording>,
}

/// A page of the calls `caller` may review, newest first.
pub async fn list(db: &AnyPool, caller: &Caller, filter: &CallFilter) -> ApiResult<CallsPage> {
    caller.require_manager()?;
    filter.check()?;
    let scope = scope::of(db, caller).await?;
    if let Some(rep) = filter.rep_id {
        let known = crate::dashboard::people::user(db, caller.org_id, &rep.to_string()).await?;
        if known.is_none() || !scope.sees(Some(rep)) {
            return Err(ApiError::not_found("rep"));
        }
    }
    let mut w = Conditions::default();
    let org = w.bind(Arg::Text(caller.org_id.to_string()));
    w.add(format!("f.org_id = {org}"));
    if let Scope::Owners(owners) = &scope {
        let list: Vec<String> = owners
            .iter()
            .map(|o| w.bind(Arg::Text(o.to_string())))
            .collect();
        w.add(format!("f.owner_id IN ({})", list.join(", ")));
    }
    if let Some(rep) = filter.rep_id {
        let p = w.bind(Arg::Text(rep.to_string()));
        w.add(format!("f.owner_id = {p}"));
    }
    for (column, op, value) in [
        ("started_at", ">=", filter.from_ms),
        ("started_at", "<", filter.to_ms),
        ("score", ">=", filter.min_score),
        ("score", "<=", filter.max_score),
        ("reviewed", "=", filter.reviewed.map(i64::from)),
    ] {
        if let Some(value) = value {
            let p = w.bind(Arg::Int(value));
            w.add(format!("f.{column} {op} {p}"));
        }
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", like_escape(&q.to_lowercase()));
        let [name, from, to] = [(); 3].map(|()| w.bind(Arg::Text(pattern.clone())));
        w.add(format!(
            "(LOWER(f.contact_name) LIKE {name} ESCAPE '\\' OR f.from_addr LIKE {from} ESCAPE '\\' \
             OR f.to_addr LIKE {to} ESCAPE '\\')"
        ));
    }
    let filter_sql = w.conditions.join(" AND ");
    let args = w.args;

    let count_sql = format!("SELECT COUNT(*) FROM call_facts f WHERE {filter_sql}");
    let mut count = sqlx::query_scalar::<_, i64>(crate::db::built(count_sql));
    for arg in &args {
        count = match arg {
            Arg::Text(t) => count.bind(t.clone()),
            Arg::Int(i) => count.bind(*i),
        };
    }
    let total = count.fetch_one(db).await?;

    let n = args.len();
    let page_sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM call_facts f LEFT JOIN users u ON u.id = f.owner_id
         WHERE {filter_sql} ORDER BY f.started_at DESC, f.call_id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut page = sqlx::query_as::<_, SummaryRow>(crate::db::built(page_sql));
    for arg in &args {
        page = match arg {
            Arg::Text(t) => page.bind(t.clone()),
            Arg::Int(i) => page.bind(*i),
        };
    }
    let rows = page
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(db)
        .await?;
    Ok(CallsPage {
        total,
        calls: rows.into_iter().map(summary).collect(),
    })
}

/// The rep of call `call_id`, if it is in `caller`'s scope: the call's rep, managers of
/// the rep's teams and admins see it (the rule of the call page, shared by the recording
/// stream). Anything else is 404, like a call that does not exist.
pub async fn visible(db: &AnyPool, caller: &Caller, call_id: Uuid) -> ApiResult<Uuid> {
    let owner = owner(db, caller.org_id, call_id).await?;
    let scope = scope::of(db, caller).await?;
    match owner {
        Some(owner) if scope.sees(Some(owner)) => Ok(owner),
        _ => Err(ApiError::not_found("call")),
    }
}

/// The rep a synced call of `org` belongs to; `None` when there is no such call.
pub async fn owner(db: &AnyPool, org: Uuid, call_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let owner: Option<String> =
        sqlx::query_scalar("SELECT owner_id FROM call_facts WHERE org_id = $1 AND call_id = $2")
            .bind(org.to_string())
            .bind(call_id.to_string())
            .fetch_optional(db)
            .await?;
    Ok(owner.and_then(|o| o.parse().ok()))
}

/// One call `caller` may review, with everything its page shows.
pub async fn detail(
    db: &AnyPool,
    caller: &Caller,
    call_id: Uuid,
    recording_policy: RecordingPolicy,
) -> ApiResult<CallDetail> {
    caller.require_manager()?;
    let scope = scope::of(db, caller).await?;
    let id = call_id.to_string();
    let org = caller.org_id.to_string();
    let row: Option<SummaryRow> = sqlx::query_as(crate::db::built(format!(
        "SELECT {SUMMARY_COLUMNS} FROM call_facts f LEFT JOIN users u ON u.id = f.owner_id
         WHERE f.org_id = $1 AND f.call_id = $2"
    )))
    .bind(&org)
    .bind(&id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row.filter(|r| scope.sees(r.1.parse().ok())) else {
        return Err(ApiError::not_found("call"));
    };
    let summary = summary(row);

    let call_data: Option<String> = sqlx::query_scalar(
        "SELECT data FROM records WHERE org_id = $1 AND entity = 'calls' AND row_id = $2",
    )
    .bind(&org)
    .bind(&id)
    .fetch_optional(db)
    .await?;
    let call = call_data
        .as_deref()
        .and_then(|d| serde_json::from_str::<Map<String, Value>>(d).ok())
        .unwrap_or_default();

    let children: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT entity, row_id, data FROM records
         WHERE org_id = $1 AND parent_id = $2 AND deleted = 0
           AND entity IN ('utterances', 'scorecards', 'reviews')",
    )
    .bind(&org)
    .bind(&id)
    .fetch_all(db)
    .await?;
    let mut transcript = Vec::new();
    let mut cards: Vec<Map<String, Value>> = Vec::new();
    let mut review_rows = Vec::new();
    for (entity, row_id, data) in children {
        let Ok(data) = serde_json::from_str::<Map<String, Value>>(&data) else {
            tracing::warn!(%entity, %row_id, "unreadable stored row");
            continue;
        };
        match entity.as_str() {
            "utterances" => transcript.push(utterance(row_id, &data)),
            "scorecards" => cards.push(data),
            _ => review_rows.push((row_id, data)),
        }
    }
    transcript.sort_by(|a, b| (a.start_ms, &a.id).cmp(&(b.start_ms, &b.id)));
    let scorecard = cards
        .into_iter()
        .max_by(|a, b| text(a, "created_at").cmp(&text(b, "created_at")))
        .map(scorecard);
    let reviews = reviews(db, caller.org_id, review_rows).await?;

    let uploaded = stored::get(db, caller.org_id, call_id).await?;
    let described = call.get("recording").and_then(Value::as_object);
    let recording = (described.is_some() || uploaded.is_some())
        .then(|| recording(&id, described, uploaded, recording_policy));
    Ok(CallDetail {
        call: CallInfo {
            summary,
            notes: text(&call, "notes").filter(|n| !n.is_empty()),
            answered_at: text(&call, "answered_at"),
            ended_at: text(&call, "ended_at"),
        },
        scorecard,
        transcript,
        reviews,
        recording,
    })
}

/// Reviews oldest first, each with its author's current name (one query for all authors;
/// the name stored with the review when its author is gone).
async fn reviews(
    db: &AnyPool,
    org: Uuid,
    rows: Vec<(String, Map<String, Value>)>,
) -> ApiResult<Vec<Review>> {
    let authors: Vec<String> = rows
        .iter()
        .filter_map(|(_, data)| text(data, "author_id"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut names = std::collections::HashMap::new();
    if !authors.is_empty() {
        let sql = format!(
            "SELECT id, name FROM users WHERE org_id = $1 AND id IN ({})",
            crate::db::placeholders(2, authors.len())
        );
        let mut query =
            sqlx::query_as::<_, (String, String)>(crate::db::built(sql)).bind(org.to_string());
        for id in &authors {
            query = query.bind(id.as_str());
        }
        names.extend(query.fetch_all(db).await?);
    }
    let mut out: Vec<Review> = rows
        .into_iter()
        .map(|(id, data)| {
            let author_id = text(&data, "author_id").unwrap_or_default();
            let name = names
                .get(&author_id)
                .cloned()
                .or_else(|| text(&data, "author_name"))
                .unwrap_or_else(|| "Unknown".into());
            Review {
                id,
                author: Ref {
                    id: author_id,
                    name,
                },
                body: text(&data, "body").unwrap_or_default(),
                created_at: text(&data, "created_at").unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(out)
}

/// The columns a [`SummaryRow`] is read from.
const SUMMARY_COLUMNS: &str = "f.call_id, f.owner_id, u.name, f.contact_name, f.direction, \
    f.status, f.from_addr, f.to_addr, f.started_at, f.duration_secs, f.score, f.reviewed";

type SummaryRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
);

fn summary(row: SummaryRow) -> CallSummary {
    let (
        id,
        owner,
        name,
        contact_name,
        direction,
        status,
        from,
        to,
        started,
        duration,
        score,
        reviewed,
    ) = row;
    CallSummary {
        id,
        rep: Ref {
            name: name.unwrap_or_else(|| "Unknown".into()),
            id: owner,
        },
        contact_name,
        direction,
        status,
        from,
        to,
        started_at: rfc3339(started),
        duration_secs: duration,
        score,
        reviewed: reviewed != 0,
    }
}

fn utterance(id: String, data: &Map<String, Value>) -> Utterance {
    let int = |key: &str| data.get(key).and_then(Value::as_i64).unwrap_or(0);
    Utterance {
        id,
        channel: data.get("channel").cloned().unwrap_or(Value::Null),
        speaker: data.get("speaker").cloned().unwrap_or(Value::Null),
        start_ms: int("start_ms"),
        end_ms: int("end_ms"),
        text: text(data, "text").unwrap_or_default(),
    }
}

/// The scorecard fields the call page shows.
fn scorecard(mut card: Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in ["total", "status", "rubric_version", "categories", "checks"] {
        out.insert(key.into(), card.remove(key).unwrap_or(Value::Null));
    }
    Value::Object(out)
}

/// The call page's recording: available once stored on the server, else pending upload
/// or kept on the rep's device, as the organisation's policy says.
fn recording(
    call_id: &str,
    described: Option<&Map<String, Value>>,
    uploaded: Option<Stored>,
    policy: RecordingPolicy,
) -> Recording {
    let format = described
        .and_then(|d| d.get("format"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let (status, content_type, size) = match uploaded {
        Some(stored) => ("available", Some(stored.content_type), Some(stored.size)),
        None => (
            match policy {
                RecordingPolicy::KeepOnDevice => "not_uploaded",
                RecordingPolicy::Upload => "pending",
            },
            cuecard_sync_protocol::recording_media_type(format).map(str::to_owned),
            None,
        ),
    };
    Recording {
        status,
        url: format!("/v1/recordings/{call_id}"),
        duration_ms: described
            .and_then(|d| d.get("duration_ms"))
            .and_then(Value::as_i64),
        content_type,
        size,
    }
}

fn text(data: &Map<String, Value>, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A bound value of a dynamically built query.
enum Arg {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause built from optional filters, with its values in placeholder order.
#[derive(Default)]
struct Conditions {
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    /// Adds a value; returns its placeholder.
    fn bind(&mut self, value: Arg) -> String {
        self.args.push(value);
        format!("${}", self.args.len())
    }

    fn add(&mut self, condition: String) {
        self.conditions.push(condition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_out_of_range_are_refused_by_name() {
        let ok = CallFilter {
            limit: 50,
            ..CallFilter::default()
        };
        assert!(ok.check().is_ok());
        let bad = CallFilter {
            min_score: Some(101),
            ..ok.clone()
        };
        assert!(bad.check().expect_err("101").message.contains("min_score"));
        let bad = CallFilter {
            limit: 0,
            ..ok.clone()
        };
        assert!(bad.check().expect_err("0").message.contains("limit"));
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(
            cuecard_sync_protocol::recording_media_type("ogg/opus"),
            Some("audio/ogg")
        );
        assert_eq!(cuecard_sync_protocol::recording_media_type("mp3"), None);
    }
}
