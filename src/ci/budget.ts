/**
 * A time budget for `ci` (`--budget 10m`, a scenario's `budget`): the declared faults'
 * points sampled to fit it. Each point is ranked by a hash of the budget's seed and what
 * names it (the scenario, the check, the op), so one seed always draws the same order;
 * points are taken in that order while their estimated cost fits what is left of the
 * scenario's share, and the others are reported as left out, with why. Pure.
 *
 * A point's cost is estimated from the scenario's recording: a crash state built from the
 * trace costs a check (the recording's check phase), an online fault a run and a check;
 * points whose crash states are byte-identical share one check; a sweep's replays run
 * `jobs` at once, after it saves its guests (about one boot, the recording's time to its
 * first op).
 *
 * @module
 */

import { CiError } from "./errors.ts";
import { parseDuration } from "../util/units.ts";

/**
 * Reads `--budget`: a duration such as `10m` or `90s`.
 *
 * @throws {CiError} (usage) naming the value.
 * @example
 * ```ts
 * parseBudget("10m"); // 600000
 * ```
 */
export function parseBudget(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new CiError(`--budget ${JSON.stringify(text)}: expected a duration such as 10m or 90s`);
  }
  return ms;
}

/**
 * A seed for a budget's sample, when none was given: printed, so that a rerun with
 * `--budget-seed` draws the same order.
 */
export function drawSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/**
 * A point's place in the seed's order: FNV-1a of the seed and the point's name, so the same
 * seed ranks the same point the same wherever it is asked.
 *
 * @example
 * ```ts
 * rank(7, "fsync-log/power-loss at flushes/41") === rank(7, "fsync-log/power-loss at flushes/41"); // true
 * ```
 */
export function rank(seed: number, name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${seed >>> 0}/${name}`)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The recording's times a point's cost is estimated from. */
export interface CostBasis {
  /** The recording's run phase. */
  runMs: number;
  /** The recording's check phase. */
  checkMs: number;
  /** From the recording's start to its first op: about one boot. */
  bootMs: number;
}

/** One candidate point of a check: where, and the checks (crash states, or its run) it needs. */
export interface Candidate {
  /** The check it belongs to (its name). */
  check: string;
  /** The recorded op (or frame) index. */
  at: number;
  /** The units it needs: names of its distinct crash states, or of its own run. */
  units: readonly string[];
  /** Each unit's cost in ms. */
  unitMs: number;
  /** Replays of its check at once (1 for a single point). */
  jobs: number;
  /** A sweep saves its guests once before its points: this much, with its first point. */
  startMs: number;
}

/** What a budget kept and left out. */
export interface Sample {
  /** The points kept, by check. */
  kept: Map<string, number[]>;
  /** The points left out, by check. */
  leftOut: Map<string, number[]>;
  /** The estimated cost of what was kept, in ms. */
  estimatedMs: number;
}

/**
 * Takes candidates in the seed's order while their cost fits `budgetMs`: a unit already
 * taken costs nothing again, a check's start is paid with its first point. A candidate
 * that does not fit is left out, and smaller ones after it are still tried.
 *
 * @example
 * ```ts
 * const sample = samplePoints(candidates, { budgetMs: 180_000, seed: 7, scenario: "fsync-log" });
 * sample.kept.get("power-loss at flushes"); // [12, 41, 57]
 * ```
 */
export function samplePoints(
  candidates: readonly Candidate[],
  options: { budgetMs: number; seed: number; scenario: string },
): Sample {
  const ordered = [...candidates].sort((a, b) =>
    rank(options.seed, `${options.scenario}/${a.check}/${a.at}`) -
    rank(options.seed, `${options.scenario}/${b.check}/${b.at}`)
  );
  const units = new Set<string>();
  const started = new Set<string>();
  const kept = new Map<string, number[]>();
  const leftOut = new Map<string, number[]>();
  let spent = 0;
  for (const candidate of ordered) {
    const fresh = candidate.units.filter((unit) => !units.has(`${candidate.check}/${unit}`));
    const cost = (fresh.length * candidate.unitMs) / candidate.jobs +
      (started.has(candidate.check) ? 0 : candidate.startMs);
    const into = spent + cost <= options.budgetMs ? kept : leftOut;
    into.set(candidate.check, [...(into.get(candidate.check) ?? []), candidate.at]);
    if (into === leftOut) continue;
    spent += cost;
    started.add(candidate.check);
    for (const unit of fresh) units.add(`${candidate.check}/${unit}`);
  }
  for (const list of [...kept.values(), ...leftOut.values()]) list.sort((a, b) => a - b);
  return { kept, leftOut, estimatedMs: spent };
}
