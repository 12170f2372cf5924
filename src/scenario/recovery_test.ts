import assert from "node:assert/strict";
import { ScenarioError } from "./errors.ts";
import { normalizeScenario } from "./load.ts";
import {
  checkRecovery,
  parseRecovery,
  permutations,
  recoveryOrders,
  runOrder,
  servingNodes,
} from "./recovery.ts";

/** A cluster of three members: e1 and e2 serve (restart scripts), e3 runs the check. */
const cluster = {
  name: "members",
  nodes: {
    e3: { disks: {}, workload: "true", check: "true" },
    e1: { disks: {}, workload: "true", restart: "report ready", ready: true },
    e2: { disks: {}, workload: "true", restart: "true" },
    // No check and no restart: it does not boot in the check phase, so it is in no order.
    e4: { disks: {}, workload: "true" },
  },
};

function throwsUsage(work: () => unknown, pattern: RegExp): void {
  assert.throws(work, (e: unknown) => {
    assert.ok(e instanceof ScenarioError, String(e));
    assert.equal((e as ScenarioError).kind, "usage");
    assert.match(e.message, pattern);
    assert.equal(e.message.split("\n").length, 1, e.message);
    return true;
  });
}

Deno.test("recovery: the serving nodes are those without a check that have a restart script, in node order", async () => {
  const scenario = await normalizeScenario(cluster, { source: "s.json", baseDir: "/" });
  assert.deepEqual(servingNodes(scenario), ["e1", "e2"]);
  assert.equal(scenario.recovery, "together", "the default, recorded");
  // No node has a check: the check phase boots nothing, and nothing serves.
  const noCheck = { nodes: scenario.nodes.map((n) => ({ ...n, check: null })) };
  assert.deepEqual(servingNodes(noCheck), []);
});

Deno.test("recovery: each-order enumerates every order, the node order first; one order of none or one node", () => {
  assert.deepEqual(permutations(["a", "b", "c"]).map((o) => o.join("")), [
    "abc",
    "acb",
    "bac",
    "bca",
    "cab",
    "cba",
  ]);
  assert.deepEqual(permutations(["a"]), [["a"]]);
  assert.deepEqual(permutations([]), [[]]);
  assert.equal(permutations(["a", "b", "c", "d"]).length, 24);
  assert.equal(new Set(permutations(["a", "b", "c", "d"]).map((o) => o.join())).size, 24);
  assert.deepEqual(recoveryOrders("each-order", ["e1", "e2"]), [["e1", "e2"], ["e2", "e1"]]);
  assert.deepEqual(recoveryOrders("in-order", ["e1", "e2"]), [["e1", "e2"]]);
  assert.deepEqual(recoveryOrders(["e2", "e1"], ["e1", "e2"]), [["e2", "e1"]]);
  assert.deepEqual(recoveryOrders("together", ["e1", "e2"]), []);
  assert.deepEqual(recoveryOrders("with-checks", ["e1", "e2"]), []);
  assert.deepEqual(recoveryOrders("each-order", []), [[]]);
});

Deno.test("recovery: one run's plan: together at once; with-checks at once, the checks too; an order one after another; each-order's first alone", () => {
  const after = { checksWithServing: false };
  assert.deepEqual(runOrder("together", ["e1", "e2"]), { name: "together", order: null, ...after });
  assert.deepEqual(runOrder("with-checks", ["e1", "e2"]), {
    name: "with-checks",
    order: null,
    checksWithServing: true,
  });
  assert.deepEqual(runOrder("in-order", ["e1", "e2"]), {
    name: "in-order",
    order: ["e1", "e2"],
    ...after,
  });
  assert.deepEqual(runOrder("each-order", ["e1", "e2"]), {
    name: "each-order",
    order: ["e1", "e2"],
    ...after,
  });
  assert.deepEqual(runOrder(["e2", "e1"], ["e1", "e2"]), {
    name: "e2,e1",
    order: ["e2", "e1"],
    ...after,
  });
  assert.deepEqual(runOrder("in-order", []), { name: "in-order", order: [], ...after });
});

Deno.test("recovery: --recovery parses a mode or an order; anything else is one line naming it", () => {
  assert.equal(parseRecovery("together"), "together");
  assert.equal(parseRecovery("with-checks"), "with-checks");
  assert.equal(parseRecovery("in-order"), "in-order");
  assert.equal(parseRecovery("each-order"), "each-order");
  assert.deepEqual(parseRecovery("n2,n1,n3"), ["n2", "n1", "n3"]);
  assert.deepEqual(parseRecovery("n1"), ["n1"]);
  // A word that is no mode may be a node's name: the scenario says (checkRecovery).
  assert.deepEqual(parseRecovery("sideways"), ["sideways"]);
  throwsUsage(
    () => parseRecovery("in_order"),
    /^--recovery in_order: expected together, with-checks, in-order, each-order or an order/,
  );
  throwsUsage(() => parseRecovery("n1,,n2"), /^--recovery n1,,n2: expected/);
  throwsUsage(() => parseRecovery("N1"), /^--recovery N1: expected/);
});

Deno.test("recovery: an order is every serving node once; an order of a scenario without a check is refused", async () => {
  const scenario = await normalizeScenario(cluster, { source: "s.json", baseDir: "/" });
  checkRecovery(["e2", "e1"], scenario);
  checkRecovery("each-order", scenario);
  throwsUsage(
    () => checkRecovery(["e1"], scenario),
    /--recovery e1: e2 is missing; the nodes serving the check are e1, e2, each named once/,
  );
  throwsUsage(() => checkRecovery(["e1", "e2", "e1"], scenario), /e1 is named twice/);
  throwsUsage(() => checkRecovery(["e1", "e3"], scenario), /e3 does not serve the check/);
  throwsUsage(() => checkRecovery(["e1", "e2", "e4"], scenario), /e4 does not serve the check/);
  throwsUsage(
    () => checkRecovery(["sideways"], scenario),
    /^--recovery sideways: expected together, with-checks, in-order, each-order or an order of the nodes serving the check \(e1, e2\); the scenario has no node sideways$/,
  );
  const noCheck = { nodes: scenario.nodes.map((n) => ({ ...n, check: null })) };
  checkRecovery("together", noCheck);
  throwsUsage(
    () => checkRecovery("in-order", noCheck),
    /^--recovery in-order: no node has a check, so the check phase starts no node to order$/,
  );
  throwsUsage(() => checkRecovery(["e1", "e2"], noCheck), /no node has a check/);
});

Deno.test("recovery: a scenario file's recovery is one of the four, and needs a node with a check", async () => {
  const load = (input: unknown) => normalizeScenario(input, { source: "s.json", baseDir: "/" });
  assert.equal((await load({ ...cluster, recovery: "each-order" })).recovery, "each-order");
  assert.equal((await load({ ...cluster, recovery: "with-checks" })).recovery, "with-checks");
  const refused = async (input: unknown, pattern: RegExp) =>
    await assert.rejects(load(input), (e: unknown) => {
      assert.ok(e instanceof ScenarioError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  await refused(
    { ...cluster, recovery: "sideways" },
    /^s\.json: recovery: expected one of "together", "with-checks", "in-order", "each-order", found "sideways"$/,
  );
  const noCheck = {
    name: "no-check",
    nodes: { a: { disks: {}, workload: "true", restart: "true" } },
    recovery: "in-order",
  };
  await refused(
    noCheck,
    /^s\.json: recovery: "in-order" orders the nodes the check phase starts, and no node has a check/,
  );
  await refused({ ...noCheck, recovery: "with-checks" }, /no node has a check/);
  assert.equal((await load({ ...noCheck, recovery: "together" })).recovery, "together");
});

Deno.test("recovery: each-order with a declared fault that explores crash states a point is refused at load", async () => {
  const load = (input: unknown) => normalizeScenario(input, { source: "s.json", baseDir: "/" });
  const both = {
    ...cluster,
    recovery: "each-order",
    faults: [{ fault: "power-loss", points: "flushes" }, {
      fault: "power-loss:each",
      points: "flushes",
    }],
  };
  await assert.rejects(load(both), (e: unknown) => {
    assert.ok(e instanceof ScenarioError, String(e));
    assert.match(
      e.message,
      /^s\.json: faults\[1\]\.fault: "power-loss:each" checks several crash states a point, and recovery "each-order" checks each point in every order: declare one of the two$/,
    );
    return true;
  });
  assert.equal((await load({ ...both, recovery: "in-order" })).faults.length, 2);
});
