/**
 * Findings confirmed: a failing point is checked again until it has R verdicts, and rated by
 * how many failed. A point that failed once is never reported as a pass: `stable` when every
 * run failed, `flaky k/R` when k of R did (the first run counts). A run whose check could
 * not run (inconclusive) or whose replay failed counts as a run that did not fail. Pure.
 *
 * @module
 */

import type { Verdict } from "../run/verdict.ts";

/** How often a finding reproduced. */
export interface Reproduced {
  /** Runs whose verdict was a failure (the first included). */
  failed: number;
  /** Runs in all. */
  runs: number;
}

/**
 * The default number of verdicts a failing point gets: 3 on a cluster, whose checks boot
 * several guests at once and race; 1 on one node, whose replays agree.
 *
 * @example
 * ```ts
 * defaultConfirmations(3); // 3
 * defaultConfirmations(1); // 1
 * ```
 */
export function defaultConfirmations(nodes: number): number {
  return nodes > 1 ? 3 : 1;
}

/**
 * Whether a verdict counts as a failure of the finding: a plain or unavailable failure; an
 * inconclusive check judged nothing.
 *
 * @example
 * ```ts
 * failsFinding({ pass: false, reason: "1 acknowledged key lost" }); // true
 * failsFinding({ pass: false, kind: "inconclusive", reason: "..." }); // false
 * ```
 */
export function failsFinding(verdict: Verdict): boolean {
  return !verdict.pass && verdict.kind !== "inconclusive";
}

/**
 * The rate of a finding from its runs' verdicts (the first run first).
 *
 * @example
 * ```ts
 * reproduced([lost, lost, passed]); // { failed: 2, runs: 3 }
 * ```
 */
export function reproduced(verdicts: readonly Verdict[]): Reproduced {
  return { failed: verdicts.filter(failsFinding).length, runs: verdicts.length };
}

/**
 * The rate in words: `stable 3/3`, `flaky 2/3`, or `failed 1/1` for a single run.
 *
 * @example
 * ```ts
 * describeRate({ failed: 2, runs: 3 }); // "flaky 2/3"
 * ```
 */
export function describeRate(rate: Reproduced): string {
  if (rate.runs === 1) return `failed ${rate.failed}/1`;
  return `${rate.failed === rate.runs ? "stable" : "flaky"} ${rate.failed}/${rate.runs}`;
}

/**
 * Whether a rate is at least `minRate` (a fraction of the runs): a stable finding when no
 * rate is given.
 *
 * @example
 * ```ts
 * meetsRate({ failed: 2, runs: 3 }); // false: not stable
 * meetsRate({ failed: 2, runs: 3 }, 0.5); // true
 * ```
 */
export function meetsRate(rate: Reproduced, minRate?: number): boolean {
  if (rate.runs === 0) return false;
  return minRate === undefined ? rate.failed === rate.runs : rate.failed / rate.runs >= minRate;
}

/**
 * The verdicts that differ, by reason, with how often each came: `lost 3 keys` twice, a pass
 * once. Reasons that differ only in counts (`found 38`, `found 39`) stay apart here; the
 * rate counts them alike.
 *
 * @example
 * ```ts
 * distinctReasons([a, a, b]); // [{ ...a, count: 2 }, { ...b, count: 1 }]
 * ```
 */
export function distinctReasons(
  verdicts: readonly Verdict[],
): (Verdict & { count: number })[] {
  const seen = new Map<string, Verdict & { count: number }>();
  for (const verdict of verdicts) {
    const entry = seen.get(verdict.reason);
    if (entry) entry.count++;
    else seen.set(verdict.reason, { ...verdict, count: 1 });
  }
  return [...seen.values()];
}
