import assert from "node:assert/strict";
import type { OpType } from "../block/backend.ts";
import {
  decide,
  type Decision,
  initialState,
  type OpView,
  type PlanState,
  setLiveFault,
} from "./plan.ts";
import { parseFaultSpec } from "./spec.ts";
import type { FaultPlan } from "./types.ts";

function planOf(...specs: string[]): FaultPlan {
  return { seed: 42, rules: specs.map(parseFaultSpec) };
}

function op(index: number, type: OpType, extra: Partial<OpView> = {}): OpView {
  return { index, disk: "vda", type, offset: index * 4096, length: 4096, time: index, ...extra };
}

/** Feeds ops in order; returns each op's decisions and the final state. */
function feed(
  plan: FaultPlan,
  ops: OpView[],
  state = initialState(plan),
): { each: Decision[][]; state: PlanState } {
  const each: Decision[][] = [];
  for (const o of ops) {
    const step = decide(plan, state, o);
    each.push(step.decisions);
    state = step.state;
  }
  return { each, state };
}

const kinds = (decisions: Decision[]) => decisions.map((d) => d.action.kind);

Deno.test("an index trigger hits exactly that op", () => {
  const plan = planOf("eio@2");
  const { each, state } = feed(plan, [
    op(0, "write"),
    op(1, "read"),
    op(2, "flush"),
    op(3, "write"),
  ]);
  assert.deepEqual(each.map(kinds), [[], [], ["error"], []]);
  assert.deepEqual(state.hits, [1]);
});

Deno.test("an occurrence trigger hits the k-th matching op, and a filter alone hits every match", () => {
  const ops = [op(0, "write"), op(1, "read"), op(2, "write"), op(3, "write"), op(4, "write")];
  assert.deepEqual(feed(planOf("eio@write#3"), ops).each.map(kinds), [[], [], [], ["error"], []]);
  assert.deepEqual(feed(planOf("eio@read"), ops).each.map(kinds), [[], ["error"], [], [], []]);
  assert.deepEqual(feed(planOf("eio"), ops).each.map(kinds), ops.map(() => ["error"]));
});

Deno.test("ranges overlap, exact signatures match offset and length, disks and nodes filter", () => {
  const ops = [
    op(0, "write", { offset: 0, length: 4096 }),
    op(1, "write", { offset: 8192, length: 512 }),
    op(2, "write", { offset: 8192, length: 512, disk: "vdb" }),
    op(3, "write", { offset: 8192, length: 512, node: "n2" }),
  ];
  assert.deepEqual(feed(planOf("eio@write:4095-4097"), ops).each.map(kinds), [
    ["error"],
    [],
    [],
    [],
  ]);
  assert.deepEqual(feed(planOf("eio@write:8192+512#2"), ops).each.map(kinds), [
    [],
    [],
    ["error"],
    [],
  ]);
  assert.deepEqual(feed(planOf("eio@vdb/write"), ops).each.map(kinds), [[], [], ["error"], []]);
  assert.deepEqual(feed(planOf("eio@n2/vda/write"), ops).each.map(kinds), [[], [], [], ["error"]]);
});

Deno.test("a fault that cannot apply to the op an index names never fires", () => {
  const plan = planOf("lost-write@1");
  const { each, state } = feed(plan, [op(0, "write"), op(1, "read"), op(2, "write")]);
  assert.deepEqual(each.map(kinds), [[], [], []]);
  assert.deepEqual(state.hits, [0]);
  assert.deepEqual(state.spent, [true]);
  // Filters count only the ops the fault applies to: the second write, not the second op.
  assert.deepEqual(
    feed(planOf("lost-write@any#2"), [op(0, "write"), op(1, "read"), op(2, "write")]).each.map(
      kinds,
    ),
    [
      [],
      [],
      ["lost-write"],
    ],
  );
});

Deno.test("persistent faults stay in force on the disk where they fired", () => {
  const plan = planOf("fail@write#2");
  const ops = [
    op(0, "write"),
    op(1, "write"),
    op(2, "read"),
    op(3, "read", { disk: "vdb" }),
    op(4, "flush"),
  ];
  assert.deepEqual(feed(plan, ops).each.map(kinds), [[], ["error"], ["error"], [], ["error"]]);

  const limp = feed(planOf("limp:5ms@+2ms"), [
    op(0, "read"),
    op(1, "read"),
    op(2, "read"),
    op(3, "read"),
  ]);
  assert.deepEqual(limp.each.map(kinds), [[], [], ["limp"], ["limp"]]);
});

Deno.test("a hang with a duration holds ops until then, and ends", () => {
  const plan = planOf("hang:10ms@1");
  const { each } = feed(plan, [
    op(0, "read"),
    op(1, "read"),
    op(5, "read", { time: 5 }),
    op(20, "read", { time: 20 }),
  ]);
  assert.deepEqual(each[1].map((d) => d.action), [{ kind: "hang", untilMs: 11 }]);
  assert.deepEqual(each[2].map((d) => d.action), [{ kind: "hang", untilMs: 11 }]);
  assert.deepEqual(each[3], []);
});

Deno.test("timing comes first, then one outcome", () => {
  const plan = planOf("delay:5ms@0", "eio@0", "lost-write@0");
  const { each } = feed(plan, [op(0, "write")]);
  assert.deepEqual(kinds(each[0]), ["delay", "error"]);
});

Deno.test("random choices depend on the seed, the rule and the op, not on what came before", () => {
  const plan = planOf("corrupt:read,bits=5@read", "torn-write@write");
  const alone = feed(plan, [op(7, "read")]).each[0];
  const after = feed(plan, [op(1, "read"), op(3, "write"), op(7, "read")]).each[2];
  assert.deepEqual(alone, after);
  const bits = (alone[0].action as { bitPositions: number[] }).bitPositions;
  assert.equal(bits.length, 5);
  assert.ok(bits.every((b) => b >= 0 && b < 4096 * 8));
  const other = feed({ ...plan, seed: 43 }, [op(7, "read")]).each[0];
  assert.notDeepEqual(other, alone);
  const torn = feed(plan, [op(3, "write")]).each[0][0].action as { keepBytes: number };
  assert.ok(torn.keepBytes % 512 === 0 && torn.keepBytes < 4096);
});

Deno.test("decide never changes the state it was given", () => {
  const plan = planOf("fail@write#1", "eio@read#2");
  const before = initialState(plan);
  const frozen = structuredClone(before);
  decide(plan, before, op(0, "write"));
  assert.deepEqual(before, frozen);
  const unchanged = decide(planOf(), initialState(planOf()), op(0, "read"));
  assert.deepEqual(unchanged.decisions, []);
});

Deno.test("live faults hit every op of their disk, count down, and none clears persistent faults too", () => {
  const plan = planOf("fail@write#1");
  let state = setLiveFault(initialState(plan), "vdb", {
    effect: { kind: "error", errno: "enospc" },
    remaining: 2,
  });
  const run = feed(plan, [
    op(0, "read", { disk: "vdb" }),
    op(1, "read", { disk: "vdb" }),
    op(2, "read", { disk: "vdb" }),
  ], state);
  assert.deepEqual(run.each.map((d) => d.map((x) => x.rule)), [["live"], ["live"], []]);
  state = feed(plan, [op(3, "write")], run.state).state;
  assert.equal(state.active.length, 1);
  state = setLiveFault(state, "vda", null);
  assert.equal(state.active.length, 0);
  assert.deepEqual(feed(plan, [op(4, "read")], state).each, [[]]);
  // A live hang with an end releases itself.
  const hung = setLiveFault(initialState(plan), "vda", { effect: { kind: "hang" }, untilMs: 10 });
  assert.deepEqual(
    feed(plan, [op(1, "read", { time: 5 }), op(2, "read", { time: 12 })], hung).each.map(kinds),
    [["hang"], []],
  );
});
