import assert from "node:assert/strict";
import type { ParentTrace } from "../replay/replay.ts";
import { normalizeScenario } from "../scenario/load.ts";
import { ScenarioError } from "../scenario/errors.ts";
import type { Verdict } from "../run/verdict.ts";
import type { OpRecord } from "../trace/schema.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { fakeParentTrace } from "../../tests/support/traces.ts";
import { SweepError } from "./errors.ts";
import { ordersVerdict, sweepOrders } from "./orders.ts";
import { sweepStates } from "./plan.ts";

/** e1 and e2 serve the check (restart scripts), e3 runs it. */
const scenario = await normalizeScenario({
  name: "members",
  nodes: {
    e1: { disks: {}, workload: "true", restart: "report ready", ready: true },
    e2: { disks: {}, workload: "true", restart: "report ready", ready: true },
    e3: { disks: {}, workload: "true", check: "true" },
  },
}, { source: "s.json", baseDir: "/" });

// e1's disk: write 0 made durable by flush 1; write 2 volatile until flush 4; op 3 a read.
// At 1 write 0 is volatile (dropped); from 2 to 4 it is durable and write 2 is not there
// yet or volatile (dropped): one crash state, op 2's.
const ops: OpRecord[] = (["write", "flush", "write", "read", "flush"] as const).map((op, index) =>
  opRecord({
    index,
    op,
    node: "e1",
    offset: 4096 * index,
    ...(op === "write" ? { data: new Uint8Array(512).fill(index + 1) } : {}),
    phase: "run",
  })
);

function parentWith(recovery?: "together" | "in-order" | "each-order"): ParentTrace {
  const parent = fakeParentTrace({ records: ops, name: "members", header: { seed: 3 } });
  return { ...parent, scenario: { ...scenario, ...(recovery ? { recovery } : {}) } };
}
const points = { kind: "range" as const, from: 1, to: 4 };

Deno.test("each-order: every point is a unit per order, and byte-identical crash states share one check per order", () => {
  const plan = sweepStates(parentWith(), { fault: "power-loss", points, recovery: "each-order" });
  assert.deepEqual(plan.points.map((p) => [p.at, p.servedBy]), [
    [1, ["1/e1,e2", "1/e2,e1"]],
    [2, ["2/e1,e2", "2/e2,e1"]],
    // Op 2's crash state, checked there in each order.
    [3, ["2/e1,e2", "2/e2,e1"]],
    [4, ["2/e1,e2", "2/e2,e1"]],
  ]);
  assert.equal(plan.distinct, 4, "2 distinct crash states, each in 2 orders");
  // Together (the default), the same points are one unit each, as before.
  const together = sweepStates(parentWith(), { fault: "power-loss", points });
  assert.deepEqual(together.points.map((p) => p.servedBy), [["1"], ["2"], ["2"], ["2"]]);
  assert.equal(together.distinct, 2);
  // The scenario's own each-order does the same as --recovery each-order; --recovery overrides it.
  const declared = sweepStates(parentWith("each-order"), { fault: "power-loss", points });
  assert.deepEqual(declared.points.map((p) => p.servedBy), plan.points.map((p) => p.servedBy));
  const overridden = sweepStates(parentWith("each-order"), {
    fault: "power-loss",
    points,
    recovery: ["e2", "e1"],
  });
  assert.deepEqual(overridden.points.map((p) => p.servedBy), [["1"], ["2"], ["2"], ["2"]]);
});

Deno.test("each-order: an online fault's points are a replay per order; three serving nodes make six", () => {
  const plan = sweepStates(parentWith(), { fault: "eio", points, recovery: "each-order" });
  assert.deepEqual(plan.points.map((p) => p.servedBy.length), [2, 2, 2, 2]);
  assert.equal(plan.distinct, 8, "a replay per point and order");
  const three = {
    ...parentWith(),
    scenario: {
      ...scenario,
      nodes: [...scenario.nodes, { ...scenario.nodes[0], name: "e4" }],
    },
  };
  const six = sweepStates(three, { fault: "power-loss", points, recovery: "each-order" });
  assert.deepEqual(six.points[0].servedBy, [
    "1/e1,e2,e4",
    "1/e1,e4,e2",
    "1/e2,e1,e4",
    "1/e2,e4,e1",
    "1/e4,e1,e2",
    "1/e4,e2,e1",
  ]);
});

Deno.test("each-order: refused with a fault that explores crash states, and for an order of other nodes; one order of one node", () => {
  assert.throws(
    () => sweepStates(parentWith(), { fault: "power-loss:each", points, recovery: "each-order" }),
    (e: unknown) =>
      e instanceof SweepError &&
      /^--recovery each-order: power-loss:each checks several crash states a point already; check one state in every order \(--fault power-loss:state=ID --points N\.\.N\), or every state in one order \(--recovery in-order\)$/
        .test(e.message),
  );
  assert.throws(
    () => sweepStates(parentWith(), { fault: "power-loss", points, recovery: ["e1", "e3"] }),
    (e: unknown) => e instanceof ScenarioError && /e2 is missing|e3 does not serve/.test(e.message),
  );
  // One serving node: one order, checked as in-order, the units without an order of their own.
  const one = {
    ...parentWith(),
    scenario: { ...scenario, nodes: scenario.nodes.filter((n) => n.name !== "e2") },
  };
  const orders = sweepOrders(one.scenario, "each-order", { fault: "eio", explores: true });
  assert.deepEqual(orders, {
    each: null,
    recovery: "in-order",
    summary: { name: "each-order", orders: [["e1"]] },
  });
  const plan = sweepStates(one, { fault: "power-loss", points, recovery: "each-order" });
  assert.deepEqual(plan.points.map((p) => p.servedBy), [["1"], ["2"], ["2"], ["2"]]);
});

Deno.test("sweep orders: what replays are given, and what the result says", () => {
  assert.deepEqual(sweepOrders(scenario, undefined, { fault: "eio", explores: false }), {
    each: null,
  });
  assert.deepEqual(sweepOrders(scenario, "in-order", { fault: "eio", explores: false }), {
    each: null,
    recovery: "in-order",
    summary: { name: "in-order", orders: [["e1", "e2"]] },
  });
  assert.deepEqual(sweepOrders(scenario, ["e2", "e1"], { fault: "eio", explores: false }), {
    each: null,
    recovery: ["e2", "e1"],
    summary: { name: "e2,e1", orders: [["e2", "e1"]] },
  });
  // The scenario's in-order: replays take it from the scenario, so none is given.
  const inOrder = { ...scenario, recovery: "in-order" as const };
  assert.deepEqual(sweepOrders(inOrder, undefined, { fault: "eio", explores: false }), {
    each: null,
    summary: { name: "in-order", orders: [["e1", "e2"]] },
  });
});

Deno.test("a point's verdict over its orders: any failing order fails it, named; the rest as they came", () => {
  const pass: Verdict = { pass: true, reason: "nothing lost" };
  const lost: Verdict = { pass: false, reason: "1 acknowledged key lost (k1)" };
  const unavailable: Verdict = { pass: false, kind: "unavailable", reason: "unavailable: e1" };
  const order = (o: string, verdict: Verdict, fired = true) => ({
    order: o.split(","),
    verdict,
    fired,
  });
  assert.deepEqual(ordersVerdict([order("e1,e2", pass), order("e2,e1", pass)]), {
    pass: true,
    reason: "2 recovery orders pass: nothing lost",
  });
  assert.deepEqual(ordersVerdict([order("e1,e2", pass), order("e2,e1", lost)]), {
    pass: false,
    reason: "1 of 2 recovery orders fail; order e2,e1: 1 acknowledged key lost (k1)",
  });
  assert.deepEqual(ordersVerdict([order("e1,e2", unavailable), order("e2,e1", pass)]), {
    pass: false,
    kind: "unavailable",
    reason: "1 of 2 recovery orders fail; order e1,e2: unavailable: e1",
  });
  // A plain loss in one order and unavailability in another: a plain failure.
  assert.equal(
    ordersVerdict([order("e1,e2", unavailable), order("e2,e1", lost)]).kind,
    undefined,
  );
  const never: Verdict = { pass: false, reason: "the planned fault never fired" };
  assert.deepEqual(
    ordersVerdict([order("e1,e2", never, false), order("e2,e1", never, false)]),
    never,
  );
  assert.deepEqual(ordersVerdict([order("e1,e2", never, false), order("e2,e1", pass)]), {
    pass: true,
    reason: "2 recovery orders (the fault never fired in 1) pass: nothing lost",
  });
});
