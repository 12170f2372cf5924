import assert from "node:assert/strict";
import { FaultSpecError } from "./errors.ts";
import { FAULT_KINDS } from "./kinds/mod.ts";
import { decide, endStanding, initialState, type OpView } from "./plan.ts";
import { parseFaultSpec } from "./spec.ts";
import { checkStanding, endsWithRun, isStanding } from "./standing.ts";

const read = (index: number): OpView => ({
  index,
  disk: "vda",
  type: "read",
  offset: 0,
  length: 4096,
  time: index,
});

Deno.test("a fault of one op without a trigger is refused, naming what to add; one that stands is not", () => {
  for (const spec of ["eio", "delay:200ms", "lost-write", "corrupt", "crash:n2", "heal"]) {
    assert.throws(
      () => checkStanding(parseFaultSpec(spec), "--fault-at N or @TRIGGER"),
      (e: unknown) =>
        e instanceof FaultSpecError &&
        /has no trigger: add --fault-at N or @TRIGGER/.test(e.message),
      spec,
    );
  }
  for (const spec of ["limp:10ms", "lie-flush", "stall:every=1s,for=100ms", "drop:0.3", "eio@17"]) {
    checkStanding(parseFaultSpec(spec), "@TRIGGER");
  }
  assert.throws(
    () => checkStanding(parseFaultSpec("eio"), "@TRIGGER"),
    /as eio@17 or eio@\+2s, or eio@any for every op/,
  );
});

Deno.test("every persistent kind stands without a trigger", () => {
  for (const kind of FAULT_KINDS) {
    if (kind.persistent) assert.ok(kind.standing, `${kind.kind} is persistent, so it stands`);
  }
});

Deno.test("a fault written without a trigger holds for the run phase; one with @any goes on in the check", () => {
  const plan = { seed: 1, rules: ["limp:10ms", "fail@any"].map(parseFaultSpec) };
  assert.deepEqual(plan.rules.map(isStanding), [true, false]);
  let state = initialState(plan);
  const run = decide(plan, state, read(0));
  assert.deepEqual(run.decisions.map((d) => d.fault), ["limp", "fail"]);
  state = endStanding(plan, run.state); // the check begins
  const check = decide(plan, state, read(1));
  assert.deepEqual(check.decisions.map((d) => d.fault), ["fail"]);
  assert.equal(check.state.active.length, 1, "only fail@any stays in force");
  // A standing rule that had not fired yet does not fire in the check either.
  const late = { seed: 1, rules: [parseFaultSpec("lie-flush")] };
  const ended = endStanding(late, initialState(late));
  assert.deepEqual(
    decide(late, ended, { ...read(2), type: "flush", length: 0 }).decisions,
    [],
  );
});

Deno.test("a fault with a trigger of the run phase ends as the check begins; with another trigger it goes on", () => {
  const specs = [
    "limp:10ms",
    "hang@run:vda/read#1",
    "limp:5ms@+2s",
    "fail@vda/read#1",
    "eio@check:read#1",
  ];
  assert.deepEqual(specs.map((spec) => endsWithRun(parseFaultSpec(spec))), [
    true,
    true,
    false,
    false,
    false,
  ]);
  const plan = { seed: 1, rules: ["hang@run:vda/read#1", "fail@vda/read#1"].map(parseFaultSpec) };
  const run = decide(plan, initialState(plan), { ...read(0), phase: "run" });
  assert.deepEqual(run.decisions.map((d) => d.fault), ["hang", "fail"]);
  const state = endStanding(plan, run.state); // the check begins
  const check = decide(plan, state, { ...read(1), phase: "check" });
  assert.deepEqual(check.decisions.map((d) => d.fault), ["fail"], "the disk answers the check");
  assert.deepEqual(state.active.map((fault) => fault.rule), ["fail@vda/read#1"]);
});
