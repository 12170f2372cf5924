/**
 * The trigger engine: the one place that decides when a fault's trigger fires, for block
 * ops, frames and time alike. Every family (the fault layer's block rules, the switch's
 * link rules, the run's node rules) feeds its arrivals to {@link stepTrigger} and acts on
 * what fires; the meaning of each trigger is written here once:
 *
 * - no trigger: every arrival the rule sees;
 * - `@N`: the arrival (op or frame) with index N on the run's one clock. A replay turns a
 *   recorded op's index into its signature and occurrence before this engine sees it, so
 *   `@N` fires when recorded op N arrives again; where nothing was recorded (`record`,
 *   `serve`) it is the raw index;
 * - `@+D`: every arrival D or more after the start (a node rule, which must fire whether or
 *   not anything arrives, also gets a timer: {@link dueAt});
 * - a block op filter `@[PHASE:][[NODE/]DISK/]TYPE[:RANGE]` and a frame filter
 *   `@net:...`: every matching arrival, and with `#K` only the K-th (from 1). A filter
 *   counts only arrivals the rule's kind applies to (`lost-write@any#2` is the second
 *   write-like op); with a phase (`run:`, `check:`), only ops of that phase of the run.
 *
 * A rule that fires at most once (a persistent kind coming into force, a node fault, a
 * heal) passes `once`; an index and an occurrence fire once by themselves. Pure: the
 * progress is a value, never mutated.
 *
 * @module
 */

import type { OpType } from "../block/backend.ts";
import type { FrameProtocol, Trigger } from "./types.ts";

/** What a trigger, and the fault layer, must know about an op. */
export interface OpView {
  /** The op's index in the run. */
  index: number;
  /** The node of the disk. */
  node?: string;
  /** The disk's unique id in the run (its export name): faults in force are kept per id. */
  disk: string;
  /** The disk's name in its node, when it differs from the id (triggers match it). */
  name?: string;
  /** What the op does. */
  type: OpType;
  /** Where it starts, in bytes. */
  offset: number;
  /** How many bytes it covers. */
  length: number;
  /** The op carries FUA (writes). */
  fua?: boolean;
  /** Milliseconds since the run started. */
  time: number;
  /** The phase of the run it came in (`run`, `check`), when the run has phases. */
  phase?: string;
  /**
   * The op's occurrence among the run's ops of its signature (node, disk, type, offset,
   * length), from 1: what identifies it across runs, for the draws of random faults.
   */
  occurrence?: number;
}

/**
 * An op's signature as one text: node, disk, type, offset and length, which name the same
 * op in every run (with its occurrence).
 *
 * @example
 * ```ts
 * signatureText({ index: 9, node: "n1", disk: "n1-data", name: "data", type: "write", offset: 0, length: 512, time: 3 });
 * // "n1/data/write:0+512"
 * ```
 */
export function signatureText(op: OpView): string {
  return `${op.node ?? ""}/${op.name ?? op.disk}/${op.type}:${op.offset}+${op.length}`;
}

/** What a trigger, and a link fault, must know about a frame (decoded by src/net/). */
export interface FrameFacts {
  /** Its index on the run's one clock. */
  index: number;
  /** Milliseconds since the run started. */
  time: number;
  /** The node that sent it. */
  from: string;
  /** The nodes the switch would deliver it to, before faults. */
  to: readonly string[];
  /** `arp`; for IPv4, `tcp`, `udp`, `icmp`, or `ip` for another protocol; absent for anything else. */
  protocol?: FrameProtocol;
  /** TCP or UDP: the source port. */
  srcPort?: number;
  /** TCP or UDP: the destination port. */
  dstPort?: number;
  /** TCP: the names of the flags set (`syn`, `ack`, ...). */
  tcpFlags?: readonly string[];
}

/** One arrival on the run's clock: an op or a frame. */
export type Arrival =
  | { kind: "op"; op: OpView }
  | { kind: "frame"; frame: FrameFacts };

/** A rule's progress through its trigger. */
export interface TriggerProgress {
  /** Arrivals that passed its filter (and that its kind applies to) so far. */
  readonly matched: number;
  /** It fired for the last time, or can no longer fire. */
  readonly done: boolean;
}

/** The progress of a rule before its first arrival. */
export const NOT_STARTED: TriggerProgress = { matched: 0, done: false };

/** How a rule takes its trigger. */
export interface TriggerOptions {
  /** It fires at most once (a persistent kind, a node fault, a heal). */
  once: boolean;
  /** Whether its kind applies to an arrival; a filter counts only those (every arrival when absent). */
  applies?: (arrival: Arrival) => boolean;
}

/** The index and time of an arrival. */
export function momentOf(arrival: Arrival): { index: number; time: number } {
  return arrival.kind === "op" ? arrival.op : arrival.frame;
}

/**
 * Whether a trigger fires at an arrival, and the rule's progress after it.
 *
 * @example
 * ```ts
 * const trigger = parseTrigger("write#2");
 * let progress = NOT_STARTED;
 * for (const op of ops) {
 *   const step = stepTrigger(trigger, progress, { kind: "op", op }, { once: false });
 *   progress = step.progress;
 *   if (step.fires) console.log("fires at", op.index);
 * }
 * ```
 */
export function stepTrigger(
  trigger: Trigger,
  progress: TriggerProgress,
  arrival: Arrival,
  options: TriggerOptions,
): { fires: boolean; progress: TriggerProgress } {
  if (progress.done) return { fires: false, progress };
  const { index, time } = momentOf(arrival);
  const applies = options.applies?.(arrival) ?? true;
  switch (trigger.kind) {
    case "index":
      // Only the arrival it names, which the rule's kind may not apply to: then it is done
      // without firing. (Arrivals may reach a rule out of index order under strict order.)
      if (index !== trigger.index) return { fires: false, progress };
      return { fires: applies, progress: { ...progress, done: true } };
    case "always":
    case "time":
      if (!applies || (trigger.kind === "time" && time < trigger.afterMs)) {
        return { fires: false, progress };
      }
      return { fires: true, progress: options.once ? { ...progress, done: true } : progress };
    case "match":
    case "frames": {
      if (!applies || !passesFilter(trigger, arrival)) return { fires: false, progress };
      const matched = progress.matched + 1;
      const k = trigger.occurrence;
      if (k !== undefined && matched !== k) {
        return { fires: false, progress: { matched, done: false } };
      }
      return { fires: true, progress: { matched, done: k !== undefined || options.once } };
    }
  }
}

/**
 * Whether a trigger is still to fire at `now` (a time, an index or an occurrence not yet
 * reached); a rule that waits is not in force.
 *
 * @example
 * ```ts
 * isPending(parseTrigger("+2s"), NOT_STARTED, { index: 10, time: 500 }); // true
 * ```
 */
export function isPending(
  trigger: Trigger,
  progress: TriggerProgress,
  now: { index: number; time: number },
): boolean {
  if (progress.done) return false;
  switch (trigger.kind) {
    case "always":
      return false;
    case "time":
      return trigger.afterMs > now.time;
    case "index":
      return trigger.index >= now.index;
    case "match":
    case "frames":
      return trigger.occurrence !== undefined;
  }
}

/**
 * When a trigger fires by the clock alone (run time in ms), for rules that must fire
 * whether or not anything arrives: `@+D`.
 *
 * @example
 * ```ts
 * dueAt(parseTrigger("+2s")); // 2000
 * dueAt(parseTrigger("17")); // undefined
 * ```
 */
export function dueAt(trigger: Trigger): number | undefined {
  return trigger.kind === "time" ? trigger.afterMs : undefined;
}

/**
 * Whether an arrival passes a trigger's filter, without its occurrence (an op for a block
 * op filter, a frame for a frame filter; an index or a time passes at its moment).
 *
 * @example
 * ```ts
 * passesFilter(parseTrigger("data/write"), { kind: "op", op }); // true for op's writes to data
 * ```
 */
export function passesFilter(trigger: Trigger, arrival: Arrival): boolean {
  switch (trigger.kind) {
    case "always":
      return true;
    case "index":
      return momentOf(arrival).index === trigger.index;
    case "time":
      return momentOf(arrival).time >= trigger.afterMs;
    case "match":
      return arrival.kind === "op" && opPasses(trigger, arrival.op);
    case "frames":
      return arrival.kind === "frame" && framePasses(trigger, arrival.frame);
  }
}

function opPasses(trigger: Extract<Trigger, { kind: "match" }>, op: OpView): boolean {
  // Ops of a run without phases (serve) are all the run's.
  return (trigger.phase === undefined || trigger.phase === (op.phase ?? "run")) &&
    (trigger.node === undefined || trigger.node === op.node) &&
    (trigger.disk === undefined || trigger.disk === (op.name ?? op.disk)) &&
    (trigger.type === undefined || trigger.type === op.type) &&
    (trigger.range === undefined ||
      (op.offset < trigger.range.end &&
        op.offset + Math.max(op.length, 1) > trigger.range.start)) &&
    (trigger.exact === undefined ||
      (op.offset === trigger.exact.offset && op.length === trigger.exact.length));
}

const IP_PROTOCOLS: ReadonlySet<FrameProtocol> = new Set(["tcp", "udp", "icmp", "ip"]);

function framePasses(trigger: Extract<Trigger, { kind: "frames" }>, frame: FrameFacts): boolean {
  const link = trigger.link;
  if (link) {
    const over = (a: string, b: string) => frame.from === a && frame.to.includes(b);
    const on = link.kind === "node"
      ? frame.from === link.node || frame.to.includes(link.node)
      : over(link.from, link.to) || (link.both && over(link.to, link.from));
    if (!on) return false;
  }
  if (trigger.protocol !== undefined) {
    const ok = trigger.protocol === "ip"
      ? frame.protocol !== undefined && IP_PROTOCOLS.has(frame.protocol)
      : frame.protocol === trigger.protocol;
    if (!ok) return false;
  }
  if (
    trigger.port !== undefined && frame.srcPort !== trigger.port && frame.dstPort !== trigger.port
  ) return false;
  return (trigger.flags ?? []).every((flag) => frame.tcpFlags?.includes(flag) ?? false);
}
