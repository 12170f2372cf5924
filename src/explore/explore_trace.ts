/**
 * The explore of a recorded trace, as a program embedding faultline calls it: the draw's
 * plan from the recording, each schedule run as a replay of the trace (./replayed.ts), the
 * budget spent (./explore.ts), with the command line's defaults.
 *
 * @module
 */

import type { ParentTrace } from "../replay/replay.ts";
import { defaultConfirmations } from "../sweep/confirm.ts";
import { defaultJobs } from "../sweep/jobs.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { type AccelChoice, TCG } from "../vm/accel.ts";
import type { Budget } from "./budget.ts";
import { drawPlan } from "./draw.ts";
import { explore, type ExploreProgress, type ExploreResult } from "./explore.ts";
import { recordingOf, scheduleRunner } from "./replayed.ts";

/** How to explore a trace. */
export interface ExploreTraceOptions {
  /** How much: a number of schedules, or a time (`parseBudget("30m")`). */
  budget: Budget;
  /** The seed the schedules are drawn from. */
  seed: number;
  /** The kinds to draw (`["error", "partition"]`); every kind the recording can take when absent. */
  kinds?: readonly string[];
  /** The most faults in one schedule (default 3). */
  maxFaults?: number;
  /** Schedules at once (default: the cores, divided by the nodes of a cluster). */
  jobs?: number;
  /** Verdicts a failing schedule and each shrinking step gets (default: 3 on a cluster, 1 on one node). */
  confirm?: number;
  /** The most replays shrinking one failure may run (default 30). */
  shrinkReplays?: number;
  /** The accelerator the replays run on (default TCG). */
  accel?: AccelChoice;
  /** Stops the explore: the finished schedules are returned, marked interrupted. */
  signal?: AbortSignal;
  /** Hears progress. */
  onProgress?: (progress: ExploreProgress) => void;
}

/**
 * Explores a recorded trace: schedules of 1 to `maxFaults` faults drawn from the seed, each
 * replayed, every failure confirmed and shrunk, the failures grouped into findings, and
 * what was covered (docs/explore.md).
 *
 * @throws {ExploreError} for options the recording cannot take (no kind, a link fault on
 *   one node), before anything runs.
 * @example
 * ```ts
 * const parent = await readParent("etcd.trace");
 * const result = await exploreTrace(parent, { budget: { kind: "schedules", count: 20 }, seed: 7 });
 * result.findings.map((f) => `${f.shape}: ${f.reason} (${f.count})`);
 * ```
 */
export async function exploreTrace(
  parent: ParentTrace,
  options: ExploreTraceOptions,
): Promise<ExploreResult> {
  const plan = drawPlan(recordingOf(parent), {
    seed: options.seed,
    maxFaults: options.maxFaults ?? 3,
    ...(options.kinds !== undefined ? { kinds: options.kinds } : {}),
  });
  const nodes = parent.scenario.nodes.length;
  const signal = options.signal ?? new AbortController().signal;
  await using dir = await makePrivateDir("faultline-explore-");
  return await explore({
    plan,
    budget: options.budget,
    jobs: options.jobs ?? defaultJobs(navigator.hardwareConcurrency ?? 2, nodes),
    confirm: options.confirm ?? defaultConfirmations(nodes),
    run: scheduleRunner(parent, { dir: dir.path, accel: options.accel ?? TCG, signal }),
    shrinkReplays: options.shrinkReplays ?? 30,
    signal,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
