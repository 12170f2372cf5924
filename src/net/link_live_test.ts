import assert from "node:assert/strict";
import { FaultSpecError } from "../fault/errors.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { type FrameView } from "./frame.ts";
import {
  describeLinkFaultState,
  LINK_LIVE_STATES,
  linkLiveArguments,
  parseLinkLiveArguments,
} from "./link_live.ts";
import { compileLinkPlan, decideFrame, initialLinkState, setLiveLinkFault } from "./link_plan.ts";

const NODES = ["n1", "n2", "n3"];
const NOW = { index: 0, time: 0 };
const VIEW: FrameView = {
  length: 60,
  dst: "ff:ff:ff:ff:ff:ff",
  src: "02:66:6c:00:00:00",
  group: true,
  broadcast: true,
  ethertype: 0x0806,
};

Deno.test("live link faults: arguments parse into faults on their links, and back", () => {
  const partition = parseLinkLiveArguments(
    { state: "partition", sides: [["n1"], ["n2", "n3"]] },
    NODES,
  );
  assert.ok(partition.fault);
  assert.deepEqual([...partition.fault.links].sort(), ["n1->n2", "n1->n3", "n2->n1", "n3->n1"]);
  const delay = parseLinkLiveArguments(
    { state: "delay", link: "n1<->n2", "duration-ms": 100, "jitter-ms": 10, count: 5 },
    NODES,
  );
  assert.deepEqual(delay.fault?.effect, {
    kind: "link-delay",
    durationMs: 100,
    jitterMs: 10,
    link: { kind: "link", from: "n1", to: "n2", both: true },
  });
  assert.equal(delay.fault?.remaining, 5);
  const none = parseLinkLiveArguments({ state: "none", link: "n3" }, NODES);
  assert.equal(none.fault, null);
  assert.deepEqual([...(none.fault === null ? none.links! : [])].sort(), [
    "n1->n3",
    "n2->n3",
    "n3->n1",
    "n3->n2",
  ]);
  assert.deepEqual(parseLinkLiveArguments({ state: "none" }, NODES), { fault: null });
  for (
    const spec of [
      "partition:n1|n2,n3",
      "isolate:n2",
      "drop:0.3,link=n1->n2",
      "duplicate",
      "reorder:0.5,hold=20ms",
      "delay:100ms,jitter=10ms,link=n1<->n2",
      "bandwidth:1M/s,link=n2",
    ]
  ) {
    const effect = parseFaultSpec(spec).effect;
    const args = linkLiveArguments(effect as never);
    const back = parseLinkLiveArguments(args, NODES);
    assert.deepEqual(back.fault?.effect, effect, spec);
  }
  assert.deepEqual(linkLiveArguments(parseFaultSpec("heal:n1<->n2").effect as never), {
    state: "none",
    link: "n1<->n2",
  });
  assert.ok(LINK_LIVE_STATES.includes("partition"));
});

Deno.test("live link faults: bad arguments are refused in QMP's words", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /Parameter 'state' is missing/],
    [{ state: "melt" }, /Parameter 'state' must be one of none, partition/],
    [{ state: "drop", node: "n1" }, /Parameter 'node' is unexpected with state 'drop'/],
    [{ state: "none", count: 2 }, /Parameter 'count' is unexpected/],
    [{ state: "drop", probability: 2 }, /'probability' expects a number in \(0, 1\]/],
    [{ state: "delay" }, /Parameter 'duration-ms' is missing/],
    [{ state: "bandwidth", bandwidth: 0 }, /'bandwidth' expects a number of at least 1/],
    [{ state: "partition", sides: [["n1"]] }, /'sides' expects two arrays/],
    [{ state: "partition", sides: [["n1", "n2"], ["n2"]] }, /the sides overlap: n2/],
    [{ state: "isolate", node: "n9" }, /^no node n9 \(nodes: n1, n2, n3\)$/],
    [{ state: "drop", link: "n1->n9" }, /no node n9/],
    [{ state: "drop", link: 7 }, /'link' expects a string/],
  ];
  for (const [args, pattern] of cases) {
    assert.throws(() => parseLinkLiveArguments(args, NODES), (e: unknown) => {
      assert.ok(e instanceof FaultSpecError, String(e));
      assert.match(e.message, pattern, JSON.stringify(args));
      return true;
    });
  }
  assert.throws(
    () => parseLinkLiveArguments({ state: "isolate", node: "a" }, ["a"]),
    /this is a link fault, and the scenario has one node \(a\)/,
  );
});

Deno.test("query-link-fault-state: rules waiting, in force, done; live faults with their links", () => {
  const plan = compileLinkPlan(
    {
      seed: 1,
      rules: ["partition:n1|n2@5", "drop:0.5,link=n2->n3", "heal@9", "eio"].map(parseFaultSpec),
    },
    NODES,
  );
  let state = initialLinkState(plan);
  const request = parseLinkLiveArguments({ state: "isolate", node: "n3", count: 2 }, NODES);
  state = setLiveLinkFault(plan, state, request.fault, { index: 0, time: 0 });
  assert.deepEqual(describeLinkFaultState(plan, state, NOW), {
    rules: [
      { rule: "partition:n1|n2@5", state: "waiting", hits: 0 },
      { rule: "drop:0.5,link=n2->n3", state: "in-force", hits: 0 },
      { rule: "heal@9", state: "waiting", hits: 0 },
    ],
    live: [{
      state: "isolate",
      node: "n3",
      count: 2,
      links: ["n1->n3", "n2->n3", "n3->n1", "n3->n2"],
    }],
  });
  // @5 is arrival 5 on the run's clock (here a frame).
  state = decideFrame(plan, state, { index: 5, time: 5, from: "n1", to: ["n2", "n3"], view: VIEW })
    .state;
  const after = describeLinkFaultState(plan, state, NOW);
  assert.equal(after.rules[0].state, "in-force");
  assert.equal(after.rules[0].hits, 1);
  assert.equal((after.live[0] as { count: number }).count, 1);
  state = decideFrame(plan, state, { index: 9, time: 9, from: "n1", to: ["n2"], view: VIEW }).state;
  assert.deepEqual(describeLinkFaultState(plan, state, NOW).rules.map((r) => r.state), [
    "done",
    "done",
    "done",
  ]);
  assert.deepEqual(describeLinkFaultState(plan, state, NOW).live, []);
});
