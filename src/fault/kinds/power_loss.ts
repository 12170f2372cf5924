/**
 * `power-loss`: the machine stops; only durable writes survive (record and replay only).
 * At a recorded op it is built from the trace: of the writes completed before the op, the
 * durable ones are kept and the volatile ones dropped, or a seeded subset or tear of them,
 * or many crash states a point for a sweep (docs/fault-spec.md, "Crash states"). Live
 * (`--live`), the fault layer freezes and the VMs are killed.
 *
 * @module
 */

import { FaultSpecError } from "../errors.ts";
import { parseCount } from "../params.ts";
import { type CrashStates, defineKind } from "./kind.ts";

/**
 * The machine stops. `drop` loses every volatile write; `subset` keeps a seeded half of
 * them; `torn` tears one seeded volatile write. With `states`, the power loss is many crash
 * states instead of one; `variant` is then `drop`.
 */
export interface PowerLossEffect {
  kind: "power-loss";
  variant: "drop" | "subset" | "torn";
  states?: CrashStates;
}

/** Volatile writes up to which `power-loss:all` enumerates every subset, unless `max=` says otherwise. */
export const DEFAULT_ALL_MAX = 10;

/** The kind. */
export const powerLoss = defineKind<PowerLossEffect>({
  kind: "power-loss",
  names: ["power-loss"],
  family: "machine",
  summary:
    "the machine stops; only durable writes survive (record and replay only). See [Crash states](#crash-states)",
  params:
    "`drop` (default), `subset`, `torn`; `each`, `orders=K`, `all[,max=B][,orders=K]`; `state=ID`",
  examples: [
    "power-loss@40",
    "power-loss:subset",
    "power-loss:each",
    "power-loss:all,max=8",
    "power-loss:state=57+61",
  ],
  persistent: false,
  standing: false,
  noun: "power loss",
  cutsDisks: true,
  parse(p) {
    const mode = (p.positional.shift() ?? "").toLowerCase();
    const orders = p.takeNamed("orders");
    const max = p.takeNamed("max");
    const state = p.takeNamed("state");
    if (state !== undefined) {
      if (mode !== "" || orders !== undefined || max !== undefined) {
        throw new FaultSpecError(
          "power-loss:state=ID names one crash state and takes nothing else",
        );
      }
      return { kind: "power-loss", variant: "drop", states: parseCrashStateId(state) };
    }
    if (max !== undefined && mode !== "all") {
      throw new FaultSpecError("max= bounds power-loss:all, as in power-loss:all,max=8");
    }
    return modeEffect(mode, orders, max);
  },
  format: (e) => e.states ? statesParams(e.states) : e.variant === "drop" ? [] : [e.variant],
  describe(e) {
    if (e.states?.kind === "state") {
      return `power loss into the crash state ${crashStateId(e.states.dropped)}`;
    }
    if (e.states) return `power loss, many crash states a point (${statesParams(e.states)})`;
    return {
      drop: "power loss: every volatile write lost",
      subset: "power loss: a seeded half of the volatile writes kept",
      torn: "power loss: one volatile write torn, the others lost",
    }[e.variant];
  },
  block: { act: () => ({ action: { do: "cut" } }) },
  fromTrace: {
    variant(e, seed) {
      if (e.states) {
        return e.states.kind === "state" ? { kind: "state", dropped: e.states.dropped } : undefined;
      }
      return e.variant === "drop" ? { kind: "drop" } : { kind: e.variant, seed };
    },
    explores: (e) => e.states?.kind === "state" ? undefined : e.states,
    stateSpec: (id) => `power-loss:state=${id}`,
  },
  explore: {
    ranges: "every volatile write lost (the default `drop`)",
    draw: () => ({ kind: "power-loss", variant: "drop" }),
  },
});

function modeEffect(
  mode: string,
  orders: string | undefined,
  max: string | undefined,
): PowerLossEffect {
  const count = (text: string, what: string) => parseCount(text, what, 1);
  switch (mode) {
    case "":
      return orders === undefined ? { kind: "power-loss", variant: "drop" } : {
        kind: "power-loss",
        variant: "drop",
        states: { kind: "orders", count: count(orders, "orders") },
      };
    case "drop":
    case "subset":
    case "torn":
    case "each":
      if (orders !== undefined) throw new FaultSpecError(`power-loss:${mode} takes no orders=`);
      return mode === "each"
        ? { kind: "power-loss", variant: "drop", states: { kind: "each" } }
        : { kind: "power-loss", variant: mode };
    case "all": {
      const states: CrashStates = {
        kind: "all",
        max: max === undefined ? DEFAULT_ALL_MAX : parseCount(max, "max", 0),
      };
      if (states.max > 20) {
        throw new FaultSpecError(
          `max=${states.max}: more than 2^20 crash states a point is too many`,
        );
      }
      if (orders !== undefined) states.count = count(orders, "orders");
      return { kind: "power-loss", variant: "drop", states };
    }
    default:
      throw new FaultSpecError(
        `power-loss keeps drop, subset, torn, each, orders=K, all[,max=B] or state=ID, not "${mode}"`,
      );
  }
}

function statesParams(states: CrashStates): string[] {
  switch (states.kind) {
    case "each":
      return ["each"];
    case "orders":
      return [`orders=${states.count}`];
    case "all":
      return [
        "all",
        ...(states.max === DEFAULT_ALL_MAX ? [] : [`max=${states.max}`]),
        ...(states.count === undefined ? [] : [`orders=${states.count}`]),
      ];
    case "state":
      return [`state=${crashStateId(states.dropped)}`];
  }
}

/**
 * A crash state's ID: the recorded op indices of the volatile writes it drops, joined by
 * `+` (`57+61`), or `none` (every volatile write kept).
 *
 * @throws {FaultSpecError} for anything else.
 * @example
 * ```ts
 * parseCrashStateId("61+57"); // { kind: "state", dropped: [57, 61] }
 * ```
 */
export function parseCrashStateId(text: string): Extract<CrashStates, { kind: "state" }> {
  const trimmed = text.trim();
  if (trimmed === "none") return { kind: "state", dropped: [] };
  if (!/^\d+(\+\d+)*$/.test(trimmed)) {
    throw new FaultSpecError(
      `crash state "${text}" is not none or the dropped writes' op indices joined by + (as 57+61)`,
    );
  }
  const dropped = [...new Set(trimmed.split("+").map(Number))].sort((a, b) => a - b);
  return { kind: "state", dropped };
}

/**
 * The ID of the crash state that drops these volatile writes (recorded op indices).
 *
 * @example
 * ```ts
 * crashStateId([61, 57]); // "57+61"
 * crashStateId([]); // "none"
 * ```
 */
export function crashStateId(dropped: readonly number[]): string {
  return dropped.length === 0 ? "none" : [...dropped].sort((a, b) => a - b).join("+");
}
