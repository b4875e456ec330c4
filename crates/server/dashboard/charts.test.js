// Tests of the SVG charts' geometry, gaps and empty states (node --test crates/server/dashboard/).
// @ts-check

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  EMPTY_MESSAGE,
  barChart,
  findAll,
  labelIndices,
  lineChart,
  radarChart,
  radarPoint,
  runs,
  svgToString,
  textOf,
} from "./charts.js";

/** @typedef {import("./charts.js").SvgNode} SvgNode */

const AXES = [
  { key: "discovery", label: "Discovery" },
  { key: "rapport", label: "Rapport" },
  { key: "objection_handling", label: "Objection handling" },
  { key: "closing", label: "Closing" },
  { key: "next_steps", label: "Next steps" },
];

/**
 * "1,2 3,4" → [{x: 1, y: 2}, {x: 3, y: 4}]
 * @param {SvgNode} n
 */
function points(n) {
  return String(n.attrs.points)
    .split(" ")
    .map((pair) => {
      const [x, y] = pair.split(",").map(Number);
      return { x, y };
    });
}

/**
 * The radar's centre and the tip of each spoke (where 100 sits), read off the grid lines.
 * @param {SvgNode} chart
 */
function spokes(chart) {
  const lines = findAll(chart, "line");
  assert.equal(lines.length, 5, "one spoke per axis");
  const centre = { x: Number(lines[0].attrs.x1), y: Number(lines[0].attrs.y1) };
  return { centre, tips: lines.map((l) => ({ x: Number(l.attrs.x2), y: Number(l.attrs.y2) })) };
}

/**
 * @param {{x: number, y: number}} a
 * @param {{x: number, y: number}} b
 */
function near(a, b, tolerance = 0.02) {
  assert.ok(Math.abs(a.x - b.x) <= tolerance && Math.abs(a.y - b.y) <= tolerance, `${JSON.stringify(a)} ≈ ${JSON.stringify(b)}`);
}

/**
 * A series' group in the radar (class "series series-<i>").
 * @param {SvgNode} chart
 * @param {number} i
 */
function seriesGroup(chart, i) {
  const g = findAll(chart, "g").find((n) => n.attrs.class === `series series-${i}`);
  assert.ok(g, `series ${i} is drawn`);
  return g;
}

test("radar: a full series is a five-point polygon at the scores' positions", () => {
  const chart = radarChart(AXES, [{ name: "Dana", values: [100, 50, 0, 100, 25] }], { label: "Skills" });
  const { centre, tips } = spokes(chart);
  const polygons = findAll(seriesGroup(chart, 0), "polygon");
  assert.equal(polygons.length, 1);
  const pts = points(polygons[0]);
  assert.equal(pts.length, 5);

  near(pts[0], tips[0]); // 100 → the tip of the spoke
  assert.ok(pts[0].y < centre.y && Math.abs(pts[0].x - centre.x) < 0.01, "the first axis points straight up");
  near(pts[1], { x: (centre.x + tips[1].x) / 2, y: (centre.y + tips[1].y) / 2 }); // 50 → halfway
  near(pts[2], centre); // 0 → the centre
  near(pts[3], tips[3]);
  near(pts[4], { x: centre.x + (tips[4].x - centre.x) / 4, y: centre.y + (tips[4].y - centre.y) / 4 });
  assert.ok(tips[1].x > centre.x && tips[4].x < centre.x, "axes go clockwise");
});

test("radar: rep and team are two shapes with a legend naming both", () => {
  const chart = radarChart(
    AXES,
    [
      { name: "Dana", values: [70, 60, 50, 40, 30] },
      { name: "Team average", values: [60, 60, 60, 60, 60] },
    ],
    { label: "Skills" },
  );
  assert.equal(findAll(seriesGroup(chart, 0), "polygon").length, 1);
  assert.equal(findAll(seriesGroup(chart, 1), "polygon").length, 1);
  const legend = findAll(chart, "g").find((n) => n.attrs.class === "legend");
  assert.ok(legend);
  assert.match(textOf(legend), /Dana/);
  assert.match(textOf(legend), /Team average/);
  for (const label of ["Discovery", "Objection handling", "Next steps"]) assert.match(textOf(chart), new RegExp(label));
});

test("radar: a null skill leaves a gap instead of closing the shape", () => {
  const chart = radarChart(AXES, [{ name: "Dana", values: [80, 80, null, 80, 80] }], { label: "Skills" });
  const g = seriesGroup(chart, 0);
  assert.equal(findAll(g, "polygon").length, 0, "no closed polygon");
  const lines = findAll(g, "polyline");
  assert.equal(lines.length, 1, "one open line around the gap");
  assert.equal(points(lines[0]).length, 4);
  assert.equal(findAll(g, "circle").length, 4, "a marker per known skill");

  const { centre, tips } = spokes(chart);
  const missing = { x: centre.x + (tips[2].x - centre.x) * 0.8, y: centre.y + (tips[2].y - centre.y) * 0.8 };
  for (const p of points(lines[0])) assert.ok(Math.hypot(p.x - missing.x, p.y - missing.y) > 1, "nothing drawn on the null axis");
  // The line runs from the axis after the gap round to the one before it.
  near(points(lines[0])[0], { x: centre.x + (tips[3].x - centre.x) * 0.8, y: centre.y + (tips[3].y - centre.y) * 0.8 });
});

test("radar: a series with no data is left out and says so; all empty shows the message", () => {
  const chart = radarChart(
    AXES,
    [
      { name: "Dana", values: [50, 50, 50, 50, 50] },
      { name: "Team average", values: [null, null, null, null, null] },
    ],
    { label: "Skills" },
  );
  assert.equal(findAll(seriesGroup(chart, 1), "polygon").length + findAll(seriesGroup(chart, 1), "polyline").length, 0);
  assert.match(textOf(chart), /Team average \(no data\)/);

  const empty = radarChart(AXES, [{ name: "Dana", values: [null, null, null, null, null] }], { label: "Skills" });
  assert.match(textOf(empty), new RegExp(EMPTY_MESSAGE));
  assert.equal(findAll(empty, "polygon").length, 0);
});

test("radarPoint clamps scores to 0–100", () => {
  const geo = { cx: 100, cy: 100, r: 50 };
  assert.deepEqual(radarPoint(0, 5, 150, geo), radarPoint(0, 5, 100, geo));
  assert.deepEqual(radarPoint(0, 5, 100, geo), { x: 100, y: 50 });
  assert.deepEqual(radarPoint(0, 4, -20, geo), { x: 100, y: 100 });
  assert.deepEqual(radarPoint(1, 4, 100, geo), { x: 150, y: 100 });
});

test("line chart: nulls split the line into runs, every known point gets a titled marker", () => {
  const chart = lineChart(
    [
      { label: "Oct 5", value: 60 },
      { label: "Oct 12", value: 65 },
      { label: "Oct 19", value: null },
      { label: "Oct 26", value: 70 },
      { label: "Nov 2", value: 80, title: "Week of Nov 2: 80" },
    ],
    { label: "Trend" },
  );
  const paths = findAll(chart, "path");
  assert.equal(paths.length, 2, "a gap at the null week");
  assert.ok(paths.every((p) => String(p.attrs.d).split("L").length === 2), "each run joins two points");
  const circles = findAll(chart, "circle");
  assert.equal(circles.length, 4);
  assert.equal(textOf(circles[3]), "Week of Nov 2: 80");
  assert.equal(textOf(circles[0]), "Oct 5: 60");
});

test("line chart: higher scores sit higher, points are spread left to right", () => {
  const chart = lineChart(
    [
      { label: "a", value: 0 },
      { label: "b", value: 100 },
      { label: "c", value: 50 },
    ],
    { label: "Trend", width: 600, height: 240 },
  );
  const [zero, hundred, fifty] = findAll(chart, "circle").map((c) => ({ x: Number(c.attrs.cx), y: Number(c.attrs.cy) }));
  assert.ok(hundred.y < fifty.y && fifty.y < zero.y);
  assert.ok(Math.abs(fifty.y - (zero.y + hundred.y) / 2) < 0.02);
  assert.ok(zero.x < hundred.x && hundred.x < fifty.x);
  assert.ok(Math.abs(hundred.x - (zero.x + fifty.x) / 2) < 0.02, "evenly spaced");
  assert.match(textOf(chart), /Score/, "the y axis is labelled");
  for (const tick of ["0", "50", "100"]) assert.ok(findAll(chart, "text").some((t) => textOf(t) === tick));
});

test("line chart: an isolated point between gaps is a marker without a line", () => {
  const chart = lineChart(
    [
      { label: "a", value: null },
      { label: "b", value: 72 },
      { label: "c", value: null },
    ],
    { label: "Trend" },
  );
  assert.equal(findAll(chart, "path").length, 0);
  assert.equal(findAll(chart, "circle").length, 1);
});

test("line chart: no scored points shows the empty message", () => {
  for (const pts of [[], [{ label: "a", value: null }, { label: "b", value: null }]]) {
    const chart = lineChart(pts, { label: "Trend" });
    assert.equal(findAll(chart, "circle").length, 0);
    assert.ok(findAll(chart, "text").some((t) => textOf(t) === EMPTY_MESSAGE));
  }
});

test("line chart: points with a link are wrapped in one", () => {
  const chart = lineChart([{ label: "a", value: 81, href: "#/calls/c1" }], { label: "Trend" });
  const links = findAll(chart, "a");
  assert.equal(links.length, 1);
  assert.equal(links[0].attrs.href, "#/calls/c1");
  assert.equal(chart.attrs.role, "group", "links stay reachable by assistive technology");
  assert.equal(lineChart([{ label: "a", value: 81 }], { label: "Trend" }).attrs.role, "img");
});

test("bar chart: bar lengths are proportional, nulls get a dash and no bar", () => {
  const chart = barChart(
    [
      { label: "Dana", value: 80, href: "#/reps/1" },
      { label: "Eli", value: 40 },
      { label: "Fay", value: null },
    ],
    { label: "Leaderboard" },
  );
  const bars = findAll(chart, "rect");
  assert.equal(bars.length, 2);
  assert.ok(Math.abs(Number(bars[0].attrs.width) - 2 * Number(bars[1].attrs.width)) < 0.02);
  assert.match(String(bars[0].attrs.class), /band-good/);
  assert.match(String(bars[1].attrs.class), /band-low/);
  assert.match(textOf(chart), /Fay/);
  assert.match(textOf(chart), /—/);
  assert.equal(findAll(chart, "a")[0].attrs.href, "#/reps/1");
  assert.match(textOf(barChart([], { label: "Leaderboard" })), new RegExp(EMPTY_MESSAGE));
});

test("axis labels: about the maximum, first and last always shown", () => {
  assert.deepEqual(labelIndices(0, 8), []);
  assert.deepEqual(labelIndices(1, 8), [0]);
  assert.deepEqual(labelIndices(5, 8), [0, 1, 2, 3, 4]);
  const many = labelIndices(30, 8);
  assert.equal(many[0], 0);
  assert.equal(many[many.length - 1], 29);
  assert.ok(many.length <= 9);
  assert.deepEqual(labelIndices(12, 8), [0, 2, 4, 6, 8, 11], "the last label never crowds the one before");
});

test("runs splits on missing items", () => {
  assert.deepEqual(runs([1, null, 2, 3, null, null, 4], (v) => v != null), [[1], [2, 3], [4]]);
  assert.deepEqual(runs([null], (v) => v != null), []);
});

test("markup escapes server text", () => {
  const chart = barChart([{ label: '<script>alert("x")</script>', value: 50 }], { label: "A & B" });
  const svg = svgToString(chart);
  assert.doesNotMatch(svg, /<script>/);
  assert.match(svg, /&lt;script&gt;/);
  assert.match(svg, /aria-label="A &amp; B"/);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});
