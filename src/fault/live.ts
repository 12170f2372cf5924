/**
 * Live faults as a control socket speaks them: `set-block-fault-state` (`{"id": "vda",
 * "state": "delay", "duration-ms": 200}`) and `set-link-fault-state` (src/net/link_live.ts)
 * name a kind by a state and give its parameters by their QMP names; each kind that can be
 * set live says which (./kinds/). This file reads a state and its arguments into an
 * effect, and an effect back into arguments, for queries and for the CLI client, which
 * writes the same faults as fault specs.
 *
 * @module
 */

import { FaultSpecError } from "./errors.ts";
import type { Family, FaultKind } from "./kinds/kind.ts";
import { kindOf, kindsOf } from "./kinds/mod.ts";
import { LiveArgs } from "./params.ts";
import type { LiveFault } from "./plan.ts";
import type { FaultEffect } from "./types.ts";

/** The kinds that can be set live on a family's command, by their state names. */
function liveKinds(family: Family): Map<string, FaultKind> {
  const byState = new Map<string, FaultKind>();
  for (const kind of kindsOf(family)) {
    if (!kind.live) continue;
    for (const state of kind.live.states ?? kind.names) byState.set(state, kind);
  }
  return byState;
}

const BLOCK_KINDS = liveKinds("block");
const LINK_KINDS = liveKinds("link");

/** The states `set-block-fault-state` accepts: `none`, and every block kind. */
export const LIVE_STATES: readonly string[] = ["none", ...BLOCK_KINDS.keys()];

/** The states `set-link-fault-state` accepts: every link kind, a heal being `none`. */
export const LINK_LIVE_STATES: readonly string[] = [...new Set(["none", ...LINK_KINDS.keys()])];

/**
 * Reads the state of a live command and its arguments into an effect; a block `none` is
 * null (a link `none` is a heal). `fixed` are the command's own arguments besides the
 * kind's (`id`).
 *
 * @throws {FaultSpecError} with a QMP-style description (`Parameter 'x' is unexpected`).
 * @example
 * ```ts
 * parseLiveState({ state: "delay", "duration-ms": 5 }, "link", []).effect?.kind; // "link-delay"
 * ```
 */
export function parseLiveState(
  args: Record<string, unknown>,
  family: "block" | "link",
  fixed: readonly string[],
): { effect: FaultEffect | null; count?: number } {
  const { state } = args;
  if (typeof state !== "string") {
    throw new FaultSpecError("Parameter 'state' is missing or not a string");
  }
  const name = state.toLowerCase();
  const kinds = family === "block" ? BLOCK_KINDS : LINK_KINDS;
  const kind = kinds.get(name);
  if (!kind && name !== "none") {
    throw new FaultSpecError(
      `Parameter 'state' must be one of ${
        (family === "block" ? LIVE_STATES : LINK_LIVE_STATES).join(", ")
      }, not '${state}'`,
    );
  }
  const own = kind ? [...kind.live!.params, ...(kind.live!.uncounted ? [] : ["count"])] : [];
  const allowed = new Set(["state", ...fixed, ...own]);
  for (const key of Object.keys(args)) {
    if (!allowed.has(key)) {
      throw new FaultSpecError(`Parameter '${key}' is unexpected with state '${name}'`);
    }
  }
  if (!kind) return { effect: null };
  const live = new LiveArgs(args);
  const effect = kind.live!.parse(live, name) as FaultEffect;
  const count = live.number("count", 1);
  return count === undefined ? { effect } : { effect, count };
}

/**
 * The arguments that set an effect live (`state` and the kind's own), the inverse of
 * {@link parseLiveState}.
 *
 * @throws {FaultSpecError} for a kind that cannot be set live, or an effect of it that cannot.
 * @example
 * ```ts
 * liveStateArguments({ kind: "delay", durationMs: 200 }); // { state: "delay", "duration-ms": 200 }
 * ```
 */
export function liveStateArguments(effect: FaultEffect, count?: number): Record<string, unknown> {
  const kind = kindOf(effect);
  if (!kind.live) {
    throw new FaultSpecError(
      kind.family === "node"
        ? `${kind.names[0]} is a node fault: give it in a run's fault plan (--fault ${
          kind.names[0]
        }:NODE@...), not live`
        : `${kind.names[0]} cannot be set live${
          kind.family === "machine" ? " on the fault layer: it needs record or replay" : ""
        }`,
    );
  }
  if (count !== undefined && kind.live.uncounted) {
    throw new FaultSpecError(`${kind.names[0]} lasts until none: a count means nothing for it`);
  }
  return {
    state: kind.live.states?.[0] ?? kind.names[0],
    ...kind.live.args(effect),
    ...(count === undefined ? {} : { count }),
  };
}

/** What `set-block-fault-state` asked for. */
export interface LiveRequest {
  /** The disk's export name. */
  disk: string;
  /** The fault to set; `null` for `none`. */
  fault: LiveFault | null;
  /** How long from now it ends by itself (a hang with a duration). */
  durationMs?: number;
}

/**
 * Parses the arguments of `set-block-fault-state`.
 *
 * @throws {FaultSpecError} with a QMP-style description (`Parameter 'x' is unexpected`).
 * @example
 * ```ts
 * parseLiveArguments({ id: "vda", state: "error" }).fault; // { effect: { kind: "error", errno: "eio" } }
 * ```
 */
export function parseLiveArguments(args: Record<string, unknown>): LiveRequest {
  const { id } = args;
  if (typeof id !== "string") throw new FaultSpecError("Parameter 'id' is missing or not a string");
  const { effect, count } = parseLiveState(args, "block", ["id"]);
  if (effect === null) return { disk: id, fault: null };
  const fault: LiveFault = { effect };
  if (count !== undefined) fault.remaining = count;
  const durationMs = kindOf(effect).block?.lasts?.(effect);
  return durationMs === undefined ? { disk: id, fault } : { disk: id, fault, durationMs };
}

/**
 * The `set-block-fault-state` arguments of an effect: the inverse of
 * {@link parseLiveArguments}, used by the CLI client and by queries.
 *
 * @throws {FaultSpecError} for a kind that cannot be set live on a disk (power-loss, a link or node kind).
 * @example
 * ```ts
 * liveArguments("vda", { kind: "delay", durationMs: 200 }); // { id: "vda", state: "delay", "duration-ms": 200 }
 * liveArguments("vda", { kind: "error", errno: "enospc" }); // { id: "vda", state: "error", errno: "enospc" }
 * ```
 */
export function liveArguments(
  disk: string,
  effect: FaultEffect | null,
  count?: number,
): Record<string, unknown> {
  if (effect === null) return { id: disk, state: "none" };
  if (kindOf(effect).family === "link") {
    throw new FaultSpecError(
      `${
        kindOf(effect).names[0]
      } is a link fault: set it with set-link-fault-state on a run's switch, not on a disk`,
    );
  }
  return { id: disk, ...liveStateArguments(effect, count) };
}
