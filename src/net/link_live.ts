/**
 * Live link faults as a control socket speaks them, in the style of
 * `set-block-fault-state` (src/fault/live.ts): the arguments of
 * `set-link-fault-state` parsed into a typed request, the request written back as
 * arguments (for a client), and the answer of `query-link-fault-state`.
 *
 * ```
 * set-link-fault-state {"state": "partition", "sides": [["n1"], ["n2", "n3"]]}
 * set-link-fault-state {"state": "isolate", "node": "n1"}
 * set-link-fault-state {"state": "drop", "link": "n1->n2", "probability": 0.3}
 * set-link-fault-state {"state": "delay", "link": "n1<->n2", "duration-ms": 100, "jitter-ms": 10}
 * set-link-fault-state {"state": "duplicate" | "reorder", "link": "*", "probability": 0.5}
 * set-link-fault-state {"state": "bandwidth", "link": "n1->n2", "bandwidth": 125000}
 * set-link-fault-state {"state": "none"}                  every link heals
 * set-link-fault-state {"state": "none", "link": "n1<->n2"}
 * query-link-fault-state {}
 * ```
 *
 * `link` is `A->B`, `A<->B`, a node (its every link) or `*` (the default); `count`
 * clears a fault after it hit that many frames. Pure: the switch applies the result.
 *
 * @module
 */

import { FaultSpecError } from "../fault/errors.ts";
import { checkClusterFaults } from "../fault/link.ts";
import { numberArgument } from "../fault/live.ts";
import {
  DEFAULT_REORDER_HOLD_MS,
  formatLinkScope,
  linkFaultKindNames,
  parseLinkScope,
} from "../fault/spec.ts";
import type { LinkEffect, LinkScope } from "../fault/types.ts";
import {
  type ClockMoment,
  effectLinks,
  isWaiting,
  type LinkPlan,
  type LinkPlanState,
  type LiveLinkFault,
  scopeLinks,
} from "./link_plan.ts";

/** The states `set-link-fault-state` accepts. */
export const LINK_LIVE_STATES: readonly string[] = [
  "none",
  ...linkFaultKindNames().filter((kind) => kind !== "heal"),
];

const PARAMETERS: Record<string, readonly string[]> = {
  none: ["link"],
  partition: ["sides"],
  isolate: ["node"],
  drop: ["link", "probability"],
  delay: ["link", "duration-ms", "jitter-ms"],
  duplicate: ["link", "probability"],
  reorder: ["link", "probability", "hold-ms"],
  bandwidth: ["link", "bandwidth"],
};

/** What `set-link-fault-state` asked for. */
export type LinkLiveRequest =
  /** Set a live fault. */
  | { fault: LiveLinkFault; effect: Exclude<LinkEffect, { kind: "heal" }> }
  /** `none`: heal these links (every link when absent). */
  | { fault: null; links?: ReadonlySet<string>; scope: LinkScope };

function probability(args: Record<string, unknown>): number {
  const value = numberArgument(args, "probability", 0) ?? 1;
  if (value <= 0 || value > 1) {
    throw new FaultSpecError("Parameter 'probability' expects a number in (0, 1]");
  }
  return value;
}

function scope(args: Record<string, unknown>): LinkScope {
  const value = args.link;
  if (value === undefined) return { kind: "all" };
  if (typeof value !== "string") {
    throw new FaultSpecError("Parameter 'link' expects a string such as \"n1->n2\"");
  }
  return parseLinkScope(value);
}

function names(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== "string")) {
    throw new FaultSpecError(`Parameter '${what}' expects a non-empty array of node names`);
  }
  return value as string[];
}

/**
 * Parses the arguments of `set-link-fault-state`, checking node names against the
 * cluster's nodes.
 *
 * @throws {FaultSpecError} with a QMP-style description (`Parameter 'x' is unexpected`,
 *   `no node n9`).
 * @example
 * ```ts
 * const request = parseLinkLiveArguments({ state: "isolate", node: "n1" }, ["n1", "n2"]);
 * request.fault?.links.has("n2->n1"); // true
 * ```
 */
export function parseLinkLiveArguments(
  args: Record<string, unknown>,
  nodes: readonly string[],
): LinkLiveRequest {
  const { state } = args;
  if (typeof state !== "string") {
    throw new FaultSpecError("Parameter 'state' is missing or not a string");
  }
  const kind = state.toLowerCase();
  if (!LINK_LIVE_STATES.includes(kind)) {
    throw new FaultSpecError(
      `Parameter 'state' must be one of ${LINK_LIVE_STATES.join(", ")}, not '${state}'`,
    );
  }
  const allowed = new Set(["state", ...PARAMETERS[kind], ...(kind === "none" ? [] : ["count"])]);
  for (const key of Object.keys(args)) {
    if (!allowed.has(key)) {
      throw new FaultSpecError(`Parameter '${key}' is unexpected with state '${kind}'`);
    }
  }
  let effect: Exclude<LinkEffect, { kind: "heal" }>;
  switch (kind) {
    case "none": {
      const link = scope(args);
      const heal: LinkEffect = { kind: "heal", link };
      check(heal, nodes);
      return link.kind === "all"
        ? { fault: null, scope: link }
        : { fault: null, scope: link, links: scopeLinks(link, nodes) };
    }
    case "partition": {
      const sides = args.sides;
      if (!Array.isArray(sides) || sides.length !== 2) {
        throw new FaultSpecError(
          'Parameter \'sides\' expects two arrays of node names, as [["n1"], ["n2", "n3"]]',
        );
      }
      effect = { kind: "partition", sides: [names(sides[0], "sides"), names(sides[1], "sides")] };
      break;
    }
    case "isolate": {
      if (typeof args.node !== "string") {
        throw new FaultSpecError("Parameter 'node' is missing or not a string");
      }
      effect = { kind: "isolate", node: args.node };
      break;
    }
    case "drop":
      effect = { kind: "drop", probability: probability(args), link: scope(args) };
      break;
    case "duplicate":
      effect = { kind: "duplicate", probability: probability(args), link: scope(args) };
      break;
    case "reorder":
      effect = {
        kind: "reorder",
        probability: probability(args),
        holdMs: numberArgument(args, "hold-ms", 0) ?? DEFAULT_REORDER_HOLD_MS,
        link: scope(args),
      };
      break;
    case "delay": {
      const duration = numberArgument(args, "duration-ms", 0);
      if (duration === undefined) throw new FaultSpecError("Parameter 'duration-ms' is missing");
      effect = {
        kind: "link-delay",
        durationMs: duration,
        jitterMs: numberArgument(args, "jitter-ms", 0) ?? 0,
        link: scope(args),
      };
      break;
    }
    case "bandwidth": {
      const rate = numberArgument(args, "bandwidth", 1);
      if (rate === undefined) {
        throw new FaultSpecError("Parameter 'bandwidth' (bytes per second) is missing");
      }
      effect = { kind: "bandwidth", bytesPerSecond: rate, link: scope(args) };
      break;
    }
    default:
      throw new FaultSpecError(`state '${kind}' cannot be set live`);
  }
  check(effect, nodes);
  const fault: LiveLinkFault = { effect, links: effectLinks(effect, nodes) };
  const count = numberArgument(args, "count", 1);
  if (count !== undefined) fault.remaining = count;
  return { fault, effect };
}

function check(effect: LinkEffect, nodes: readonly string[]): void {
  try {
    checkClusterFaults([{ spec: "live", effect, trigger: { kind: "always" } }], nodes);
  } catch (error) {
    if (error instanceof FaultSpecError) {
      throw new FaultSpecError(
        error.message.replace(/^fault "live": /, "").replace(/^fault "live" /, "this "),
      );
    }
    throw error;
  }
}

/**
 * The `set-link-fault-state` arguments of a link effect (null: `none`): the inverse of
 * {@link parseLinkLiveArguments}, for a client and for queries.
 *
 * @throws {FaultSpecError} for `heal`, which is `none` live.
 * @example
 * ```ts
 * linkLiveArguments({ kind: "link-delay", durationMs: 100, jitterMs: 0, link: { kind: "all" } });
 * // { state: "delay", "duration-ms": 100, link: "*" }
 * ```
 */
export function linkLiveArguments(
  effect: LinkEffect | null,
  count?: number,
): Record<string, unknown> {
  if (effect === null) return { state: "none" };
  const args: Record<string, unknown> = {};
  switch (effect.kind) {
    case "partition":
      Object.assign(args, { state: "partition", sides: effect.sides.map((s) => [...s]) });
      break;
    case "isolate":
      Object.assign(args, { state: "isolate", node: effect.node });
      break;
    case "drop":
    case "duplicate":
      Object.assign(args, { state: effect.kind, probability: effect.probability });
      break;
    case "reorder":
      Object.assign(args, {
        state: "reorder",
        probability: effect.probability,
        "hold-ms": effect.holdMs,
      });
      break;
    case "link-delay":
      Object.assign(args, { state: "delay", "duration-ms": effect.durationMs });
      if (effect.jitterMs > 0) args["jitter-ms"] = effect.jitterMs;
      break;
    case "bandwidth":
      Object.assign(args, { state: "bandwidth", bandwidth: effect.bytesPerSecond });
      break;
    case "heal":
      return effect.link.kind === "all"
        ? { state: "none" }
        : { state: "none", link: formatLinkScope(effect.link) };
  }
  if ("link" in effect) args.link = formatLinkScope(effect.link);
  if (count !== undefined) args.count = count;
  return args;
}

/**
 * The answer of `query-link-fault-state`: each link rule of the plan with its state
 * (`waiting`, `in-force`, `done`), its hits and the links healed, and each live fault
 * with its arguments and links.
 *
 * @example
 * ```ts
 * describeLinkFaultState(plan, state, { index: clock.arrivals, time: clock.now() });
 * // { rules: [{ rule: "partition:a|b@+2000ms", state: "in-force", hits: 12 }], live: [] }
 * ```
 */
export function describeLinkFaultState(
  plan: LinkPlan,
  state: LinkPlanState,
  now: ClockMoment,
): { rules: Record<string, unknown>[]; live: Record<string, unknown>[] } {
  return {
    rules: plan.rules.map((rule, i) => {
      const s = state.rules[i];
      const status = s.spent ? "done" : isWaiting(rule, s, now) ? "waiting" : "in-force";
      const out: Record<string, unknown> = { rule: rule.spec, state: status, hits: s.hits };
      if (s.healed.size > 0) out.healed = [...s.healed].sort();
      return out;
    }),
    live: state.live.map((fault) => ({
      ...linkLiveArguments(fault.effect, fault.remaining),
      links: [...fault.links].sort(),
    })),
  };
}
