/**
 * The fault plan as typed values: what a fault does (its effect) and when it
 * fires (its trigger). Fault specs (`eio@17`) are parsed into these once, at the
 * edge; the core never sees the strings.
 *
 * Effects come in three families: block effects, which the fault layer applies to the
 * ops of a disk (src/fault/plan.ts); link effects, which the switch applies to the
 * frames between nodes (src/net/link_plan.ts); and node effects, which the run applies
 * to a whole node while the others go on (src/run/node_faults.ts). Each side ignores
 * the others' rules, so one plan holds them all.
 *
 * @module
 */

import type { OpType } from "../block/backend.ts";
import type { Errno } from "../block/errno.ts";

/** What a block fault does to the ops it hits (the fault layer's family). */
export type BlockEffect =
  /** The op fails with this errno (`eio`, `enospc`, ...). */
  | { kind: "error"; errno: Errno }
  /** The disk goes silent: no reply until released after `durationMs`, by a command, or never. */
  | { kind: "hang"; durationMs?: number }
  /** One slow op. */
  | { kind: "delay"; durationMs: number }
  /**
   * Every op from the trigger on is slowed: added latency and/or a bandwidth cap. With a
   * `distribution`, each op's latency is drawn from it (seeded by the plan's seed, the rule
   * and the op's index) instead of `latencyMs`.
   */
  | {
    kind: "limp";
    latencyMs: number;
    bytesPerSecond?: number;
    distribution?: LatencyDistribution;
  }
  /**
   * From the trigger on, the disk stalls for `forMs` every `everyMs` (the first stall begins
   * at the trigger): every op that arrives during a stall waits until it ends.
   */
  | { kind: "stall"; everyMs: number; forMs: number }
  /**
   * From the trigger on, flushes (and FUA writes) are acknowledged at once and make nothing
   * durable; with `fuaOnly`, only FUA writes lie and flushes stay honest.
   */
  | { kind: "lie-flush"; fuaOnly: boolean }
  /**
   * From the trigger on, reads of the 512-byte sectors in `[startSector, endSector)` fail
   * with `errno` until a write covers them (the disk remaps a sector on write).
   */
  | { kind: "bad-sectors"; startSector: number; endSector: number; errno: Errno }
  /** A write is acknowledged and never stored. */
  | { kind: "lost-write" }
  /** Only the first `keepSectors` 512-byte sectors of a write are stored (seeded when absent). */
  | { kind: "torn-write"; keepSectors?: number }
  /** Seeded bit flips in what is read or written. */
  | { kind: "corrupt"; direction: "read" | "write"; bits: number }
  /** From the trigger on every op fails: the disk is dead. */
  | { kind: "fail"; errno: Errno }
  /**
   * The machine stops; only durable data survives (record and replay only). `drop`
   * loses every volatile write; `subset` keeps a seeded half of them; `torn`
   * tears one seeded volatile write. With `states`, the power loss is many crash
   * states instead of one (see {@link CrashStates}); `variant` is then `drop`.
   */
  | { kind: "power-loss"; variant: "drop" | "subset" | "torn"; states?: CrashStates };

/**
 * How a power loss explores the crash states of one point (the volatile writes are
 * those completed before the cut and not yet durable):
 *
 * - `each`: one state per volatile write dropped alone, the others kept, in write order;
 * - `orders`: `count` seeded subsets of the volatile writes kept;
 * - `all`: every subset when there are at most `max` volatile writes, else `count` seeded ones;
 * - `state`: one state, by its ID: the recorded op indices of the volatile writes dropped.
 */
export type CrashStates =
  | { kind: "each" }
  | { kind: "orders"; count: number }
  | { kind: "all"; max: number; count?: number }
  | { kind: "state"; dropped: readonly number[] };

/**
 * A latency distribution of a limping disk, in milliseconds, with every draw capped at
 * `maxMs`.
 *
 * - `lognormal`: the log-normal through two percentiles (`p50=2ms,p99=150ms`): `points`
 *   holds them as given, `[percentile, ms]`;
 * - `pareto`: `scaleMs / U^(1/alpha)` for U uniform in (0, 1]: a heavy tail above `scaleMs`.
 */
export type LatencyDistribution =
  | {
    kind: "lognormal";
    points: readonly [readonly [number, number], readonly [number, number]];
    maxMs: number;
  }
  | { kind: "pareto"; scaleMs: number; alpha: number; maxMs: number };

/** The links a link fault applies to, as directed node pairs. */
export type LinkScope =
  /** Every link between two nodes (written `link=*`). */
  | { kind: "all" }
  /** Frames from `from` to `to` (`n1->n2`), and back too with `both` (`n1<->n2`). */
  | { kind: "link"; from: string; to: string; both: boolean }
  /** Every frame sent to or by the node (`link=n1`). */
  | { kind: "node"; node: string };

/**
 * What a link fault does to the frames it hits (the switch's family; the block fault
 * layer ignores these, the switch ignores block effects). See docs/fault-spec.md.
 */
export type LinkEffect =
  /** Frames between the two sides are dropped; nodes named on neither side reach both. */
  | { kind: "partition"; sides: readonly [readonly string[], readonly string[]] }
  /** Every frame to or from the node is dropped. */
  | { kind: "isolate"; node: string }
  /** Each frame hit is dropped with this probability (seeded). */
  | { kind: "drop"; probability: number; link: LinkScope }
  /** Each frame hit arrives `durationMs` plus a seeded jitter in [-jitterMs, jitterMs] later; order on a link is kept. */
  | { kind: "link-delay"; durationMs: number; jitterMs: number; link: LinkScope }
  /** Each frame hit arrives twice, with this probability. */
  | { kind: "duplicate"; probability: number; link: LinkScope }
  /** Each frame hit is held back (at most `holdMs`) so that the next frame of its link overtakes it. */
  | { kind: "reorder"; probability: number; holdMs: number; link: LinkScope }
  /** The link carries at most this many bytes per second; frames queue behind each other. */
  | { kind: "bandwidth"; bytesPerSecond: number; link: LinkScope }
  /** Ends the link faults in force on its links (all of them without a scope). */
  | { kind: "heal"; link: LinkScope };

/**
 * What a node fault does to one node (one VM) while the others keep running (the run's
 * family). See docs/fault-spec.md.
 */
export type NodeEffect =
  /** Power loss of one node: its disks frozen and cut to their durable state, its VM killed. */
  | { kind: "crash"; node: string }
  /** The node boots again on its disks `afterMs` later (crashing it first if it runs). */
  | { kind: "restart"; node: string; afterMs: number }
  /** The node's QEMU is stopped (SIGSTOP) for `durationMs`, then continued: nothing it holds is flushed. */
  | { kind: "pause"; node: string; durationMs: number };

/** What a fault does: to the ops of a disk, to the frames between nodes, or to a whole node. */
export type FaultEffect = BlockEffect | LinkEffect | NodeEffect;

/** One of the effect kinds. */
export type FaultKind = FaultEffect["kind"];

/** The kinds of the link family. */
export const LINK_KINDS: ReadonlySet<FaultKind> = new Set([
  "partition",
  "isolate",
  "drop",
  "link-delay",
  "duplicate",
  "reorder",
  "bandwidth",
  "heal",
]);

/**
 * Whether an effect belongs to the link family (the switch's) rather than the block
 * family (the fault layer's).
 *
 * @example
 * ```ts
 * isLinkEffect({ kind: "isolate", node: "n1" }); // true
 * isLinkEffect({ kind: "error", errno: "eio" }); // false
 * ```
 */
export function isLinkEffect(effect: FaultEffect): effect is LinkEffect {
  return LINK_KINDS.has(effect.kind);
}

/** The kinds of the node family. */
export const NODE_KINDS: ReadonlySet<FaultKind> = new Set(["crash", "restart", "pause"]);

/**
 * Whether an effect belongs to the node family (the run's).
 *
 * @example
 * ```ts
 * isNodeEffect({ kind: "crash", node: "n2" }); // true
 * ```
 */
export function isNodeEffect(effect: FaultEffect): effect is NodeEffect {
  return NODE_KINDS.has(effect.kind);
}

/**
 * Whether an effect belongs to the block family (the fault layer's).
 *
 * @example
 * ```ts
 * isBlockEffect({ kind: "error", errno: "eio" }); // true
 * ```
 */
export function isBlockEffect(effect: FaultEffect): effect is BlockEffect {
  return !isLinkEffect(effect) && !isNodeEffect(effect);
}

/** Kinds that, once fired, stay in effect on the disk (or, for link kinds, the links) where they fired. */
export const PERSISTENT_KINDS: ReadonlySet<FaultKind> = new Set([
  "hang",
  "limp",
  "fail",
  "stall",
  "lie-flush",
  "bad-sectors",
]);

/** Link kinds that, once fired, stay in force until healed. */
export const PERSISTENT_LINK_KINDS: ReadonlySet<FaultKind> = new Set([
  "partition",
  "isolate",
  "bandwidth",
]);

/** The protocols a frame filter names. */
export type FrameProtocol = "tcp" | "udp" | "icmp" | "arp" | "ip";

/** Which ops a trigger selects. */
export type Trigger =
  /** No trigger: every op (persistent kinds: from the first op on). */
  | { kind: "always" }
  /** The op with this arrival index (from 0). */
  | { kind: "index"; index: number }
  /** Ops arriving this long after the start, or later. */
  | { kind: "time"; afterMs: number }
  /** Ops matching a filter; with `occurrence`, only the k-th of them (from 1). */
  | {
    kind: "match";
    node?: string;
    disk?: string;
    type?: OpType;
    /** The op overlaps `[start, end)`. */
    range?: { start: number; end: number };
    /** The op has exactly this offset and length (with node, disk and type: its signature). */
    exact?: { offset: number; length: number };
    occurrence?: number;
  }
  /**
   * Frames matching a filter (`@net:n1->n2/tcp:2379/syn#1`), for link and node faults;
   * with `occurrence`, only the k-th of them (from 1).
   */
  | {
    kind: "frames";
    /** The frame goes over this link (a `node` scope: sent or received by the node). */
    link?: Exclude<LinkScope, { kind: "all" }>;
    protocol?: FrameProtocol;
    /** TCP or UDP: the source or the destination port. */
    port?: number;
    /** TCP: every one of these flags is set (`syn`, `ack`, `fin`, `rst`, `psh`, `urg`, `ece`, `cwr`). */
    flags?: readonly string[];
    occurrence?: number;
  };

/** One fault of a plan: an effect, a trigger, and the spec text it was written as. */
export interface FaultRule {
  /** The canonical spec text, used to name the rule in traces and messages. */
  spec: string;
  /** What it does. */
  effect: FaultEffect;
  /** When it fires. */
  trigger: Trigger;
}

/** All the faults of a run, with the seed of every random choice. */
export interface FaultPlan {
  /** The seed of every random choice. */
  seed: number;
  /** The faults. */
  rules: readonly FaultRule[];
}
