/**
 * A failing schedule shrunk to its smallest cause: remove faults one at a time, then move
 * each remaining trigger earlier (or later) and weaken each fault's parameters, keeping a
 * step only while the failure stays at the confirmed rate it was found at (src/sweep/confirm.ts:
 * a stable finding stays stable, a flaky one at least as often). Pure: the replay is
 * injected, and nothing here knows of VMs; a budget of replays or a signal stops it early,
 * and the result says so.
 *
 * @module
 */

import { kindOf } from "../fault/kinds/mod.ts";
import { formatFaultSpec } from "../fault/spec.ts";
import type { FaultEffect } from "../fault/types.ts";
import type { Verdict } from "../run/verdict.ts";
import { failsFinding, type Reproduced, reproduced } from "../sweep/confirm.ts";
import type { DrawnFault } from "./draw.ts";

/** Runs a schedule once and judges it. */
export type ReplaySchedule = (faults: readonly DrawnFault[]) => Promise<Verdict>;

/** How to shrink. */
export interface ShrinkOptions {
  /** Runs a candidate once. */
  replay: ReplaySchedule;
  /** The rate the original was confirmed at; each step must meet it. */
  rate: Reproduced;
  /** Other places a fault could be put at, the most preferred first (src/explore/moves.ts). */
  moves?: (fault: DrawnFault) => DrawnFault[];
  /** The most replays shrinking may run; unbounded when absent. */
  maxReplays?: number;
  /** Stops shrinking (a time budget). */
  signal?: AbortSignal;
}

/** What shrinking found. */
export interface ShrinkResult {
  /** The smallest schedule that still fails at the rate. */
  minimal: DrawnFault[];
  /** The schedule shrinking started from. */
  original: readonly DrawnFault[];
  /** The rate of the minimal schedule's last confirmation (the original's when no step was kept). */
  rate: Reproduced;
  /** Candidates tried (each confirmed with up to `rate.runs` replays). */
  tried: number;
  /** Steps kept. */
  kept: number;
  /** Replays run. */
  replays: number;
  /** Why it stopped before trying every step, or null when it did not. */
  stoppedEarly: string | null;
}

class Stop extends Error {}

/** Why a signal stopped shrinking: a time budget's timeout, or anything else (Ctrl-C). */
function stoppedBy(signal: AbortSignal): string {
  return (signal.reason as { name?: string } | undefined)?.name === "TimeoutError"
    ? "its time ran out"
    : "it was stopped";
}

/** Weaker versions of a fault, the weakest first (its kind's `explore.weaken`). */
function weakenings(fault: DrawnFault): DrawnFault[] {
  const weaken = kindOf(fault.effect).explore?.weaken;
  if (!weaken) return [];
  return (weaken(fault.effect) as FaultEffect[]).map((effect) => ({
    ...fault,
    effect,
    spec: formatFaultSpec({ effect, trigger: fault.trigger }),
  }));
}

/**
 * Shrinks a failing schedule.
 *
 * @example
 * ```ts
 * const result = await shrinkSchedule(schedule.faults, { replay, rate: { failed: 3, runs: 3 } });
 * result.minimal.map((f) => f.spec); // ["eio@run:n1/data/write:0+4096#2", "partition:n1|n2,n3@net:n1->n2/tcp:2379#3"]
 * ```
 */
export async function shrinkSchedule(
  original: readonly DrawnFault[],
  options: ShrinkOptions,
): Promise<ShrinkResult> {
  let replays = 0;
  let tried = 0;
  let kept = 0;
  let rate = options.rate;

  /** Confirms a candidate: up to `runs` replays, cut short once the rate cannot be met. */
  async function stillFails(candidate: DrawnFault[]): Promise<boolean> {
    const verdicts: Verdict[] = [];
    for (let run = 0; run < options.rate.runs; run++) {
      if (options.signal?.aborted) throw new Stop(stoppedBy(options.signal));
      if (options.maxReplays !== undefined && replays >= options.maxReplays) {
        throw new Stop(`it ran its ${options.maxReplays} replays`);
      }
      if (run === 0) tried++;
      replays++;
      verdicts.push(await options.replay(candidate));
      const passes = verdicts.length - verdicts.filter(failsFinding).length;
      if (passes > options.rate.runs - options.rate.failed) return false;
    }
    const got = reproduced(verdicts);
    if (got.failed < options.rate.failed) return false;
    rate = got;
    kept++;
    return true;
  }

  let current = [...original];
  let stoppedEarly: string | null = null;
  try {
    // Remove faults one at a time; after a removal, the same position holds the next one.
    for (let i = 0; i < current.length && current.length > 1;) {
      const without = current.filter((_, j) => j !== i);
      if (await stillFails(without)) current = without;
      else i++;
    }
    for (let i = 0; i < current.length; i++) {
      // Move: the first other place that keeps it failing.
      for (const moved of options.moves?.(current[i]) ?? []) {
        const candidate = current.with(i, moved);
        if (await stillFails(candidate)) {
          current = candidate;
          break;
        }
      }
      // Weaken: the weakest that keeps it failing.
      for (const weaker of weakenings(current[i])) {
        const candidate = current.with(i, weaker);
        if (await stillFails(candidate)) {
          current = candidate;
          break;
        }
      }
    }
  } catch (error) {
    // A replay cut short by the signal stops shrinking as the signal does.
    if (!(error instanceof Stop) && !options.signal?.aborted) throw error;
    stoppedEarly = error instanceof Stop ? error.message : stoppedBy(options.signal!);
  }
  current.sort((a, b) => a.at - b.at);
  return { minimal: current, original, rate, tried, kept, replays, stoppedEarly };
}
