// The calls list: filters (rep, dates, score, text, reviewed), a table of calls, paging.
// @ts-check

import { getTeamDashboard, isAbort, listCalls, queryString } from "../api.js";
import { dayEndIso, dayStartIso, directionLabel, formatDateTime, formatDuration, humanize } from "../format.js";
import { emptyState, errorBox, h, intParam, loading, pageTitle, replace, scoreBadge } from "../dom.js";

const PAGE_SIZE = 50;
/** The filters as they appear in the page's hash (`#/calls?rep=…&from=…`). */
const FILTER_KEYS = ["rep", "from", "to", "min", "max", "q", "reviewed"];

/** Reps for the filter, from the team dashboard (there is no list-reps endpoint). */
/** @type {import("../api.js").Ref[] | null} */
let repOptions = null;

/**
 * @param {HTMLElement} root
 * @param {import("../dom.js").ViewContext} ctx
 */
export async function render(root, ctx) {
  document.title = "Calls — Cuecard";
  const page = Math.max(1, intParam(ctx.query, "page", 1));
  /** @type {Record<string, string>} */
  const f = {};
  for (const k of FILTER_KEYS) f[k] = ctx.query.get(k) ?? "";

  const form = filterForm(f, ctx);
  const results = h("div", { class: "stack" }, loading("Loading calls…"));
  root.append(h("header", { class: "page-header" }, pageTitle("Calls")), form, results);

  const repsPromise = loadReps(ctx.signal).then((reps) => fillReps(form, reps, f.rep));

  const load = async () => {
    replace(results, loading("Loading calls…"));
    try {
      const data = await listCalls(
        {
          rep_id: f.rep || undefined,
          from: (f.from && dayStartIso(f.from)) || undefined,
          to: (f.to && dayEndIso(f.to)) || undefined,
          min_score: scoreParam(f.min),
          max_score: scoreParam(f.max),
          q: f.q || undefined,
          reviewed: f.reviewed === "yes" ? true : f.reviewed === "no" ? false : undefined,
          limit: PAGE_SIZE,
          offset: (page - 1) * PAGE_SIZE,
        },
        ctx.signal,
      );
      if (data.calls.length === 0) {
        replace(results, emptyState(data.total > 0 ? "No calls on this page." : "No calls match these filters."));
        if (page > 1) results.append(pager(data.total, page, f, ctx));
        return;
      }
      const unknownRep = form.querySelector("#filter-rep option[data-unknown]");
      if (unknownRep) unknownRep.textContent = data.calls[0].rep.name;
      replace(results, h("div", { class: "card table-card" }, callsTable(data.calls, ctx)), pager(data.total, page, f, ctx));
    } catch (err) {
      if (!isAbort(err)) replace(results, errorBox(err, load));
    }
  };
  await Promise.all([load(), repsPromise]);
}

/**
 * A 0–100 score filter from the hash, or undefined when empty or not a number.
 * @param {string} text
 */
function scoreParam(text) {
  const n = Number(text);
  return text === "" || !Number.isFinite(n) ? undefined : n;
}

/**
 * @param {AbortSignal} signal
 * @returns {Promise<import("../api.js").Ref[]>}
 */
async function loadReps(signal) {
  if (repOptions) return repOptions;
  try {
    const team = await getTeamDashboard({ days: 90 }, signal);
    repOptions = team.leaderboard.map((e) => e.rep).sort((a, b) => a.name.localeCompare(b.name));
    return repOptions;
  } catch {
    return []; // The filter still works for a rep chosen from a link.
  }
}

/**
 * @param {HTMLFormElement} form
 * @param {import("../api.js").Ref[]} reps
 * @param {string} selected
 */
function fillReps(form, reps, selected) {
  const select = /** @type {HTMLSelectElement | null} */ (form.querySelector("#filter-rep"));
  if (!select) return;
  for (const r of reps) select.append(h("option", { value: r.id, selected: r.id === selected }, r.name));
  if (selected && !reps.some((r) => r.id === selected)) {
    select.append(h("option", { value: selected, selected: true, "data-unknown": true }, "Selected rep"));
  }
}

/**
 * The filter form; submitting it puts the filters into the hash.
 * @param {Record<string, string>} f
 * @param {import("../dom.js").ViewContext} ctx
 * @returns {HTMLFormElement}
 */
function filterForm(f, ctx) {
  /**
   * @param {string} id
   * @param {string} label
   * @param {HTMLElement} control
   */
  const field = (id, label, control) => h("div", { class: "field" }, h("label", { for: id }, label), control);

  /** @param {SubmitEvent} ev */
  const onSubmit = (ev) => {
    ev.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (ev.currentTarget));
    /** @type {Record<string, string>} */
    const next = {};
    for (const k of FILTER_KEYS) next[k] = String(data.get(k) ?? "").trim();
    ctx.navigate(`#/calls${queryString(next)}`);
  };

  return h(
    "form",
    { class: "filters card", onsubmit: onSubmit, "aria-label": "Filter calls", role: "search" },
    field("filter-rep", "Rep", h("select", { id: "filter-rep", name: "rep" }, h("option", { value: "" }, "All reps"))),
    field("filter-from", "From", h("input", { id: "filter-from", name: "from", type: "date", value: f.from })),
    field("filter-to", "To", h("input", { id: "filter-to", name: "to", type: "date", value: f.to })),
    field("filter-min", "Min score", h("input", { id: "filter-min", name: "min", type: "number", min: 0, max: 100, step: 1, value: f.min, class: "narrow" })),
    field("filter-max", "Max score", h("input", { id: "filter-max", name: "max", type: "number", min: 0, max: 100, step: 1, value: f.max, class: "narrow" })),
    field("filter-q", "Search", h("input", { id: "filter-q", name: "q", type: "search", value: f.q, placeholder: "Contact or number" })),
    field(
      "filter-reviewed",
      "Reviewed",
      h(
        "select",
        { id: "filter-reviewed", name: "reviewed" },
        h("option", { value: "", selected: f.reviewed === "" }, "Any"),
        h("option", { value: "yes", selected: f.reviewed === "yes" }, "Yes"),
        h("option", { value: "no", selected: f.reviewed === "no" }, "No"),
      ),
    ),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "primary" }, "Apply"),
      h("a", { href: "#/calls", class: "button-link" }, "Reset"),
    ),
  );
}

/**
 * A table of calls, newest first; each row opens its call. Shared with the rep page.
 * @param {import("../api.js").CallSummary[]} calls
 * @param {import("../dom.js").ViewContext} ctx
 * @param {{showRep?: boolean}} [opts]
 */
export function callsTable(calls, ctx, opts = {}) {
  const showRep = opts.showRep ?? true;
  return h(
    "table",
    { class: "table calls", testid: "calls-table" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, "Started"),
        showRep ? h("th", { scope: "col" }, "Rep") : null,
        h("th", { scope: "col" }, "Contact"),
        h("th", { scope: "col" }, "Direction"),
        h("th", { scope: "col", class: "num" }, "Duration"),
        h("th", { scope: "col", class: "num" }, "Score"),
        h("th", { scope: "col" }, "Reviewed"),
      ),
    ),
    h(
      "tbody",
      null,
      calls.map((c) => {
        const href = `#/calls/${encodeURIComponent(c.id)}`;
        const number = c.direction === "inbound" ? c.from : c.to;
        return h(
          "tr",
          {
            testid: "call-row",
            class: "clickable",
            onclick: (/** @type {MouseEvent} */ ev) => {
              if (!(ev.target instanceof Element && ev.target.closest("a"))) ctx.navigate(href);
            },
          },
          h("td", { class: "nowrap" }, h("a", { href }, formatDateTime(c.started_at))),
          showRep ? h("td", null, c.rep.name) : null,
          h("td", null, c.contact_name ? h("span", null, c.contact_name, h("span", { class: "muted small block" }, number)) : number),
          h(
            "td",
            null,
            directionLabel(c.direction),
            c.status && c.status !== "completed" ? h("span", { class: "tag" }, humanize(c.status)) : null,
          ),
          h("td", { class: "num" }, formatDuration(c.duration_secs)),
          h("td", { class: "num" }, scoreBadge(c.score)),
          h("td", null, c.reviewed ? h("span", { class: "tag good" }, "Reviewed") : h("span", { class: "muted" }, "No")),
        );
      }),
    ),
  );
}

/**
 * "1–50 of 120" with previous and next.
 * @param {number} total
 * @param {number} page
 * @param {Record<string, string>} f
 * @param {import("../dom.js").ViewContext} ctx
 */
function pager(total, page, f, ctx) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = Math.min(total, (page - 1) * PAGE_SIZE + 1);
  const last = Math.min(total, page * PAGE_SIZE);
  /** @param {number} p */
  const to = (p) => ctx.navigate(`#/calls${queryString({ ...f, page: p > 1 ? p : undefined })}`);
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    h("p", { class: "muted" }, total === 0 ? "No calls" : `${first}–${last} of ${total}`),
    h("button", { type: "button", class: "secondary", disabled: page <= 1, onclick: () => to(page - 1) }, "← Previous"),
    h("span", { class: "muted" }, `Page ${page} of ${pages}`),
    h("button", { type: "button", class: "secondary", disabled: page >= pages, onclick: () => to(page + 1) }, "Next →"),
  );
}
