/**
 * A point's verdict as reports name it: one of four statuses, and in a word for tables,
 * with the rate of a failure that got several runs. Pure.
 *
 * @module
 */

import type { Verdict } from "../run/verdict.ts";
import { describeRate, type Reproduced } from "./confirm.ts";
import type { SweepResult } from "./result.ts";

/**
 * What a point came to: a fault that never fired and a check that could not run are
 * neither a pass nor a failure; an unavailable service is a failure.
 */
export type PointStatus = "pass" | "fail" | "not-fired" | "inconclusive";

/** What a point's status is read from. */
export interface PointVerdict {
  fired: boolean;
  verdict: Verdict;
  /** The replay failed to run. */
  error?: string;
  /** How often a failure reproduced. */
  reproduced?: Reproduced;
}

/**
 * A point's status.
 *
 * @example
 * ```ts
 * pointStatus({ fired: true, verdict: { pass: false, kind: "inconclusive", reason: "..." } }); // "inconclusive"
 * ```
 */
export function pointStatus(point: PointVerdict): PointStatus {
  if (point.error !== undefined) return "fail";
  if (!point.fired) return "not-fired";
  if (point.verdict.pass) return "pass";
  return point.verdict.kind === "inconclusive" ? "inconclusive" : "fail";
}

/**
 * A point's status in a word for a table: `pass`, `NOT FIRED`, `INCONCLUSIVE`,
 * `UNAVAILABLE` or `FAIL`; a failure that got several runs says how many failed.
 *
 * @example
 * ```ts
 * statusWord({ fired: true, verdict: lost, reproduced: { failed: 2, runs: 3 } }); // "FAIL flaky 2/3"
 * ```
 */
export function statusWord(point: PointVerdict): string {
  const status = pointStatus(point);
  if (status !== "fail") return STATUS_WORDS[status];
  const word = point.error === undefined && point.verdict.kind === "unavailable"
    ? "UNAVAILABLE"
    : "FAIL";
  const rate = point.reproduced && point.reproduced.runs > 1
    ? ` ${describeRate(point.reproduced)}`
    : "";
  return word + rate;
}

const STATUS_WORDS: Record<Exclude<PointStatus, "fail">, string> = {
  pass: "pass",
  "not-fired": "NOT FIRED",
  inconclusive: "INCONCLUSIVE",
};

/**
 * A sweep's points by outcome, in words: the failures by rate when they got several runs,
 * the unavailable among them, and the inconclusive apart.
 *
 * @example
 * ```ts
 * describeCounts(result);
 * // "12 points: 8 passed, 2 failed (1 stable, 1 flaky of 3 runs each), 1 never fired, 1 inconclusive"
 * ```
 */
export function describeCounts(result: SweepResult): string {
  const rated = result.points.filter((p) => pointStatus(p) === "fail" && p.reproduced);
  const detail: string[] = [];
  if ((result.confirm ?? 1) > 1 && rated.length > 0) {
    const stable = rated.filter((p) => p.reproduced!.failed === p.reproduced!.runs).length;
    detail.push(`${stable} stable, ${rated.length - stable} flaky of ${result.confirm} runs each`);
  }
  if (result.unavailable) detail.push(`${result.unavailable} unavailable`);
  const counts = [
    `${result.passed} passed`,
    `${result.failed} failed${detail.length > 0 ? ` (${detail.join("; ")})` : ""}`,
    `${result.notFired} never fired`,
    ...(result.inconclusive ? [`${result.inconclusive} inconclusive`] : []),
  ];
  return `${result.points.length} points: ${counts.join(", ")}`;
}
