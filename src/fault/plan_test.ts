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

/** What each decision is, by its fault's name (`eio`, `lost-write`; a note is `NAME note`). */
const kinds = (decisions: Decision[]) =>
  decisions.map((d) => d.action.do === "note" ? `${d.fault} note` : d.fault);

Deno.test("an index trigger hits exactly that op", () => {
  const plan = planOf("eio@2");
  const { each, state } = feed(plan, [
    op(0, "write"),
    op(1, "read"),
    op(2, "flush"),
    op(3, "write"),
  ]);
  assert.deepEqual(each.map(kinds), [[], [], ["eio"], []]);
  assert.deepEqual(state.hits, [1]);
});

Deno.test("an occurrence trigger hits the k-th matching op, and a filter alone hits every match", () => {
  const ops = [op(0, "write"), op(1, "read"), op(2, "write"), op(3, "write"), op(4, "write")];
  assert.deepEqual(feed(planOf("eio@write#3"), ops).each.map(kinds), [[], [], [], ["eio"], []]);
  assert.deepEqual(feed(planOf("eio@read"), ops).each.map(kinds), [[], ["eio"], [], [], []]);
  assert.deepEqual(feed(planOf("eio"), ops).each.map(kinds), ops.map(() => ["eio"]));
});

Deno.test("ranges overlap, exact signatures match offset and length, disks and nodes filter", () => {
  const ops = [
    op(0, "write", { offset: 0, length: 4096 }),
    op(1, "write", { offset: 8192, length: 512 }),
    op(2, "write", { offset: 8192, length: 512, disk: "vdb" }),
    op(3, "write", { offset: 8192, length: 512, node: "n2" }),
  ];
  assert.deepEqual(feed(planOf("eio@write:4095-4097"), ops).each.map(kinds), [
    ["eio"],
    [],
    [],
    [],
  ]);
  assert.deepEqual(feed(planOf("eio@write:8192+512#2"), ops).each.map(kinds), [
    [],
    [],
    ["eio"],
    [],
  ]);
  assert.deepEqual(feed(planOf("eio@vdb/write"), ops).each.map(kinds), [[], [], ["eio"], []]);
  assert.deepEqual(feed(planOf("eio@n2/vda/write"), ops).each.map(kinds), [[], [], [], ["eio"]]);
});

Deno.test("a fault that cannot apply to the op an index names never fires", () => {
  const plan = planOf("lost-write@1");
  const { each, state } = feed(plan, [op(0, "write"), op(1, "read"), op(2, "write")]);
  assert.deepEqual(each.map(kinds), [[], [], []]);
  assert.deepEqual(state.hits, [0]);
  assert.deepEqual(state.progress.map((p) => p.done), [true]);
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
  assert.deepEqual(feed(plan, ops).each.map(kinds), [[], ["fail"], ["fail"], [], ["fail"]]);

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
  assert.deepEqual(each[1].map((d) => d.action), [{ do: "hold", untilMs: 11 }]);
  assert.deepEqual(each[2].map((d) => d.action), [{ do: "hold", untilMs: 11 }]);
  assert.deepEqual(each[3], []);
});

Deno.test("timing comes first, then one outcome", () => {
  const plan = planOf("delay:5ms@0", "eio@0", "lost-write@0");
  const { each } = feed(plan, [op(0, "write")]);
  assert.deepEqual(kinds(each[0]), ["delay", "eio"]);
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

Deno.test("lie-flush: from its trigger on, flushes and FUA writes are lied about; with fua only FUA", () => {
  const ops = [
    op(0, "write"),
    op(1, "flush"),
    op(2, "read"),
    op(3, "write", { fua: true }),
    op(4, "flush"),
    op(5, "write"),
  ];
  // Fired by a read (op 2), which takes nothing itself: in force from there.
  assert.deepEqual(feed(planOf("lie-flush@2"), ops).each.map(kinds), [
    [],
    [],
    [],
    ["lie-flush"],
    ["lie-flush"],
    [],
  ]);
  assert.deepEqual(feed(planOf("lie-flush:fua"), ops).each.map(kinds), [
    [],
    [],
    [],
    ["lie-flush"],
    [],
    [],
  ]);
  // A lie is the outcome only when nothing else is: an EIO at the flush wins.
  assert.deepEqual(kinds(feed(planOf("lie-flush", "eio@4"), ops).each[4]), ["eio"]);
});

Deno.test("a persistent fault without a trigger comes into force on every disk; with an index on one", () => {
  const ops = [
    op(0, "flush", { disk: "vda" }),
    op(1, "flush", { disk: "vdb" }),
    op(2, "flush", { disk: "vda" }),
    op(3, "flush", { disk: "vdb" }),
  ];
  assert.deepEqual(feed(planOf("lie-flush"), ops).each.map(kinds), ops.map(() => ["lie-flush"]));
  assert.deepEqual(
    feed(planOf("lie-flush@any"), ops).each.map(kinds),
    ops.map(() => ["lie-flush"]),
  );
  assert.deepEqual(feed(planOf("lie-flush@0"), ops).each.map(kinds), [
    ["lie-flush"],
    [],
    ["lie-flush"],
    [],
  ]);
  assert.deepEqual(feed(planOf("lie-flush@vdb/any"), ops).each.map(kinds), [
    [],
    ["lie-flush"],
    [],
    ["lie-flush"],
  ]);
  // A hang with a duration that ended does not come back.
  const hangs = feed(planOf("hang:1ms"), [op(0, "read", { time: 0 }), op(1, "read", { time: 5 })]);
  assert.deepEqual(hangs.each.map(kinds), [["hang"], []]);
});

Deno.test("limp draws each op's latency from its distribution, seeded by the plan, the rule and the op", () => {
  const plan = planOf("limp:p50=2ms,p99=150ms");
  const ops = Array.from({ length: 200 }, (_, i) => op(i, "read"));
  const latencies = (p: FaultPlan) =>
    feed(p, ops).each.map((d) => (d[0].action as { latencyMs: number }).latencyMs);
  const first = latencies(plan);
  assert.deepEqual(latencies(plan), first);
  assert.ok(new Set(first).size > 150, "the latencies vary");
  assert.notDeepEqual(latencies({ ...plan, seed: 43 }), first);
  // The draw depends on the op's index, not on what came before it.
  const alone = decide(plan, initialState(plan), ops[117]).decisions[0].action;
  assert.deepEqual(alone, { do: "pace", latencyMs: first[117] });
});

Deno.test("stall: every op arriving during an episode waits for its end", () => {
  const plan = planOf("stall:every=100ms,for=30ms@+50ms");
  const at = (index: number, time: number) => op(index, "read", { time });
  const { each } = feed(plan, [at(0, 10), at(1, 60), at(2, 79), at(3, 80), at(4, 160), at(5, 175)]);
  assert.deepEqual(each.map((d) => d.map((x) => x.action)), [
    [],
    [{ do: "hold", untilMs: 90 }], // the first episode begins at the trigger (op 1, 60 ms)
    [{ do: "hold", untilMs: 90 }],
    [{ do: "hold", untilMs: 90 }],
    [{ do: "hold", untilMs: 190 }],
    [{ do: "hold", untilMs: 190 }],
  ]);
});

Deno.test("bad sectors: reads fail until a write covers them; a failed write remaps nothing", () => {
  const plan = planOf("bad-sectors:4096+2048", "eio@3");
  const read = (index: number, offset: number, length: number) =>
    op(index, "read", { offset, length });
  const write = (index: number, offset: number, length: number) =>
    op(index, "write", { offset, length });
  const { each, state } = feed(plan, [
    read(0, 0, 4096), // beside the bad sectors
    read(1, 4096, 512), // sector 8
    write(2, 4096, 1024), // remaps sectors 8 and 9
    write(3, 5120, 1024), // sectors 10 and 11: fails with EIO, remaps nothing
    read(4, 4096, 1024), // 8, 9: good now
    read(5, 4096, 4096), // reaches 10, 11: still bad
    write(6, 5120, 100), // touches sector 10 only
  ]);
  assert.deepEqual(each.map((d) => d.map((x) => [x.fault, x.action.do, x.detail])), [
    [],
    [["bad-sectors", "answer-error", { sectors: [8, 9] }]],
    [["bad-sectors", "note", { sectors: [8, 10] }]], // remapped
    [["eio", "answer-error", undefined]],
    [],
    [["bad-sectors", "answer-error", { sectors: [10, 12] }]],
    [["bad-sectors", "note", { sectors: [10, 11] }]],
  ]);
  assert.deepEqual(state.active.map((fault) => fault.memory), [[[11, 12]]]);
});

Deno.test("live lie-flush, stall and bad sectors; none ends them", () => {
  const plan = planOf();
  let state = setLiveFault(initialState(plan), "vda", {
    effect: { kind: "bad-sectors", startSector: 0, endSector: 8, errno: "enospc" },
  });
  let step = decide(plan, state, op(0, "read", { offset: 0, length: 512 }));
  assert.deepEqual(kinds(step.decisions), ["bad-sectors"]);
  state = setLiveFault(step.state, "vda", null);
  assert.deepEqual(kinds(decide(plan, state, op(1, "read", { offset: 0 })).decisions), []);
  state = setLiveFault(state, "vda", { effect: { kind: "lie-flush", fuaOnly: false } });
  step = decide(plan, state, op(2, "flush"));
  assert.deepEqual(kinds(step.decisions), ["lie-flush"]);
  state = setLiveFault(step.state, "vda", {
    effect: { kind: "stall", everyMs: 100, forMs: 10 },
    since: 1000,
  });
  assert.deepEqual(decide(plan, state, op(3, "read", { time: 1105 })).decisions[0].action, {
    do: "hold",
    untilMs: 1110,
  });
  assert.deepEqual(kinds(decide(plan, state, op(4, "read", { time: 1111 })).decisions), []);
});
