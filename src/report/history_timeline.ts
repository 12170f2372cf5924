/**
 * An invalid client history drawn as a timeline: one row per process, each op a bar from
 * its invocation to its completion, the counterexample's ops outlined and the offending
 * op in red, and the run's faults and phases on the same time axis (a partition as a band
 * from where it came into force to its heal, a crash or a lying disk's flush as a tick, a
 * phase's start as a dashed line). Only the failing key's window is drawn, never the whole
 * history: Porcupine's page of a whole 3,000-op history reached 1.5 GB (its issue #20).
 * Inline SVG, every string escaped; no script. Pure.
 *
 * @module
 */

import type { Counterexample } from "../history/counterexample.ts";
import { formatValue } from "../history/value.ts";
import type { RunHistory, RunHistoryOp } from "../run/history.ts";
import { VERSION } from "../version.ts";
import { escapeMarkup } from "./markup.ts";

const esc = escapeMarkup;

/** One client op of the drawn window. */
export interface TimelineOp {
  process: number;
  f: string;
  /** `write 4`, `read -> 3`, `cas [1 2] failed`. */
  label: string;
  /** Invocation and completion, in ms on the run's clock; `end` null: it never completed. */
  start: number;
  end: number | null;
  /** `ok`, `fail`, `info` or `pending`. */
  status: string;
  /** One of the counterexample's ops, and the one that cannot be linearized. */
  inExample: boolean;
  offending: boolean;
}

/** The nemesis and the phases, on the window's axis. */
export interface TimelineMark {
  /** `band`: from `start` to `end` (a partition until its heal); `tick`: at `start`. */
  shape: "band" | "tick" | "phase";
  label: string;
  start: number;
  end: number;
}

/** What a timeline draws: the failing key's window of the history. */
export interface HistoryTimeline {
  /** The key, as EDN text; absent without keys. */
  key?: string;
  /** The window, in ms on the run's clock. */
  from: number;
  to: number;
  ops: TimelineOp[];
  marks: TimelineMark[];
  /** Client ops of the key left out of the drawing (rows or ops past the limits). */
  omitted: number;
}

/** Rows and ops drawn at most; past them, the rest is counted in `omitted`. */
const MAX_ROWS = 40;
const MAX_OPS = 600;

/**
 * The failing key's window of a history: the counterexample's ops' span, widened by a
 * fifth on each side, and every op of that key and every fault and phase within it.
 *
 * @example
 * ```ts
 * const timeline = historyTimeline(runHistory(events), result.counterexample!);
 * timeline.ops.filter((op) => op.offending).length; // 1
 * ```
 */
export function historyTimeline(history: RunHistory, example: Counterexample): HistoryTimeline {
  const paired = pairOps(history.ops, example.key);
  const inExample = new Set(example.ops.map((op) => op.invokeIndex));
  const spans = paired.filter((op) => inExample.has(op.invoke.index));
  const last = Math.max(...history.ops.map((op) => ms(op)), 0);
  const lo = Math.min(...spans.map((op) => ms(op.invoke)));
  const hi = Math.max(...spans.map((op) => op.complete ? ms(op.complete) : last));
  const pad = Math.max((hi - lo) / 5, 1);
  const [from, to] = [Math.max(0, lo - pad), Math.min(last, hi + pad)];
  const shown = paired.filter((op) =>
    ms(op.invoke) <= to && (op.complete === null || ms(op.complete) >= from)
  );
  const rows = [...new Set(shown.map((op) => op.invoke.process as number))].sort((a, b) => a - b);
  const kept = new Set(rows.slice(0, MAX_ROWS));
  const drawn = shown.filter((op) =>
    kept.has(op.invoke.process as number) || inExample.has(op.invoke.index)
  )
    .slice(0, MAX_OPS);
  return {
    ...(example.key === undefined ? {} : { key: example.key }),
    from,
    to,
    ops: drawn.map((op) => timelineOp(op, inExample, example.offending.invokeIndex)),
    marks: nemesisMarks(history, from, to),
    omitted: shown.length - drawn.length,
  };
}

interface Paired {
  invoke: RunHistoryOp;
  complete: RunHistoryOp | null;
}

/** The client ops of one key, each invocation with its process's next completion. */
function pairOps(ops: readonly RunHistoryOp[], key: string | undefined): Paired[] {
  const pending = new Map<number, Paired>();
  const out: Paired[] = [];
  for (const op of ops) {
    if (typeof op.process !== "number") continue;
    if (op.type === "invoke") {
      const keyText = op.key === undefined ? undefined : formatValue(op.key);
      const paired = { invoke: op, complete: null };
      pending.set(op.process, paired);
      if (keyText === key) out.push(paired);
    } else {
      const paired = pending.get(op.process);
      if (paired) paired.complete = op;
      pending.delete(op.process);
    }
  }
  return out;
}

function timelineOp(op: Paired, inExample: ReadonlySet<number>, offending: number): TimelineOp {
  const { invoke, complete } = op;
  const status = complete?.type ?? "pending";
  const shownValue = status === "ok" && complete ? complete.value : invoke.value;
  const label = `${invoke.f} ${formatValue(shownValue)}${
    status === "ok" ? "" : ` (${status === "pending" ? "never completed" : status})`
  }`;
  return {
    process: invoke.process as number,
    f: invoke.f,
    label,
    start: ms(invoke),
    end: complete ? ms(complete) : null,
    status,
    inExample: inExample.has(invoke.index),
    offending: invoke.index === offending,
  };
}

/** Partitions as bands until their heal, other faults and node events as ticks, phases as lines. */
function nemesisMarks(history: RunHistory, from: number, to: number): TimelineMark[] {
  const marks: TimelineMark[] = [];
  const open: { label: string; start: number }[] = [];
  for (const op of history.ops) {
    if (op.process !== "nemesis" || op.type !== "invoke") continue;
    const at = ms(op);
    const label = `${op.f} ${formatValue(op.value).replace(/^"|"$/g, "")}`;
    if (op.f === "heal") {
      for (const band of open.splice(0)) marks.push({ shape: "band", ...band, end: at });
      marks.push({ shape: "tick", label, start: at, end: at });
    } else if (op.f === "partition" || op.f === "isolate") open.push({ label, start: at });
    else marks.push({ shape: "tick", label, start: at, end: at });
  }
  for (const band of open) marks.push({ shape: "band", ...band, end: Infinity });
  for (const phase of history.phases) {
    marks.push({ shape: "phase", label: `${phase.name} phase`, start: phase.ms, end: phase.ms });
  }
  return marks.filter((mark) => mark.start <= to && mark.end >= from)
    .map((mark) => ({ ...mark, end: Math.min(mark.end, to) }));
}

function ms(op: RunHistoryOp): number {
  return (op.time ?? 0) / 1e6;
}

// ---------------------------------------------------------------------------
// Drawing

const WIDTH = 1200;
const LEFT = 110;
const PLOT = WIDTH - LEFT - 20;
const NEMESIS = 46;
const ROW = 24;
const AXIS = 26;

/** Fill colours by function; the offending op is red whatever it is. */
const F_COLORS: Readonly<Record<string, string>> = {
  read: "#5aa9e6",
  get: "#5aa9e6",
  write: "#e8900c",
  put: "#e8900c",
  cas: "#8e6bbf",
  append: "#8e6bbf",
};
/** The offending op's colour (the sweep report's failure red). */
export const OFFENDING_COLOR = "#d62828";

/**
 * The timeline as one inline SVG element.
 *
 * @example
 * ```ts
 * const svg = historyTimelineSvg(historyTimeline(history, example));
 * svg.includes('class="op offending"'); // true
 * ```
 */
export function historyTimelineSvg(timeline: HistoryTimeline): string {
  const rows = [...new Set(timeline.ops.map((op) => op.process))].sort((a, b) => a - b);
  const height = NEMESIS + rows.length * ROW + AXIS;
  const span = Math.max(timeline.to - timeline.from, 1e-3);
  const x = (t: number) => LEFT + ((t - timeline.from) / span) * PLOT;
  const y = (process: number) => NEMESIS + rows.indexOf(process) * ROW;
  const parts = [
    `<svg class="history-timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="history timeline">`,
    ...rowLabels(rows, y),
    ...markShapes(timeline.marks, x, height),
    ...timeline.ops.map((op) => opBar(op, x, y(op.process), timeline.to)),
    ...timeAxis(timeline, x, height),
    "</svg>",
  ];
  return parts.join("\n");
}

function rowLabels(rows: readonly number[], y: (p: number) => number): string[] {
  return rows.flatMap((process, i) => [
    i % 2 === 0
      ? `<rect x="0" y="${y(process)}" width="${WIDTH}" height="${ROW}" fill="#f4f5f7"/>`
      : "",
    `<text x="8" y="${y(process) + 16}" font-size="12" fill="#333">process ${process}</text>`,
  ]);
}

function markShapes(
  marks: readonly TimelineMark[],
  x: (t: number) => number,
  height: number,
): string[] {
  return marks.map((mark, i) => {
    const title = `<title>${esc(mark.label)} at ${(mark.start / 1000).toFixed(2)} s</title>`;
    const textY = 14 + (i % 2) * 16;
    const text = `<text x="${n(x(mark.start) + 3)}" y="${textY}" font-size="11" fill="#7a2e00">${
      esc(short(mark.label, 40))
    }</text>`;
    if (mark.shape === "band") {
      return `<g class="nemesis band"><rect x="${n(x(mark.start))}" y="0" width="${
        n(Math.max(x(mark.end) - x(mark.start), 1))
      }" height="${height - AXIS}" fill="#ffd8a8" fill-opacity="0.45">${title}</rect>${text}</g>`;
    }
    const dash = mark.shape === "phase" ? ` stroke-dasharray="4 3"` : "";
    const color = mark.shape === "phase" ? "#555" : "#b35c00";
    return `<g class="nemesis ${mark.shape}"><line x1="${n(x(mark.start))}" x2="${
      n(x(mark.start))
    }" y1="0" y2="${
      height - AXIS
    }" stroke="${color}" stroke-width="1.5"${dash}>${title}</line>${text}</g>`;
  });
}

function opBar(op: TimelineOp, x: (t: number) => number, top: number, to: number): string {
  // Clipped to the window: an op that began before it starts at its left edge.
  const x0 = Math.max(x(op.start), LEFT);
  const x1 = Math.min(x(op.end ?? to), LEFT + PLOT);
  const width = Math.max(x1 - x0, 3);
  const fill = op.offending ? OFFENDING_COLOR : F_COLORS[op.f] ?? "#9aa0a6";
  const stroke = op.offending ? "#6b0000" : op.inExample ? "#1f2430" : "none";
  const classes = ["op", op.offending ? "offending" : "", op.inExample ? "in-example" : ""]
    .filter((c) => c !== "").join(" ");
  const opacity = op.status === "ok" ? "1" : "0.45";
  const dash = op.end === null ? ` stroke-dasharray="3 2"` : "";
  const title = `process ${op.process}: ${op.label}, ${(op.start / 1000).toFixed(3)} s to ${
    op.end === null ? "never" : `${(op.end / 1000).toFixed(3)} s`
  }${op.offending ? " (cannot be linearized)" : ""}`;
  const label = width > op.label.length * 6.2
    ? `<text x="${n(x0 + 3)}" y="${top + 16}" font-size="11" fill="#000">${esc(op.label)}</text>`
    : "";
  return `<g class="${classes}"><rect x="${n(x0)}" y="${top + 4}" width="${n(width)}" height="${
    ROW - 8
  }" rx="3" fill="${fill}" fill-opacity="${opacity}" stroke="${stroke}" stroke-width="${
    op.offending ? 2.5 : 1.5
  }"${dash}><title>${esc(title)}</title></rect>${label}</g>`;
}

function timeAxis(timeline: HistoryTimeline, x: (t: number) => number, height: number): string[] {
  const span = timeline.to - timeline.from;
  const step = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60]
    .map((s) => s * 1000).find((s) => span / s <= 10) ?? 60_000;
  const ticks: string[] = [];
  for (let t = Math.ceil(timeline.from / step) * step; t <= timeline.to; t += step) {
    ticks.push(
      `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${height - AXIS}" y2="${
        height - AXIS + 5
      }" stroke="#555"/><text x="${n(x(t))}" y="${
        height - 6
      }" font-size="11" text-anchor="middle" fill="#555">${
        (t / 1000).toFixed(step < 1000 ? 2 : 0)
      } s</text>`,
    );
  }
  return [
    `<line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${height - AXIS}" y2="${
      height - AXIS
    }" stroke="#555"/>`,
    ...ticks,
  ];
}

function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function short(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A page of its own for a history's verdict: the sentence, the counterexample's text and
 * the timeline (`faultline trace history TRACE --html FILE`). Self-contained, no script.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("history.html", historyPageHtml({ title, reason, description, timeline }));
 * ```
 */
export function historyPageHtml(page: {
  title: string;
  reason: string;
  description?: string;
  timeline?: HistoryTimeline;
}): string {
  const { timeline } = page;
  const omitted = timeline && timeline.omitted > 0
    ? `<p class="muted">${timeline.omitted} more ops of the key in the window are not drawn.</p>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="faultline ${esc(VERSION)}">
<title>${esc(page.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#1f2430}pre{background:#f4f5f7;padding:10px;overflow-x:auto}.muted{color:#666}.reason{font-weight:600}</style>
</head>
<body>
<h1>${esc(page.title)}</h1>
<p class="reason">${esc(page.reason)}</p>
${historySection(timeline, page.description)}
${omitted}
</body>
</html>
`;
}

/**
 * The timeline with its legend and the counterexample's text, as a section of a page
 * (the sweep report's failing points use it too).
 *
 * @example
 * ```ts
 * const html = historySection(timeline, verdict.description);
 * ```
 */
export function historySection(timeline?: HistoryTimeline, description?: string): string {
  const drawn = timeline
    ? `<p class="muted">The failing key${
      timeline.key === undefined ? "" : ` ${esc(timeline.key)}`
    }, from ${(timeline.from / 1000).toFixed(2)} s to ${
      (timeline.to / 1000).toFixed(2)
    } s of the run: one row per process, each op a bar from its invocation to its completion (faded: failed, indeterminate or never completed; dashed: never completed); outlined: the counterexample's ops; red: the op that cannot be linearized; orange bands and ticks: the faults, dashed lines: the phases.</p>
<div class="history-chart">${historyTimelineSvg(timeline)}</div>`
    : "";
  const text = description ? `<pre class="counterexample">${esc(description)}</pre>` : "";
  return `<section class="history">${drawn}${text}</section>`;
}
