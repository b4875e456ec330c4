// Hand-written SVG charts (line, horizontal bar, radar) as pure trees of SVG nodes.
// @ts-check
//
// Each chart function returns an `SvgNode` tree and touches no DOM, so it runs and is
// tested under Node. `renderSvg` turns a tree into real elements in the browser and
// `svgToString` into escaped markup. Colours come from classes styled in style.css.

import { scoreBand } from "./format.js";

/**
 * @typedef {object} SvgNode
 * @property {string} tag
 * @property {Record<string, string | number>} attrs
 * @property {(SvgNode | string)[]} children
 */

/**
 * @typedef {object} LinePoint
 * @property {string} label The x-axis label (a short date).
 * @property {number | null} value 0–100, or null for a gap.
 * @property {string} [title] The point's tooltip; "label: value" when left out.
 * @property {string} [href] Where clicking the point goes.
 */

/**
 * @typedef {object} BarItem
 * @property {string} label
 * @property {number | null} value 0–100, or null for no data.
 * @property {string} [title]
 * @property {string} [href]
 */

/**
 * @typedef {object} RadarAxis
 * @property {string} key
 * @property {string} label
 */

/**
 * @typedef {object} RadarSeries
 * @property {string} name
 * @property {(number | null)[]} values One per axis, 0–100, null for no data.
 */

/** @typedef {{x: number, y: number}} Point */

export const EMPTY_MESSAGE = "No scored calls in this period";
const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * @param {string} tag
 * @param {Record<string, string | number | undefined>} [attrs]
 * @param {(SvgNode | string | null | undefined | false)[]} [children]
 * @returns {SvgNode}
 */
export function node(tag, attrs = {}, children = []) {
  /** @type {Record<string, string | number>} */
  const clean = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v;
  /** @type {(SvgNode | string)[]} */
  const kids = [];
  for (const c of children) if (c) kids.push(c);
  return { tag, attrs: clean, children: kids };
}

/** @param {number} n */
const r2 = (n) => Math.round(n * 100) / 100;

/**
 * The chart's root: a scalable SVG with an accessible name. A chart with links is a
 * "group", so assistive technology can still reach them; otherwise one "img".
 * @param {number} width
 * @param {number} height
 * @param {string} label
 * @param {string} className
 * @param {SvgNode[]} children
 */
function root(width, height, label, className, children) {
  const hasLinks = children.some((c) => findAll(c, "a").length > 0);
  return node(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: hasLinks ? "group" : "img", "aria-label": label, class: `chart ${className}` },
    [node("title", {}, [label]), ...children],
  );
}

/**
 * The chart shown when there is nothing to draw.
 * @param {number} width
 * @param {number} height
 * @param {string} label
 * @param {string} className
 * @param {string} [message]
 */
export function emptyChart(width, height, label, className, message = EMPTY_MESSAGE) {
  return root(width, height, `${label}: ${message}`, `${className} chart-empty`, [
    node("rect", { x: 0.5, y: 0.5, width: width - 1, height: height - 1, rx: 6, class: "empty-frame" }),
    node("text", { x: width / 2, y: height / 2, "text-anchor": "middle", "dominant-baseline": "middle", class: "empty-text" }, [message]),
  ]);
}

/**
 * Wraps `child` in a link when `href` is given.
 * @param {string | undefined} href
 * @param {SvgNode} child
 * @returns {SvgNode}
 */
function linked(href, child) {
  return href ? node("a", { href }, [child]) : child;
}

/**
 * Splits points into runs of consecutive non-null values, for drawing lines with gaps.
 * @template T
 * @param {T[]} items
 * @param {(item: T) => boolean} present
 * @returns {T[][]}
 */
export function runs(items, present) {
  /** @type {T[][]} */
  const out = [];
  /** @type {T[]} */
  let current = [];
  for (const item of items) {
    if (present(item)) current.push(item);
    else if (current.length) {
      out.push(current);
      current = [];
    }
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Which of `n` points get an x-axis label: about `max` evenly spaced ones, always the
 * first and the last.
 * @param {number} n
 * @param {number} max
 * @returns {number[]}
 */
export function labelIndices(n, max) {
  if (n <= 0) return [];
  const every = Math.max(1, Math.ceil(n / max));
  const out = [];
  for (let i = 0; i < n; i += every) out.push(i);
  const last = n - 1;
  if (out[out.length - 1] !== last) {
    // Closer to the previous label than a full step: move that one to the end instead.
    if (out.length > 1 && last - out[out.length - 1] < every) out.pop();
    out.push(last);
  }
  return out;
}

/**
 * A 0–100 line chart: one point per entry, a gap in the line at each null.
 * @param {LinePoint[]} points Oldest first.
 * @param {{label: string, width?: number, height?: number, yLabel?: string, className?: string}} opts
 * @returns {SvgNode}
 */
export function lineChart(points, opts) {
  const width = opts.width ?? 640;
  const height = opts.height ?? 240;
  const className = opts.className ?? "line-chart";
  if (!points.some((p) => p.value != null)) return emptyChart(width, height, opts.label, className);

  const m = { top: 14, right: 16, bottom: 36, left: 52 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const n = points.length;
  /** @param {number} i */
  const xAt = (i) => r2(n === 1 ? m.left + plotW / 2 : m.left + (i * plotW) / (n - 1));
  /** @param {number} v */
  const yAt = (v) => r2(m.top + plotH - (Math.min(100, Math.max(0, v)) / 100) * plotH);

  /** @type {SvgNode[]} */
  const grid = [];
  for (const tick of [0, 25, 50, 75, 100]) {
    const y = yAt(tick);
    grid.push(node("line", { x1: m.left, x2: width - m.right, y1: y, y2: y, class: "grid" }));
    grid.push(node("text", { x: m.left - 8, y, "text-anchor": "end", "dominant-baseline": "middle", class: "tick" }, [String(tick)]));
  }
  const yLabel = opts.yLabel ?? "Score";
  const yMid = m.top + plotH / 2;
  grid.push(node("text", { x: 14, y: yMid, transform: `rotate(-90 14 ${yMid})`, "text-anchor": "middle", class: "axis-label" }, [yLabel]));

  /** @type {SvgNode[]} */
  const xLabels = labelIndices(n, 8).map((i) => {
    const anchor = n === 1 ? "middle" : i === 0 ? "start" : i === n - 1 ? "end" : "middle";
    return node("text", { x: xAt(i), y: height - m.bottom + 18, "text-anchor": anchor, class: "tick" }, [points[i].label]);
  });

  const indexed = points.map((p, i) => ({ ...p, i }));
  const lines = runs(indexed, (p) => p.value != null)
    .filter((run) => run.length > 1)
    .map((run) =>
      node("path", {
        d: run.map((p, k) => `${k === 0 ? "M" : "L"}${xAt(p.i)} ${yAt(/** @type {number} */ (p.value))}`).join(" "),
        class: "series-line",
      }),
    );
  const dots = indexed
    .filter((p) => p.value != null)
    .map((p) => {
      const v = /** @type {number} */ (p.value);
      return linked(
        p.href,
        node("circle", { cx: xAt(p.i), cy: yAt(v), r: 4, class: `point band-${scoreBand(v)}` }, [
          node("title", {}, [p.title ?? `${p.label}: ${Math.round(v * 10) / 10}`]),
        ]),
      );
    });

  return root(width, height, opts.label, className, [
    node("g", { class: "grid-layer" }, grid),
    node("line", { x1: m.left, x2: width - m.right, y1: yAt(0), y2: yAt(0), class: "axis" }),
    node("g", { class: "x-labels" }, xLabels),
    node("g", { class: "lines" }, lines),
    node("g", { class: "points" }, dots),
  ]);
}

/**
 * A horizontal 0–100 bar chart, one row per item, coloured by score band.
 * @param {BarItem[]} items
 * @param {{label: string, width?: number, rowHeight?: number, className?: string}} opts
 * @returns {SvgNode}
 */
export function barChart(items, opts) {
  const width = opts.width ?? 420;
  const rowH = opts.rowHeight ?? 28;
  const className = opts.className ?? "bar-chart";
  if (!items.some((it) => it.value != null)) return emptyChart(width, 120, opts.label, className);

  const m = { top: 8, right: 44, bottom: 24, left: 150 };
  const plotW = width - m.left - m.right;
  const height = m.top + items.length * rowH + m.bottom;
  /** @param {number} v */
  const wOf = (v) => r2((Math.min(100, Math.max(0, v)) / 100) * plotW);

  /** @type {SvgNode[]} */
  const grid = [];
  for (const tick of [0, 50, 100]) {
    const x = m.left + wOf(tick);
    grid.push(node("line", { x1: x, x2: x, y1: m.top, y2: height - m.bottom, class: "grid" }));
    grid.push(node("text", { x, y: height - m.bottom + 16, "text-anchor": "middle", class: "tick" }, [String(tick)]));
  }

  const rows = items.map((it, i) => {
    const y = m.top + i * rowH;
    const mid = r2(y + rowH / 2);
    const name = it.label.length > 17 ? `${it.label.slice(0, 16)}…` : it.label;
    const valueText = it.value == null ? "—" : String(Math.round(it.value * 10) / 10);
    const title = it.title ?? `${it.label}: ${it.value == null ? "no scored calls" : valueText}`;
    return linked(
      it.href,
      node("g", { class: "bar-row" }, [
        node("title", {}, [title]),
        node("text", { x: m.left - 8, y: mid, "text-anchor": "end", "dominant-baseline": "middle", class: "bar-label" }, [name]),
        it.value == null
          ? null
          : node("rect", { x: m.left, y: r2(y + 5), width: wOf(it.value), height: rowH - 10, rx: 3, class: `bar band-${scoreBand(it.value)}` }),
        node("text", { x: m.left + (it.value == null ? 0 : wOf(it.value)) + 6, y: mid, "dominant-baseline": "middle", class: "bar-value" }, [valueText]),
      ]),
    );
  });

  return root(width, height, opts.label, className, [node("g", { class: "grid-layer" }, grid), ...rows]);
}

/**
 * The point `dist` away from the centre along axis `i` of `n`: the first axis points
 * straight up, the rest follow clockwise.
 * @param {number} i
 * @param {number} n
 * @param {number} dist
 * @param {{cx: number, cy: number}} geo
 * @returns {Point}
 */
function polar(i, n, dist, geo) {
  const angle = -Math.PI / 2 + (i * 2 * Math.PI) / n;
  return { x: r2(geo.cx + dist * Math.cos(angle)), y: r2(geo.cy + dist * Math.sin(angle)) };
}

/**
 * Where value `v` (0–100, clamped) sits on axis `i` of `n` in a radar of radius `r`.
 * @param {number} i
 * @param {number} n
 * @param {number} v
 * @param {{cx: number, cy: number, r: number}} geo
 * @returns {Point}
 */
export function radarPoint(i, n, v, geo) {
  return polar(i, n, (Math.min(100, Math.max(0, v)) / 100) * geo.r, geo);
}

/** @param {Point[]} pts */
const pointList = (pts) => pts.map((p) => `${p.x},${p.y}`).join(" ");

/**
 * A radar (spider) chart: one axis per skill, one shape per series, with a legend.
 * A series with every value is a closed polygon; one with nulls is drawn as open lines
 * that leave a gap at each missing axis; one with no values is left out (the legend
 * says so).
 * @param {RadarAxis[]} axes
 * @param {RadarSeries[]} series Drawn in order; the first is the main one.
 * @param {{label: string, size?: number}} opts
 * @returns {SvgNode}
 */
export function radarChart(axes, series, opts) {
  const width = opts.size ?? 420;
  const n = axes.length;
  const r = width * 0.34;
  const cy = r + 30;
  // The lowest vertex, so the legend sits just under the shape and its labels.
  const lowest = Math.max(...axes.map((_, i) => Math.cos((i * 2 * Math.PI) / n)).map((c) => -c));
  const legendY = r2(cy + lowest * r + 44);
  const height = Math.ceil(legendY + 16);
  const className = "radar-chart";
  const hasData = series.some((s) => s.values.some((v) => v != null));
  if (n < 3 || !hasData) return emptyChart(width, height, opts.label, className);

  const geo = { cx: width / 2, cy, r };

  /** @type {SvgNode[]} */
  const grid = [];
  for (const level of [20, 40, 60, 80, 100]) {
    const ring = axes.map((_, i) => radarPoint(i, n, level, geo));
    grid.push(node("polygon", { points: pointList(ring), class: level === 100 ? "grid outer" : "grid" }));
  }
  axes.forEach((axis, i) => {
    const end = radarPoint(i, n, 100, geo);
    grid.push(node("line", { x1: geo.cx, y1: geo.cy, x2: end.x, y2: end.y, class: "grid" }));
    const at = polar(i, n, geo.r + 14, geo);
    const dx = at.x - geo.cx;
    const anchor = Math.abs(dx) < 1 ? "middle" : dx > 0 ? "start" : "end";
    grid.push(node("text", { x: at.x, y: at.y, "text-anchor": anchor, "dominant-baseline": "middle", class: "axis-label" }, [axis.label]));
  });
  for (const level of [50, 100]) {
    const p = radarPoint(0, n, level, geo);
    grid.push(node("text", { x: p.x + 4, y: p.y + 10, class: "tick" }, [String(level)]));
  }

  const shapes = series.map((s, si) => {
    const pts = axes.map((_, i) => {
      const v = s.values[i];
      return v == null ? null : { ...radarPoint(i, n, v, geo), v, i };
    });
    const present = /** @type {(Point & {v: number, i: number})[]} */ (pts.filter((p) => p != null));
    /** @type {SvgNode[]} */
    const parts = [];
    if (present.length === n) {
      parts.push(node("polygon", { points: pointList(present), class: "series-shape" }));
    } else if (present.length > 0) {
      // Rotate so a run never straddles the start, then draw each run of present axes.
      const firstGap = pts.findIndex((p) => p == null);
      const rotated = [...pts.slice(firstGap), ...pts.slice(0, firstGap)];
      for (const run of runs(rotated, (p) => p != null)) {
        if (run.length < 2) continue;
        parts.push(node("polyline", { points: pointList(/** @type {Point[]} */ (run)), class: "series-line" }));
      }
    }
    for (const p of present) {
      parts.push(
        node("circle", { cx: p.x, cy: p.y, r: 3.5, class: "point" }, [
          node("title", {}, [`${s.name} — ${axes[p.i].label}: ${Math.round(p.v * 10) / 10}`]),
        ]),
      );
    }
    return node("g", { class: `series series-${si}` }, parts);
  });

  const itemW = width / series.length;
  const legend = series.map((s, si) => {
    const x = r2(si * itemW + itemW / 2 - 60);
    const empty = !s.values.some((v) => v != null);
    return node("g", { class: `legend-item series-${si}` }, [
      node("rect", { x, y: legendY - 6, width: 12, height: 12, rx: 2, class: "swatch" }),
      node("text", { x: x + 18, y: legendY, "dominant-baseline": "middle", class: "legend-text" }, [
        empty ? `${s.name} (no data)` : s.name,
      ]),
    ]);
  });

  return root(width, height, opts.label, className, [
    node("g", { class: "grid-layer" }, grid),
    ...shapes,
    node("g", { class: "legend" }, legend),
  ]);
}

/**
 * @param {string} text
 * @returns {string}
 */
function escapeXml(text) {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Markup for a chart, every text and attribute escaped.
 * @param {SvgNode | string} tree
 * @returns {string}
 */
export function svgToString(tree) {
  if (typeof tree === "string") return escapeXml(tree);
  const attrs = Object.entries(tree.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join("");
  const ns = tree.tag === "svg" ? ` xmlns="${SVG_NS}"` : "";
  return `<${tree.tag}${ns}${attrs}>${tree.children.map(svgToString).join("")}</${tree.tag}>`;
}

/**
 * Builds real SVG elements for a chart (browser only; called, never at import).
 * @param {SvgNode} tree
 * @param {Document} [doc]
 * @returns {SVGElement}
 */
export function renderSvg(tree, doc = document) {
  const el = /** @type {SVGElement} */ (doc.createElementNS(SVG_NS, tree.tag));
  for (const [k, v] of Object.entries(tree.attrs)) el.setAttribute(k, String(v));
  for (const child of tree.children) {
    el.appendChild(typeof child === "string" ? doc.createTextNode(child) : renderSvg(child, doc));
  }
  return el;
}

/**
 * Every node of `tree` with tag `tag`, depth first (for tests and lookups).
 * @param {SvgNode} tree
 * @param {string} tag
 * @returns {SvgNode[]}
 */
export function findAll(tree, tag) {
  /** @type {SvgNode[]} */
  const out = [];
  /** @param {SvgNode} n */
  const walk = (n) => {
    if (n.tag === tag) out.push(n);
    for (const c of n.children) if (typeof c !== "string") walk(c);
  };
  walk(tree);
  return out;
}

/**
 * All the text in `tree`, joined with spaces.
 * @param {SvgNode | string} tree
 * @returns {string}
 */
export function textOf(tree) {
  if (typeof tree === "string") return tree;
  return tree.children.map(textOf).filter(Boolean).join(" ");
}
