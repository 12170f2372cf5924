import assert from "node:assert/strict";
import { drawLatency, lognormalThrough, normalQuantile } from "./latency.ts";
import { seededStream } from "./random.ts";
import type { LatencyDistribution } from "./latency.ts";

/** The nearest-rank percentile of unsorted values. */
function percentileOf(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((q / 100) * sorted.length) - 1];
}

function draws(distribution: LatencyDistribution, n: number, seed = 42): number[] {
  return Array.from({ length: n }, (_, i) => drawLatency(distribution, seededStream(seed, 0, i)));
}

Deno.test("normalQuantile matches the standard normal's table", () => {
  assert.equal(normalQuantile(0.5), 0);
  for (
    const [p, z] of [
      [0.9, 1.2815515655],
      [0.99, 2.3263478740],
      [0.999, 3.0902323062],
      [
        0.01,
        -2.3263478740,
      ],
      [0.001, -3.0902323062],
      [0.75, 0.6744897502],
    ]
  ) {
    assert.ok(Math.abs(normalQuantile(p) - z) < 1e-8, `${p}: ${normalQuantile(p)} vs ${z}`);
  }
  assert.throws(() => normalQuantile(0), RangeError);
  assert.throws(() => normalQuantile(1), RangeError);
});

Deno.test("the log-normal goes through both percentiles it was given", () => {
  const { mu, sigma } = lognormalThrough([[50, 2], [99, 150]]);
  assert.ok(Math.abs(Math.exp(mu) - 2) < 1e-9);
  assert.ok(Math.abs(Math.exp(mu + sigma * normalQuantile(0.99)) - 150) < 1e-6);
  const other = lognormalThrough([[90, 10], [99.9, 1000]]);
  assert.ok(Math.abs(Math.exp(other.mu + other.sigma * normalQuantile(0.9)) - 10) < 1e-6);
});

Deno.test("draws of p50=2ms,p99=150ms have those percentiles, and a seed draws the same again", () => {
  const distribution: LatencyDistribution = {
    kind: "lognormal",
    points: [[50, 2], [99, 150]],
    maxMs: 10_000,
  };
  const values = draws(distribution, 50_000);
  const p50 = percentileOf(values, 50);
  const p99 = percentileOf(values, 99);
  assert.ok(Math.abs(p50 / 2 - 1) < 0.03, `p50 ${p50}`);
  assert.ok(Math.abs(p99 / 150 - 1) < 0.08, `p99 ${p99}`);
  assert.deepEqual(draws(distribution, 100), values.slice(0, 100));
  assert.notDeepEqual(draws(distribution, 100, 43), values.slice(0, 100));
  // Rounded to the microsecond.
  for (const v of values.slice(0, 100)) assert.equal(Math.round(v * 1000) / 1000, v);
});

Deno.test("pareto draws start at the scale, follow the tail's law and stop at the cap", () => {
  const distribution: LatencyDistribution = { kind: "pareto", scaleMs: 1, alpha: 1.5, maxMs: 50 };
  const values = draws(distribution, 50_000);
  assert.ok(values.every((v) => v >= 1 && v <= 50));
  // P(X > x) = (scale / x)^alpha: the median is scale * 2^(1/alpha).
  const median = percentileOf(values, 50);
  assert.ok(Math.abs(median / 2 ** (1 / 1.5) - 1) < 0.03, `median ${median}`);
  assert.ok(values.includes(50), "the heavy tail reaches the cap");
});
