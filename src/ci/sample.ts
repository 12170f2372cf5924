/**
 * A scenario's declared faults under a budget: each check's candidate points with what
 * they cost (src/ci/budget.ts), the sample drawn from the budget's seed, and what a check
 * says of the points it left out.
 *
 * @module
 */

import type { ParentTrace } from "../replay/replay.ts";
import type { FaultExpectation } from "../scenario/schema.ts";
import { parsePoints } from "../scenario/points.ts";
import { sweepUnits } from "../sweep/plan.ts";
import { formatDuration } from "../util/units.ts";
import { type Candidate, type CostBasis, type Sample, samplePoints } from "./budget.ts";
import { checkName, recordedAt, sweeps } from "./checks.ts";

/** What a check kept of its points under a budget, and what it left out, with why. */
export interface CiBudget {
  /** The seed the sample was drawn from (`--budget-seed`). */
  seed: number;
  /** The scenario's share of the budget for its faults, in ms. */
  shareMs: number;
  /** The check's points in all. */
  points: number;
  /** The points it ran. */
  kept: number[];
  /** The points it left out, each with why. */
  leftOut: { at: number; why: string }[];
}

/**
 * Each declared fault's points as candidates of a sample: a sweep's points with their
 * crash states, or a single point; costed from the recording.
 *
 * @example
 * ```ts
 * candidatesOf(parent, scenario.faults, { basis, jobs: 2 });
 * ```
 */
export function candidatesOf(
  parent: ParentTrace,
  faults: readonly FaultExpectation[],
  options: { basis: CostBasis; jobs: number },
): Candidate[] {
  const { basis } = options;
  return faults.flatMap((fault): Candidate[] => {
    const points = fault.at === null ? fault.points! : `${recordedAt(parent, fault.at)}`;
    const units = sweepUnits(parent, {
      fault: fault.fault,
      points: parsePoints(points),
      with: fault.with,
    });
    const unitMs = units.fromTrace ? basis.checkMs : basis.runMs + basis.checkMs;
    const sweep = sweeps(fault);
    return units.points.map((point) => ({
      check: checkName(fault),
      at: point.at,
      units: point.units,
      unitMs,
      jobs: sweep ? options.jobs : 1,
      startMs: sweep ? basis.bootMs : 0,
    }));
  });
}

/**
 * Draws a scenario's sample: its candidates, the share of the budget its faults have.
 *
 * @example
 * ```ts
 * const sample = drawSample(candidates, { shareMs: 120_000, seed: 7, scenario: "fsync-log" });
 * ```
 */
export function drawSample(
  candidates: readonly Candidate[],
  options: { shareMs: number; seed: number; scenario: string },
): Sample {
  return samplePoints(candidates, {
    budgetMs: Math.max(0, options.shareMs),
    seed: options.seed,
    scenario: options.scenario,
  });
}

/**
 * What a check kept and left out of its points, or null when it kept them all.
 *
 * @example
 * ```ts
 * checkBudget(sample, fault, { seed: 7, shareMs: 120_000 })?.leftOut[0].why;
 * // "left out by the budget (seed 7): the scenario's faults had 2 min 0 s"
 * ```
 */
export function checkBudget(
  sample: Sample,
  fault: FaultExpectation,
  options: { seed: number; shareMs: number },
): CiBudget | null {
  const name = checkName(fault);
  const leftOut = sample.leftOut.get(name) ?? [];
  if (leftOut.length === 0) return null;
  const kept = sample.kept.get(name) ?? [];
  const why = `left out by the budget (seed ${options.seed}): the scenario's faults had ${
    formatDuration(Math.max(0, options.shareMs))
  }, and the points drawn before it filled them`;
  return {
    seed: options.seed,
    shareMs: Math.round(options.shareMs),
    points: kept.length + leftOut.length,
    kept,
    leftOut: leftOut.map((at) => ({ at, why })),
  };
}
