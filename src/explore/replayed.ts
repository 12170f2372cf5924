/**
 * What explore needs of a recorded trace: its recording, as the draw takes it (with the
 * roles its workload reported), and the run of one schedule, as a replay of the trace with
 * the schedule's faults (with the history checker's counterexample, when it found one).
 *
 * @module
 */

import { join } from "node:path";
import { type ParentTrace, prepareForReplay, replay } from "../replay/replay.ts";
import type { AccelChoice } from "../vm/accel.ts";
import type { DrawnFault, Recording } from "./draw.ts";
import { roleReports } from "./roles.ts";
import type { ScheduleOutcome } from "./explore.ts";

/**
 * The recording a trace holds, as the draw takes it.
 *
 * @example
 * ```ts
 * recordingOf(await readParent("run.trace")).nodes; // ["app"]
 * ```
 */
export function recordingOf(parent: ParentTrace): Recording {
  return {
    nodes: parent.scenario.nodes.map((node) => node.name),
    ops: parent.ordered,
    frames: parent.frames,
    disks: parent.header.disks,
    recordsData: parent.header.recordsData,
    roles: roleReports(parent.lines),
  };
}

/**
 * Runs one schedule as a replay of the parent, its trace in `dir` and removed after; the
 * guests are prepared once, at the first run.
 *
 * @example
 * ```ts
 * const run = scheduleRunner(parent, { dir, accel, signal });
 * (await run(schedule.faults)).verdict.pass; // false
 * ```
 */
export function scheduleRunner(
  parent: ParentTrace,
  setting: { dir: string; accel: AccelChoice; signal: AbortSignal },
): (faults: readonly DrawnFault[]) => Promise<ScheduleOutcome> {
  let runs = 0;
  let prepared: ReturnType<typeof prepareForReplay> | undefined;
  return async (faults) => {
    prepared ??= prepareForReplay(parent, setting.signal);
    const output = join(setting.dir, `schedule-${runs++}.trace`);
    const specs = faults.map((f) => f.spec);
    try {
      const result = await replay(parent, {
        faults: specs,
        output,
        keepData: false,
        prepared: await prepared,
        accel: setting.accel,
        signal: setting.signal,
      });
      const notFired = new Set(result.notFired);
      const checked = result.history;
      return {
        verdict: result.verdict,
        reached: result.fired,
        fired: specs.filter((spec) => !notFired.has(spec)),
        ...(result.powerCut ? { crashState: result.powerCut.key } : {}),
        ...(checked?.counterexample && result.checkedHistory
          ? {
            history: {
              model: checked.model,
              reason: checked.reason,
              ...(checked.description ? { description: checked.description } : {}),
              counterexample: checked.counterexample,
              history: result.checkedHistory,
            },
          }
          : {}),
      };
    } finally {
      await Deno.remove(output).catch(() => {});
    }
  };
}
