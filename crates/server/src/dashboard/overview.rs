//! The team overview (totals, weekly trend, leaderboard) and a rep's page (skill radar
//! against the team, score trend), aggregated from `call_facts`.
//!
//! The facts of a period are read once and summed here rather than in SQL: a team's
//! quarter is thousands of rows, and the same code then serves SQLite and PostgreSQL
//! without their differences in date and JSON functions.

use crate::auth::Caller;
use crate::dashboard::people::{self, Rep};
use crate::dashboard::{Period, PeriodOut, Ref, SKILLS, rfc3339};
use crate::db::placeholders;
use crate::error::{ApiError, ApiResult};
use crate::sync::scope;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use std::collections::HashMap;
use uuid::Uuid;

/// One call as the overview sums it.
#[derive(Clone, Debug, PartialEq)]
pub struct CallFact {
    pub call_id: String,
    pub owner: String,
    pub started_ms: i64,
    pub duration_secs: i64,
    pub score: Option<i64>,
    pub categories: Vec<Category>,
}

/// A scorecard category as stored in the facts.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Category {
    pub key: String,
    pub score: f64,
    pub max: f64,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Totals {
    pub calls: usize,
    pub talk_secs: i64,
    pub scored_calls: usize,
    pub avg_score: Option<f64>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct TrendWeek {
    /// The Monday the week starts on, `YYYY-MM-DD` (UTC).
    pub week_start: String,
    pub calls: usize,
    pub avg_score: Option<f64>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct LeaderboardEntry {
    pub rep: Ref,
    pub calls: usize,
    pub talk_secs: i64,
    pub avg_score: Option<f64>,
    pub best_score: Option<i64>,
    /// The average over the second half of the period minus the first half's.
    pub trend_delta: Option<f64>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct TeamDashboard {
    pub period: PeriodOut,
    pub teams: Vec<Ref>,
    pub totals: Totals,
    pub trend: Vec<TrendWeek>,
    pub leaderboard: Vec<LeaderboardEntry>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Skill {
    pub key: &'static str,
    pub label: &'static str,
    /// Points earned as a percentage of the points possible, over the period's calls.
    pub score: Option<f64>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct ScorePoint {
    pub at: String,
    pub score: i64,
    pub call_id: String,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct RepInfo {
    pub id: String,
    pub name: String,
    pub email: String,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct RepDashboard {
    pub rep: RepInfo,
    pub skills: Vec<Skill>,
    pub team_skills: Vec<Skill>,
    pub score_trend: Vec<ScorePoint>,
}

/// The team overview for `caller` over `period`, for one team or all they review.
pub async fn team(
    db: &AnyPool,
    caller: &Caller,
    period: Period,
    team: Option<Uuid>,
) -> ApiResult<TeamDashboard> {
    let teams = people::teams(db, caller).await?;
    let reps = people::reps(db, caller, &teams, team).await?;
    let owners: Vec<String> = reps.iter().map(|r| r.id.clone()).collect();
    let facts = facts(db, caller.org_id, &owners, period).await?;
    let teams = match team {
        Some(id) => teams
            .into_iter()
            .filter(|t| t.id == id.to_string())
            .collect(),
        None => teams,
    };
    Ok(summarise(period, teams, &reps, &facts))
}

/// A rep's page for `caller` over `period`.
pub async fn rep(
    db: &AnyPool,
    caller: &Caller,
    period: Period,
    rep_id: Uuid,
) -> ApiResult<RepDashboard> {
    caller.require_manager()?;
    let scope = scope::of(db, caller).await?;
    let id = rep_id.to_string();
    let rep = match people::user(db, caller.org_id, &id).await? {
        Some(rep) if scope.sees(Some(rep_id)) => rep,
        _ => return Err(ApiError::not_found("rep")),
    };
    let team = people::teammates(db, caller.org_id, &id).await?;
    let facts = facts(db, caller.org_id, &team, period).await?;
    Ok(rep_page(rep, &facts))
}

/// The facts of `owners`' calls started in `period`, oldest first.
pub async fn facts(
    db: &AnyPool,
    org: Uuid,
    owners: &[String],
    period: Period,
) -> ApiResult<Vec<CallFact>> {
    let mut out = Vec::new();
    for chunk in owners.chunks(1000) {
        let sql = format!(
            "SELECT call_id, owner_id, started_at, duration_secs, score, categories FROM call_facts
             WHERE org_id = $1 AND started_at >= $2 AND started_at < $3 AND owner_id IN ({})",
            placeholders(4, chunk.len())
        );
        let mut query =
            sqlx::query_as::<_, (String, String, i64, i64, Option<i64>, Option<String>)>(
                crate::db::built(sql),
            )
            .bind(org.to_string())
            .bind(period.from_ms)
            .bind(period.to_ms);
        for owner in chunk {
            query = query.bind(owner.as_str());
        }
        for (call_id, owner, started_ms, duration_secs, score, categories) in
            query.fetch_all(db).await?
        {
            let categories = categories
                .and_then(|json| match serde_json::from_str(&json) {
                    Ok(categories) => Some(categories),
                    Err(e) => {
                        tracing::warn!(%call_id, error = %e, "unreadable scorecard categories");
                        None
                    }
                })
                .unwrap_or_default();
            out.push(CallFact {
                call_id,
                owner,
                started_ms,
                duration_secs,
                score,
                categories,
            });
        }
    }
    out.sort_by(|a, b| (a.started_ms, &a.call_id).cmp(&(b.started_ms, &b.call_id)));
    Ok(out)
}

/// The overview of `reps`' `facts` over `period`.
pub fn summarise(
    period: Period,
    teams: Vec<Ref>,
    reps: &[Rep],
    facts: &[CallFact],
) -> TeamDashboard {
    let totals = Totals {
        calls: facts.len(),
        talk_secs: facts.iter().map(|f| f.duration_secs).sum(),
        scored_calls: facts.iter().filter(|f| f.score.is_some()).count(),
        avg_score: mean(facts.iter().filter_map(|f| f.score)),
    };

    let first_week = monday(period.from_ms);
    let last_week = monday(period.to_ms.saturating_sub(1));
    let mut trend = Vec::new();
    let mut week = first_week;
    while week <= last_week {
        let next = week + Duration::days(7);
        let in_week: Vec<&CallFact> = facts
            .iter()
            .filter(|f| {
                let day = day_of(f.started_ms);
                day >= week && day < next
            })
            .collect();
        trend.push(TrendWeek {
            week_start: week.format("%Y-%m-%d").to_string(),
            calls: in_week.len(),
            avg_score: mean(in_week.iter().filter_map(|f| f.score)),
        });
        week = next;
    }

    let middle = period.from_ms + (period.to_ms - period.from_ms) / 2;
    let mut by_rep: HashMap<&str, Vec<&CallFact>> = HashMap::new();
    for f in facts {
        by_rep.entry(f.owner.as_str()).or_default().push(f);
    }
    let mut leaderboard: Vec<LeaderboardEntry> = reps
        .iter()
        .map(|rep| {
            let calls = by_rep.get(rep.id.as_str()).cloned().unwrap_or_default();
            let scores = || calls.iter().filter_map(|f| f.score);
            let first = mean(
                calls
                    .iter()
                    .filter(|f| f.started_ms < middle)
                    .filter_map(|f| f.score),
            );
            let second = mean(
                calls
                    .iter()
                    .filter(|f| f.started_ms >= middle)
                    .filter_map(|f| f.score),
            );
            LeaderboardEntry {
                rep: rep.as_ref(),
                calls: calls.len(),
                talk_secs: calls.iter().map(|f| f.duration_secs).sum(),
                avg_score: mean(scores()),
                best_score: scores().max(),
                trend_delta: first.zip(second).map(|(a, b)| round1(b - a)),
            }
        })
        .collect();
    leaderboard.sort_by(|a, b| {
        let by_score = match (a.avg_score, b.avg_score) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_score
            .then(b.calls.cmp(&a.calls))
            .then(a.rep.name.cmp(&b.rep.name))
    });

    TeamDashboard {
        period: period.into(),
        teams,
        totals,
        trend,
        leaderboard,
    }
}

/// A rep's page from the facts of the rep's teammates (the rep's own among them).
pub fn rep_page(rep: Rep, team_facts: &[CallFact]) -> RepDashboard {
    let own: Vec<&CallFact> = team_facts.iter().filter(|f| f.owner == rep.id).collect();
    let score_trend = own
        .iter()
        .filter_map(|f| {
            Some(ScorePoint {
                at: rfc3339(f.started_ms),
                score: f.score?,
                call_id: f.call_id.clone(),
            })
        })
        .collect();
    RepDashboard {
        skills: skills(own.iter().copied()),
        team_skills: skills(team_facts.iter()),
        score_trend,
        rep: RepInfo {
            id: rep.id,
            name: rep.name,
            email: rep.email,
        },
    }
}

/// Per rubric category, the points earned as a percentage of the points possible.
fn skills<'a>(facts: impl Iterator<Item = &'a CallFact> + Clone) -> Vec<Skill> {
    SKILLS
        .iter()
        .map(|&(key, label)| {
            let (earned, possible) = facts
                .clone()
                .flat_map(|f| f.categories.iter())
                .filter(|c| c.key == key && c.max > 0.0)
                .fold((0.0, 0.0), |(e, p), c| (e + c.score, p + c.max));
            Skill {
                key,
                label,
                score: (possible > 0.0).then(|| round1(100.0 * earned / possible)),
            }
        })
        .collect()
}

fn mean(values: impl Iterator<Item = i64>) -> Option<f64> {
    let (sum, n) = values.fold((0i64, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| round1(sum as f64 / f64::from(n)))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn day_of(ms: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}

/// The Monday of the (UTC) week `ms` falls in.
fn monday(ms: i64) -> NaiveDate {
    let day = day_of(ms);
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    /// Monday 2026-11-02T00:00:00Z.
    const MONDAY: i64 = 1_793_577_600_000;

    fn rep(id: &str, name: &str) -> Rep {
        Rep {
            id: id.into(),
            name: name.into(),
            email: format!("{name}@acme.test"),
        }
    }

    fn fact(owner: &str, day: i64, score: Option<i64>, discovery: Option<(f64, f64)>) -> CallFact {
        CallFact {
            call_id: format!("{owner}-{day}"),
            owner: owner.into(),
            started_ms: MONDAY + day * DAY + 3_600_000,
            duration_secs: 60,
            score,
            categories: discovery
                .map(|(score, max)| {
                    vec![Category {
                        key: "discovery".into(),
                        score,
                        max,
                    }]
                })
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_overview_sums_weeks_and_ranks_reps_by_average_with_the_unscored_last() {
        assert_eq!(monday(MONDAY + 6 * DAY), day_of(MONDAY));
        let period = Period {
            from_ms: MONDAY,
            to_ms: MONDAY + 14 * DAY,
        };
        let reps = [rep("a", "Dana"), rep("b", "Omar"), rep("c", "Lee")];
        let facts = [
            fact("a", 0, Some(60), None),
            fact("a", 10, Some(80), None),
            fact("b", 1, Some(90), None),
            fact("b", 2, None, None),
            fact("c", 3, None, None),
        ];
        let out = summarise(period, Vec::new(), &reps, &facts);
        assert_eq!(
            out.totals,
            Totals {
                calls: 5,
                talk_secs: 300,
                scored_calls: 3,
                avg_score: Some(76.7)
            }
        );
        assert_eq!(out.trend.len(), 2);
        assert_eq!(out.trend[0].week_start, "2026-11-02");
        assert_eq!(
            (out.trend[0].calls, out.trend[0].avg_score),
            (4, Some(75.0))
        );
        assert_eq!(
            (out.trend[1].calls, out.trend[1].avg_score),
            (1, Some(80.0))
        );
        let names: Vec<&str> = out
            .leaderboard
            .iter()
            .map(|e| e.rep.name.as_str())
            .collect();
        assert_eq!(names, ["Omar", "Dana", "Lee"]);
        assert_eq!(out.leaderboard[1].trend_delta, Some(20.0));
        assert_eq!(out.leaderboard[1].best_score, Some(80));
        assert_eq!(out.leaderboard[0].trend_delta, None, "no second-half score");
        assert_eq!(out.leaderboard[2].avg_score, None);
    }

    #[test]
    fn a_period_without_calls_has_empty_weeks_and_null_averages() {
        let period = Period {
            from_ms: MONDAY + 3 * DAY,
            to_ms: MONDAY + 10 * DAY,
        };
        let out = summarise(period, Vec::new(), &[rep("a", "Dana")], &[]);
        assert_eq!(out.totals.avg_score, None);
        assert_eq!(out.trend.len(), 2, "the period touches two weeks");
        assert!(
            out.trend
                .iter()
                .all(|w| w.calls == 0 && w.avg_score.is_none())
        );
        assert_eq!(out.leaderboard[0].calls, 0);
    }

    #[test]
    fn skills_are_points_over_possible_points_for_the_rep_and_the_team() {
        let facts = [
            fact("a", 0, Some(70), Some((6.0, 10.0))),
            fact("a", 1, Some(80), Some((8.0, 10.0))),
            fact("b", 1, Some(50), Some((2.0, 10.0))),
            fact("b", 2, Some(50), None),
        ];
        let page = rep_page(rep("a", "Dana"), &facts);
        assert_eq!(page.skills.len(), 5);
        assert_eq!(page.skills[0].key, "discovery");
        assert_eq!(page.skills[0].score, Some(70.0));
        assert_eq!(page.skills[1].score, None, "no call scored rapport");
        assert_eq!(page.team_skills[0].score, Some(53.3));
        let trend: Vec<i64> = page.score_trend.iter().map(|p| p.score).collect();
        assert_eq!(trend, [70, 80]);
    }
}
