/**
 * What a fault kind is: everything faultline knows of one kind, declared in one object
 * in one file of this folder, and registered in one table (./mod.ts). The grammar, the
 * fault layer, the switch, the run, live control, replays, sweeps, reports and the help
 * read the table; none of them names a kind.
 *
 * A kind does not act by itself: it says what its faults do in terms of the few things
 * each place can do, the same way nbdkit's filters are written against the plugin calls:
 *
 * - the fault layer ({@link BlockAction}): fail an op, hold it, wait, answer it at a
 *   time, acknowledge it without storing, acknowledge a flush without durability, store a
 *   prefix, flip bits, cut the power;
 * - the switch ({@link FrameAction}): lose a copy of a frame, deliver it late, twice,
 *   held back behind the next, or through a rate limit;
 * - the run ({@link NodeAction}): cut a node's power, power-cycle it, stop it for a while,
 *   make its wall clock jump;
 * - each boot of a node ({@link BootAction}), known before it boots: start its clock off
 *   the others'.
 *
 * @module
 */

import type { OpType } from "../../block/backend.ts";
import type { Errno } from "../../block/errno.ts";
import type { LiveArgs, Params } from "../params.ts";
import type { OpView } from "../trigger.ts";
import type { Trigger } from "../types.ts";

/** Where a kind acts: a disk's ops, the frames between nodes, a whole node, the machine. */
export type Family = "block" | "link" | "node" | "machine";

/** An effect: what a fault of some kind does, as plain data (stored in plans and traces). */
export interface Effect {
  /** The kind's name. */
  readonly kind: string;
}

/** What the fault layer does to one op. */
export type BlockAction =
  /** The op fails with this errno. */
  | { do: "answer-error"; errno: Errno }
  /** The op waits until run time `untilMs`, or until released when absent. */
  | { do: "hold"; untilMs?: number }
  /** The op waits `ms`, then goes on. */
  | { do: "wait"; ms: number }
  /** The op is answered `latencyMs` after it arrived (the store works meanwhile), sharing a bandwidth cap. */
  | { do: "pace"; latencyMs: number; bytesPerSecond?: number }
  /** The op is acknowledged and never reaches the store. */
  | { do: "skip" }
  /** A flush is acknowledged without flushing; a FUA write is stored and not made durable. */
  | { do: "undurable" }
  /** Only the first `keepBytes` of a write are stored. */
  | { do: "tear"; keepBytes: number }
  /** Bits flipped in what is read or what is stored. */
  | { do: "flip"; direction: "read" | "write"; bitPositions: number[] }
  /** The power is cut as this op arrives: it and everything after never happen. */
  | { do: "cut" }
  /** Nothing is done to the op: news about the disk, kept in the trace (a remapped sector). */
  | { do: "note" };

/** What the switch does to the copy of a frame bound for one node. */
export type FrameAction =
  | { do: "lose" }
  | { do: "late"; ms: number }
  | { do: "twice" }
  /** Held back (at most `ms`) so that the next frame of its link overtakes it. */
  | { do: "hold-back"; ms: number }
  | { do: "rate"; bytesPerSecond: number };

/** What the run does to a node. */
export type NodeAction =
  /** Its power is cut: its disks frozen and cut to their durable state, its VM killed. */
  | { do: "power-off" }
  /** It boots again on its disks `afterMs` later (its power cut first if it runs). */
  | { do: "power-cycle"; afterMs: number }
  /** Its VM is stopped (SIGSTOP) for `ms`, then continued. */
  | { do: "stop"; ms: number }
  /** Its guest's wall clock jumps by `ms` (back when negative), told over its control channel. */
  | { do: "jump-clock"; ms: number };

/** What a node boots with, known before it boots (QEMU's arguments). */
export type BootAction =
  /** Its clock starts `ms` off the others' (ahead when positive): its own `-rtc base=`. */
  { do: "offset-clock"; ms: number };

/** Facts of an injection worth keeping in the trace (`fault.detail`). */
export type Detail = Record<string, number | number[]>;

/** What a block kind does to one op it hits. */
export interface BlockHit {
  /** What the fault layer does to the op. */
  action: BlockAction;
  /** What the trace keeps of it (`fault.detail`). */
  detail?: Detail;
  /** The fault's memory after this op (bad sectors left), when it changed. */
  memory?: unknown;
}

/** What a block kind knows when it acts on an op. */
export interface BlockContext {
  /** A seeded stream for this rule and op: the same draws in every replay. */
  draw: () => number;
  /** Run time when the fault came into force (now, for a one-op kind). */
  since: number;
  /** Run time when it ends by itself (a hang with a duration). */
  until?: number;
  /** What it remembers on this disk (from {@link BlockBehaviour.remember}). */
  memory: unknown;
}

/** How a kind acts on a disk's ops (the block and machine families). */
export interface BlockBehaviour<E extends Effect> {
  /** Whether the effect means anything for an op (a read cannot be lost); every op when absent. */
  appliesTo?(effect: E, type: OpType): boolean;
  /** The ops it applies to, in words, for refusals (`writes`); every op when absent. */
  appliesToText?(effect: E): string;
  /** What it does to one op it hits; null spares the op. */
  act(effect: E, op: OpView, context: BlockContext): BlockHit | null;
  /** What it remembers on a disk from when it comes into force (bad sectors' ranges). */
  remember?(effect: E): unknown;
  /**
   * A write stored `[offset, offset + length)` on a disk where the fault is in force: its
   * memory after it, and a detail for the trace when the write changed it (a remap).
   */
  stored?(effect: E, memory: unknown, offset: number, length: number): {
    memory: unknown;
    detail: Detail;
  } | null;
  /** How long after coming into force it ends by itself (ms), if it does. */
  lasts?(effect: E): number | undefined;
  /** Its decisions change what a flush makes durable: a crash state built from a trace replays them. */
  shapesDurability?: boolean;
}

/** How a link kind acts on frames. */
export interface LinkBehaviour<E extends Effect> {
  /** The directed links (`a->b`) it applies to among the nodes. */
  links(effect: E, nodes: readonly string[]): Set<string>;
  /**
   * What happens to one copy of a frame it hits; null spares it. `draw(purpose)` is a
   * uniform number in [0, 1) seeded by the plan, the rule, the frame and the destination.
   */
  act(
    effect: E,
    draw: (purpose: number) => number,
  ): { action: FrameAction; detail?: Detail } | null;
  /** It ends the link faults in force on its links instead of acting on frames (heal). */
  heals?: boolean;
}

/** How a node kind acts on a node. */
export interface NodeBehaviour<E extends Effect> {
  /** The node it acts on. */
  node(effect: E): string;
  /** What the run does. */
  act(effect: E): NodeAction;
}

/**
 * How a node kind shapes every boot of its node, known before the node boots (a clock
 * skew). It fires at no moment: written without a trigger it holds for the run phase's
 * boots (a restart's too), with `@any` for every boot, the check's included; no other
 * trigger means anything for it.
 */
export interface BootBehaviour<E extends Effect> {
  /** The node it shapes. */
  node(effect: E): string;
  /** What the node boots with. */
  act(effect: E): BootAction;
}

/**
 * How a kind is set and shown over a control socket (`set-block-fault-state` for the
 * block family, `set-link-fault-state` for the link family).
 */
export interface LiveBehaviour<E extends Effect> {
  /** The states that name it; the kind's spec names when absent. */
  states?: readonly string[];
  /** Its parameters by their QMP names (`count` is added unless {@link uncounted}). */
  params: readonly string[];
  /** `count` means nothing for it (it lasts until `none`). */
  uncounted?: boolean;
  /** The effect a state and its arguments name (the arguments are already checked to be its own). */
  parse(args: LiveArgs, state: string): E;
  /**
   * The arguments that set it, without `id` and `count`: the inverse of {@link parse}.
   *
   * @throws {FaultSpecError} for an effect that cannot be set live (a limp's distribution).
   */
  args(effect: E): Record<string, unknown>;
}

/** One crash state chosen at a point, with the plan's seed. */
export type CrashVariant =
  | { kind: "drop" }
  | { kind: "subset"; seed: number }
  | { kind: "torn"; seed: number }
  /** One crash state by its ID: these volatile writes (recorded op indices) are dropped. */
  | { kind: "state"; dropped: readonly number[] };

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

/** A kind whose fault at a recorded op is built from the trace (a power loss), not run again. */
export interface FromTrace<E extends Effect> {
  /** The one crash state it names, or undefined when it explores many. */
  variant(effect: E, seed: number): CrashVariant | undefined;
  /** The crash states it explores at a point, when it explores many (a sweep checks each). */
  explores(effect: E): Exclude<CrashStates, { kind: "state" }> | undefined;
  /** The spec that replays one explored state, by its ID (`power-loss:state=57+61`). */
  stateSpec(id: string): string;
}

/**
 * What an explorer knows when it draws a fault (src/explore/draw.ts): the scenario's nodes,
 * and the arrival of the recorded run the fault is put at.
 */
export interface DrawContext {
  /** Every node of the scenario, in its order. */
  nodes: readonly string[];
  /** The node of the arrival: an op's node, a frame's sender. */
  node: string;
  /** The op, when the arrival is one: where it is, and how large its disk is. */
  op?: { offset: number; length: number; diskSize: number };
}

/**
 * How `faultline explore` draws a fault of the kind, within the ranges it documents, and
 * how it makes one weaker when it shrinks a failing schedule. A kind without it is never
 * drawn (a clock skew, set at boot, has no moment to be put at).
 */
export interface ExploreBehaviour<E extends Effect> {
  /** The ranges its parameters are drawn from, in words (docs/fault-spec.md's tables). */
  ranges: string;
  /**
   * An effect drawn from `draw` (uniform in [0, 1), seeded: the same draws give the same
   * effect), for a fault put at the context's arrival.
   */
  draw(draw: () => number, context: DrawContext): E;
  /**
   * Weaker effects than `effect` (a shorter delay, a smaller drop rate, fewer bad sectors),
   * the weakest first, each strictly weaker; none when it is as weak as its range goes.
   */
  weaken?(effect: E): E[];
  /**
   * The nodes a finding's shape names the fault by, when they are not all the nodes it
   * names (a partition: the side cut off, the smaller one).
   */
  targets?(effect: E): string[];
}

/**
 * One fault kind.
 *
 * @typeParam E its effect.
 */
export interface FaultKind<E extends Effect = Effect> {
  /** The effect's `kind`. */
  readonly kind: E["kind"];
  /** The names a spec gives it by, the canonical first (the errno names are `error`'s). */
  readonly names: readonly string[];
  /** Where it acts. */
  readonly family: Family;
  /** What it does, in one line (help and docs). */
  readonly summary: string;
  /** Its parameters as docs/fault-spec.md writes them (empty: none). */
  readonly params: string;
  /** Examples of its specs, each in docs/fault-spec.md (a test parses every one). */
  readonly examples: readonly string[];
  /** Once fired it stays in force (on a disk, on links) until it ends or is cleared. */
  readonly persistent: boolean;
  /**
   * Written without a trigger, it stands: in force on every op or frame of the run phase,
   * ending where the check begins (`limp:10ms`, `drop:0.3`). A kind that does not stand
   * hits one op or fires once, and needs a trigger (`eio@17`, `crash:n2@+5s`).
   */
  readonly standing: boolean;
  /** What a finding calls a fault of it (`power loss`); its spec name when absent. */
  readonly noun?: string;
  /** Its fault at a node cuts that node's disks live, so the run keeps the written bytes. */
  readonly cutsDisks?: boolean;
  /**
   * What its faults are called when they set one node against the others (`clock fault`): a
   * scenario of one node has nothing to set it against and refuses them, as it refuses link
   * faults.
   */
  readonly amongNodes?: string;
  /**
   * For a name two kinds share (`delay`, of an op or of frames): whether this one is meant.
   * The kind without `claims` is the default.
   */
  claims?(params: Params, trigger: Trigger): boolean;
  /**
   * The effect of a spec's parameters; `name` is the name it was given by.
   *
   * @throws {FaultSpecError} naming what is wrong and what was expected.
   */
  parse(params: Params, name: string): E;
  /** The canonical spec's name (the errno, for `error`); the first name when absent. */
  specName?(effect: E): string;
  /** The canonical spec's parameters, which {@link parse} reads back as the same effect. */
  format(effect: E): string[];
  /** What this fault does, in one line, for reports (`each op waits 200 ms more`). */
  describe(effect: E): string;
  /** The nodes it names (link and node kinds), checked against the scenario's. */
  nodes?(effect: E): string[];
  /**
   * Refuses an effect built in code that its parser would have refused (a partition's sides
   * overlapping).
   *
   * @throws {FaultSpecError} naming the problem.
   */
  check?(effect: E): void;
  /** How it acts on a disk's ops (the block and machine families). */
  block?: BlockBehaviour<E>;
  /** How it acts on frames (the link family). */
  link?: LinkBehaviour<E>;
  /** How it acts on a node at a moment (the node family). */
  node?: NodeBehaviour<E>;
  /** How it shapes a node's boots, instead of acting at a moment (the node family). */
  boot?: BootBehaviour<E>;
  /** How it is set over a control socket, when it can be. */
  live?: LiveBehaviour<E>;
  /** How it is built from a trace at a recorded op (a power loss). */
  fromTrace?: FromTrace<E>;
  /** How `faultline explore` draws it and weakens it; never drawn without. */
  explore?: ExploreBehaviour<E>;
}

/**
 * Declares a kind (its effect type checked against every part) for the table, which holds
 * kinds of every effect.
 *
 * @example
 * ```ts
 * export const lostWrite = defineKind<{ kind: "lost-write" }>({ kind: "lost-write", ... });
 * ```
 */
export function defineKind<E extends Effect>(kind: FaultKind<E>): FaultKind<E> {
  return kind;
}
