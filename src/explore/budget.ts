/**
 * An explore's budget: a number of schedules (`40`) or a time (`30m`), parsed at the edge.
 *
 * @module
 */

import { parseDuration, UnitError } from "../util/units.ts";
import { ExploreError } from "./errors.ts";

/** How much to explore. */
export type Budget =
  /** This many schedules. */
  | { kind: "schedules"; count: number }
  /** Schedules are started until this much time has passed since the first. */
  | { kind: "time"; ms: number };

/**
 * Parses `--budget`: a whole number of schedules, or a duration.
 *
 * @throws {ExploreError} for a budget of nothing, or a text that is neither.
 * @example
 * ```ts
 * parseBudget("30m"); // { kind: "time", ms: 1800000 }
 * parseBudget("12"); // { kind: "schedules", count: 12 }
 * ```
 */
export function parseBudget(text: string): Budget {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const count = Number(trimmed);
    if (count < 1) {
      throw new ExploreError(
        `--budget ${text} explores nothing: give 1 schedule or more, or a time like 30m`,
      );
    }
    return { kind: "schedules", count };
  }
  let ms: number;
  try {
    ms = parseDuration(trimmed);
  } catch (error) {
    if (!(error instanceof UnitError)) throw error;
    throw new ExploreError(
      `--budget "${text}" is neither a number of schedules (40) nor a time (30m)`,
    );
  }
  if (ms <= 0) {
    throw new ExploreError(
      `--budget ${text} explores nothing: give a time like 30m, or a number of schedules`,
    );
  }
  return { kind: "time", ms };
}
