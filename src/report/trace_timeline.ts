/**
 * A trace's ops drawn as a timeline, the way the sweep's report shows them: one band per disk
 * (y the byte offset), flushes as ticks, the workload's steps on a lane, the check phase
 * shaded, and a lane of marks under them (a sweep's fault points, an explore's faults), each
 * at the op or frame it is put at. Big traces stay small: the ops are rasterised into pixel
 * cells and drawn as one `<path>` per op type. Every string is escaped. Pure.
 *
 * @module
 */

import { OP_TYPES, type OpType } from "../block/backend.ts";
import type { PointStatus } from "../sweep/status.ts";
import type { LoadedTrace } from "../trace/load.ts";
import type { OpRecord } from "../trace/schema.ts";
import { formatBytes } from "../util/units.ts";
import { escapeMarkup } from "./markup.ts";

/** What a mark says of its fault: a point's verdict; a fault that never fired is not a pass. */
export type Status = PointStatus;

/** The colour of each op type. */
export const OP_COLORS: Record<OpType, string> = {
  read: "#5aa9e6",
  write: "#e8900c",
  "write-zeroes": "#8e6bbf",
  trim: "#d45d9e",
  cache: "#9cb380",
  flush: "#1f2430",
};

/** The colour of each mark's status. */
export const STATUS_COLORS: Record<Status, string> = {
  pass: "#2f9e44",
  fail: "#d62828",
  "not-fired": "#9aa0a6",
  inconclusive: "#c99a06",
};

/** Each status in words. */
export const STATUS_LABELS: Record<Status, string> = {
  pass: "pass",
  fail: "FAIL",
  "not-fired": "never fired",
  inconclusive: "inconclusive",
};

/** Every status, in the order marks are drawn: failures last, on top. */
export const STATUSES: readonly Status[] = ["pass", "not-fired", "inconclusive", "fail"];

/** Ops with an extent, drawn in this order (later ones on top). */
const EXTENT_TYPES: readonly OpType[] = ["read", "cache", "trim", "write-zeroes", "write"];

// Chart geometry, in SVG user units (the SVG scales to the page's width).
const WIDTH = 1320;
const LEFT = 150;
const RIGHT = 16;
const PLOT = WIDTH - LEFT - RIGHT;
const TOP = 24;
const BAND_GAP = 10;
const LANE = 24;
/** Failing points get a faint guide line up through the bands while there are at most this many. */
const MAX_GUIDES = 40;

const esc = escapeMarkup;

/** A number for SVG coordinates: at most one decimal. */
function num(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** `n things`, `1 thing`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A round step for about `target` ticks over `span`. */
function niceStep(span: number, target: number): number {
  if (!(span > 0)) return 1;
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  const nice = scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10;
  return nice * power;
}

function formatMs(ms: number, span: number): string {
  if (span < 5000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${span < 60_000 ? seconds.toFixed(seconds % 1 === 0 ? 0 : 1) : Math.round(seconds)} s`;
}
// ---------------------------------------------------------------------------
// The timeline

/** One horizontal band of the chart: the ops of one disk of one node. */
interface Band {
  node: string;
  disk: string;
  /** The largest offset + length of the disk's ops (the band's full height). */
  extent: number;
  top: number;
  height: number;
}

/** A raster of pixel cells, one per op type, turned into one compact path. */
class Raster {
  readonly cells: Uint8Array;
  constructor(readonly cols: number, readonly rows: number) {
    this.cells = new Uint8Array(cols * rows);
  }

  /** Marks columns `c0..c1` and rows `r0..r1` (rows count up from the bottom). */
  fill(c0: number, c1: number, r0: number, r1: number): void {
    for (let c = c0; c <= c1; c++) this.cells.fill(1, c * this.rows + r0, c * this.rows + r1 + 1);
  }

  /**
   * The path of the marked cells: each vertical run of a column, merged with
   * the same run in the columns next to it.
   */
  path(x0: number, colWidth: number, rowY: (row: number) => number): string {
    const parts: string[] = [];
    const open = new Map<number, number>();
    const emit = (key: number, from: number, to: number) => {
      const r0 = Math.floor(key / 65536);
      const r1 = key % 65536;
      const x = x0 + from * colWidth;
      const width = (to - from) * colWidth;
      const yTop = rowY(r1 + 1);
      parts.push(`M${num(x)} ${num(yTop)}h${num(width)}v${num(rowY(r0) - yTop)}h${num(-width)}z`);
    };
    for (let c = 0; c <= this.cols; c++) {
      const current = new Set<number>();
      if (c < this.cols) {
        const base = c * this.rows;
        let r = 0;
        while (r < this.rows) {
          if (this.cells[base + r] === 0) {
            r++;
            continue;
          }
          const start = r;
          while (r < this.rows && this.cells[base + r] === 1) r++;
          current.add(start * 65536 + (r - 1));
        }
      }
      for (const [key, from] of open) {
        if (!current.has(key)) {
          emit(key, from, c);
          open.delete(key);
        }
      }
      for (const key of current) if (!open.has(key)) open.set(key, c);
    }
    return parts.join("");
  }
}

/** How an x axis maps the trace onto columns. */
interface Axis {
  kind: "index" | "time";
  cols: number;
  colWidth: number;
  /** The columns an op covers. */
  span(op: OpRecord): [number, number];
  /** The column where an op arrives (fault points, flushes, the phase boundary). */
  at(op: OpRecord): number;
  /** The column of a fault point; null when its op is not in the trace and the axis needs it. */
  point(at: number, op: OpRecord | undefined): number | null;
  ticks: { col: number; label: string }[];
  caption: string;
}

function indexAxis(ops: readonly OpRecord[]): Axis {
  let count = 1;
  for (const op of ops) count = Math.max(count, op.index + 1);
  const cols = Math.max(1, Math.min(count, PLOT));
  const column = (index: number) => Math.min(cols - 1, Math.floor(index * cols / count));
  const step = Math.max(1, Math.round(niceStep(count, 12)));
  const ticks = [];
  for (let i = 0; i < count; i += step) ticks.push({ col: column(i), label: String(i) });
  return {
    kind: "index",
    cols,
    colWidth: PLOT / cols,
    span: (op) => [column(op.index), column(op.index)],
    at: (op) => column(op.index),
    point: (at) => column(Math.min(at, count - 1)),
    ticks,
    caption: "op index (arrival order, all disks)",
  };
}

function timeAxis(ops: readonly OpRecord[]): Axis {
  const finite = (n: number) => Number.isFinite(n) ? n : 0;
  let end = 1;
  for (const op of ops) end = Math.max(end, finite(op.start), finite(op.end));
  const cols = PLOT;
  const column = (ms: number) =>
    Math.max(0, Math.min(cols - 1, Math.floor(finite(ms) * cols / end)));
  const step = Math.max(1, niceStep(end, 12));
  const ticks = [];
  for (let t = 0; t < end; t += step) ticks.push({ col: column(t), label: formatMs(t, end) });
  return {
    kind: "time",
    cols,
    colWidth: PLOT / cols,
    span: (op) => {
      const from = column(op.start);
      return [from, Math.max(from, column(op.end))];
    },
    at: (op) => column(op.start),
    point: (_at, op) => op ? column(op.start) : null,
    ticks,
    caption: "time since the trace started (each op from arrival to completion)",
  };
}

function makeBands(parent: LoadedTrace): Band[] {
  const extents = new Map<string, { node: string; disk: string; extent: number; size: number }>();
  const key = (node: string, disk: string) => JSON.stringify([node, disk]);
  for (const disk of parent.header.disks ?? []) {
    extents.set(key(disk.node, disk.name), {
      node: disk.node,
      disk: disk.name,
      extent: 0,
      size: disk.size,
    });
  }
  for (const op of parent.ordered) {
    const k = key(op.node, op.disk);
    const band = extents.get(k) ?? { node: op.node, disk: op.disk, extent: 0, size: 0 };
    if (op.op !== "flush") band.extent = Math.max(band.extent, op.offset + op.length);
    extents.set(k, band);
  }
  const list = [...extents.values()];
  const height = Math.round(Math.max(28, Math.min(90, 420 / Math.max(1, list.length))));
  return list.map(({ size, ...b }, i) => ({
    ...b,
    // A disk with no op with an extent (only flushes, or none) is drawn at its size.
    extent: b.extent > 0 ? b.extent : size > 0 ? size : 1,
    top: TOP + i * (height + BAND_GAP),
    height,
  }));
}

/** Text cut to `max` characters, with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A run of consecutive ops (by arrival) in one step of one node, on an axis. */
interface StepSegment {
  step: string;
  /** The node, when the trace has several. */
  node?: string;
  /** First and last column. */
  from: number;
  to: number;
  /** First and last op index. */
  first: number;
  last: number;
}

/** The steps of the run phase as segments of the axis; ops without a step end a segment. */
function stepSegments(ordered: readonly OpRecord[], axis: Axis): StepSegment[] {
  const nodes = new Set(ordered.map((op) => op.node));
  const out: StepSegment[] = [];
  let current: StepSegment | null = null;
  for (const op of ordered) {
    if (op.phase !== undefined && op.phase !== "run") continue;
    if (op.step === undefined) {
      current = null;
      continue;
    }
    const [from, to] = axis.span(op);
    if (current && current.step === op.step && (current.node ?? op.node) === op.node) {
      current.to = Math.max(current.to, to);
      current.last = op.index;
      continue;
    }
    current = {
      step: op.step,
      ...(nodes.size > 1 ? { node: op.node } : {}),
      from,
      to,
      first: op.index,
      last: op.index,
    };
    out.push(current);
  }
  return out;
}

/** Where a timeline's parts go, top to bottom, and the x of its columns. */
interface ChartLayout {
  axis: Axis;
  bands: readonly Band[];
  /** The workload's steps, on their own lane when there are any. */
  steps: StepSegment[];
  stepsTop: number;
  /** The top of the fault points' lane. */
  laneTop: number;
  axisY: number;
  height: number;
  /** The left edge of a column. */
  x: (col: number) => number;
  /** The middle of a column. */
  mid: (col: number) => number;
}

function chartLayout(parent: LoadedTrace, bands: readonly Band[], axis: Axis): ChartLayout {
  const bandsBottom = bands.length > 0
    ? bands[bands.length - 1].top + bands[bands.length - 1].height
    : TOP + 20;
  const steps = stepSegments(parent.ordered, axis);
  const stepsTop = bandsBottom + 12;
  const laneTop = steps.length > 0 ? stepsTop + LANE + 8 : stepsTop;
  const axisY = laneTop + LANE + 6;
  return {
    axis,
    bands,
    steps,
    stepsTop,
    laneTop,
    axisY,
    height: axisY + 40,
    x: (col) => LEFT + col * axis.colWidth,
    mid: (col) => LEFT + (col + 0.5) * axis.colWidth,
  };
}

/** One mark on the lane under the ops: a fault put at an op or a frame. */
export interface LaneMark {
  /** The arrival index of the op or frame it is put at. */
  at: number;
  /** What came of it (its colour; failures are drawn on top, with guides up the bands). */
  status: Status;
  /** Its hover text. */
  title: string;
  /** Where a click on it goes (`#p12`). */
  href: string;
}

/** The lane of marks under the ops. */
export interface TimelineLane {
  /** Its name at the left (`fault points`). */
  name: string;
  /** What one mark is, for a count (`point`). */
  unit: string;
  marks: readonly LaneMark[];
  /** Marks drawn one by one with a hover title; beyond that, passing ones are drawn as one shape. */
  maxMarks: number;
}

/**
 * The timeline of a trace's ops along one axis (by op index, or by time), with a lane of
 * marks under them. On the time axis, a mark at a frame is not drawn (frames have no op).
 *
 * @example
 * ```ts
 * const lane = { name: "faults", unit: "fault", marks: [{ at: 12, status: "fail", title: "eio", href: "#f1" }], maxMarks: 100 };
 * traceTimelineSvg(trace, lane, "index"); // '<svg class="timeline" ...'
 * ```
 */
export function traceTimelineSvg(
  trace: LoadedTrace,
  lane: TimelineLane,
  axisKind: "index" | "time",
): string {
  const bands = makeBands(trace);
  const axis = axisKind === "index" ? indexAxis(trace.ordered) : timeAxis(trace.ordered);
  const layout = chartLayout(trace, bands, axis);
  return [
    `<svg class="timeline" viewBox="0 0 ${WIDTH} ${layout.height}" width="${WIDTH}" height="${layout.height}" role="img" aria-label="${
      esc(
        `ops of the trace by ${axisKind === "index" ? "op index" : "time"}, with the ${lane.name}`,
      )
    }">`,
    ...bandFrames(bands),
    ...phaseBoundary(trace, layout),
    ...opMarks(trace, layout),
    ...stepLane(layout),
    ...markLane(trace, lane, layout),
    ...xAxis(layout),
    "</svg>",
  ].join("\n");
}

/** Each band's background, its disk's name and its offset scale. */
function bandFrames(bands: readonly Band[]): string[] {
  return bands.flatMap((band) => {
    const name = `${band.node}/${band.disk}`;
    return [
      `<rect class="band" x="${LEFT}" y="${band.top}" width="${PLOT}" height="${band.height}"/>`,
      `<text class="band-name" x="${LEFT - 10}" y="${band.top + band.height / 2 + 4}"><title>${
        esc(name)
      }</title>${esc(truncate(name, 20))}</text>`,
      `<text class="band-scale" x="${LEFT - 10}" y="${band.top + 10}">${
        esc(formatBytes(band.extent))
      }</text>`,
      `<text class="band-scale" x="${LEFT - 10}" y="${band.top + band.height - 2}">0</text>`,
    ];
  });
}

/** The first op of the check phase as a line, with the check region shaded over the bands. */
function phaseBoundary(parent: LoadedTrace, layout: ChartLayout): string[] {
  const firstCheck = parent.ordered.find((op) => op.phase === "check");
  if (!firstCheck) return [];
  const { laneTop } = layout;
  const bx = layout.x(layout.axis.at(firstCheck));
  return [
    `<rect class="check-region" x="${num(bx)}" y="${TOP - 16}" width="${
      num(LEFT + PLOT - bx)
    }" height="${laneTop + LANE - TOP + 16}"/>`,
    `<path class="phase-boundary" d="M${num(bx)} ${TOP - 18}V${laneTop + LANE}"><title>${
      esc(`check phase starts at op ${firstCheck.index}`)
    }</title></path>`,
    // Near the right edge the label goes to the left of the line, still pointing at it.
    bx + 100 < LEFT + PLOT
      ? `<text class="phase-label" x="${num(bx + 5)}" y="${TOP - 6}">check phase →</text>`
      : `<text class="phase-label end" x="${num(bx - 5)}" y="${TOP - 6}">check phase →</text>`,
    `<text class="phase-label" x="${LEFT + 4}" y="${TOP - 6}">run phase</text>`,
  ];
}

/** The ops on their bands, by type, and how many of each type. */
interface RasterizedOps {
  /** The extent of every op but flushes: one raster per type and band. */
  rasters: Map<OpType, Map<Band, Raster>>;
  /** The columns with a flush, by band. */
  flushCols: Map<Band, Set<number>>;
  counts: Map<OpType, number>;
}

/** The ops, drawn as one path per type; flushes as ticks, under the others. */
function opMarks(parent: LoadedTrace, layout: ChartLayout): string[] {
  const ops = rasterizeOps(parent.ordered, layout);
  return [...flushTicks(ops, layout), ...extentPaths(ops, layout)];
}

function rasterizeOps(ordered: readonly OpRecord[], layout: ChartLayout): RasterizedOps {
  const { axis } = layout;
  const bandOf = new Map(layout.bands.map((b) => [JSON.stringify([b.node, b.disk]), b]));
  const ops: RasterizedOps = { rasters: new Map(), flushCols: new Map(), counts: new Map() };
  for (const op of ordered) {
    const band = bandOf.get(JSON.stringify([op.node, op.disk]));
    if (!band) continue;
    ops.counts.set(op.op, (ops.counts.get(op.op) ?? 0) + 1);
    if (op.op === "flush") {
      const set = ops.flushCols.get(band) ?? new Set<number>();
      set.add(axis.at(op));
      ops.flushCols.set(band, set);
      continue;
    }
    const byBand = ops.rasters.get(op.op) ?? new Map<Band, Raster>();
    ops.rasters.set(op.op, byBand);
    let raster = byBand.get(band);
    if (!raster) byBand.set(band, raster = new Raster(axis.cols, band.height));
    const [c0, c1] = axis.span(op);
    const scale = band.height / band.extent;
    let r0 = Math.min(band.height - 1, Math.floor(op.offset * scale));
    let r1 = Math.min(band.height - 1, Math.ceil((op.offset + op.length) * scale) - 1);
    // At least three pixels tall, so that a 4 KiB write on a big disk shows.
    if (r1 < r0 + 2) r1 = Math.min(band.height - 1, r0 + 2);
    if (r1 < r0 + 2) r0 = Math.max(0, r1 - 2);
    raster.fill(c0, c1, r0, r1);
  }
  return ops;
}

/** One path of ticks for every flush; fainter when they fill much of the chart. */
function flushTicks(ops: RasterizedOps, layout: ChartLayout): string[] {
  if (ops.flushCols.size === 0) return [];
  const ticks: string[] = [];
  let ticked = 0;
  for (const [band, cols] of ops.flushCols) {
    ticked += cols.size;
    for (const col of [...cols].sort((a, b) => a - b)) {
      ticks.push(`M${num(layout.mid(col))} ${band.top}v${band.height}`);
    }
  }
  const dense = ticked > layout.axis.cols * layout.bands.length / 6 ? " dense" : "";
  return [
    `<path class="ops op-flush${dense}" stroke="${OP_COLORS.flush}" d="${ticks.join("")}"><title>${
      esc(`flush: ${plural(ops.counts.get("flush") ?? 0, "op")}`)
    }</title></path>`,
  ];
}

/** One path per op type with an extent, over every band. */
function extentPaths(ops: RasterizedOps, layout: ChartLayout): string[] {
  const out: string[] = [];
  for (const type of EXTENT_TYPES) {
    const byBand = ops.rasters.get(type);
    if (!byBand) continue;
    const d = [...byBand].map(([band, raster]) =>
      raster.path(LEFT, layout.axis.colWidth, (row) => band.top + band.height - row)
    ).join("");
    out.push(
      `<path class="ops op-${type}" fill="${OP_COLORS[type]}" d="${d}"><title>${
        esc(`${type}: ${plural(ops.counts.get(type) ?? 0, "op")}`)
      }</title></path>`,
    );
  }
  return out;
}

/** The workload's steps (`report step NAME`), on their own lane, labelled where they fit. */
function stepLane(layout: ChartLayout): string[] {
  const { steps, stepsTop } = layout;
  if (steps.length === 0) return [];
  const out = [
    `<text class="lane-name" x="${LEFT - 10}" y="${stepsTop + LANE / 2 + 4}">steps</text>`,
    `<rect class="lane" x="${LEFT}" y="${stepsTop}" width="${PLOT}" height="${LANE}"/>`,
  ];
  for (const [i, segment] of steps.entries()) {
    const sx = layout.x(segment.from);
    const width = Math.max(1, (segment.to - segment.from + 1) * layout.axis.colWidth);
    const label = segment.node ? `${segment.node}: ${segment.step}` : segment.step;
    const fits = Math.floor((width - 6) / 6.5);
    out.push(
      `<g class="step"><rect class="step-${i % 2}" x="${num(sx)}" y="${stepsTop + 2}" width="${
        num(width)
      }" height="${LANE - 4}"/><title>${
        esc(
          `step '${segment.step}'${
            segment.node ? ` of ${segment.node}` : ""
          }: ops ${segment.first} to ${segment.last}`,
        )
      }</title>${
        fits >= 3
          ? `<text class="step-label" x="${num(sx + 3)}" y="${stepsTop + LANE / 2 + 4}">${
            esc(truncate(label, fits))
          }</text>`
          : ""
      }</g>`,
    );
  }
  return out;
}

/**
 * The marks on their lane, each a link, and faint guides through the bands where they
 * fail; past the limit, marks are drawn together as one path a status.
 */
function markLane(trace: LoadedTrace, lane: TimelineLane, layout: ChartLayout): string[] {
  const { axis, laneTop } = layout;
  const opOf = new Map(trace.ordered.map((op) => [op.index, op]));
  const out = [
    `<text class="lane-name" x="${LEFT - 10}" y="${laneTop + LANE / 2 + 4}">${
      esc(lane.name)
    }</text>`,
    `<rect class="lane" x="${LEFT}" y="${laneTop}" width="${PLOT}" height="${LANE}"/>`,
  ];
  const guides: string[] = [];
  const marks: string[] = [];
  const collapsed = Object.fromEntries(STATUSES.map((s) => [s, [] as string[]])) as Record<
    Status,
    string[]
  >;
  const width = Math.max(3, Math.min(axis.colWidth * 0.8, 9));
  const many = lane.marks.length > lane.maxMarks;
  const failing = lane.marks.filter((m) => m.status === "fail").length;
  let individual = 0;
  for (const status of STATUSES) {
    for (const mark of lane.marks) {
      if (mark.status !== status) continue;
      const col = axis.point(mark.at, opOf.get(mark.at));
      if (col === null) continue;
      const cx = layout.mid(col);
      const tall = status === "fail" ? LANE - 4 : LANE - 10;
      const y = laneTop + (LANE - tall) / 2;
      const d = `M${num(cx - width / 2)} ${num(y)}h${num(width)}v${tall}h${num(-width)}z`;
      if (status === "fail" && failing <= MAX_GUIDES) guides.push(`M${num(cx)} ${TOP}V${laneTop}`);
      if ((many && status === "pass") || individual >= lane.maxMarks) {
        collapsed[status].push(d);
        continue;
      }
      individual++;
      marks.push(
        `<a href="${esc(mark.href)}"><path class="pt pt-${status}" d="${d}"><title>${
          esc(mark.title)
        }</title></path></a>`,
      );
    }
  }
  if (guides.length > 0) out.push(`<path class="fail-guides" d="${guides.join("")}"/>`);
  for (const status of STATUSES) {
    if (collapsed[status].length === 0) continue;
    out.push(
      `<path class="pt-many pt-${status}" d="${collapsed[status].join("")}"><title>${
        esc(`${plural(collapsed[status].length, lane.unit)}: ${STATUS_LABELS[status]}`)
      }</title></path>`,
    );
  }
  out.push(...marks);
  return out;
}

/** The x axis, its ticks and its caption. */
function xAxis(layout: ChartLayout): string[] {
  const { axisY } = layout;
  const out = [`<path class="axis" d="M${LEFT} ${axisY}H${LEFT + PLOT}"/>`];
  for (const tick of layout.axis.ticks) {
    const tx = layout.x(tick.col);
    out.push(
      `<path class="axis" d="M${num(tx)} ${axisY}v5"/>`,
      `<text class="tick" x="${num(tx)}" y="${axisY + 18}">${esc(tick.label)}</text>`,
    );
  }
  out.push(
    `<text class="caption" x="${LEFT + PLOT}" y="${axisY + 34}">${esc(layout.axis.caption)}</text>`,
  );
  return out;
}

/**
 * The legend's items for the op types the trace has, with their counts.
 *
 * @example
 * ```ts
 * `<ul class="legend">${opLegendItems(trace).join("")}</ul>`;
 * ```
 */
export function opLegendItems(trace: LoadedTrace): string[] {
  const counts = new Map<OpType, number>();
  for (const op of trace.ordered) counts.set(op.op, (counts.get(op.op) ?? 0) + 1);
  const items: string[] = [];
  for (const type of OP_TYPES) {
    const n = counts.get(type) ?? 0;
    if (n === 0) continue;
    const swatch = type === "flush"
      ? `<span class="swatch tick" style="background:${OP_COLORS.flush}"></span>`
      : `<span class="swatch" style="background:${OP_COLORS[type]}"></span>`;
    items.push(`<li>${swatch}${esc(type)} <span class="muted">${n}</span></li>`);
  }
  return items;
}

/**
 * The legend's item for the shaded check phase, when the trace has one.
 *
 * @example
 * ```ts
 * phaseLegendItems(trace); // ['<li><span class="swatch phase"></span>check phase</li>']
 * ```
 */
export function phaseLegendItems(trace: LoadedTrace): string[] {
  return trace.ordered.some((op) => op.phase === "check")
    ? [`<li><span class="swatch phase"></span>check phase</li>`]
    : [];
}
