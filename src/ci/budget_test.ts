import assert from "node:assert/strict";
import { type Candidate, parseBudget, rank, samplePoints } from "./budget.ts";
import { CiError } from "./errors.ts";

/** A sweep of ten points, each its own crash state of 10 s, two replays at once, 5 s to start. */
const SWEEP: Candidate[] = Array.from({ length: 10 }, (_, i) => ({
  check: "power-loss at flushes",
  at: 10 * i,
  units: [String(10 * i)],
  unitMs: 10_000,
  jobs: 2,
  startMs: 5_000,
}));

Deno.test("budget: --budget is a duration; anything else is a usage error naming it", () => {
  assert.equal(parseBudget("10m"), 600_000);
  assert.equal(parseBudget("90s"), 90_000);
  for (const text of ["soon", "0s", ""]) {
    assert.throws(
      () => parseBudget(text),
      (error) =>
        error instanceof CiError && error.kind === "usage" &&
        error.message.startsWith(`--budget ${JSON.stringify(text)}: expected a duration`),
    );
  }
});

Deno.test("budget: a seed ranks a point the same wherever it is asked; another seed another order", () => {
  assert.equal(rank(7, "a/b/1"), rank(7, "a/b/1"));
  const order = (seed: number) =>
    SWEEP.map((c) => c.at).sort((a, b) => rank(seed, `s/c/${a}`) - rank(seed, `s/c/${b}`));
  assert.deepEqual(order(7), order(7));
  assert.notDeepEqual(order(7), order(8));
});

Deno.test("budget: points are taken in the seed's order while their cost fits; the rest are left out", () => {
  // 5 s to start, then 5 s a point (10 s, two at once): 30 s hold five points.
  const sample = samplePoints(SWEEP, { budgetMs: 30_000, seed: 7, scenario: "s" });
  const kept = sample.kept.get("power-loss at flushes")!;
  const left = sample.leftOut.get("power-loss at flushes")!;
  assert.equal(kept.length, 5);
  assert.equal(sample.estimatedMs, 30_000);
  assert.deepEqual([...kept, ...left].sort((a, b) => a - b), SWEEP.map((c) => c.at));
  // The same seed draws the same points; a larger budget keeps them and more.
  assert.deepEqual(
    samplePoints(SWEEP, { budgetMs: 30_000, seed: 7, scenario: "s" }).kept,
    sample.kept,
  );
  const more = samplePoints(SWEEP, { budgetMs: 40_000, seed: 7, scenario: "s" });
  assert.ok(kept.every((at) => more.kept.get("power-loss at flushes")!.includes(at)));
  assert.equal(more.kept.get("power-loss at flushes")!.length, 7);
  // Nothing fits: every point is left out.
  const none = samplePoints(SWEEP, { budgetMs: 4_000, seed: 7, scenario: "s" });
  assert.equal(none.kept.size, 0);
  assert.equal(none.leftOut.get("power-loss at flushes")!.length, 10);
});

Deno.test("budget: points whose crash states are byte-identical share one check's cost", () => {
  const shared = SWEEP.map((c) => ({ ...c, units: ["same"] }));
  const sample = samplePoints(shared, { budgetMs: 10_000, seed: 3, scenario: "s" });
  assert.equal(sample.kept.get("power-loss at flushes")!.length, 10);
  assert.equal(sample.estimatedMs, 10_000);
});
