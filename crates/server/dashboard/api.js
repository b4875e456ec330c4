// Talks to the sync server: the session in sessionStorage, token refresh, typed endpoints.
// @ts-check

import { browserName } from "./format.js";

// ---- Response types (mirror crates/server/API.md) ----

/** @typedef {"rep" | "manager" | "admin"} Role */
/** @typedef {{id: string, name: string}} Ref A user or team by id and name. */
/** @typedef {{id: string, name: string, email: string, role: Role, org: Ref}} User */

/**
 * @typedef {object} Session
 * @property {string} access_token
 * @property {number} access_expires_in Seconds.
 * @property {string} refresh_token
 * @property {string} device_id
 * @property {User} user
 */

/** @typedef {{id: string, name: string, role_in_team: string}} MyTeam */
/** @typedef {{user: User, teams: MyTeam[]}} Me */

/** @typedef {{from: string, to: string}} Period */
/** @typedef {{calls: number, talk_secs: number, scored_calls: number, avg_score: number | null}} Totals */
/** @typedef {{week_start: string, calls: number, avg_score: number | null}} TrendWeek */

/**
 * @typedef {object} LeaderboardEntry
 * @property {Ref} rep
 * @property {number} calls
 * @property {number} talk_secs
 * @property {number | null} avg_score
 * @property {number | null} best_score
 * @property {number | null} trend_delta Second half of the period minus the first.
 */

/**
 * @typedef {object} TeamDashboard
 * @property {Period} period
 * @property {Ref[]} teams
 * @property {Totals} totals
 * @property {TrendWeek[]} trend Oldest first, one per week (weeks start on Monday).
 * @property {LeaderboardEntry[]} leaderboard By avg_score descending, nulls last.
 */

/** @typedef {"discovery" | "rapport" | "objection_handling" | "closing" | "next_steps"} SkillKey */
/** @typedef {{key: string, label: string, score: number | null}} Skill */
/** @typedef {{at: string, score: number, call_id: string}} ScorePoint */

/**
 * @typedef {object} RepDashboard
 * @property {{id: string, name: string, email: string}} rep
 * @property {Skill[]} skills The five rubric categories, in rubric order.
 * @property {Skill[]} team_skills The same over the rep's teams.
 * @property {ScorePoint[]} score_trend Every scored call in the period, oldest first.
 */

/**
 * @typedef {object} CallSummary
 * @property {string} id
 * @property {Ref} rep
 * @property {string | null} contact_name
 * @property {"inbound" | "outbound"} direction
 * @property {string} status
 * @property {string} from
 * @property {string} to
 * @property {string} started_at
 * @property {number | null} duration_secs
 * @property {number | null} score Null without a scorecard.
 * @property {boolean} reviewed
 */

/** @typedef {{total: number, calls: CallSummary[]}} CallsPage */

/**
 * @typedef {CallSummary & {notes: string | null, answered_at: string | null, ended_at: string | null}} CallInfo
 */

/** @typedef {{key: string, label: string, score: number, max: number, weight: number}} CategoryScore */

/**
 * @typedef {object} CheckResult
 * @property {string} check_id
 * @property {string} [label] Not in API.md; shown when the server sends it.
 * @property {string} category
 * @property {number} credit 0–1.
 * @property {string} explanation
 * @property {string[]} evidence Transcript utterance ids.
 */

/**
 * @typedef {object} Scorecard
 * @property {number} total
 * @property {string} status
 * @property {string} rubric_version
 * @property {CategoryScore[]} categories
 * @property {CheckResult[]} checks
 */

/**
 * @typedef {object} Utterance
 * @property {string} id
 * @property {"mic" | "far_end"} channel mic is the rep, far_end the contact.
 * @property {string | null} speaker
 * @property {number} start_ms
 * @property {number} end_ms
 * @property {string} text
 */

/** @typedef {{id: string, author: Ref, body: string, created_at: string}} Review */

/**
 * @typedef {object} Recording
 * @property {"available" | "pending" | "not_uploaded"} status
 * @property {string} url
 * @property {number | null} duration_ms
 * @property {string | null} content_type
 * @property {number | null} size Bytes stored on the server (null until available).
 */

/**
 * @typedef {object} CallDetail
 * @property {CallInfo} call
 * @property {Scorecard | null} scorecard
 * @property {Utterance[]} transcript
 * @property {Review[]} reviews
 * @property {Recording | null} recording
 */

/**
 * @typedef {object} CallFilters
 * @property {string} [rep_id]
 * @property {string} [from] RFC 3339.
 * @property {string} [to] RFC 3339.
 * @property {number} [min_score]
 * @property {number} [max_score]
 * @property {string} [q]
 * @property {boolean} [reviewed]
 * @property {number} [limit]
 * @property {number} [offset]
 */

// ---- Errors ----

/** A failed request, carrying the server's `message` for people. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status; 0 when the server could not be reached.
   * @param {string} code The server's `error` code.
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * True for a request cancelled because the user moved on (not worth showing).
 * @param {unknown} err
 */
export function isAbort(err) {
  return err instanceof DOMException && err.name === "AbortError";
}

// ---- The stored session ----

const STORAGE_KEY = "cuecard.dashboard.session";

/** @typedef {Session & {expires_at: number}} StoredSession */

/** @returns {StoredSession | null} */
export function getSession() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? /** @type {StoredSession} */ (JSON.parse(raw)) : null;
  } catch {
    return null;
  }
}

/** @param {Session} session */
function saveSession(session) {
  const stored = { ...session, expires_at: Date.now() + session.access_expires_in * 1000 };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
}

export function clearSession() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** @type {() => void} */
let onAuthLost = () => {
  location.hash = "#/login";
};

/**
 * What to do when the session is gone for good (refresh failed): the app shows login.
 * @param {() => void} handler
 */
export function setAuthLostHandler(handler) {
  onAuthLost = handler;
}

// ---- Requests ----

/**
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function errorFrom(res) {
  let code = "http_" + res.status;
  let message = `The server answered ${res.status} ${res.statusText}`.trim();
  try {
    const body = await res.json();
    if (body && typeof body.message === "string") message = body.message;
    if (body && typeof body.error === "string") code = body.error;
  } catch {
    // Not JSON: keep the status line.
  }
  const retry = res.headers.get("Retry-After");
  if (res.status === 429 && retry) message += ` Try again in ${retry} seconds.`;
  return new ApiError(res.status, code, message);
}

/**
 * fetch, with "could not reach the server" as an ApiError.
 * @param {string} path
 * @param {RequestInit} init
 */
async function send(path, init) {
  try {
    return await fetch(path, init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, "network", "Could not reach the server. Check your connection and try again.");
  }
}

/**
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<Session>}
 */
async function postSession(path, body) {
  const res = await send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await errorFrom(res);
  const session = /** @type {Session} */ (await res.json());
  saveSession(session);
  return session;
}

/** @type {Promise<boolean> | null} */
let refreshing = null;

/**
 * Swaps the refresh token for a new session. Concurrent callers share one request:
 * presenting a used refresh token twice would revoke the whole device.
 * @returns {Promise<boolean>} Whether a fresh access token is now stored.
 */
function refreshSession() {
  if (!refreshing) {
    refreshing = (async () => {
      const session = getSession();
      if (!session?.refresh_token) return false;
      try {
        await postSession("/v1/auth/refresh", { refresh_token: session.refresh_token });
        return true;
      } catch (err) {
        // A network failure keeps the session for a later try; a refusal ends it.
        if (err instanceof ApiError && err.status !== 0) clearSession();
        return false;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/**
 * The access token, refreshed first when it expires within a minute or when `force`
 * is set (for URLs such as the recording's, which carry the token themselves).
 * @param {boolean} [force] Refresh even if the token looks valid (the server refused it).
 * @returns {Promise<string | null>}
 */
export async function freshAccessToken(force = false) {
  const session = getSession();
  if (!session) return null;
  if (force || session.expires_at - Date.now() < 60_000) await refreshSession();
  return getSession()?.access_token ?? null;
}

/**
 * An authenticated JSON request. On 401 it refreshes the session once and retries;
 * if that fails the session is cleared and the app is sent to login.
 * @template T
 * @param {string} path Absolute, e.g. "/v1/me".
 * @param {{method?: string, body?: unknown, signal?: AbortSignal, redirectOnAuthLoss?: boolean}} [opts]
 * @returns {Promise<T>}
 */
export async function request(path, opts = {}) {
  const attempt = () => {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    const token = getSession()?.access_token;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    return send(path, {
      method: opts.method ?? "GET",
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  };

  const usedToken = getSession()?.access_token;
  let res = await attempt();
  if (res.status === 401) {
    // Another request may already have refreshed while this one was in flight.
    const renewed = getSession()?.access_token !== usedToken || (await refreshSession());
    if (renewed) res = await attempt();
    if (res.status === 401) {
      const err = await errorFrom(res);
      clearSession();
      if (opts.redirectOnAuthLoss !== false) onAuthLost();
      throw new ApiError(401, err.code, "Your session has ended. Please sign in again.");
    }
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return /** @type {T} */ (undefined);
  return /** @type {Promise<T>} */ (res.json());
}

// ---- Auth ----

/**
 * Signs in and stores the session.
 * @param {string} email
 * @param {string} password
 * @returns {Promise<Session>}
 */
export function login(email, password) {
  const device = { name: `Dashboard (${browserName(navigator.userAgent)})`, platform: "web" };
  return postSession("/v1/auth/login", { email, password, device });
}

/** Revokes this device's tokens (best effort) and forgets the session. */
export async function logout() {
  if (getSession()) {
    try {
      await request("/v1/auth/logout", { method: "POST", redirectOnAuthLoss: false });
    } catch {
      // Signed out locally either way.
    }
  }
  clearSession();
}

/**
 * @param {AbortSignal} [signal]
 * @returns {Promise<Me>}
 */
export function getMe(signal) {
  return request("/v1/me", { signal });
}

// ---- Dashboard ----

/**
 * @param {Record<string, string | number | boolean | null | undefined>} params
 * @returns {string} "?a=1&b=2", or "" when every value is empty.
 */
export function queryString(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * @param {{days: number, teamId?: string}} opts
 * @param {AbortSignal} [signal]
 * @returns {Promise<TeamDashboard>}
 */
export function getTeamDashboard(opts, signal) {
  return request(`/v1/dashboard/team${queryString({ days: opts.days, team_id: opts.teamId })}`, { signal });
}

/**
 * @param {string} repId
 * @param {number} days
 * @param {AbortSignal} [signal]
 * @returns {Promise<RepDashboard>}
 */
export function getRepDashboard(repId, days, signal) {
  return request(`/v1/dashboard/reps/${encodeURIComponent(repId)}${queryString({ days })}`, { signal });
}

/**
 * @param {CallFilters} filters
 * @param {AbortSignal} [signal]
 * @returns {Promise<CallsPage>}
 */
export function listCalls(filters, signal) {
  return request(`/v1/dashboard/calls${queryString({ ...filters })}`, { signal });
}

/**
 * @param {string} callId
 * @param {AbortSignal} [signal]
 * @returns {Promise<CallDetail>}
 */
export function getCall(callId, signal) {
  return request(`/v1/dashboard/calls/${encodeURIComponent(callId)}`, { signal });
}

/**
 * @param {string} callId
 * @param {string} body
 * @returns {Promise<Review>}
 */
export function addReview(callId, body) {
  return request(`/v1/dashboard/calls/${encodeURIComponent(callId)}/reviews`, { method: "POST", body: { body } });
}

// ---- Running the organisation ----

/** @typedef {{user_id: string, name: string, email: string, role: Role, manages: boolean}} TeamMember */
/** @typedef {{id: string, name: string, members: TeamMember[]}} Team */

/**
 * @typedef {object} PendingInvitation
 * @property {string} id
 * @property {string} email
 * @property {Role} role
 * @property {string | null} team_id
 * @property {string | null} created_by The inviter's name.
 * @property {string} expires_at
 */

/** @typedef {{token: string, email: string, role: Role, expires_at: string}} NewInvitation */
/** @typedef {"upload" | "keep_on_device"} RecordingPolicy */

/**
 * Teams with their members (admins: all of them; managers: their own).
 * @param {AbortSignal} [signal]
 * @returns {Promise<Team[]>}
 */
export function listTeams(signal) {
  return request("/v1/teams", { signal });
}

/**
 * Invitations neither used nor expired that the caller may see.
 * @param {AbortSignal} [signal]
 * @returns {Promise<PendingInvitation[]>}
 */
export function listInvitations(signal) {
  return request("/v1/invitations", { signal });
}

/**
 * @param {{email: string, role: Role, team_id: string | null}} invitation
 * @returns {Promise<NewInvitation>}
 */
export function invite(invitation) {
  return request("/v1/invitations", { method: "POST", body: invitation });
}

/**
 * @param {string} id
 * @returns {Promise<void>}
 */
export function revokeInvitation(id) {
  return request(`/v1/invitations/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/**
 * @param {AbortSignal} [signal]
 * @returns {Promise<{recording_policy: RecordingPolicy}>}
 */
export function getOrgSettings(signal) {
  return request("/v1/org/settings", { signal });
}

/**
 * @param {RecordingPolicy} policy
 * @returns {Promise<{recording_policy: RecordingPolicy}>}
 */
export function setRecordingPolicy(policy) {
  return request("/v1/org/settings", { method: "PUT", body: { recording_policy: policy } });
}

/**
 * @typedef {object} OrgUser Someone in the organisation, as admins see them.
 * @property {string} id
 * @property {string} name
 * @property {string} email
 * @property {Role} role
 * @property {boolean} active
 * @property {number} created_at When they joined, ms since the epoch.
 * @property {{id: string, name: string, manages: boolean}[]} teams
 */

/**
 * Admin: everyone in the organisation, active first, then by name.
 * @param {AbortSignal} [signal]
 * @returns {Promise<OrgUser[]>}
 */
export function listUsers(signal) {
  return request("/v1/users", { signal });
}

/**
 * Admin: a new team (409 `team_exists` when the name is taken).
 * @param {string} name
 * @returns {Promise<Team>}
 */
export function createTeam(name) {
  return request("/v1/teams", { method: "POST", body: { name } });
}

/**
 * Admin: puts `userId` in `teamId`, or changes whether they manage it.
 * @param {string} teamId
 * @param {string} userId
 * @param {boolean} manages
 * @returns {Promise<void>}
 */
export function setMembership(teamId, userId, manages) {
  return request(`/v1/teams/${encodeURIComponent(teamId)}/members/${encodeURIComponent(userId)}`, {
    method: "PUT",
    body: { manages },
  });
}

/**
 * Admin: takes `userId` out of `teamId`; its managers stop seeing their calls.
 * @param {string} teamId
 * @param {string} userId
 * @returns {Promise<void>}
 */
export function removeMember(teamId, userId) {
  return request(`/v1/teams/${encodeURIComponent(teamId)}/members/${encodeURIComponent(userId)}`, { method: "DELETE" });
}

/**
 * Admin: signs `userId` out everywhere and stops them signing in; their data stays.
 * @param {string} userId
 * @returns {Promise<void>}
 */
export function deactivateUser(userId) {
  return request(`/v1/users/${encodeURIComponent(userId)}/deactivate`, { method: "POST", body: {} });
}

/**
 * Admin: lets a deactivated person sign in again (their old sessions stay ended).
 * @param {string} userId
 * @returns {Promise<void>}
 */
export function reactivateUser(userId) {
  return request(`/v1/users/${encodeURIComponent(userId)}/reactivate`, { method: "POST", body: {} });
}
