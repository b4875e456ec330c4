// Team overview: totals, the weekly score trend and the reps' leaderboard for a period.
// @ts-check

import { getMe, getTeamDashboard, isAbort, queryString } from "../api.js";
import { barChart, lineChart, renderSvg } from "../charts.js";
import { formatDate, formatDelta, formatHours, formatScore, formatShortDay, scoreBand } from "../format.js";
import { emptyState, errorBox, h, intParam, loading, pageTitle, periodSelect, replace, scoreBadge } from "../dom.js";

const PERIODS = [7, 30, 90];

/**
 * Every team seen so far (from /v1/me and unfiltered dashboard answers), so the team
 * selector keeps its options while one team is selected.
 * @type {Map<string, string>}
 */
const knownTeams = new Map();
let askedMe = false;

/**
 * @param {HTMLElement} root
 * @param {import("../dom.js").ViewContext} ctx
 */
export async function render(root, ctx) {
  document.title = "Team — Cuecard";
  const days = intParam(ctx.query, "days", 30, PERIODS);
  const teamId = ctx.query.get("team") ?? "";
  /** @param {{days?: number, team?: string}} change */
  const go = (change) => ctx.navigate(`#/team${queryString({ days, team: teamId, ...change })}`);

  const controls = h("div", { class: "controls" }, periodSelect(days, PERIODS, (d) => go({ days: d })));
  const subtitle = h("p", { class: "subtitle" });
  const body = h("div", { class: "stack" }, loading("Loading the team…"));
  root.append(h("header", { class: "page-header" }, h("div", null, pageTitle("Team overview"), subtitle), controls), body);

  const load = async () => {
    replace(body, loading("Loading the team…"));
    try {
      const mePromise = askedMe ? Promise.resolve(null) : getMe(ctx.signal).catch(() => null);
      const [data, me] = await Promise.all([getTeamDashboard({ days, teamId: teamId || undefined }, ctx.signal), mePromise]);
      if (me) {
        askedMe = true;
        for (const t of me.teams) knownTeams.set(t.id, t.name);
      }
      for (const t of data.teams) knownTeams.set(t.id, t.name);

      if (knownTeams.size > 1 && !controls.querySelector("#team")) controls.append(teamSelect(teamId, (id) => go({ team: id })));
      const names = data.teams.map((t) => t.name).join(", ");
      replace(subtitle, `${formatDate(data.period.from)} – ${formatDate(data.period.to)}`, names ? ` · ${names}` : "");
      replace(body, ...content(data, days));
    } catch (err) {
      if (!isAbort(err)) replace(body, errorBox(err, load));
    }
  };
  await load();
}

/**
 * @param {string} selected
 * @param {(id: string) => void} onChange
 */
function teamSelect(selected, onChange) {
  const options = [...knownTeams].sort((a, b) => a[1].localeCompare(b[1]));
  const select = /** @type {HTMLSelectElement} */ (
    h(
      "select",
      { id: "team", onchange: () => onChange(select.value) },
      h("option", { value: "", selected: !selected }, "All my teams"),
      options.map(([id, name]) => h("option", { value: id, selected: id === selected }, name)),
    )
  );
  return h("div", { class: "field inline" }, h("label", { for: "team" }, "Team"), select);
}

/**
 * @param {import("../api.js").TeamDashboard} data
 * @param {number} days
 */
function content(data, days) {
  const t = data.totals;
  const tiles = h(
    "section",
    { class: "tiles", testid: "team-totals", "aria-label": "Totals" },
    tile("Calls", String(t.calls)),
    tile("Talk time", formatHours(t.talk_secs)),
    tile("Average score", formatScore(t.avg_score), `band-${scoreBand(t.avg_score)}`),
    tile("Scored calls", String(t.scored_calls)),
  );

  const trend = lineChart(
    data.trend.map((w) => ({
      label: formatShortDay(w.week_start),
      value: w.avg_score,
      title:
        w.avg_score == null
          ? `Week of ${formatShortDay(w.week_start)}: no scored calls (${w.calls} calls)`
          : `Week of ${formatShortDay(w.week_start)}: average ${formatScore(w.avg_score)} over ${w.calls} calls`,
    })),
    { label: "Average score by week", yLabel: "Avg score", width: 600, height: 240 },
  );
  const bars = barChart(
    data.leaderboard.map((e) => ({
      label: e.rep.name,
      value: e.avg_score,
      href: `#/reps/${encodeURIComponent(e.rep.id)}${queryString({ days })}`,
    })),
    { label: "Average score by rep", width: 440 },
  );

  return [
    tiles,
    h(
      "div",
      { class: "grid-2" },
      h("figure", { class: "card chart-card", testid: "trend-chart" }, h("figcaption", null, "Weekly average score"), renderSvg(trend)),
      h("figure", { class: "card chart-card" }, h("figcaption", null, "Average score by rep"), renderSvg(bars)),
    ),
    h("section", { class: "card", "aria-labelledby": "leaderboard-title" }, h("h2", { id: "leaderboard-title" }, "Leaderboard"), leaderboard(data.leaderboard, days)),
  ];
}

/**
 * @param {string} label
 * @param {string} value
 * @param {string} [valueClass]
 */
function tile(label, value, valueClass = "") {
  return h("div", { class: "tile" }, h("p", { class: "tile-label" }, label), h("p", { class: `tile-value ${valueClass}` }, value));
}

/**
 * @param {import("../api.js").LeaderboardEntry[]} rows
 * @param {number} days
 */
function leaderboard(rows, days) {
  if (rows.length === 0) return emptyState("No reps have calls in this period.");
  return h(
    "table",
    { class: "table", testid: "leaderboard" },
    h("caption", { class: "visually-hidden" }, "Reps ranked by average score"),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col", class: "num" }, "#"),
        h("th", { scope: "col" }, "Rep"),
        h("th", { scope: "col", class: "num" }, "Calls"),
        h("th", { scope: "col", class: "num" }, "Talk time"),
        h("th", { scope: "col" }, "Average score"),
        h("th", { scope: "col", class: "num" }, "Best"),
        h("th", { scope: "col", class: "num", title: "Second half of the period minus the first" }, "Trend"),
      ),
    ),
    h(
      "tbody",
      null,
      rows.map((e, i) => {
        const repHref = `#/reps/${encodeURIComponent(e.rep.id)}${queryString({ days })}`;
        const deltaClass = e.trend_delta == null ? "" : e.trend_delta > 0 ? "up" : e.trend_delta < 0 ? "down" : "";
        return h(
          "tr",
          { testid: "leaderboard-row" },
          h("td", { class: "num muted" }, String(i + 1)),
          h("th", { scope: "row" }, h("a", { href: repHref }, e.rep.name)),
          h("td", { class: "num" }, h("a", { href: `#/calls${queryString({ rep: e.rep.id })}`, title: `${e.rep.name}'s calls` }, String(e.calls))),
          h("td", { class: "num" }, formatHours(e.talk_secs)),
          h("td", null, h("div", { class: "score-cell" }, scoreBadge(e.avg_score), meter(e.avg_score))),
          h("td", { class: "num" }, formatScore(e.best_score)),
          h("td", { class: `num delta ${deltaClass}` }, formatDelta(e.trend_delta)),
        );
      }),
    ),
  );
}

/**
 * A thin 0–100 bar, decorative (the number sits next to it).
 * @param {number | null} score
 */
function meter(score) {
  const pct = score == null ? 0 : Math.max(0, Math.min(100, score));
  const fill = h("span", { class: `meter-fill band-${scoreBand(score)}` });
  fill.style.width = `${pct}%`;
  return h("span", { class: "meter", "aria-hidden": "true" }, fill);
}
