/**
 * The fault-kind table: every kind faultline knows, one module each, registered here in
 * the order help texts and docs list them. The grammar (../spec.ts), the fault layer
 * (../plan.ts, ../layer.ts), live control (../live.ts), the switch (src/net/link_plan.ts),
 * the run (src/run/node_faults.ts), replays, sweeps and reports read this table and
 * name no kind. Adding a kind is one file in this folder and one line below
 * (docs/architecture.md, "Adding a fault kind").
 *
 * @module
 */

import { FaultSpecError } from "../errors.ts";
import { badSectors } from "./bad_sectors.ts";
import { bandwidth } from "./bandwidth.ts";
import { clockJump } from "./clock_jump.ts";
import { clockSkew } from "./clock_skew.ts";
import { corrupt } from "./corrupt.ts";
import { crash } from "./crash.ts";
import { delay } from "./delay.ts";
import { drop } from "./drop.ts";
import { duplicate } from "./duplicate.ts";
import { error } from "./error.ts";
import { fail } from "./fail.ts";
import { hang } from "./hang.ts";
import { heal } from "./heal.ts";
import { isolate } from "./isolate.ts";
import type { Effect, Family, FaultKind } from "./kind.ts";
import { lieFlush } from "./lie_flush.ts";
import { limp } from "./limp.ts";
import { linkDelay } from "./link_delay.ts";
import { lostWrite } from "./lost_write.ts";
import { partition } from "./partition.ts";
import { pause } from "./pause.ts";
import { powerLoss } from "./power_loss.ts";
import { reorder } from "./reorder.ts";
import { restart } from "./restart.ts";
import { slowFlush } from "./slow_flush.ts";
import { stall } from "./stall.ts";
import { tornWrite } from "./torn_write.ts";

/** Every fault kind, in the order help texts and docs list them. */
export const FAULT_KINDS = [
  error,
  delay,
  hang,
  limp,
  stall,
  lieFlush,
  slowFlush,
  badSectors,
  lostWrite,
  tornWrite,
  corrupt,
  fail,
  powerLoss,
  partition,
  isolate,
  drop,
  linkDelay,
  duplicate,
  reorder,
  bandwidth,
  heal,
  crash,
  restart,
  pause,
  clockSkew,
  clockJump,
] as const;

/**
 * The version of this table as `faultline explore` draws from it (src/explore/draw.ts):
 * schedule i of a seed is a function of the seed, i, the recording and this table (the
 * kinds, their order, and each kind's `explore` draws), and explore's output records this
 * number beside the seed. Raise it on any change that draws other schedules from the same
 * seed: a kind added, removed or moved, a range or a draw changed. A test
 * (src/explore/draw_test.ts) holds a fingerprint of the draws for each version. 2: a frame
 * trigger names the service's port, not a client's, which changes from run to run.
 */
export const FAULT_KINDS_VERSION = 2;

/** The effect of a kind. */
export type EffectOf<K> = K extends FaultKind<infer E> ? E : never;

/** What a fault does: the effect of any registered kind. */
export type FaultEffect = EffectOf<typeof FAULT_KINDS[number]>;

const BY_KIND = new Map<string, FaultKind>(FAULT_KINDS.map((kind) => [kind.kind, kind]));

/**
 * The kind of an effect.
 *
 * @throws {FaultSpecError} for an effect of no registered kind.
 * @example
 * ```ts
 * kindOf({ kind: "error", errno: "eio" }).family; // "block"
 * ```
 */
export function kindOf(effect: Effect): FaultKind {
  const kind = BY_KIND.get(effect.kind);
  if (!kind) throw new FaultSpecError(`no fault kind "${effect.kind}"`);
  return kind;
}

/**
 * Whether a fault of this effect can be put at a frame's arrival (a sweep's point, a
 * replay's `--fault-at N` with N a frame's index): a link kind, or a node kind that acts at
 * a moment, acts where frames are, and a fault built from the trace (a power loss) is the
 * crash state of that moment; a block kind's point is an op it applies to. A kind set at
 * a node's boot (a clock skew) has no point at all.
 *
 * @example
 * ```ts
 * takesFrames({ kind: "crash", node: "n1" }); // true
 * takesFrames({ kind: "error", errno: "eio" }); // false
 * ```
 */
export function takesFrames(effect: Effect): boolean {
  const kind = kindOf(effect);
  return kind.link !== undefined || kind.node !== undefined || kind.fromTrace !== undefined;
}

/**
 * The kinds a spec name names (most one; `delay` names the block delay and the link delay).
 *
 * @example
 * ```ts
 * kindsNamed("eio").map((k) => k.kind); // ["error"]
 * ```
 */
export function kindsNamed(name: string): FaultKind[] {
  return FAULT_KINDS.filter((kind) => kind.names.includes(name));
}

/**
 * The kinds of one family.
 *
 * @example
 * ```ts
 * kindsOf("node").map((k) => k.kind); // ["crash", "restart", "pause", "clock-skew", "clock-jump"]
 * ```
 */
export function kindsOf(...families: Family[]): FaultKind[] {
  return FAULT_KINDS.filter((kind) => families.includes(kind.family));
}

/**
 * The name of an effect as a spec writes it: the errno for errors, `delay` for a link
 * delay, else the kind.
 *
 * @example
 * ```ts
 * specNameOf({ kind: "error", errno: "enospc" }); // "enospc"
 * ```
 */
export function specNameOf(effect: Effect): string {
  const kind = kindOf(effect);
  return kind.specName?.(effect) ?? kind.names[0];
}

/**
 * What a finding calls a fault of this effect (`power loss`, `eio`).
 *
 * @example
 * ```ts
 * nounOf({ kind: "power-loss", variant: "drop" }); // "power loss"
 * ```
 */
export function nounOf(effect: Effect): string {
  return kindOf(effect).noun ?? specNameOf(effect);
}

/**
 * The spec names of the kinds of some families, for help texts and errors.
 *
 * @example
 * ```ts
 * namesOf("node"); // ["crash", "restart", "pause", "clock-skew", "clock-jump"]
 * ```
 */
export function namesOf(...families: Family[]): string[] {
  return [...new Set(kindsOf(...families).flatMap((kind) => kind.names))];
}

export type { Effect, Family, FaultKind };
