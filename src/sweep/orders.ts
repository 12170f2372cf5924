/**
 * Recovery orders in a sweep (src/scenario/recovery.ts): with `each-order`, each point is
 * checked once in every order of the nodes serving the check, each order a unit of the
 * sweep as a crash state of `power-loss:each` is, and a point fails when any order fails.
 * What a sweep's orders are, and a point's verdict from its orders'. Pure.
 *
 * @module
 */

import type { OracleResult } from "../run/oracle.ts";
import type { Verdict } from "../run/verdict.ts";
import {
  checkRecovery,
  type Recovery,
  recoveryName,
  recoveryOrders,
  servingNodes,
} from "../scenario/recovery.ts";
import type { Scenario } from "../scenario/schema.ts";
import type { LostWrites } from "../run/lost_files.ts";
import type { Reproduced } from "./confirm.ts";
import { SweepError } from "./errors.ts";

/** One recovery order of a point, when the sweep checks each point in every order. */
export interface OrderOutcome {
  /** The nodes serving the check, in the order the check started them. */
  order: string[];
  /** Whether what must hold held in this order. */
  verdict: Verdict;
  /** The durability oracle's counts in this order. */
  oracle: OracleResult | null;
  /** False when the fault never fired in this order's replay (its op never came). */
  fired: boolean;
  /** The command that replays this order: `... --recovery n2,n1`. */
  reproduce: string;
  /** The replay's trace, when the sweep's traces are kept. */
  trace?: string;
  /** The point whose check (its crash state byte-identical, in this order) served this one. */
  sameCrashAs?: number;
  /** A failing order: how often it failed in the runs it got. */
  reproduced?: Reproduced;
  /** A failing order of a power loss: what its crash state lost, as files. */
  lost?: LostWrites;
  /** The replay failed to run. */
  error?: string;
}

/** The recovery orders of a sweep. */
export interface SweepOrders {
  /** Each point's orders, when it is checked in several (`each-order` over two nodes or more). */
  each: string[][] | null;
  /** What each replay is given otherwise (absent: the scenario's own). */
  recovery?: Recovery;
  /** The recovery asked and the orders it stands for; absent for `together`. */
  summary?: { name: string; orders: string[][] };
}

/**
 * The orders a sweep checks each point in: `--recovery` or else the scenario's. `each-order`
 * over fewer than two serving nodes has one order, checked as `in-order`.
 *
 * @throws {ScenarioError} for an order the scenario cannot run; {@link SweepError} for
 *   `each-order` with a fault that checks several crash states a point.
 * @example
 * ```ts
 * sweepOrders(scenario, "each-order", { fault: "power-loss", explores: false });
 * // { each: [["e1", "e2"], ["e2", "e1"]], summary: { name: "each-order", orders: [...] } }
 * ```
 */
export function sweepOrders(
  scenario: Scenario,
  asked: Recovery | undefined,
  fault: { fault: string; explores: boolean },
): SweepOrders {
  const recovery = asked ?? scenario.recovery ?? "together";
  checkRecovery(recovery, scenario);
  const orders = recoveryOrders(recovery, servingNodes(scenario));
  const summary = recovery === "together"
    ? {}
    : { summary: { name: recoveryName(recovery), orders } };
  if (recovery !== "each-order") {
    return { each: null, ...(asked !== undefined ? { recovery: asked } : {}), ...summary };
  }
  if (orders.length < 2) return { each: null, recovery: "in-order", ...summary };
  if (fault.explores) {
    throw new SweepError(
      `--recovery each-order: ${fault.fault} checks several crash states a point already; check one state in every order (--fault ${
        fault.fault.replace(/:.*$/, "")
      }:state=ID --points N..N), or every state in one order (--recovery in-order)`,
    );
  }
  return { each: orders, ...summary };
}

/**
 * A point's verdict from its orders': it passes when every order whose fault fired passed;
 * an order whose fault never fired is neither (the point's fault never fired when it fired
 * in no order).
 *
 * @example
 * ```ts
 * ordersVerdict(outcomes); // { pass: false, reason: "1 of 2 recovery orders fail; order e2,e1: ..." }
 * ```
 */
export function ordersVerdict(
  outcomes: readonly Pick<OrderOutcome, "order" | "verdict" | "fired" | "error">[],
): Verdict {
  const fired = outcomes.filter((o) => o.fired || o.error);
  if (fired.length === 0) return outcomes[0].verdict;
  const failing = fired.filter((o) => !o.verdict.pass || o.error);
  const first = failing[0] ?? fired[0];
  const unfired = outcomes.length - fired.length;
  const counted = `${outcomes.length} recovery orders${
    unfired > 0 ? ` (the fault never fired in ${unfired})` : ""
  }`;
  if (failing.length === 0) {
    return { pass: true, reason: `${counted} pass: ${first.verdict.reason}` };
  }
  // One kind of failure (unavailable, inconclusive) in every failing order is the point's kind.
  const kind = failing.every((o) => o.verdict.kind === first.verdict.kind)
    ? first.verdict.kind
    : undefined;
  return {
    pass: false,
    reason: `${failing.length} of ${counted} fail; order ${
      first.order.join(",")
    }: ${first.verdict.reason}`,
    ...(kind ? { kind } : {}),
  };
}
