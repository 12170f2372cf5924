import assert from "node:assert/strict";
import type { FaultPlan } from "../fault/types.ts";
import type { ResumeFrom } from "../run/run.ts";
import { normalizeScenario } from "../scenario/load.ts";
import type { OpRecord } from "../trace/schema.ts";
import type { GuestState } from "../vm/snapshot.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { fakeParentTrace } from "../../tests/support/traces.ts";
import { type ParentTrace, replayPlan, resumablePlan } from "./replay.ts";

const scenario = await normalizeScenario({
  name: "pair",
  nodes: {
    n1: { disks: { data: { size: "8M", mount: "/data" } }, workload: "true", restart: "true" },
    n2: { disks: { data: { size: "8M", mount: "/data" } }, workload: "true", check: "true" },
  },
}, { source: "s.json", baseDir: "/" });

// Each node mounts (a read, then a write at 1024 and its flush), then its workload writes at
// 4096 and flushes; the mounts interleave, and frames (not here) take indices 6 and 7.
const ops: OpRecord[] = [
  ["n1", "read", 0],
  ["n2", "read", 0],
  ["n1", "write", 1024],
  ["n2", "write", 1024],
  ["n1", "flush", 0],
  ["n2", "flush", 0],
  ["n1", "write", 4096],
  ["n2", "write", 4096],
  ["n1", "flush", 0],
  ["n2", "flush", 0],
].map(([node, op, offset], i) =>
  opRecord({
    index: i < 6 ? i : i + 2,
    node: node as string,
    op: op as OpRecord["op"],
    offset: offset as number,
    length: op === "flush" ? 0 : 1024,
    phase: "run",
  })
);

const parent: ParentTrace = {
  ...fakeParentTrace({ records: ops, name: "pair" }),
  scenario,
};

/** The run saved once both nodes held: three ops of each, arrivals 0 to 7 before. */
function saved(volatileAtHold = 0): ResumeFrom {
  const state = { hold: "phase", phase: "run", id: "0".repeat(64) } as GuestState;
  return {
    states: { n1: state, n2: state },
    records: ops.slice(0, 6),
    opsBefore: { n1: 3, n2: 3 },
    lines: [],
    clockStart: 8,
    volatileAtHold,
  };
}

function planAt(fault: string, faultAt: string): FaultPlan {
  return replayPlan(parent, { faults: [fault], faultAt });
}

Deno.test("resumed cluster: a fault at a recorded op after the holds counts its occurrence from the saved moment", () => {
  // n1's second flush (index 10) is the second of its signature; one came before the holds.
  for (const fault of ["eio", "partition:n1|n2", "crash:n2"]) {
    const plan = resumablePlan(parent, planAt(fault, "10"), saved(), {});
    assert.equal(typeof plan, "object", `${fault}: ${plan}`);
    const trigger = (plan as FaultPlan).rules[0].trigger;
    assert.equal(trigger.kind, "match");
    assert.equal((trigger as { occurrence: number }).occurrence, 1, fault);
  }
});

Deno.test("resumed cluster: a fault before a node's hold, at a time, or at a frame before the saved moment boots, saying why", () => {
  assert.match(
    resumablePlan(parent, planAt("crash:n2", "5"), saved(), {}) as string,
    /fires before the workload starts/,
  );
  assert.match(
    resumablePlan(parent, planAt("partition:n1|n2", "7"), saved(), {}) as string,
    /fires before the workload starts \(the saved moment is arrival 8\)/,
  );
  const atFrame = resumablePlan(parent, planAt("partition:n1|n2", "12"), saved(), {});
  assert.deepEqual((atFrame as FaultPlan).rules[0].trigger, { kind: "index", index: 12 });
  assert.match(
    resumablePlan(parent, replayPlan(parent, { faults: ["crash:n2@+2s"] }), saved(), {}) as string,
    /does not fire at one recorded op/,
  );
});

Deno.test("resumed cluster: a crash after volatile writes before the holds, a clock jump, a clock skew boot", () => {
  assert.match(
    resumablePlan(parent, planAt("crash:n2", "11"), saved(2), {}) as string,
    /cuts a node's disks, and 2 writes before the saved moment were volatile/,
  );
  // A partition cuts no disk: the volatile writes do not matter to it.
  assert.equal(
    typeof resumablePlan(parent, planAt("partition:n1|n2", "11"), saved(2), {}),
    "object",
  );
  assert.match(
    resumablePlan(parent, planAt("clock-jump:n2,-30s", "11"), saved(), {}) as string,
    /control channel/,
  );
  assert.match(
    resumablePlan(
      parent,
      replayPlan(parent, { faults: ["eio"], faultAt: "11", with: ["clock-skew:n2,+5s"] }),
      saved(),
      {},
    ) as string,
    /acts from the boot/,
  );
});

Deno.test("resumed cluster: a read the saved node did before its hold, the recording's after its start, is of the saved prefix", () => {
  // n1 mounts (0 to 2), its workload reads 2048 and 3072; the saved n1 read 3072 by itself
  // before its hold (a kernel's background read), so its prefix is ops 0 to 2 and op 4.
  const records = [
    ["read", 0],
    ["write", 1024],
    ["flush", 0],
    ["read", 2048],
    ["read", 3072],
    ["write", 4096],
  ].map(([op, offset], index) =>
    opRecord({
      index,
      node: "n1",
      op: op as OpRecord["op"],
      offset: offset as number,
      length: op === "flush" ? 0 : 1024,
      phase: "run",
    })
  );
  const early: ParentTrace = { ...fakeParentTrace({ records, name: "pair" }), scenario };
  const state = { hold: "phase", phase: "run", id: "0".repeat(64) } as GuestState;
  const resume: ResumeFrom = {
    states: { n1: state, n2: state },
    records: [records[0], records[1], records[2], { ...records[4], index: 3 }],
    opsBefore: { n1: 4, n2: 0 },
    lines: [],
    clockStart: 4,
    volatileAtHold: 0,
  };
  const plan = (at: string) => replayPlan(early, { faults: ["eio"], faultAt: at });
  assert.match(resumablePlan(early, plan("4"), resume, {}) as string, /fires before the workload/);
  for (const at of ["3", "5"]) {
    const resumed = resumablePlan(early, plan(at), resume, {});
    assert.equal(typeof resumed, "object", `${at}: ${resumed}`);
    const trigger = (resumed as FaultPlan).rules[0].trigger as { occurrence: number };
    assert.equal(trigger.occurrence, 1, at);
  }
});
