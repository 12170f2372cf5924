/**
 * Fault schedules drawn from a seed: schedule i of seed S is a pure function of S, i, the
 * recording (its ops, frames, nodes and disks) and the fault-kind table's version
 * (`FAULT_KINDS_VERSION`), so a failure found by `faultline explore` is drawn again, and
 * replayed, from the same four. Each schedule is 1 to K faults, each of a kind the
 * recording can take, put at a recorded arrival: an op by its signature and occurrence,
 * or a frame by its link, protocol and occurrence; never at a host time (`@+2s`), which
 * does not repeat. Parameters come from each kind's `explore` ranges (src/fault/kinds/).
 *
 * A power loss is built from the trace at its moment, and the run is not executed again
 * after it: it cannot be combined with faults that change the run. A schedule that draws a
 * power loss first is that power loss alone; later faults never draw one.
 *
 * @module
 */

import type { RoleReport } from "./roles.ts";
import { appliesTo } from "../fault/plan.ts";
import { FAULT_KINDS, FAULT_KINDS_VERSION, type FaultKind } from "../fault/kinds/mod.ts";
import type { DrawContext } from "../fault/kinds/kind.ts";
import { seededStream } from "../fault/random.ts";
import { passesFilter } from "../fault/trigger.ts";
import { formatFaultSpec } from "../fault/spec.ts";
import type { FaultEffect, FaultRule, Trigger } from "../fault/types.ts";
import { pick, wholeBetween } from "../fault/draw_params.ts";
import { frameFactsOfRecord } from "../net/frame_record.ts";
import { triggerOfRecordedOp } from "../replay/signature.ts";
import type { FrameRecord, OpRecord, TraceDisk } from "../trace/schema.ts";
import { ExploreError } from "./errors.ts";

/** What a schedule is drawn from: the recorded run. */
export interface Recording {
  /** The scenario's nodes, in its order. */
  nodes: readonly string[];
  /** The recorded ops, by arrival index. */
  ops: readonly OpRecord[];
  /** The recorded frames, by arrival index. */
  frames: readonly FrameRecord[];
  /** The disks of the run (for their sizes). */
  disks: readonly Pick<TraceDisk, "node" | "name" | "size">[];
  /** The trace holds the written bytes (a power loss is built from them); true when absent. */
  recordsData?: boolean;
  /** The roles the workload reported its nodes in (`report role NAME`), in order. */
  roles?: readonly RoleReport[];
}

/** How schedules are drawn. */
export interface DrawOptions {
  /** The seed. */
  seed: number;
  /** The most faults in one schedule (K); at least 1. */
  maxFaults: number;
  /** The kinds to draw (their `kind` names, as `link-delay`); every kind the recording can take when absent. */
  kinds?: readonly string[];
}

/** The kinds a recording can take, ready to draw from. */
export interface DrawPlan {
  /** The seed. */
  seed: number;
  /** The most faults in one schedule. */
  maxFaults: number;
  /** The kinds drawn from, in the table's order. */
  kinds: readonly FaultKind[];
  /** The kinds of the table not drawn from, and why (none named with `--kinds`: the rest). */
  excluded: readonly { kind: string; why: string }[];
  /** The fault-kind table's version the draws follow. */
  tableVersion: number;
  /** The recording. */
  recording: Recording;
}

/** One drawn fault: its rule, and the recorded arrival it is put at. */
export interface DrawnFault extends FaultRule {
  /** The arrival index of the recorded op or frame its trigger names. */
  at: number;
}

/** Schedule i of a seed. */
export interface Schedule {
  /** Its number, from 0. */
  index: number;
  /** The faults, by the arrival they are put at. */
  faults: readonly DrawnFault[];
  /** Present when the schedule is a power loss built from the trace, alone. */
  powerLossAlone?: true;
}

/**
 * The ops and frames of the run phase, where faults are put: a fault in the check phase
 * would fault the checker, not the system (a read error there reads as a lost record).
 */
function runArrivals(recording: Recording): RecordedArrival[] {
  const inRun = (phase: string | undefined) => (phase ?? "run") === "run";
  return [
    ...recording.ops.filter((op) => inRun(op.phase)).map((op): RecordedArrival => ({
      kind: "op",
      op,
    })),
    ...recording.frames.filter((frame) => inRun(frame.phase)).map((frame): RecordedArrival => ({
      kind: "frame",
      frame,
    })),
  ];
}

/** Kinds that cannot be drawn: set at boot, with no moment to be put at. */
function drawable(kind: FaultKind): boolean {
  return kind.explore !== undefined;
}

/** Why a scenario of these nodes cannot take the kind, whatever it records; null when it can. */
function refusedByNodes(kind: FaultKind, nodes: readonly string[]): string | null {
  if (!drawable(kind)) return `${kind.kind} is set at boot and has no moment to be put at`;
  if ((kind.family === "link" || kind.amongNodes !== undefined) && nodes.length < 2) {
    return `${kind.kind} is a ${kind.amongNodes ?? "link fault"} and the scenario has ${
      nodes.length === 0 ? "no nodes" : `one node (${nodes[0]})`
    }`;
  }
  return null;
}

/** Why the kind has no place in the recording, or null when it has. */
function unplaceableBecause(kind: FaultKind, recording: Recording): string | null {
  const refused = refusedByNodes(kind, recording.nodes);
  if (refused) return refused;
  const arrivals = runArrivals(recording);
  const ops = arrivals.flatMap((a) => a.kind === "op" ? [a] : []);
  if (!kind.link && !kind.node) {
    if (ops.length === 0) return `${kind.kind} needs disk ops and the run recorded none`;
    // A kind applies to the op types its drawn effects apply to: try a few draws.
    const draw = uniform(seededStream(0, 0));
    for (let i = 0; i < 16; i++) {
      const effect = kind.explore!.draw(draw, contextOf(recording, ops[0]));
      if (ops.some((o) => appliesTo(effect, o.op.op))) return null;
    }
    return `${kind.kind} applies to no op of the run`;
  }
  if (arrivals.length === 0) return `the run recorded no op or frame to put ${kind.kind} at`;
  return null;
}

/** Why the recording cannot take the kind, or null when it can. */
function unsupportedBecause(kind: FaultKind, recording: Recording): string | null {
  if (kind.fromTrace && recording.recordsData === false) {
    return `${kind.kind} is built from the trace's written bytes, and it was recorded with --no-data`;
  }
  return unplaceableBecause(kind, recording);
}

/**
 * Checks the options against the scenario's nodes and the kind table, before anything is
 * recorded: at least 1 fault a schedule, and `kinds`, when given, names at least one kind,
 * each in the table, drawable and one these nodes can take (no link fault on one node).
 *
 * @throws {ExploreError} naming the first problem.
 * @example
 * ```ts
 * checkDrawOptions({ maxFaults: 3, kinds: ["partition"] }, ["app"]);
 * // throws: --kinds: partition is a link fault and the scenario has one node (app)
 * ```
 */
export function checkDrawOptions(
  options: Pick<DrawOptions, "maxFaults" | "kinds">,
  nodes: readonly string[],
): void {
  if (!Number.isInteger(options.maxFaults) || options.maxFaults < 1) {
    throw new ExploreError(`a schedule holds 1 fault or more, not ${options.maxFaults}`);
  }
  if (options.kinds === undefined) return;
  if (options.kinds.length === 0) {
    throw new ExploreError("--kinds names no kind: name one or more, as --kinds error,crash");
  }
  for (const name of options.kinds) {
    const kind = FAULT_KINDS.find((k) => k.kind === name) as FaultKind | undefined;
    if (!kind) {
      const known = FAULT_KINDS.filter(drawable).map((k) => k.kind).join(", ");
      throw new ExploreError(`--kinds: no fault kind "${name}" (kinds: ${known})`);
    }
    const why = refusedByNodes(kind, nodes);
    if (why) throw new ExploreError(`--kinds: ${why}`);
  }
}

/**
 * Checks the options against the recording and the kind table: the kinds to draw.
 *
 * @throws {ExploreError} for an empty kind set, a kind the table lacks or the recording
 *   cannot take (a link fault on one node), or fewer than 1 fault per schedule.
 * @example
 * ```ts
 * const plan = drawPlan(recording, { seed: 7, maxFaults: 3 });
 * plan.kinds.map((k) => k.kind); // ["error", "delay", ...]
 * ```
 */
export function drawPlan(recording: Recording, options: DrawOptions): DrawPlan {
  checkDrawOptions(options, recording.nodes);
  let kinds: FaultKind[];
  const excluded: { kind: string; why: string }[] = [];
  if (options.kinds !== undefined) {
    kinds = [];
    for (const name of options.kinds) {
      const kind = FAULT_KINDS.find((k) => k.kind === name) as FaultKind;
      const why = unsupportedBecause(kind, recording);
      if (why) throw new ExploreError(`--kinds: ${why}`);
      if (!kinds.includes(kind)) kinds.push(kind);
    }
    // The table's order, whatever the order named: the draws depend on the set alone.
    kinds.sort((a, b) =>
      FAULT_KINDS.indexOf(a as typeof FAULT_KINDS[number]) -
      FAULT_KINDS.indexOf(b as typeof FAULT_KINDS[number])
    );
  } else {
    kinds = [];
    for (const kind of FAULT_KINDS as readonly FaultKind[]) {
      const why = unsupportedBecause(kind, recording);
      if (why) excluded.push({ kind: kind.kind, why });
      else kinds.push(kind);
    }
    if (kinds.length === 0) throw new ExploreError("the recording can take no fault kind");
  }
  return {
    seed: options.seed,
    maxFaults: options.maxFaults,
    kinds,
    excluded,
    tableVersion: FAULT_KINDS_VERSION,
    recording,
  };
}

/** A recorded arrival a fault can be put at. */
type RecordedArrival = { kind: "op"; op: OpRecord } | { kind: "frame"; frame: FrameRecord };

function uniform(stream: () => number): () => number {
  return () => stream() / 2 ** 32;
}

function contextOf(recording: Recording, arrival: RecordedArrival): DrawContext {
  if (arrival.kind === "frame") return { nodes: recording.nodes, node: arrival.frame.from };
  const { op } = arrival;
  const disk = recording.disks.find((d) => d.node === op.node && d.name === op.disk);
  return {
    nodes: recording.nodes,
    node: op.node,
    op: { offset: op.offset, length: op.length, diskSize: disk?.size ?? op.offset + op.length },
  };
}

/** The first port Linux gives a connecting socket (`net.ipv4.ip_local_port_range`). */
const EPHEMERAL_PORTS = 32768;

/**
 * The trigger that names a recorded frame again: its link (sender to first receiver),
 * protocol and service port (none when both ports are a client's), and its occurrence among
 * the recorded frames that pass that filter.
 */
function triggerOfRecordedFrame(frames: readonly FrameRecord[], frame: FrameRecord): Trigger {
  const facts = frameFactsOfRecord(frame);
  const trigger: Extract<Trigger, { kind: "frames" }> = {
    kind: "frames",
    link: frame.to.length > 0
      ? { kind: "link", from: frame.from, to: frame.to[0], both: false }
      : { kind: "node", node: frame.from },
  };
  if (facts.protocol !== undefined) trigger.protocol = facts.protocol;
  // The service's port, whichever way the frame goes: a client's port is the one its kernel
  // drew at connect, another in every run, and a trigger naming it would never fire again.
  const port = [facts.dstPort, facts.srcPort].find((p) => p !== undefined && p < EPHEMERAL_PORTS);
  if ((facts.protocol === "tcp" || facts.protocol === "udp") && port !== undefined) {
    trigger.port = port;
  }
  let occurrence = 0;
  for (const other of frames) {
    if (other.index > frame.index) break;
    if (passesFilter(trigger, { kind: "frame", frame: frameFactsOfRecord(other) })) occurrence++;
  }
  return { ...trigger, occurrence };
}

function triggerOf(recording: Recording, arrival: RecordedArrival): Trigger {
  return arrival.kind === "op"
    ? triggerOfRecordedOp(recording.ops, arrival.op.index)
    : triggerOfRecordedFrame(recording.frames, arrival.frame);
}

function indexOf(arrival: RecordedArrival): number {
  return arrival.kind === "op" ? arrival.op.index : arrival.frame.index;
}

/** One fault of a kind, drawn; null when no recorded arrival fits the drawn effect. */
function drawFault(plan: DrawPlan, kind: FaultKind, draw: () => number): DrawnFault | null {
  const { recording } = plan;
  const arrivals = runArrivals(recording);
  const ops = arrivals.filter((a) => a.kind === "op");
  // A frame filter triggers link and node kinds only (src/fault/spec.ts).
  const candidates = kind.link || kind.node ? arrivals : ops;
  let arrival = pick(draw, candidates);
  const effect = kind.explore!.draw(draw, contextOf(recording, arrival)) as FaultEffect;
  if (arrival.kind === "op" && !appliesTo(effect, arrival.op.op)) {
    const fits = ops.filter((a) => a.kind === "op" && appliesTo(effect, a.op.op));
    if (fits.length === 0) return null;
    arrival = pick(draw, fits);
  }
  const trigger = triggerOf(recording, arrival);
  return { effect, trigger, spec: formatFaultSpec({ effect, trigger }), at: indexOf(arrival) };
}

/**
 * Schedule `index` of the plan's seed: a pure function of the seed, the index, the
 * recording and the kind table's version.
 *
 * @example
 * ```ts
 * drawSchedule(plan, 0).faults.map((f) => f.spec); // ["crash:n2@net:n1->n2/tcp:2379#4", "eio@n1/data/write:0+4096#2"]
 * ```
 */
export function drawSchedule(plan: DrawPlan, index: number): Schedule {
  const draw = uniform(seededStream(plan.seed, plan.tableVersion, index));
  const count = wholeBetween(draw, 1, plan.maxFaults);
  const faults: DrawnFault[] = [];
  let kinds = plan.kinds;
  // A drawn effect may fit no recorded op (a lie about FUA writes, and none was FUA): draw
  // again, a bounded number of times, so every schedule stays a pure function of its draws.
  for (let tries = 0; faults.length < count && tries < count * 8 && kinds.length > 0; tries++) {
    const kind = pick(draw, kinds);
    if (kind.fromTrace && faults.length > 0) {
      // Never with online faults: the rest of the schedule draws among the others.
      kinds = kinds.filter((k) => !k.fromTrace);
      continue;
    }
    const fault = drawFault(plan, kind, draw);
    if (!fault) continue;
    if (kind.fromTrace) return { index, faults: [fault], powerLossAlone: true };
    faults.push(fault);
  }
  faults.sort((a, b) => a.at - b.at);
  return { index, faults };
}

/**
 * Other places a drawn fault could be put at, for a shrinker to try, the most preferred
 * first: earlier ones (the first arrival it fits, halfway there, the one before), then the
 * one after. Arrivals of its own sort (ops for ops, frames for frames) that it applies to;
 * a fault at an op moves among the ops of its own node's disk, since the op names what a
 * block fault hits (a move to another node's op would change the fault, not its moment).
 *
 * @example
 * ```ts
 * movesOf(recording, fault).map((f) => f.at); // [0, 6, 11, 14]
 * ```
 */
export function movesOf(recording: Recording, fault: DrawnFault): DrawnFault[] {
  const trigger = fault.trigger;
  const onFrame = trigger.kind === "frames";
  const sameDisk = (op: OpRecord) =>
    trigger.kind !== "match" ||
    ((trigger.node === undefined || op.node === trigger.node) &&
      (trigger.disk === undefined || op.disk === trigger.disk));
  const arrivals = runArrivals(recording).filter((a) =>
    onFrame
      ? a.kind === "frame"
      : a.kind === "op" && appliesTo(fault.effect, a.op.op) && sameDisk(a.op)
  );
  const here = arrivals.findIndex((a) => indexOf(a) === fault.at);
  if (here < 0) return [];
  const places = [0, Math.floor(here / 2), here - 1, here + 1]
    .filter((p, i, all) => p >= 0 && p < arrivals.length && p !== here && all.indexOf(p) === i);
  return places.map((p) => {
    const trigger = triggerOf(recording, arrivals[p]);
    return {
      effect: fault.effect,
      trigger,
      spec: formatFaultSpec({ effect: fault.effect, trigger }),
      at: indexOf(arrivals[p]),
    };
  });
}

/**
 * The schedule as the `replay` flags that run it: one `--fault SPEC` per fault.
 *
 * @example
 * ```ts
 * replayArgs(schedule); // ["--fault", "eio@n1/data/write:0+4096#2"]
 * ```
 */
export function replayArgs(schedule: Pick<Schedule, "faults">): string[] {
  return schedule.faults.flatMap((fault) => ["--fault", fault.spec]);
}
