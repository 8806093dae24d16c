// The earnings chart: cumulative points over time, an inline SVG drawn here
// (no library). Times are the blocks' times (estimated from block heights
// only when the node no longer keeps the block: views/uses.ts useTime).

import { s } from "./dom.js";
import { formatDate, formatDateTime } from "./format.js";

export interface Point {
  time: number;
  total: number;
}

/** Cumulative totals from (time, amount) pairs, oldest first. */
export function cumulative(items: { time: number; amount: number }[]): Point[] {
  let total = 0;
  return [...items].sort((a, b) => a.time - b.time).map((i) => ({ time: i.time, total: (total += i.amount) }));
}

export function earningsChart(points: Point[], label: string, now: number): SVGElement {
  const W = 640;
  const H = 240;
  const L = 48;
  const B = 28;
  const T = 12;
  const R = 12;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" });
  svg.append(s("title", {}, label));
  const pts = points.length ? [{ time: points[0]!.time, total: 0 }, ...points, { time: Math.max(now, points[points.length - 1]!.time), total: points[points.length - 1]!.total }] : [];
  const t0 = pts.length ? pts[0]!.time : now - 86_400_000;
  const t1 = pts.length ? Math.max(pts[pts.length - 1]!.time, t0 + 60_000) : now;
  const max = Math.max(1, ...pts.map((p) => p.total));
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v: number) => H - B - (v / max) * (H - B - T);
  // Axes and grid.
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    svg.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, String(v)));
  }
  // Short spans show the time of day too.
  const when = t1 - t0 < 2 * 86_400_000 ? formatDateTime : formatDate;
  svg.append(s("text", { x: L, y: H - 8, class: "axis" }, when(t0)));
  svg.append(s("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "axis" }, when(t1)));
  if (pts.length) {
    // A step line: the total holds until the next payment.
    let d = `M${x(pts[0]!.time).toFixed(1)},${y(0).toFixed(1)}`;
    for (const p of pts) d += ` H${x(p.time).toFixed(1)} V${y(p.total).toFixed(1)}`;
    const area = `${d} V${y(0).toFixed(1)} Z`;
    svg.append(s("path", { d: area, class: "area" }));
    svg.append(s("path", { d, class: "line" }));
    for (const p of points) svg.append(s("circle", { cx: x(p.time).toFixed(1), cy: y(p.total).toFixed(1), r: 3, class: "dot" }));
  }
  return svg;
}
