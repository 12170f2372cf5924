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
import { kindOf } from "../fault/kinds/mod.ts";
import { liveStateArguments, parseLiveState } from "../fault/live.ts";
import type { FaultEffect } from "../fault/types.ts";
import {
  type ClockMoment,
  effectLinks,
  isWaiting,
  type LinkPlan,
  type LinkPlanState,
  type LiveLinkFault,
} from "./link_plan.ts";

export { LINK_LIVE_STATES } from "../fault/live.ts";

/** What `set-link-fault-state` asked for. */
export type LinkLiveRequest =
  /** Set a live fault. */
  | { fault: LiveLinkFault; effect: FaultEffect }
  /** `none`: heal these links (every link when absent). */
  | { fault: null; links?: ReadonlySet<string> };

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
  const { effect: parsed, count } = parseLiveState(args, "link", []);
  const effect = parsed!;
  check(effect, nodes);
  const links = effectLinks(effect, nodes);
  if (kindOf(effect).link?.heals) {
    return links.size === nodes.length * (nodes.length - 1)
      ? { fault: null }
      : { fault: null, links };
  }
  const fault: LiveLinkFault = { effect, links };
  if (count !== undefined) fault.remaining = count;
  return { fault, effect };
}

function check(effect: FaultEffect, nodes: readonly string[]): void {
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
 * @example
 * ```ts
 * linkLiveArguments({ kind: "link-delay", durationMs: 100, jitterMs: 0, link: { kind: "all" } });
 * // { state: "delay", "duration-ms": 100, link: "*" }
 * ```
 */
export function linkLiveArguments(
  effect: FaultEffect | null,
  count?: number,
): Record<string, unknown> {
  return effect === null ? { state: "none" } : liveStateArguments(effect, count);
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
