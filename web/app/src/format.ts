// Pure formatting of what the ledger gives (integers, ms timestamps, ids) for
// people, in the chosen language. No DOM here: unit-tested under Node.

export type Lang = "en" | "zh-CN";

/** Points with grouping: 1234567 -> "1,234,567". Amounts are integers (or decimal text above 2^53). */
export function formatPoints(n: number | string | bigint, lang: Lang): string {
  let v: bigint;
  try {
    v = BigInt(n);
  } catch {
    return String(n);
  }
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString();
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  void lang; // both languages group by thousands with a comma
  return (neg ? "-" : "") + grouped;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A date and time (local time zone) from Unix ms: "2026-12-04 16:05" in both languages (unambiguous). */
export function formatDateTime(ms: number): string {
  if (!Number.isFinite(ms)) return "";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A date (local) from Unix ms: "2026-12-04". */
export function formatDate(ms: number): string {
  return formatDateTime(ms).slice(0, 10);
}

/** The value an `<input type="datetime-local">` shows for Unix ms. */
export function toDateTimeInput(ms: number): string {
  return formatDateTime(ms).replace(" ", "T");
}

/** Unix ms from an `<input type="datetime-local">` value (local time), or null when empty or invalid. */
export function fromDateTimeInput(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(v.trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

/** A long id shortened for display, the whole id kept for copying: "assent1cjl…e2jx", "1bdbf9ef…4cef". */
export function shortId(id: string): string {
  if (id.startsWith("assent1") && id.length > 16) return `${id.slice(0, 10)}…${id.slice(-4)}`;
  if (id.length > 16) return `${id.slice(0, 8)}…${id.slice(-4)}`;
  return id;
}

/** Basis points as a percentage: 5000 -> "50%", 9950 -> "99.5%". */
export function formatBps(bps: number | null | undefined): string | null {
  if (bps === null || bps === undefined) return null;
  const whole = Math.floor(bps / 100);
  const frac = bps % 100;
  if (frac === 0) return `${whole}%`;
  return `${whole}.${String(frac).padStart(2, "0").replace(/0$/, "")}%`;
}

/** An average score ×100 as "4.25" (of 5). */
export function formatScore(x100: number): string {
  return `${Math.floor(x100 / 100)}.${String(x100 % 100).padStart(2, "0")}`;
}

/** A DPV term written as words: "DirectMarketing" -> "Direct Marketing". */
export function termWords(term: string): string {
  return term.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
}

/**
 * Estimated time of a block height from known (height, time) anchors (block
 * heights and times the ledger reported: consent grants, the head).
 * Linear between the two nearest anchors; beyond them, the slope of the
 * outermost pair; null without two distinct anchors.
 */
export function timeAtHeight(h: number, anchors: { height: number; time: number }[]): number | null {
  const pts = [...new Map(anchors.map((a) => [a.height, a])).values()].sort((a, b) => a.height - b.height);
  if (pts.length === 0) return null;
  if (pts.length === 1) return pts[0]!.height === h ? pts[0]!.time : null;
  let i = pts.findIndex((p) => p.height >= h);
  if (i <= 0) i = i === 0 ? 1 : pts.length - 1;
  const a = pts[i - 1]!;
  const b = pts[i]!;
  const t = a.time + ((h - a.height) * (b.time - a.time)) / (b.height - a.height);
  return Math.round(t);
}

/** When something in a block happened: the block's own time when the node gave it, else an estimate. */
export interface BlockTime {
  time: number | null;
  estimated: boolean;
}

/**
 * The time of a block at `height`: `time` (from its header) when known; an
 * estimate from the anchors (timeAtHeight) only when it is null, i.e. the
 * node no longer keeps that block.
 */
export function blockTime(time: number | null | undefined, height: number, anchors: { height: number; time: number }[]): BlockTime {
  if (time !== null && time !== undefined) return { time, estimated: false };
  return { time: timeAtHeight(height, anchors), estimated: true };
}
