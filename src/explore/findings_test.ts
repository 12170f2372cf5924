import assert from "node:assert/strict";
import { parseFaultSpec } from "../fault/spec.ts";
import type { DrawnFault } from "./draw.ts";
import { coverage, type Failure, groupFailures, reasonClass, shapeOf } from "./findings.ts";

function fault(spec: string, at = 0): DrawnFault {
  return { ...parseFaultSpec(spec), at };
}

const eioN1 = fault("eio@run:n1/data/write:0+4096#2");
const eioN1Later = fault("eio@run:n1/data/write:4096+4096#7");
const eioN2 = fault("eio@run:n2/data/write:0+4096#2");
const cutN1 = fault("partition:n1|n2,n3@net:n2->n3/tcp:2379#2");
const cutN1Other = fault("partition:n2,n3|n1@run:n2/data/write:0+4096#1");
const crashN3 = fault("crash:n3@run:n3/data/write:0+4096#1");

function failure(
  schedule: number,
  minimal: DrawnFault[],
  reason: string,
  roles?: Map<string, string>[],
): Failure {
  return {
    schedule,
    original: minimal,
    minimal,
    rate: { failed: 3, runs: 3 },
    reason,
    ...(roles ? { roles } : {}),
  };
}

Deno.test("a shape names kinds and nodes, whatever the triggers and the order of the sides", () => {
  assert.equal(shapeOf([eioN1, cutN1]), "error@n1 + partition@n1");
  assert.equal(shapeOf([cutN1Other, eioN1Later]), "error@n1 + partition@n1");
  assert.equal(shapeOf([eioN2, crashN3]), "crash@n3 + error@n2");
  assert.equal(shapeOf([eioN2], [new Map([["n2", "leader"]])]), "error@leader");
  // Each fault by the roles of its own moment; a node without a role keeps its name.
  assert.equal(
    shapeOf([eioN1, crashN3], [new Map([["n1", "leader"]]), new Map([["n1", "follower"]])]),
    "crash@n3 + error@leader",
  );
});

Deno.test("failures of one shape and reason class are one finding with a count, first found first", () => {
  const findings = groupFailures([
    failure(3, [eioN2, crashN3], "1 acknowledged key lost"),
    failure(4, [eioN1, cutN1], "3 acknowledged keys lost"),
    failure(9, [cutN1Other, eioN1Later], "2 acknowledged keys lost"),
    failure(12, [eioN1, cutN1], "the check exited 1"),
  ]);
  assert.deepEqual(findings.map((f) => [f.shape, f.reason, f.count, f.schedules]), [
    ["crash@n3 + error@n2", "N acknowledged key lost", 1, [3]],
    ["error@n1 + partition@n1", "N acknowledged keys lost", 2, [4, 9]],
    ["error@n1 + partition@n1", "the check exited N", 1, [12]],
  ]);
  assert.equal(findings[1].first.schedule, 4);
  assert.equal(reasonClass("found 38 of 40.5"), "found N of N");
});

Deno.test("by roles, failures on different nodes of the same role group", () => {
  const findings = groupFailures([
    failure(1, [eioN1], "lost", [new Map([["n1", "leader"]])]),
    failure(2, [eioN2], "lost", [new Map([["n2", "leader"]])]),
    failure(3, [eioN1Later], "lost", [new Map([["n1", "follower"]])]),
    failure(4, [eioN2], "lost"),
  ]);
  assert.deepEqual(findings.map((f) => [f.shape, f.count, f.schedules]), [
    ["error@leader", 2, [1, 2]],
    ["error@follower", 1, [3]],
    ["error@n2", 1, [4]],
  ]);
});

Deno.test("coverage counts schedules, kinds drawn and fired, nodes, crash states and combinations", () => {
  const runs = [
    { faults: [eioN1, cutN1], fired: [eioN1.spec, cutN1.spec] },
    { faults: [eioN2, crashN3], fired: [eioN2.spec] },
    { faults: [crashN3], fired: [], crashState: "a" },
    { faults: [eioN1], fired: [eioN1.spec], crashState: "a" },
    { faults: [eioN1Later], fired: [eioN1Later.spec], crashState: "b" },
  ];
  const covered = coverage(runs, ["error", "partition", "crash", "drop"], ["n1", "n2", "n3"]);
  assert.equal(covered.schedules, 5);
  assert.deepEqual(covered.kinds, [
    { kind: "error", drawn: 4, fired: 4 },
    { kind: "partition", drawn: 1, fired: 1 },
    { kind: "crash", drawn: 2, fired: 0 },
    { kind: "drop", drawn: 0, fired: 0 },
  ]);
  assert.deepEqual(covered.neverFired, ["crash"]);
  assert.deepEqual(covered.neverDrawn, ["drop"]);
  assert.deepEqual(covered.nodes, [
    { node: "n1", drawn: 4, fired: 4 },
    { node: "n2", drawn: 1, fired: 1 },
    { node: "n3", drawn: 2, fired: 0 },
  ]);
  assert.equal(covered.crashStates, 2);
  assert.equal(covered.combinations, 2);
});
