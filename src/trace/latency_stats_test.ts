import assert from "node:assert/strict";
import { LatencyStats, percentile } from "./latency_stats.ts";

Deno.test("percentiles are nearest-rank over arrival-to-reply times, per disk and op type", () => {
  assert.equal(percentile(Float64Array.of(), 50), 0);
  assert.equal(percentile(Float64Array.of(7), 99), 7);
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 90), 90);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile(sorted, 100), 100);

  const stats = new LatencyStats();
  for (let i = 1; i <= 200; i++) {
    stats.add({ node: "n", disk: "vda", op: "read", start: 1000 + i, end: 1000 + i + i / 10 });
  }
  stats.add({ node: "n", disk: "vdb", op: "flush", start: 5, end: 4 });
  stats.add({ node: "n", disk: "vda", op: "write", start: 0, end: 2.5 });
  const summary = stats.summary();
  assert.deepEqual(Object.keys(summary), ["n/vda", "n/vdb"]);
  const read = summary["n/vda"].read!;
  assert.equal(read.count, 200);
  assert.ok(Math.abs(read.p50 - 10) < 1e-9);
  assert.ok(Math.abs(read.p90 - 18) < 1e-9);
  assert.ok(Math.abs(read.p99 - 19.8) < 1e-9);
  assert.ok(Math.abs(read.max - 20) < 1e-9);
  assert.deepEqual(summary["n/vda"].write, { count: 1, p50: 2.5, p90: 2.5, p99: 2.5, max: 2.5 });
  // A clock that went backwards counts as 0, never negative.
  assert.equal(summary["n/vdb"].flush!.max, 0);
});

Deno.test("latency counts the run phase's ops only: the check's would mix another workload in", () => {
  const stats = new LatencyStats();
  stats.add({ node: "n", disk: "vda", op: "read", start: 0, end: 2, phase: "run" });
  stats.add({ node: "n", disk: "vda", op: "read", start: 5, end: 500, phase: "check" });
  stats.add({ node: "n", disk: "vda", op: "read", start: 9, end: 13 }); // serve: no phases
  const read = stats.summary()["n/vda"].read!;
  assert.equal(read.count, 2);
  assert.equal(read.max, 4);
});
