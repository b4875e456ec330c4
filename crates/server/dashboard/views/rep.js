// One rep: skills radar against the team, score over time, and their recent calls.
// @ts-check

import { getRepDashboard, isAbort, listCalls, queryString } from "../api.js";
import { lineChart, radarChart, renderSvg } from "../charts.js";
import { formatDateTime, formatDelta, formatScore, formatShortDay } from "../format.js";
import { emptyState, errorBox, h, intParam, loading, pageTitle, periodSelect, replace, scoreBadge } from "../dom.js";
import { callsTable } from "./calls.js";

const PERIODS = [7, 30, 90];
const RECENT_CALLS = 10;

/**
 * @param {HTMLElement} root
 * @param {import("../dom.js").ViewContext} ctx
 */
export async function render(root, ctx) {
  const repId = ctx.params[0];
  const days = intParam(ctx.query, "days", 90, PERIODS);
  const repPath = `#/reps/${encodeURIComponent(repId)}`;
  document.title = "Rep — Cuecard";

  const title = pageTitle("Rep");
  const subtitle = h("p", { class: "subtitle" });
  const controls = h(
    "div",
    { class: "controls" },
    periodSelect(days, PERIODS, (d) => ctx.navigate(`${repPath}${queryString({ days: d })}`)),
    h("a", { href: `#/calls${queryString({ rep: repId })}`, class: "button-link" }, "All calls →"),
  );
  const body = h("div", { class: "stack" }, loading("Loading the rep…"));
  const calls = h("div", null, loading("Loading calls…"));
  root.append(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/team" }, "← Team")),
    h("header", { class: "page-header" }, h("div", null, title, subtitle), controls),
    body,
    h("section", { class: "card", "aria-labelledby": "recent-title" }, h("h2", { id: "recent-title" }, "Recent calls"), calls),
  );

  const loadRep = async () => {
    replace(body, loading("Loading the rep…"));
    try {
      const data = await getRepDashboard(repId, days, ctx.signal);
      replace(title, data.rep.name);
      replace(subtitle, data.rep.email);
      document.title = `${data.rep.name} — Cuecard`;
      replace(body, ...content(data, days));
    } catch (err) {
      if (!isAbort(err)) replace(body, errorBox(err, loadRep));
    }
  };
  const loadCalls = async () => {
    replace(calls, loading("Loading calls…"));
    try {
      const page = await listCalls({ rep_id: repId, limit: RECENT_CALLS }, ctx.signal);
      if (page.calls.length === 0) replace(calls, emptyState("No calls yet."));
      else replace(calls, callsTable(page.calls, ctx, { showRep: false }));
    } catch (err) {
      if (!isAbort(err)) replace(calls, errorBox(err, loadCalls));
    }
  };
  await Promise.all([loadRep(), loadCalls()]);
}

/**
 * @param {import("../api.js").RepDashboard} data
 * @param {number} days
 */
function content(data, days) {
  const teamByKey = new Map(data.team_skills.map((s) => [s.key, s.score]));
  const radar = radarChart(
    data.skills.map((s) => ({ key: s.key, label: s.label })),
    [
      { name: data.rep.name, values: data.skills.map((s) => s.score) },
      { name: "Team average", values: data.skills.map((s) => teamByKey.get(s.key) ?? null) },
    ],
    { label: `${data.rep.name}'s skills against the team average` },
  );
  const trend = lineChart(
    data.score_trend.map((p) => ({
      label: formatShortDay(p.at),
      value: p.score,
      title: `${formatDateTime(p.at)}: ${formatScore(p.score)} — open the call`,
      href: `#/calls/${encodeURIComponent(p.call_id)}`,
    })),
    { label: `${data.rep.name}'s score per call`, yLabel: "Score", width: 560, height: 230 },
  );

  return [
    h(
      "div",
      { class: "grid-2 rep-grid" },
      h(
        "figure",
        { class: "card chart-card", testid: "radar-chart" },
        h("figcaption", null, `Skills against the team, last ${days} days`),
        renderSvg(radar),
      ),
      h(
        "div",
        { class: "stack" },
        h(
          "figure",
          { class: "card chart-card", testid: "score-trend" },
          h("figcaption", null, `Score per call (${data.score_trend.length} scored)`),
          renderSvg(trend),
        ),
        h("section", { class: "card", "aria-labelledby": "skills-title" }, h("h2", { id: "skills-title" }, "Skill scores"), skillsTable(data, teamByKey)),
      ),
    ),
  ];
}

/**
 * The radar's numbers, for reading exactly and for screen readers.
 * @param {import("../api.js").RepDashboard} data
 * @param {Map<string, number | null>} teamByKey
 */
function skillsTable(data, teamByKey) {
  return h(
    "table",
    { class: "table compact" },
    h("caption", { class: "visually-hidden" }, "Skill scores"),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, "Skill"),
        h("th", { scope: "col", class: "num" }, data.rep.name),
        h("th", { scope: "col", class: "num" }, "Team"),
        h("th", { scope: "col", class: "num" }, "Difference"),
      ),
    ),
    h(
      "tbody",
      null,
      data.skills.map((s) => {
        const team = teamByKey.get(s.key) ?? null;
        const diff = s.score == null || team == null ? null : s.score - team;
        return h(
          "tr",
          null,
          h("th", { scope: "row" }, s.label),
          h("td", { class: "num" }, scoreBadge(s.score)),
          h("td", { class: "num" }, formatScore(team)),
          h("td", { class: `num delta ${diff == null ? "" : diff > 0 ? "up" : diff < 0 ? "down" : ""}` }, formatDelta(diff)),
        );
      }),
    ),
  );
}
