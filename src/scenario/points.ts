/**
 * Fault points: which arrivals of a trace (ops and frames, numbered on the run's one clock)
 * a sweep puts its fault at, written as a person picks them: indices read off
 * `trace show`, ranges, classes of ops of a disk, frames of a link, joined by commas.
 * The grammar is docs/points.md's. Pure.
 *
 * @module
 */

import { FaultSpecError } from "../fault/errors.ts";
import { parseTrigger } from "../fault/spec.ts";
import { type FrameFacts, passesFilter } from "../fault/trigger.ts";
import type { Trigger } from "../fault/types.ts";
import type { OpRecord } from "../trace/schema.ts";
import { ScenarioError } from "./errors.ts";

/** Narrows a class of points: to one disk (of one node), to a range of indices, to every k-th. */
export interface PointFilter {
  /** Only the ops of this disk (and node, in a cluster). */
  disk?: { node?: string; name: string };
  /** Only the points from index `from` to `to`, both included (`flushes,1400..1600`). */
  range?: { from: number; to: number };
  /** Every k-th of the selected points, after the range (the first, the k+1-th, ...). */
  every?: number;
}

/** Which frames a `frames` selection takes: a frame filter, as a link fault's `@net:...`. */
export type FrameFilter = Omit<Extract<Trigger, { kind: "frames" }>, "occurrence">;

/** Which arrivals of the trace are fault points. */
export type PointSelection =
  | ({ kind: "all" } & PointFilter)
  | ({ kind: "reads" } & PointFilter)
  | ({ kind: "writes" } & PointFilter)
  | ({ kind: "flushes" } & PointFilter)
  /** Frames (of a link, a protocol, a port: `frames:p1->p2/tcp:5432`). */
  | ({ kind: "frames"; filter: FrameFilter } & Omit<PointFilter, "disk">)
  /** Arrival indices from `from` to `to`, both included; `N` is `N..N`. */
  | { kind: "range"; from: number; to: number }
  /** Every arrival whose index is a multiple of `step` (0, k, 2k, ...). */
  | { kind: "every"; step: number }
  /** The points of any of these (`255,300..310,flushes:e2/data`). */
  | { kind: "union"; of: PointSelection[] };

/** The selections that take a disk, a range and `every:K` after them. */
type ClassSelection = Extract<PointSelection, { kind: "all" | "reads" | "writes" | "flushes" }>;
/** A class, with the range and thinning it has taken so far. */
type Open = ClassSelection | Extract<PointSelection, { kind: "frames" }>;

const EXPECTED = "expected N, N..M, all, reads, writes, flushes (each with :[NODE/]DISK), " +
  "frames (with :FILTER, as frames:n1->n2/tcp:5432), each class with ,N..M and ,every:K; " +
  "or every:K; joined by commas";

/**
 * Parses `--points` (and a scenario's `points`): selections joined by commas, their union.
 * A selection is an index `N`, a range `N..M` (both included), a class (`all`, `reads`,
 * `writes` or `flushes`, each optionally of one disk, `flushes:e1/data`; `frames`,
 * optionally through a frame filter, `frames:p1->p2/tcp:5432`), or `every:K` first (every
 * arrival whose index is a multiple of K). A class takes the range and the `every:K` that
 * follow it, in that order: `flushes:p1/data,1400..1600,every:10` is every 10th of that
 * disk's flushes from 1400 to 1600. So that no list reads two ways, a number or a range
 * after a class (beyond its one range) is refused: the indices a list adds come before its
 * first class (`255,300..310,flushes:e2/data`).
 *
 * @throws {ScenarioError} naming the selection and what was expected.
 * @example
 * ```ts
 * parsePoints("10..20"); // { kind: "range", from: 10, to: 20 }
 * parsePoints("flushes:p1/data,1400..1600"); // { kind: "flushes", disk: { node: "p1", name: "data" }, range: { from: 1400, to: 1600 } }
 * ```
 */
export function parsePoints(text: string): PointSelection {
  const fail = (why: string) => new ScenarioError(`--points ${text}: ${why}`);
  const selections: PointSelection[] = [];
  let open: Open | null = null;
  for (const [position, raw] of text.split(",").entries()) {
    const item = raw.trim();
    if (item === "") throw fail(`an empty selection between commas; ${EXPECTED}`);
    const every = /^every:(\d+)$/.exec(item);
    if (every) {
      const step = Number(every[1]);
      if (step < 1) throw fail("every:K needs K of at least 1");
      if (open && open.every === undefined) open.every = step;
      else if (position === 0) selections.push({ kind: "every", step });
      else throw fail(`${item} thins the class before it, and ${thinWhat(open)}`);
      continue;
    }
    const range = parseRange(item, fail);
    if (range) {
      if (open && open.range === undefined && open.every === undefined && item.includes("..")) {
        open.range = range;
      } else if (open) throw fail(afterClass(item, open));
      else selections.push({ kind: "range", ...range });
      continue;
    }
    open = parseClass(item, fail);
    selections.push(open);
  }
  return selections.length === 1 ? selections[0] : { kind: "union", of: selections };
}

/** Why a thinning has no class to thin. */
function thinWhat(open: Open | null): string {
  return open
    ? "that class is thinned already"
    : "there is none (every:K alone comes first: every:K,N)";
}

/** Why a number or range after a class is refused, and what to write instead. */
function afterClass(item: string, open: Open): string {
  const kind = open.kind;
  if (open.range === undefined && open.every === undefined) {
    return `${item} after ${kind} would read two ways: narrow ${kind} with a range (${kind},${item}..${item}), or add ${item} before the first class (${item},${kind})`;
  }
  return `${kind} takes one range, before its every:K; add ${item} before the first class (${item},${kind},...), or name the class again (${kind},${item})`;
}

/** `N` or `N..M`, or null for anything else. */
function parseRange(
  item: string,
  fail: (why: string) => ScenarioError,
): { from: number; to: number } | null {
  const match = /^(\d+)(?:\.\.(\d+))?$/.exec(item);
  if (!match) return null;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  if (to < from) throw fail(`the range ${item} is empty (${to} < ${from})`);
  return { from, to };
}

/** A class: `all`, `reads`, `writes`, `flushes` with `:[NODE/]DISK`, or `frames` with `:FILTER`. */
function parseClass(item: string, fail: (why: string) => ScenarioError): Open {
  const frames = /^frames(?::(.*))?$/.exec(item);
  if (frames) return { kind: "frames", filter: parseFrameFilter(frames[1], fail) };
  const ops = /^(all|reads|writes|flushes)(?::(?:([a-z][a-z0-9-]*)\/)?([a-z][a-z0-9_-]*))?$/
    .exec(item);
  if (!ops) throw fail(`"${item}" is no selection; ${EXPECTED}`);
  const [, kind, node, disk] = ops;
  return {
    kind: kind as ClassSelection["kind"],
    ...(disk !== undefined
      ? { disk: node !== undefined ? { node, name: disk } : { name: disk } }
      : {}),
  };
}

/** A frame filter, as a link fault's trigger writes it after `net:`; none for every frame. */
function parseFrameFilter(
  text: string | undefined,
  fail: (why: string) => ScenarioError,
): FrameFilter {
  if (text === undefined) return { kind: "frames" };
  if (text === "") throw fail("frames: names no filter; every frame is frames");
  if (text.includes("#")) throw fail(`frames:${text}: a selection thins with ,every:K, not #K`);
  try {
    const trigger = parseTrigger(`net:${text}`);
    if (trigger.kind !== "frames") throw new FaultSpecError(`"${text}" is no frame filter`);
    return trigger;
  } catch (error) {
    if (!(error instanceof FaultSpecError)) throw error;
    throw fail(`frames:${text}: ${error.message}`);
  }
}

/** A frame as points see it: what a frame filter knows of it, and its phase. */
export interface PointFrame extends FrameFacts {
  /** The phase of the run it arrived in (`run`, `check`), when the command has phases. */
  phase?: string;
}

/** The arrivals of a trace that points are picked from. */
export interface PointArrivals {
  /** Op records, by arrival index. */
  ops: readonly OpRecord[];
  /** Frames, by arrival index. */
  frames: readonly PointFrame[];
}

/**
 * The arrival indices a selection picks from a trace, in order, each once. A class picks
 * only the run phase's; so does `every:K`. An index or a range (`N`, `N..M`, alone) may
 * reach into the check, to hit the recovery code, when `runPhaseOnly` is false.
 *
 * @example
 * ```ts
 * selectPoints({ ops: trace.ordered, frames: [] }, parsePoints("flushes,10..20"), true); // [12, 17]
 * ```
 */
export function selectPoints(
  arrivals: PointArrivals,
  selection: PointSelection,
  runPhaseOnly: boolean,
): number[] {
  const picked = new Set(pick(arrivals, selection, runPhaseOnly));
  return [...picked].sort((a, b) => a - b);
}

const inRun = (arrival: { phase?: string }) =>
  arrival.phase === undefined || arrival.phase === "run";

const WRITE_LIKE: ReadonlySet<OpRecord["op"]> = new Set(["write", "write-zeroes", "trim"]);

function pick(arrivals: PointArrivals, selection: PointSelection, runPhaseOnly: boolean): number[] {
  const { ops, frames } = arrivals;
  const indices = (list: readonly { index: number }[]) => list.map((arrival) => arrival.index);
  switch (selection.kind) {
    case "union":
      return selection.of.flatMap((one) => pick(arrivals, one, runPhaseOnly));
    case "range": {
      const within = (a: { index: number; phase?: string }) =>
        (!runPhaseOnly || inRun(a)) && a.index >= selection.from && a.index <= selection.to;
      return [...indices(ops.filter(within)), ...indices(frames.filter(within))];
    }
    case "every": {
      const multiple = (a: { index: number; phase?: string }) =>
        inRun(a) && a.index % selection.step === 0;
      return [...indices(ops.filter(multiple)), ...indices(frames.filter(multiple))];
    }
    case "frames": {
      const chosen = frames.filter((frame) =>
        inRun(frame) && passesFilter(selection.filter, { kind: "frame", frame })
      );
      return narrowed(chosen, selection);
    }
    default: {
      const { disk } = selection;
      const chosen = ops.filter((op) =>
        inRun(op) && ofClass(selection.kind, op.op) &&
        (!disk || (op.disk === disk.name && (disk.node === undefined || op.node === disk.node)))
      );
      return narrowed(chosen, selection);
    }
  }
}

function ofClass(kind: ClassSelection["kind"], type: OpRecord["op"]): boolean {
  if (kind === "all") return true;
  if (kind === "reads") return type === "read";
  if (kind === "writes") return WRITE_LIKE.has(type);
  return type === "flush";
}

/** A class's points in its range, then every k-th of those. */
function narrowed(chosen: readonly { index: number }[], filter: Omit<PointFilter, "disk">) {
  const { range, every } = filter;
  const inRange = range
    ? chosen.filter((a) => a.index >= range.from && a.index <= range.to)
    : chosen;
  return (every ? inRange.filter((_, i) => i % every === 0) : inRange).map((a) => a.index);
}
