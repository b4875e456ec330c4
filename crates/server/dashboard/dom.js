// DOM building blocks shared by the views: safe element builder, loading/error states.
// @ts-check
//
// Server text only ever reaches the page as text nodes or attribute values, never as
// markup: `h()` has no way to set innerHTML.

import { ApiError } from "./api.js";
import { formatScore, scoreBand } from "./format.js";

/**
 * What a view gets from the router.
 * @typedef {object} ViewContext
 * @property {string[]} params The route's captures, e.g. the call id.
 * @property {URLSearchParams} query The part of the hash after "?".
 * @property {AbortSignal} signal Aborted when the user navigates away.
 * @property {(hash: string) => void} navigate
 */

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | null | undefined | ((ev: any) => void)>} Props */

/**
 * Creates an element. `props`: attributes (true → present, false/null → absent),
 * `testid` → data-testid, `on<event>` functions → listeners. Children: nodes or text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(key === "testid" ? "data-testid" : key, "");
    } else if (value !== false && value != null) {
      el.setAttribute(key === "testid" ? "data-testid" : key, String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Node} parent
 * @param {(Child | Child[])[]} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces everything in `el` with `children`.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * A "Loading…" placeholder, announced politely.
 * @param {string} [what]
 */
export function loading(what = "Loading…") {
  return h("p", { class: "state loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), what);
}

/**
 * An error box with the server's message and, when given, a retry button.
 * @param {unknown} err
 * @param {(() => void) | null} [retry]
 */
export function errorBox(err, retry) {
  const message =
    err instanceof ApiError
      ? err.status === 404
        ? "Not found. It may have been removed, or it is outside the teams you can see."
        : err.message
      : "Something went wrong. Please try again.";
  if (!(err instanceof ApiError)) console.warn(err);
  return h(
    "div",
    { class: "state error", role: "alert" },
    h("p", null, message),
    retry ? h("button", { type: "button", class: "secondary", onclick: retry }, "Try again") : null,
  );
}

/**
 * A muted "nothing here" line.
 * @param {string} text
 */
export function emptyState(text) {
  return h("p", { class: "state empty" }, text);
}

/**
 * A score as a coloured badge ("—" without one).
 * @param {number | null | undefined} score
 * @param {Props} [props]
 */
export function scoreBadge(score, props = {}) {
  const band = scoreBand(score);
  return h(
    "span",
    { class: `badge band-${band}`, title: score == null ? "Not scored" : `Score ${formatScore(score)} (${band})`, ...props },
    formatScore(score),
  );
}

/**
 * A page heading that the router can focus after navigation.
 * @param {string} text
 * @param {...Child} extra
 */
export function pageTitle(text, ...extra) {
  return h("h1", { tabindex: "-1", class: "page-title" }, text, ...extra);
}

/**
 * A labelled <select> for a number of days.
 * @param {number} days
 * @param {number[]} choices
 * @param {(days: number) => void} onChange
 */
export function periodSelect(days, choices, onChange) {
  const select = h(
    "select",
    { id: "period", onchange: () => onChange(Number(select.value)) },
    choices.map((d) => h("option", { value: d, selected: d === days }, `Last ${d} days`)),
  );
  return h("div", { class: "field inline" }, h("label", { for: "period" }, "Period"), select);
}

/**
 * Reads a whole number from the query, falling back when missing or not one of `allowed`.
 * @param {URLSearchParams} query
 * @param {string} key
 * @param {number} fallback
 * @param {number[]} [allowed]
 */
export function intParam(query, key, fallback, allowed) {
  const n = Number(query.get(key));
  if (!query.has(key) || !Number.isInteger(n)) return fallback;
  if (allowed && !allowed.includes(n)) return fallback;
  return n;
}
