/**
 * `limp`: from the trigger on, every op of the disk is slowed: answered its latency after
 * it arrived (fixed, or drawn for each op from a seeded distribution), and ops share a
 * bandwidth one after another.
 *
 * @module
 */

import { parseBandwidth, parseDuration } from "../../util/units.ts";
import { FaultSpecError } from "../errors.ts";
import { DEFAULT_MAX_LATENCY_MS, drawLatency, type LatencyDistribution } from "../latency.ts";
import { isBandwidth, isDuration, type Params } from "../params.ts";
import { type BlockHit, defineKind } from "./kind.ts";
import { halvingsDown, logBetween } from "../draw_params.ts";

/**
 * Every op is slowed: added latency and/or a bandwidth cap. With a `distribution`, each
 * op's latency is drawn from it (seeded by the plan's seed, the rule and the op's index)
 * instead of `latencyMs`.
 */
export interface LimpEffect {
  kind: "limp";
  latencyMs: number;
  bytesPerSecond?: number;
  distribution?: LatencyDistribution;
}

/** The kind. */
export const limp = defineKind<LimpEffect>({
  kind: "limp",
  names: ["limp"],
  family: "block",
  summary:
    "from the trigger on, every op of the disk is slowed: it is answered its latency after it arrived (fixed, or drawn for each op), and ops share the bandwidth one after another",
  params:
    "`[latency=]DURATION`, `[bandwidth=]SIZE/s` (one or both); or a distribution instead of the latency: two percentiles `pNN=DURATION` (a log-normal through them), or `pareto,scale=DURATION,alpha=A`; `max=DURATION` caps the draws (default 10s)",
  examples: [
    "limp:10ms,1M/s",
    "limp:p50=2ms,p99=150ms",
    "limp:pareto,scale=1ms,alpha=1.5@+10s",
  ],
  persistent: true,
  standing: true,
  parse(p) {
    const distribution = parseDistribution(p);
    const latency = p.take("latency", isDuration);
    const bandwidth = p.take("bandwidth", isBandwidth);
    if (distribution && latency !== undefined) {
      throw new FaultSpecError(
        "limp takes a fixed latency or a distribution (p50=...,p99=... or pareto), not both",
      );
    }
    if (latency === undefined && bandwidth === undefined && !distribution) {
      throw new FaultSpecError(
        "limp needs a latency, a distribution, a bandwidth or a latency and a bandwidth, as in limp:10ms,1M/s or limp:p50=2ms,p99=150ms",
      );
    }
    const effect: LimpEffect = { kind: "limp", latencyMs: latency ? parseDuration(latency) : 0 };
    if (bandwidth !== undefined) effect.bytesPerSecond = parseBandwidth(bandwidth);
    if (distribution) effect.distribution = distribution;
    return effect;
  },
  format(e) {
    const params = e.distribution
      ? distributionParams(e.distribution)
      : e.latencyMs > 0 || !e.bytesPerSecond
      ? [`${e.latencyMs}ms`]
      : [];
    if (e.bytesPerSecond) params.push(`${e.bytesPerSecond}/s`);
    return params;
  },
  describe(e) {
    const latency = e.distribution
      ? `latencies drawn from ${distributionParams(e.distribution).join(",")}`
      : e.latencyMs > 0
      ? `${e.latencyMs} ms of latency`
      : "";
    const rate = e.bytesPerSecond ? `${e.bytesPerSecond} bytes/s shared` : "";
    return `every op of the disk limps: ${[latency, rate].filter((s) => s).join(", ")}`;
  },
  block: {
    act(e, _op, context): BlockHit {
      const latencyMs = e.distribution ? drawLatency(e.distribution, context.draw) : e.latencyMs;
      if (e.bytesPerSecond === undefined) {
        return { action: { do: "pace", latencyMs }, detail: { latencyMs } };
      }
      const bytesPerSecond = e.bytesPerSecond;
      return {
        action: { do: "pace", latencyMs, bytesPerSecond },
        detail: { latencyMs, bytesPerSecond },
      };
    },
  },
  live: {
    params: ["latency-ms", "bandwidth"],
    parse(args) {
      const latency = args.number("latency-ms", 0);
      const bandwidth = args.number("bandwidth", 1);
      if (latency === undefined && bandwidth === undefined) {
        throw new FaultSpecError("limp needs 'latency-ms', 'bandwidth' (bytes per second) or both");
      }
      return bandwidth === undefined
        ? { kind: "limp", latencyMs: latency ?? 0 }
        : { kind: "limp", latencyMs: latency ?? 0, bytesPerSecond: bandwidth };
    },
    args(e) {
      if (e.distribution) {
        throw new FaultSpecError(
          "a limp with a latency distribution cannot be set live (only latency-ms and bandwidth); give it to serve --fault",
        );
      }
      const args: Record<string, unknown> = {};
      if (e.latencyMs > 0) args["latency-ms"] = e.latencyMs;
      if (e.bytesPerSecond !== undefined) args.bandwidth = e.bytesPerSecond;
      return args;
    },
  },
  explore: {
    ranges: "a fixed latency of 1 ms to 200 ms (log-uniform); weakened by halving, down to 1 ms",
    draw: (draw) => ({ kind: "limp", latencyMs: logBetween(draw, 1, 200) }),
    weaken: (e) =>
      e.distribution || e.bytesPerSecond
        ? []
        : halvingsDown(e.latencyMs, 1).map((latencyMs) => ({ kind: "limp", latencyMs })),
  },
});

/**
 * A limp's latency distribution, taken out of its parameters: two percentiles
 * (`p50=2ms,p99=150ms`) for a log-normal, or `pareto,scale=1ms,alpha=1.5`; `max=` caps
 * every draw. Undefined when the params name none.
 */
function parseDistribution(p: Params): LatencyDistribution | undefined {
  const percentiles = [...p.named.keys()].filter((key) => /^p\d+(\.\d+)?$/.test(key));
  const isPareto = (v: string) => v.toLowerCase() === "pareto";
  const isLognormal = (v: string) => v.toLowerCase() === "lognormal";
  if (
    percentiles.length === 0 && !p.positional.some(isPareto) && !p.positional.some(isLognormal)
  ) {
    if (p.named.has("max")) throw new FaultSpecError("max= caps a distribution's draws: give one");
    return undefined;
  }
  const maxText = p.takeNamed("max");
  const maxMs = maxText === undefined ? DEFAULT_MAX_LATENCY_MS : parseDuration(maxText);
  if (p.takePositional(isPareto) !== undefined) {
    const scale = p.takeNamed("scale");
    const alpha = p.takeNamed("alpha");
    if (scale === undefined || alpha === undefined || percentiles.length > 0) {
      throw new FaultSpecError(
        "a pareto limp takes scale= and alpha=, as in limp:pareto,scale=1ms,alpha=1.5",
      );
    }
    const alphaValue = Number(alpha);
    if (!Number.isFinite(alphaValue) || alphaValue <= 0) {
      throw new FaultSpecError(`alpha must be a number above 0, not "${alpha}"`);
    }
    return { kind: "pareto", scaleMs: parseDuration(scale), alpha: alphaValue, maxMs };
  }
  p.takePositional(isLognormal);
  if (percentiles.length !== 2) {
    throw new FaultSpecError(
      `a log-normal limp takes two percentiles, as in limp:p50=2ms,p99=150ms (found ${percentiles.length})`,
    );
  }
  const points = percentiles.map((key) => {
    const q = Number(key.slice(1));
    if (!(q > 0 && q < 100)) throw new FaultSpecError(`${key} is not a percentile in (0, 100)`);
    const ms = parseDuration(p.takeNamed(key)!);
    if (!(ms > 0)) throw new FaultSpecError(`${key} must be a latency above 0`);
    return [q, ms] as const;
  }).sort((a, b) => a[0] - b[0]);
  if (points[0][0] === points[1][0] || points[1][1] <= points[0][1]) {
    throw new FaultSpecError(
      `the higher percentile needs the higher latency (p${points[0][0]}=${points[0][1]}ms, p${
        points[1][0]
      }=${points[1][1]}ms)`,
    );
  }
  return { kind: "lognormal", points: [points[0], points[1]], maxMs };
}

function distributionParams(distribution: LatencyDistribution): string[] {
  const max = distribution.maxMs === DEFAULT_MAX_LATENCY_MS ? [] : [`max=${distribution.maxMs}ms`];
  if (distribution.kind === "pareto") {
    return ["pareto", `scale=${distribution.scaleMs}ms`, `alpha=${distribution.alpha}`, ...max];
  }
  return [...distribution.points.map(([q, ms]) => `p${q}=${ms}ms`), ...max];
}
