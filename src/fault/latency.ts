/**
 * Latency distributions of a limping disk: the log-normal through two percentiles
 * (`limp:p50=2ms,p99=150ms`) and the Pareto (`limp:pareto,scale=1ms,alpha=1.5`), each
 * drawn from a seeded stream (src/fault/random.ts) so that the same op of a replay gets
 * the same latency. Pure.
 *
 * @module
 */

/**
 * A latency distribution of a limping disk, in milliseconds, with every draw capped at
 * `maxMs`.
 *
 * - `lognormal`: the log-normal through two percentiles (`p50=2ms,p99=150ms`): `points`
 *   holds them as given, `[percentile, ms]`;
 * - `pareto`: `scaleMs / U^(1/alpha)` for U uniform in (0, 1]: a heavy tail above `scaleMs`.
 */
export type LatencyDistribution =
  | {
    kind: "lognormal";
    points: readonly [readonly [number, number], readonly [number, number]];
    maxMs: number;
  }
  | { kind: "pareto"; scaleMs: number; alpha: number; maxMs: number };

/** The cap of every draw unless `max=` says otherwise. */
export const DEFAULT_MAX_LATENCY_MS = 10_000;

/**
 * The standard normal quantile: the z with P(Z <= z) = p, for p in (0, 1) (Acklam's
 * rational approximation, relative error below 1.2e-9).
 *
 * @example
 * ```ts
 * normalQuantile(0.5); // 0
 * normalQuantile(0.99); // 2.3263...
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs p in (0, 1), not ${p}`);
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The log-normal's parameters (of the logarithm of the latency in ms) through two
 * percentiles, each `[percentile, ms]` with the percentile in (0, 100).
 *
 * @example
 * ```ts
 * const { mu, sigma } = lognormalThrough([[50, 2], [99, 150]]);
 * Math.exp(mu); // 2: the median
 * ```
 */
export function lognormalThrough(
  points: readonly [readonly [number, number], readonly [number, number]],
): { mu: number; sigma: number } {
  const [[q1, v1], [q2, v2]] = points;
  const z1 = normalQuantile(q1 / 100);
  const z2 = normalQuantile(q2 / 100);
  const sigma = (Math.log(v2) - Math.log(v1)) / (z2 - z1);
  return { mu: Math.log(v1) - z1 * sigma, sigma };
}

/** A uniform number in (0, 1) from a 32-bit draw, never 0 nor 1. */
function unit(draw: () => number): number {
  return (draw() + 0.5) / 2 ** 32;
}

/**
 * Draws one latency in milliseconds, rounded to the microsecond and capped at the
 * distribution's `maxMs`.
 *
 * @example
 * ```ts
 * drawLatency({ kind: "pareto", scaleMs: 1, alpha: 1.5, maxMs: 10_000 }, seededStream(42, 0, 17)); // >= 1
 * ```
 */
export function drawLatency(distribution: LatencyDistribution, draw: () => number): number {
  let ms: number;
  if (distribution.kind === "lognormal") {
    const { mu, sigma } = lognormalThrough(distribution.points);
    ms = Math.exp(mu + sigma * normalQuantile(unit(draw)));
  } else {
    ms = distribution.scaleMs / Math.pow(unit(draw), 1 / distribution.alpha);
  }
  return Math.round(Math.min(ms, distribution.maxMs) * 1000) / 1000;
}
