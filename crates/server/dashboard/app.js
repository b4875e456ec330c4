// The app's entry: hash router, top bar (org, user, nav, sign out) and the rep notice.
// Pages: team overview, a rep, calls, a call, people (invitations, teams, recording policy).
// @ts-check

import { getSession, logout, setAuthLostHandler } from "./api.js";
import { h, pageTitle, replace } from "./dom.js";
import * as callView from "./views/call.js";
import * as callsView from "./views/calls.js";
import * as loginView from "./views/login.js";
import * as peopleView from "./views/people.js";
import * as repView from "./views/rep.js";
import * as teamView from "./views/team.js";

/** @typedef {(root: HTMLElement, ctx: import("./dom.js").ViewContext) => Promise<void>} View */

/** @type {{pattern: RegExp, view: View, nav?: string}[]} */
const ROUTES = [
  { pattern: /^\/login$/, view: loginView.render },
  { pattern: /^\/team$/, view: teamView.render, nav: "team" },
  { pattern: /^\/reps\/([^/]+)$/, view: repView.render, nav: "team" },
  { pattern: /^\/calls$/, view: callsView.render, nav: "calls" },
  { pattern: /^\/calls\/([^/]+)$/, view: callView.render, nav: "calls" },
  { pattern: /^\/people$/, view: peopleView.render, nav: "people" },
];

const topbar = /** @type {HTMLElement} */ (document.getElementById("topbar"));
const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** @type {AbortController | null} */
let current = null;
/** The route pattern shown last, to keep focus on a control when only its query changed. */
let lastPattern = "";

/**
 * "#/calls/abc?x=1" → {path: "/calls/abc", query}.
 * @param {string} hash
 */
function parseHash(hash) {
  const raw = hash.replace(/^#/, "") || "/team";
  const q = raw.indexOf("?");
  return {
    path: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)),
  };
}

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

async function signOut() {
  await logout();
  navigate("#/login");
}

/** @param {string | undefined} active */
function renderTopbar(active) {
  const session = getSession();
  if (!session) {
    replace(topbar);
    topbar.hidden = true;
    return;
  }
  topbar.hidden = false;
  const user = session.user;
  const isRep = user.role === "rep";
  /** @param {string} key @param {string} label */
  const link = (key, label) =>
    h("a", { href: `#/${key}`, testid: `nav-${key}`, "aria-current": active === key ? "page" : null }, label);
  replace(
    topbar,
    h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }, "◆"), "Cuecard", h("span", { class: "org" }, user.org.name)),
    isRep ? null : h("nav", { class: "nav", "aria-label": "Main" }, link("team", "Team"), link("calls", "Calls"), link("people", "People")),
    h(
      "div",
      { class: "user" },
      h("span", { class: "user-name", title: user.email }, user.name),
      isRep ? null : h("button", { type: "button", class: "ghost", testid: "signout", onclick: signOut }, "Sign out"),
    ),
  );
}

/** Shown instead of every page to a rep: the dashboard is for managers. */
function repNotice() {
  document.title = "Cuecard dashboard";
  return h(
    "section",
    { class: "card notice" },
    pageTitle("The dashboard is for managers"),
    h("p", null, "Your calls, scores and reviews are in the Cuecard app on your computer."),
    h("button", { type: "button", class: "primary", testid: "signout", onclick: signOut }, "Sign out"),
  );
}

async function route() {
  current?.abort();
  const controller = new AbortController();
  current = controller;

  const { path, query } = parseHash(location.hash);
  const session = getSession();
  if (!session && path !== "/login") {
    const next = path === "/team" || path === "/" ? "" : `?next=${encodeURIComponent(location.hash)}`;
    location.replace(`#/login${next}`);
    return;
  }
  if (session && path === "/login") {
    location.replace("#/team");
    return;
  }

  const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  renderTopbar(match?.r.nav);
  const root = h("div", { class: "view" });
  const focusedId = document.activeElement instanceof HTMLElement ? document.activeElement.id : "";
  main.replaceChildren(root);

  if (session?.user.role === "rep") {
    root.append(repNotice());
    return;
  }
  if (!match || !match.m) {
    document.title = "Not found — Cuecard";
    root.append(pageTitle("Page not found"), h("p", null, h("a", { href: "#/team" }, "Go to the team overview")));
    return;
  }

  const samePage = String(match.r.pattern) === lastPattern;
  lastPattern = String(match.r.pattern);
  const params = match.m.slice(1).map((p) => decodeURIComponent(p));
  try {
    await match.r.view(root, { params, query, signal: controller.signal, navigate });
  } catch (err) {
    if (!controller.signal.aborted) console.error(err);
  }
  if (controller.signal.aborted || root.contains(document.activeElement)) return;
  // Keep focus on the control that changed the query; otherwise start at the heading.
  const again = samePage && focusedId ? document.getElementById(focusedId) : null;
  (again ?? root.querySelector("h1"))?.focus({ preventScroll: true });
}

// The skip link would otherwise be read as a route.
document.querySelector(".skip-link")?.addEventListener("click", (ev) => {
  ev.preventDefault();
  main.focus();
});
setAuthLostHandler(() => navigate(`#/login?next=${encodeURIComponent(location.hash)}`));
window.addEventListener("hashchange", () => void route());
void route();
