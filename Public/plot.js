// Eckart dashboard: the small plotting kit behind every chart. SVG elements, linear and log scales,
// round ticks, and a frame (grid, axes, tick labels, axis titles) sized to its container.
import { fmt, fmtLogTick } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children. */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

export function linearScale([d0, d1], [r0, r1]) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

export function logScale([d0, d1], range) {
  const inner = linearScale([Math.log10(d0), Math.log10(d1)], range);
  return (v) => inner(Math.log10(Math.max(v, d0)));
}

/** About `count` round ticks (1, 2, 5 × 10ᵏ steps) covering [min, max]. */
export function niceTicks(min, max, count = 5, integer = false) {
  const span = max - min || Math.abs(max) || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const e = raw / magnitude;
  let step = (e >= 7.5 ? 10 : e >= 3.5 ? 5 : e >= 1.5 ? 2 : 1) * magnitude;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(12)));
  return ticks;
}

/** Ticks of a log axis: decades, with 2 and 5 between them over few decades, or round linear
 *  steps when the axis spans less than a decade. */
export function logTicks(min, max) {
  const lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
  const decades = hi - lo;
  const every = Math.max(1, Math.ceil(decades / 6));
  const mantissas = decades <= 2 ? [1, 2, 5] : [1];
  const ticks = [];
  for (let e = lo; e <= hi; e += 1) {
    if ((e - lo) % every !== 0) continue;
    for (const m of mantissas) {
      const v = m * 10 ** e;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks.length >= 3 ? ticks : niceTicks(min, max, 5).filter((v) => v > 0);
}

/**
 * A plot frame sized to its container: grid, axes with ticks and labels. Returns the SVG, the group
 * to draw into and the two scales. `x`/`y`: {domain, log?, integer?, label, format?}.
 */
export function frame(container, { x, y, label, marginRight = 18, marginTop = 14 }) {
  const width = Math.max(300, Math.round(container.clientWidth || 520));
  const height = Math.round(Math.min(340, Math.max(230, width * 0.6)));
  const m = { top: marginTop, right: marginRight, bottom: 46, left: 64 };
  const xs = (x.log ? logScale : linearScale)(x.domain, [m.left, width - m.right]);
  const ys = (y.log ? logScale : linearScale)(y.domain, [height - m.bottom, m.top]);
  const xTicks = x.ticks || (x.log ? logTicks(...x.domain) : niceTicks(...x.domain, Math.max(3, Math.floor(width / 90)), x.integer));
  const yTicks = y.ticks || (y.log ? logTicks(...y.domain) : niceTicks(...y.domain, 5, y.integer));
  const xFormat = x.format || (x.log ? fmtLogTick : fmt);
  const yFormat = y.format || (y.log ? fmtLogTick : fmt);

  const svg = s("svg", {
    class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": label,
  });
  svg.append(s("title", { text: label }));
  const grid = s("g", { class: "grid", "aria-hidden": "true" });
  const axes = s("g", { class: "axes", "aria-hidden": "true" });
  for (const t of yTicks) {
    const py = ys(t);
    grid.append(s("line", { x1: m.left, x2: width - m.right, y1: py, y2: py }));
    axes.append(s("line", { class: "tick", x1: m.left - 5, x2: m.left, y1: py, y2: py }));
    axes.append(s("text", { class: "tick-label", x: m.left - 8, y: py, "text-anchor": "end", "dominant-baseline": "middle", text: yFormat(t) }));
  }
  for (const t of xTicks) {
    const px = xs(t);
    grid.append(s("line", { x1: px, x2: px, y1: m.top, y2: height - m.bottom }));
    axes.append(s("line", { class: "tick", x1: px, x2: px, y1: height - m.bottom, y2: height - m.bottom + 5 }));
    axes.append(s("text", { class: "tick-label", x: px, y: height - m.bottom + 18, "text-anchor": "middle", text: xFormat(t) }));
  }
  axes.append(s("line", { class: "axis", x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom }));
  axes.append(s("line", { class: "axis", x1: m.left, x2: m.left, y1: m.top, y2: height - m.bottom }));
  axes.append(s("text", { class: "axis-label", x: (m.left + width - m.right) / 2, y: height - 8, "text-anchor": "middle", text: x.label }));
  axes.append(s("text", {
    class: "axis-label", transform: `translate(16 ${(m.top + height - m.bottom) / 2}) rotate(-90)`, "text-anchor": "middle", text: y.label,
  }));
  const plot = s("g", { class: "marks" });
  svg.append(grid, axes, plot);
  container.replaceChildren(svg);
  return { svg, plot, x: xs, y: ys, width, height, m };
}

export function polyline(points, attrs) {
  return s("polyline", { points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "), fill: "none", ...attrs });
}
