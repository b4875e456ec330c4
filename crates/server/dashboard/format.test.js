// Tests of the formatting helpers (node --test crates/server/dashboard/).
// @ts-check

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  browserName,
  channelLabel,
  creditLabel,
  dayEndIso,
  dayStartIso,
  formatClock,
  formatDate,
  formatDateTime,
  formatDelta,
  formatDuration,
  formatHours,
  formatScore,
  formatShortDay,
  humanize,
  percentOf,
  scoreBand,
} from "./format.js";

test("durations read as minutes and seconds", () => {
  assert.equal(formatDuration(312), "5m 12s");
  assert.equal(formatDuration(45), "45s");
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(300), "5m");
  assert.equal(formatDuration(3720), "1h 2m");
  assert.equal(formatDuration(7200), "2h");
  assert.equal(formatDuration(59.6), "1m");
  assert.equal(formatDuration(null), "—");
  assert.equal(formatDuration(-5), "—");
});

test("talk time totals read in hours, short ones in minutes", () => {
  assert.equal(formatHours(31200), "8.7 h");
  assert.equal(formatHours(3600), "1.0 h");
  assert.equal(formatHours(1500), "25 min");
  assert.equal(formatHours(0), "0 min");
  assert.equal(formatHours(360000 + 1800), "101 h");
  assert.equal(formatHours(undefined), "—");
});

test("recording positions read as a clock", () => {
  assert.equal(formatClock(1200), "0:01");
  assert.equal(formatClock(65000), "1:05");
  assert.equal(formatClock(3723000), "1:02:03");
  assert.equal(formatClock(-10), "0:00");
});

test("dates format in the given locale and zone, bad input as a dash", () => {
  const opts = { locale: "en-US", timeZone: "UTC" };
  assert.equal(formatDate("2026-11-20T15:04:00Z", opts), "Nov 20, 2026");
  assert.match(formatDateTime("2026-11-20T15:04:00Z", opts), /^Nov 20, 2026,? 3:04\sPM$/);
  assert.equal(formatDate("not a date", opts), "—");
  assert.equal(formatDate(null, opts), "—");
  assert.equal(formatDateTime(undefined, opts), "—");
});

test("a week's plain date never shifts with the time zone", () => {
  assert.equal(formatShortDay("2026-10-19", { locale: "en-US", timeZone: "Pacific/Honolulu" }), "Oct 19");
  assert.equal(formatShortDay("2026-10-19", { locale: "en-US", timeZone: "Asia/Tokyo" }), "Oct 19");
  assert.equal(formatShortDay("2026-11-20T23:30:00Z", { locale: "en-US", timeZone: "Asia/Tokyo" }), "Nov 21");
});

test("date filters cover whole local days", () => {
  assert.equal(dayStartIso("2026-11-01"), new Date(2026, 10, 1).toISOString());
  assert.equal(dayEndIso("2026-11-01"), new Date(2026, 10, 2).toISOString());
  assert.equal(dayEndIso("2026-12-31"), new Date(2027, 0, 1).toISOString());
  assert.equal(dayStartIso(""), null);
  assert.equal(dayStartIso("11/01/2026"), null);
});

test("score bands: at least 80 good, at least 60 fair, else low", () => {
  assert.equal(scoreBand(100), "good");
  assert.equal(scoreBand(80), "good");
  assert.equal(scoreBand(79.9), "fair");
  assert.equal(scoreBand(60), "fair");
  assert.equal(scoreBand(59.99), "low");
  assert.equal(scoreBand(0), "low");
  assert.equal(scoreBand(null), "none");
  assert.equal(scoreBand(Number.NaN), "none");
});

test("scores and deltas keep at most one decimal", () => {
  assert.equal(formatScore(81), "81");
  assert.equal(formatScore(71.5), "71.5");
  assert.equal(formatScore(68.04), "68");
  assert.equal(formatScore(null), "—");
  assert.equal(formatDelta(4.5), "+4.5");
  assert.equal(formatDelta(-2), "−2");
  assert.equal(formatDelta(0.01), "0");
  assert.equal(formatDelta(null), "—");
});

test("channels name the side of the call", () => {
  assert.equal(channelLabel("mic"), "Rep");
  assert.equal(channelLabel("far_end"), "Contact");
  assert.equal(channelLabel("other"), "Unknown");
});

test("ids, credits and shares read for people", () => {
  assert.equal(humanize("asks-questions"), "Asks questions");
  assert.equal(humanize("not_uploaded"), "Not uploaded");
  assert.equal(creditLabel(1), "Met");
  assert.equal(creditLabel(0), "Missed");
  assert.equal(creditLabel(0.5), "Partly met (50%)");
  assert.equal(percentOf(8, 10), 80);
  assert.equal(percentOf(12, 10), 100);
  assert.equal(percentOf(5, 0), 0);
});

test("the device is named after the browser", () => {
  const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
  const edge = `${chrome} Edg/130.0`;
  const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";
  const safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
  assert.equal(browserName(chrome), "Chrome");
  assert.equal(browserName(edge), "Edge");
  assert.equal(browserName(firefox), "Firefox");
  assert.equal(browserName(safari), "Safari");
  assert.equal(browserName("curl/8"), "Browser");
});
