import assert from "node:assert/strict";
import { byIndex } from "../trace/load.ts";
import type { OpRecord } from "../trace/schema.ts";
import { ScenarioError } from "./errors.ts";
import { parsePoints, type PointSelection, selectPoints } from "./points.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { randomTrace } from "../../tests/support/random_trace.ts";

Deno.test("parsePoints reads every form, with spaces around", () => {
  assert.deepEqual(parsePoints("all"), { kind: "all" });
  assert.deepEqual(parsePoints(" reads "), { kind: "reads" });
  assert.deepEqual(parsePoints("writes"), { kind: "writes" });
  assert.deepEqual(parsePoints("flushes\n"), { kind: "flushes" });
  assert.deepEqual(parsePoints("10..20"), { kind: "range", from: 10, to: 20 });
  assert.deepEqual(parsePoints("7..7"), { kind: "range", from: 7, to: 7 });
  assert.deepEqual(parsePoints("0..0"), { kind: "range", from: 0, to: 0 });
  assert.deepEqual(parsePoints("every:1"), { kind: "every", step: 1 });
  assert.deepEqual(parsePoints("every:16"), { kind: "every", step: 16 });
});

Deno.test("parsePoints refuses anything else, saying what it expected", () => {
  const expected = /expected all, reads, writes, flushes .*, N\.\.M or every:K/;
  for (
    const text of [
      "",
      "sometimes",
      "All",
      "write",
      "10..",
      "..5",
      "-1..3",
      "1.5..3",
      "every:",
      "every:0",
      "every:-2",
      "every:x",
      "every 3",
      "3",
    ]
  ) {
    assert.throws(
      () => parsePoints(text),
      (e: unknown) =>
        e instanceof ScenarioError && e.kind === "usage" &&
        e.message.startsWith(`--points ${text}:`) &&
        expected.test(e.message),
      JSON.stringify(text),
    );
  }
  assert.throws(() => parsePoints("30..10"), /--points 30\.\.10: the range is empty \(10 < 30\)/);
});

/** What a selection picks, by its definition. */
function naive(
  ordered: readonly OpRecord[],
  selection: PointSelection,
  runOnly: boolean,
): number[] {
  return ordered.filter((op) => {
    const inRun = op.phase === undefined || op.phase === "run";
    if (selection.kind === "range") {
      return (inRun || !runOnly) && selection.from <= op.index && op.index <= selection.to;
    }
    if (!inRun) return false;
    switch (selection.kind) {
      case "all":
        return true;
      case "reads":
        return op.op === "read";
      case "writes":
        return ["write", "trim", "write-zeroes"].includes(op.op);
      case "flushes":
        return op.op === "flush";
      case "every":
        return op.index % selection.step === 0;
    }
  }).map((op) => op.index);
}

Deno.test("selectPoints picks what each selection defines, run phase only unless an explicit range may reach the check", () => {
  const selections: PointSelection[] = [
    { kind: "all" },
    { kind: "reads" },
    { kind: "writes" },
    { kind: "flushes" },
    { kind: "range", from: 5, to: 12 },
    { kind: "range", from: 35, to: 1000 },
    { kind: "range", from: 3, to: 3 },
    { kind: "every", step: 1 },
    { kind: "every", step: 4 },
    { kind: "every", step: 1000 },
  ];
  for (let seed = 1; seed <= 10; seed++) {
    const ordered = byIndex(randomTrace(seed, { ops: 36, checkOps: 10 }));
    for (const selection of selections) {
      for (const runOnly of [true, false]) {
        assert.deepEqual(
          selectPoints(ordered, selection, runOnly),
          naive(ordered, selection, runOnly),
          `seed ${seed} ${JSON.stringify(selection)} ${runOnly}`,
        );
      }
    }
  }
});

Deno.test("selectPoints by hand: trims and write-zeroes are writes, every:K goes by op index, a trace without phases is all run", () => {
  const ordered = [
    opRecord({ index: 0, op: "read" }),
    opRecord({ index: 1, op: "write" }),
    opRecord({ index: 2, op: "flush" }),
    opRecord({ index: 3, op: "trim" }),
    opRecord({ index: 4, op: "write-zeroes" }),
    opRecord({ index: 5, op: "cache" }),
    opRecord({ index: 6, op: "write", phase: "check" }),
  ];
  assert.deepEqual(selectPoints(ordered, { kind: "writes" }, true), [1, 3, 4]);
  assert.deepEqual(selectPoints(ordered, { kind: "reads" }, true), [0]);
  assert.deepEqual(selectPoints(ordered, { kind: "all" }, false), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(selectPoints(ordered, { kind: "range", from: 4, to: 9 }, true), [4, 5]);
  assert.deepEqual(selectPoints(ordered, { kind: "range", from: 4, to: 9 }, false), [4, 5, 6]);
  // every:K counts indices, not positions: with ops 0..5 missing 2, every:2 is 0 and 4.
  const gap = ordered.filter((op) => op.index !== 2 && op.index !== 6);
  assert.deepEqual(selectPoints(gap, { kind: "every", step: 2 }, true), [0, 4]);
  assert.deepEqual(selectPoints([], { kind: "all" }, true), []);
});
