/**
 * The HTML report of a sweep: one self-contained page (inline CSS and SVG, no
 * script, no network; a Content-Security-Policy forbids both) with the totals,
 * a timeline of the trace's ops (by op index, and by time behind a CSS-only
 * toggle), the fault points on the same axis coloured by verdict, the failing
 * points with their reproduce commands, and every point in a collapsible table.
 *
 * Big traces stay small: the ops are rasterised into pixel cells and drawn as
 * one `<path>` per op type, so the page grows with the chart's size, not with
 * the number of ops. Every string that comes from the trace or the sweep is
 * escaped. Pure: no I/O.
 *
 * @module
 */

import { OP_TYPES, type OpType } from "../block/backend.ts";
import type { ParentTrace } from "../replay/replay.ts";
import {
  orderFails,
  pointMessage,
  stateFails,
  type SweepPoint,
  type SweepResult,
} from "../sweep/sweep.ts";
import { describeRate, type Reproduced } from "../sweep/confirm.ts";
import { type PointStatus, pointStatus, statusWord } from "../sweep/status.ts";
import type { OpRecord } from "../trace/schema.ts";
import { formatBytes, formatDuration } from "../util/units.ts";
import { VERSION } from "../version.ts";
import { escapeMarkup } from "./markup.ts";

/** Limits of {@link sweepReportHtml}, so that a sweep of many points keeps a small page. */
export interface SweepReportOptions {
  /** Rows of the failing points' table before it is cut, with a note (default 500). */
  maxFailingRows?: number;
  /** Rows of the table of all points before it is cut, with a note (default 2000). */
  maxRows?: number;
  /**
   * Fault points drawn one by one with a hover title, per chart (default 1000);
   * beyond that, passing points are drawn as one shape without titles.
   */
  maxPointMarks?: number;
  /**
   * The recording's timeline for ui.perfetto.dev (`faultline trace perfetto`), written beside
   * the page: its address relative to the page, which links it.
   */
  perfetto?: string;
}

/** A point's verdict as the report shows it: a fault that never fired is not a pass. */
type Status = PointStatus;

const OP_COLORS: Record<OpType, string> = {
  read: "#5aa9e6",
  write: "#e8900c",
  "write-zeroes": "#8e6bbf",
  trim: "#d45d9e",
  cache: "#9cb380",
  flush: "#1f2430",
};

const STATUS_COLORS: Record<Status, string> = {
  pass: "#2f9e44",
  fail: "#d62828",
  "not-fired": "#9aa0a6",
  inconclusive: "#c99a06",
};

const STATUS_LABELS: Record<Status, string> = {
  pass: "pass",
  fail: "FAIL",
  "not-fired": "never fired",
  inconclusive: "inconclusive",
};

/** Every status, in the order marks are drawn: failures last, on top. */
const STATUSES: readonly Status[] = ["pass", "not-fired", "inconclusive", "fail"];

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

/**
 * Renders the HTML report of a sweep.
 *
 * @example
 * ```ts
 * const parent = await readParent("fsync-log.trace");
 * const result = await sweep(parent, { fault: "power-loss", points: { kind: "flushes" }, jobs: 2, outputDir, keepData: false });
 * await Deno.writeTextFile("sweep.html", await sweepReportHtml(parent, result));
 * ```
 */
// deno-lint-ignore require-await -- async by the CLI's contract; rendering is synchronous and pure
export async function sweepReportHtml(
  parent: ParentTrace,
  result: SweepResult,
  options: SweepReportOptions = {},
): Promise<string> {
  return renderReport(parent, result, {
    maxFailingRows: options.maxFailingRows ?? 500,
    maxRows: options.maxRows ?? 2000,
    maxPointMarks: options.maxPointMarks ?? 1000,
    perfetto: options.perfetto ?? "",
  });
}

// ---------------------------------------------------------------------------
// Text helpers

const esc = escapeMarkup;

/** A number for SVG coordinates: at most one decimal. */
function num(value: number): string {
  return String(Math.round(value * 10) / 10);
}

const statusOf: (point: SweepPoint) => Status = pointStatus;

function scenarioName(parent: ParentTrace): string {
  const fromHeader = (parent.header.scenario as { name?: unknown } | undefined)?.name;
  if (typeof fromHeader === "string") return fromHeader;
  return typeof parent.scenario?.name === "string" ? parent.scenario.name : "(unnamed)";
}

function plural(n: number, one: string, many = `${one}s`): string {
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

function makeBands(parent: ParentTrace): Band[] {
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

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function pointTitle(point: SweepPoint, status: Status): string {
  const lines = [`op ${point.at}: ${point.op}`, STATUS_LABELS[status], pointMessage(point)];
  if (point.sameCrashAs !== undefined) lines.push(`same crash state as op ${point.sameCrashAs}`);
  return lines.join("\n");
}

function pointAnchor(point: SweepPoint, status: Status): string {
  return status === "fail" ? `p${point.at}` : `all-p${point.at}`;
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

function chartLayout(parent: ParentTrace, bands: readonly Band[], axis: Axis): ChartLayout {
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

/** The timeline of a trace's ops along one axis, with the sweep's fault points under them. */
function chart(
  parent: ParentTrace,
  result: SweepResult,
  bands: readonly Band[],
  axis: Axis,
  limits: Required<SweepReportOptions>,
): string {
  const layout = chartLayout(parent, bands, axis);
  return [
    `<svg class="timeline" viewBox="0 0 ${WIDTH} ${layout.height}" width="${WIDTH}" height="${layout.height}" role="img" aria-label="${
      esc(
        `ops of the trace by ${axis.kind === "index" ? "op index" : "time"}, with the fault points`,
      )
    }">`,
    ...bandFrames(bands),
    ...phaseBoundary(parent, layout),
    ...opMarks(parent, layout),
    ...stepLane(layout),
    ...faultPointLane(parent, result, layout, limits),
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
function phaseBoundary(parent: ParentTrace, layout: ChartLayout): string[] {
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
function opMarks(parent: ParentTrace, layout: ChartLayout): string[] {
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
 * The fault points on their lane, each a link to its row, and faint guides through the
 * bands where they fail; past the limit, points are drawn together as one path a status.
 */
function faultPointLane(
  parent: ParentTrace,
  result: SweepResult,
  layout: ChartLayout,
  limits: Required<SweepReportOptions>,
): string[] {
  const { axis, laneTop } = layout;
  const opOf = new Map(parent.ordered.map((op) => [op.index, op]));
  const out = [
    `<text class="lane-name" x="${LEFT - 10}" y="${laneTop + LANE / 2 + 4}">fault points</text>`,
    `<rect class="lane" x="${LEFT}" y="${laneTop}" width="${PLOT}" height="${LANE}"/>`,
  ];
  const guides: string[] = [];
  const marks: string[] = [];
  const collapsed = Object.fromEntries(STATUSES.map((s) => [s, [] as string[]])) as Record<
    Status,
    string[]
  >;
  const width = Math.max(3, Math.min(axis.colWidth * 0.8, 9));
  const many = result.points.length > limits.maxPointMarks;
  const failing = result.points.filter((p) => statusOf(p) === "fail").length;
  let individual = 0;
  for (const status of STATUSES) {
    for (const point of result.points) {
      if (statusOf(point) !== status) continue;
      const col = axis.point(point.at, opOf.get(point.at));
      if (col === null) continue;
      const cx = layout.mid(col);
      const tall = status === "fail" ? LANE - 4 : LANE - 10;
      const y = laneTop + (LANE - tall) / 2;
      const d = `M${num(cx - width / 2)} ${num(y)}h${num(width)}v${tall}h${num(-width)}z`;
      if (status === "fail" && failing <= MAX_GUIDES) guides.push(`M${num(cx)} ${TOP}V${laneTop}`);
      if ((many && status === "pass") || individual >= limits.maxPointMarks) {
        collapsed[status].push(d);
        continue;
      }
      individual++;
      marks.push(
        `<a href="#${pointAnchor(point, status)}"><path class="pt pt-${status}" d="${d}"><title>${
          esc(pointTitle(point, status))
        }</title></path></a>`,
      );
    }
  }
  if (guides.length > 0) out.push(`<path class="fail-guides" d="${guides.join("")}"/>`);
  for (const status of STATUSES) {
    if (collapsed[status].length === 0) continue;
    out.push(
      `<path class="pt-many pt-${status}" d="${collapsed[status].join("")}"><title>${
        esc(`${plural(collapsed[status].length, "point")}: ${STATUS_LABELS[status]}`)
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

// ---------------------------------------------------------------------------
// The page

function legend(parent: ParentTrace, result: SweepResult): string {
  const counts = new Map<OpType, number>();
  for (const op of parent.ordered) counts.set(op.op, (counts.get(op.op) ?? 0) + 1);
  const items: string[] = [];
  for (const type of OP_TYPES) {
    const n = counts.get(type) ?? 0;
    if (n === 0) continue;
    const swatch = type === "flush"
      ? `<span class="swatch tick" style="background:${OP_COLORS.flush}"></span>`
      : `<span class="swatch" style="background:${OP_COLORS[type]}"></span>`;
    items.push(`<li>${swatch}${esc(type)} <span class="muted">${n}</span></li>`);
  }
  const statusCounts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const point of result.points) statusCounts[statusOf(point)]++;
  for (const status of ["pass", "fail", "not-fired", "inconclusive"] as const) {
    if (status === "inconclusive" && statusCounts[status] === 0) continue;
    items.push(
      `<li><span class="swatch point" style="background:${STATUS_COLORS[status]}"></span>${
        status === "fail" ? "fail" : STATUS_LABELS[status]
      } <span class="muted">${statusCounts[status]}</span></li>`,
    );
  }
  if (parent.ordered.some((op) => op.phase === "check")) {
    items.push(`<li><span class="swatch phase"></span>check phase</li>`);
  }
  return `<ul class="legend">${items.join("")}</ul>`;
}

function card(id: string, value: string | number, label: string, tone = ""): string {
  return `<div class="card ${tone}" id="total-${id}"><b>${esc(value)}</b><span>${
    esc(label)
  }</span></div>`;
}

/** The link to the recording's timeline, when one was written beside the page. */
function timelineLink(perfetto: string): string {
  if (!perfetto) return "";
  return `<dt>timeline</dt><dd><a id="perfetto" href="${esc(encodeURI(perfetto))}">${
    esc(perfetto)
  }</a> <span class="muted">every op, frame, fault and phase of the recording: open it in ui.perfetto.dev or chrome://tracing</span></dd>\n`;
}

function header(parent: ParentTrace, result: SweepResult, perfetto: string): string {
  const ops = parent.ordered;
  const checkOps = ops.filter((op) => op.phase === "check").length;
  const phases = checkOps > 0 ? ` (${ops.length - checkOps} run, ${checkOps} check)` : "";
  const cards = [
    card("points", result.points.length, "points"),
    card("passed", result.passed, "passed", "good"),
    card("failed", result.failed, "failed", result.failed > 0 ? "bad" : ""),
    card("not-fired", result.notFired, "never fired", "quiet"),
    ...(result.inconclusive
      ? [card("inconclusive", result.inconclusive, "inconclusive", "quiet")]
      : []),
    ...(result.distinctCrashStates !== undefined
      ? [card("crash-states", result.distinctCrashStates, "distinct crash states")]
      : []),
    card("replays", result.replays, "replays"),
    card("duration", formatDuration(result.durationMs), "duration"),
  ];
  const warnings = [
    ...(parent.warning ? [parent.warning] : []),
    ...(result.partial
      ? [
        `Partial: the sweep was stopped after ${result.points.length} of ${result.partial.pointsPlanned} points; only the finished points are here.`,
      ]
      : []),
  ];
  const warning = warnings.map((text) => `<p class="warning">${esc(text)}</p>`).join("");
  return `<header>
<h1>Sweep of <span class="name">${esc(scenarioName(parent))}</span> with <code>${
    esc(result.fault)
  }</code></h1>
<dl class="meta">
<dt>trace</dt><dd><code class="sel">${esc(parent.path)}</code></dd>
<dt>scenario</dt><dd>${esc(scenarioName(parent))}</dd>
<dt>fault</dt><dd><code>${esc(result.fault)}</code></dd>
${
    result.with?.length
      ? `<dt>with</dt><dd>${result.with.map((w) => `<code>${esc(w)}</code>`).join(" ")}</dd>\n`
      : ""
  }
<dt>ops</dt><dd>${esc(`${ops.length}${phases}`)}</dd>
${timelineLink(perfetto)}</dl>
${warning}<div class="cards">${cards.join("")}</div>
</header>`;
}

/** " reproduced: stable 3/3" for a failure that got several runs, else "". */
function rateText(rate: Reproduced | undefined): string {
  return rate && rate.runs > 1 ? ` reproduced: ${describeRate(rate)}` : "";
}

function oracleText(point: SweepPoint): string {
  const oracle = point.oracle;
  if (!oracle) return "";
  const keys = oracle.lostKeys.length > 0 ? ` (${oracle.lostKeys.join(", ")})` : "";
  return `oracle: ${oracle.acked} acked, ${oracle.found} found, ${oracle.lost} lost${keys}`;
}

function failingTable(result: SweepResult, limits: Required<SweepReportOptions>): string {
  const failing = result.points.filter((p) => statusOf(p) === "fail");
  if (failing.length === 0) {
    return `<section id="failing"><h2>Failing points</h2><p class="ok">No point failed.</p></section>`;
  }
  const rows = failing.slice(0, limits.maxFailingRows).map((p) => {
    const states = (p.states?.outcomes ?? []).filter(stateFails).map((o) =>
      `state ${o.id}, ${o.drops}: ${o.verdict.reason}${rateText(o.reproduced)} (${o.reproduce})`
    );
    const orders = (p.orders ?? []).filter(orderFails).map((o) =>
      `order ${o.order.join(",")}: ${o.verdict.reason}${rateText(o.reproduced)} (${o.reproduce})`
    );
    const notes = [
      p.states || p.orders ? "" : rateText(p.reproduced).trim(),
      oracleText(p),
      ...states,
      ...orders,
      p.trace ? `replay trace: ${p.trace}` : "",
    ].filter(Boolean);
    return `<tr id="p${p.at}"><td class="num">${p.at}</td><td><code>${esc(p.op)}</code></td><td>${
      esc(pointMessage(p))
    }${
      notes.map((n) => `<div class="note">${esc(n)}</div>`).join("")
    }</td><td><code class="cmd sel">${esc(p.reproduce)}</code></td></tr>`;
  });
  const cut = failing.length > limits.maxFailingRows
    ? `<p class="cut">${
      failing.length - limits.maxFailingRows
    } more failing points are not listed here; the sweep's <code>--json</code> output lists every point.</p>`
    : "";
  return `<section id="failing"><h2>Failing points <span class="muted">${failing.length}</span></h2>
<table class="points failing"><thead><tr><th>op</th><th>what</th><th>reason</th><th>reproduce</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>${cut}</section>`;
}

function allTable(result: SweepResult, limits: Required<SweepReportOptions>): string {
  const rows = result.points.slice(0, limits.maxRows).map((p) => {
    const status = statusOf(p);
    const notes = [
      p.sameCrashAs !== undefined ? `same crash state as op ${p.sameCrashAs}` : "",
      oracleText(p),
    ].filter(Boolean).join("; ");
    return `<tr id="all-p${p.at}" class="${status}"><td class="num">${p.at}</td><td><code>${
      esc(p.op)
    }</code></td><td><span class="badge ${status}">${esc(statusWord(p))}</span></td><td>${
      esc(p.verdict.reason)
    }</td><td class="note">${esc(notes)}</td></tr>`;
  });
  const cut = result.points.length > limits.maxRows
    ? `<p class="cut">${
      result.points.length - limits.maxRows
    } more points are not listed here; the sweep's <code>--json</code> output lists every point.</p>`
    : "";
  return `<section id="all"><details><summary><h2>All points <span class="muted">${result.points.length}</span></h2></summary>
<table class="points"><thead><tr><th>op</th><th>what</th><th>verdict</th><th>reason</th><th>notes</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>${cut}</details></section>`;
}

const CSS = `
:root { color-scheme: light; --fg: #1f2430; --muted: #667085; --line: #d9dee7; --pass: ${STATUS_COLORS.pass}; --fail: ${STATUS_COLORS.fail}; --nf: ${
  STATUS_COLORS["not-fired"]
}; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
code, .cmd { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace; font-size: 12.5px; }
h1 { font-size: 22px; margin: 0 0 8px; font-weight: 600; }
h1 code { font-size: 20px; background: #f1f3f7; padding: 0 6px; border-radius: 4px; }
h2 { font-size: 17px; margin: 26px 0 8px; font-weight: 600; display: inline-block; }
.muted { color: var(--muted); font-weight: normal; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 14px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 110px; background: #fafbfc; }
.card b { display: block; font-size: 22px; line-height: 1.2; }
.card span { color: var(--muted); font-size: 12.5px; }
.card.good b { color: var(--pass); }
.card.bad { border-color: var(--fail); background: #fff5f5; }
.card.bad b { color: var(--fail); }
.card.quiet b { color: #5f6368; }
.warning { background: #fff7e0; border: 1px solid #f0c36d; padding: 6px 10px; border-radius: 6px; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 6px 0 8px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px; }
.swatch.tick { width: 2px; height: 14px; border-radius: 0; }
.swatch.point { width: 8px; height: 14px; }
.swatch.phase { background: #e9eef8; border-left: 2px dashed #4a5a7a; width: 16px; height: 14px; }
.toggle { display: flex; gap: 6px; align-items: center; margin-top: 4px; }
#timeline > input[type="radio"] { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.toggle label { border: 1px solid var(--line); border-radius: 6px; padding: 2px 10px; cursor: pointer; color: var(--muted); }
#x-index:checked ~ .toggle label[for="x-index"], #x-time:checked ~ .toggle label[for="x-time"] { background: #1f2430; color: #fff; border-color: #1f2430; }
.chart-time { display: none; }
#x-time:checked ~ .chart-index { display: none; }
#x-time:checked ~ .chart-time { display: block; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 6px 4px 0; margin-top: 6px; }
svg.timeline { display: block; width: 100%; height: auto; font: 12px system-ui, "DejaVu Sans", sans-serif; }
svg .band { fill: #fafbfc; stroke: #e3e7ee; }
svg .lane { fill: none; stroke: #e3e7ee; }
svg .check-region { fill: #dfe6f5; opacity: 0.55; }
svg .phase-boundary { stroke: #4a5a7a; stroke-width: 1.5; stroke-dasharray: 5 3; fill: none; }
svg .phase-label { fill: #4a5a7a; font-size: 11.5px; }
svg .phase-label.end { text-anchor: end; }
svg .band-name, svg .lane-name { text-anchor: end; font-weight: 600; fill: var(--fg); }
svg .band-scale { text-anchor: end; fill: var(--muted); font-size: 10px; }
svg .op-flush { stroke-width: 1; fill: none; opacity: 0.6; }
svg .step-0 { fill: #eef1f7; stroke: #c9d1e0; }
svg .step-1 { fill: #e2e8f3; stroke: #c9d1e0; }
svg .step-label { fill: #3b4660; font-size: 11px; }
svg .op-flush.dense { opacity: 0.22; }
svg .fail-guides { stroke: var(--fail); stroke-width: 1; opacity: 0.28; fill: none; }
svg .pt-pass { fill: var(--pass); }
svg .pt-fail { fill: var(--fail); }
svg .pt-not-fired { fill: var(--nf); }
svg .pt-inconclusive { fill: ${STATUS_COLORS.inconclusive}; }
svg .pt:hover { stroke: #000; stroke-width: 1; }
svg .axis { stroke: #98a2b3; fill: none; }
svg .tick { text-anchor: middle; fill: var(--muted); font-size: 11px; }
svg .caption { text-anchor: end; fill: var(--muted); font-size: 11.5px; }
table.points { border-collapse: collapse; width: 100%; margin-top: 4px; }
table.points th, table.points td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
table.points th { font-weight: 600; color: var(--muted); font-size: 12.5px; background: #f6f7f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.failing td:nth-child(3) { width: 38%; }
.note { color: var(--muted); font-size: 12.5px; }
.cmd { display: block; background: #f4f5f8; border: 1px solid var(--line); border-radius: 4px; padding: 3px 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.sel { user-select: all; -webkit-user-select: all; }
tr.fail td { background: #fff7f7; }
.badge { font-size: 12px; padding: 1px 7px; border-radius: 9px; color: #fff; white-space: nowrap; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
.badge.not-fired { background: var(--nf); }
.badge.inconclusive { background: ${STATUS_COLORS.inconclusive}; }
.ok { color: var(--pass); }
.cut { color: var(--muted); font-style: italic; }
details > summary { cursor: pointer; }
details > summary h2 { margin-top: 26px; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
`;

function renderReport(
  parent: ParentTrace,
  result: SweepResult,
  limits: Required<SweepReportOptions>,
): string {
  const bands = makeBands(parent);
  const byIndex = chart(parent, result, bands, indexAxis(parent.ordered), limits);
  const byTime = chart(parent, result, bands, timeAxis(parent.ordered), limits);
  const title = `faultline sweep: ${scenarioName(parent)}, ${result.fault}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="faultline ${esc(VERSION)}">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${header(parent, result, limits.perfetto)}
<section id="timeline">
<h2>Timeline</h2>
<p class="muted">Each band is one disk: y is the byte offset (0 at the bottom, the band's top is the largest offset + length seen on that disk). Flushes are vertical ticks. The fault points lane shows where the fault was injected and what came of it; hover for details, click to jump to the point's row.</p>
${legend(parent, result)}
<input type="radio" name="x-axis" id="x-index" checked>
<input type="radio" name="x-axis" id="x-time">
<div class="toggle"><span class="muted">x axis:</span><label for="x-index">op index</label><label for="x-time">time</label></div>
<div class="chart chart-index">
${byIndex}
</div>
<div class="chart chart-time">
${byTime}
</div>
</section>
${failingTable(result, limits)}
${allTable(result, limits)}
<footer>faultline ${
    esc(VERSION)
  }: a self-contained report, with no script and nothing loaded from the network.</footer>
</body>
</html>
`;
}
