// Pure formatting helpers: durations, dates, scores and their colour bands, labels.
// @ts-check

/** @typedef {"good" | "fair" | "low" | "none"} ScoreBand */

/**
 * A call's length: 45 → "45s", 312 → "5m 12s", 3720 → "1h 2m".
 * @param {number | null | undefined} secs
 * @returns {string}
 */
export function formatDuration(secs) {
  if (secs == null || !Number.isFinite(secs) || secs < 0) return "—";
  const total = Math.round(secs);
  if (total < 60) return `${total}s`;
  if (total < 3600) {
    const m = Math.floor(total / 60);
    const s = total % 60;
    return s === 0 ? `${m}m` : `${m}m ${s}s`;
  }
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}

/**
 * A talk-time total in hours: 31200 → "8.7 h", 250000 → "69 h"; under an hour in
 * minutes: 1500 → "25 min".
 * @param {number | null | undefined} secs
 * @returns {string}
 */
export function formatHours(secs) {
  if (secs == null || !Number.isFinite(secs) || secs < 0) return "—";
  if (secs < 3600) return `${Math.round(secs / 60)} min`;
  const hours = secs / 3600;
  return hours >= 100 ? `${Math.round(hours)} h` : `${hours.toFixed(1)} h`;
}

/**
 * A position in a recording: 1200 → "0:01", 65000 → "1:05", 3723000 → "1:02:03".
 * @param {number} ms
 * @returns {string}
 */
export function formatClock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * @typedef {object} DateOptions
 * @property {string} [locale] BCP 47 locale; the browser's when left out.
 * @property {string} [timeZone] IANA zone; the browser's when left out.
 */

/**
 * @param {string | null | undefined} iso
 * @returns {Date | null}
 */
function parseDate(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * A day: "2026-11-20T15:04:00Z" → "Nov 20, 2026".
 * @param {string | null | undefined} iso
 * @param {DateOptions} [opts]
 * @returns {string}
 */
export function formatDate(iso, opts = {}) {
  const d = parseDate(iso);
  if (!d) return "—";
  return d.toLocaleDateString(opts.locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: opts.timeZone,
  });
}

/**
 * A moment: "2026-11-20T15:04:00Z" → "Nov 20, 2026, 3:04 PM".
 * @param {string | null | undefined} iso
 * @param {DateOptions} [opts]
 * @returns {string}
 */
export function formatDateTime(iso, opts = {}) {
  const d = parseDate(iso);
  if (!d) return "—";
  return d.toLocaleString(opts.locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone: opts.timeZone,
  });
}

/**
 * A short day label for chart axes: "2026-10-19" or a full timestamp → "Oct 19".
 * Plain dates (weeks) are read as calendar days, so no time zone can shift them.
 * @param {string} isoOrDay
 * @param {DateOptions} [opts]
 * @returns {string}
 */
export function formatShortDay(isoOrDay, opts = {}) {
  const plainDay = /^\d{4}-\d{2}-\d{2}$/.test(isoOrDay);
  const d = parseDate(plainDay ? `${isoOrDay}T00:00:00Z` : isoOrDay);
  if (!d) return "—";
  return d.toLocaleDateString(opts.locale, {
    month: "short",
    day: "numeric",
    timeZone: plainDay ? "UTC" : opts.timeZone,
  });
}

/**
 * The start of a local calendar day as an RFC 3339 instant, for `from=` filters;
 * null for anything that is not "YYYY-MM-DD".
 * @param {string} day
 * @returns {string | null}
 */
export function dayStartIso(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * The end of a local calendar day (the next day's start) as an RFC 3339 instant, for
 * `to=` filters, so that "to Nov 20" includes the calls of Nov 20.
 * @param {string} day
 * @returns {string | null}
 */
export function dayEndIso(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * The colour band of a 0–100 score: ≥80 good, ≥60 fair, else low; "none" without one.
 * @param {number | null | undefined} score
 * @returns {ScoreBand}
 */
export function scoreBand(score) {
  if (score == null || !Number.isFinite(score)) return "none";
  if (score >= 80) return "good";
  if (score >= 60) return "fair";
  return "low";
}

/**
 * A score or an average: 81 → "81", 71.53 → "71.5", 68.04 → "68", null → "—".
 * @param {number | null | undefined} score
 * @returns {string}
 */
export function formatScore(score) {
  if (score == null || !Number.isFinite(score)) return "—";
  const rounded = Math.round(score * 10) / 10;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
}

/**
 * A change in score: 4.5 → "+4.5", -2 → "−2", 0 → "0", null → "—".
 * @param {number | null | undefined} delta
 * @returns {string}
 */
export function formatDelta(delta) {
  if (delta == null || !Number.isFinite(delta)) return "—";
  const text = formatScore(Math.abs(delta));
  if (text === "0") return "0";
  return delta > 0 ? `+${text}` : `−${text}`;
}

/**
 * Who spoke on a transcript channel.
 * @param {string} channel
 * @returns {string}
 */
export function channelLabel(channel) {
  if (channel === "mic") return "Rep";
  if (channel === "far_end") return "Contact";
  return "Unknown";
}

/**
 * @param {string} direction
 * @returns {string}
 */
export function directionLabel(direction) {
  if (direction === "inbound") return "Inbound";
  if (direction === "outbound") return "Outbound";
  return direction ? humanize(direction) : "—";
}

/**
 * An identifier made readable: "asks-questions" → "Asks questions",
 * "not_uploaded" → "Not uploaded".
 * @param {string} id
 * @returns {string}
 */
export function humanize(id) {
  const words = id.replace(/[-_]+/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : "";
}

/**
 * A rubric check's credit (0–1) in words.
 * @param {number} credit
 * @returns {string}
 */
export function creditLabel(credit) {
  if (credit >= 1) return "Met";
  if (credit <= 0) return "Missed";
  return `Partly met (${Math.round(credit * 100)}%)`;
}

/**
 * A share as a 0–100 percentage, clamped; 0 when max is not positive.
 * @param {number} value
 * @param {number} max
 * @returns {number}
 */
export function percentOf(value, max) {
  if (!(max > 0) || !Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, (value / max) * 100));
}

/**
 * The browser's name from a user-agent string, for naming the device at login.
 * @param {string} userAgent
 * @returns {string}
 */
export function browserName(userAgent) {
  if (/Edg\//.test(userAgent)) return "Edge";
  if (/OPR\//.test(userAgent)) return "Opera";
  if (/Firefox\//.test(userAgent)) return "Firefox";
  if (/(Chrome|Chromium|HeadlessChrome)\//.test(userAgent)) return "Chrome";
  if (/Safari\//.test(userAgent)) return "Safari";
  return "Browser";
}
