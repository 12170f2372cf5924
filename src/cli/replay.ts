/**
 * `faultline replay TRACE`: run the trace's scenario again with faults at
 * chosen ops, or check a power loss built from the trace alone; say how the
 * replay's ops compared with the recording, and how to reproduce it.
 *
 * @module
 */

import { describePrefix } from "../replay/signature.ts";
import {
  defaultReplayPath,
  prepareForReplay,
  readParent,
  replay,
  type ReplayResult,
} from "../replay/replay.ts";
import { EXIT, UsageError } from "./errors.ts";
import { withInterrupt } from "./interrupt.ts";
import { keptTraces, printRun, progressPrinter, qmpEndpoints, runJson } from "./record.ts";

/** Options of `replay`. */
export interface ReplayCommandOptions {
  fault: string[];
  /** `--with`: faults in force beside them. */
  with: string[];
  faultAt?: string;
  live: boolean;
  strictOrder: boolean;
  runs: number;
  output?: string;
  json: boolean;
  verbose: boolean;
  data: boolean;
  seed?: number;
  /** `--qmp [NODE=]PATH`, as given. */
  qmp: string[];
  /** `--control PATH`. */
  control?: string;
}

/** The JSON of one replay. */
function replayJson(result: ReplayResult): Record<string, unknown> {
  return {
    ...runJson(result),
    fired: result.fired,
    faultAt: result.faultAt,
    ...(result.firings.length > 0 ? { firings: result.firings } : {}),
    ...(result.notFired.length > 0 ? { notFired: result.notFired } : {}),
    prefix: result.prefix,
    ...(result.powerCut ? { powerCut: result.powerCut } : {}),
    ...(result.lost ? { lost: result.lost } : {}),
    ...(result.order
      ? {
        order: { breaks: result.order.breaks.length, waitedMs: Math.round(result.order.waitedMs) },
      }
      : {}),
    reproduce: result.reproduce,
  };
}

/** Runs `replay`. */
export async function replayCommand(path: string, options: ReplayCommandOptions): Promise<number> {
  if (!Number.isInteger(options.runs) || options.runs < 1) {
    throw new UsageError("--runs must be at least 1");
  }
  const parent = await readParent(path);
  if (parent.warning) console.error(`warning: ${parent.warning}`);
  const outputs: string[] = [];
  const results: ReplayResult[] = await withInterrupt(async (signal) => {
    const prepared = await prepareForReplay(parent, signal);
    const done: ReplayResult[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const output = options.runs === 1
        ? options.output ?? defaultReplayPath(path)
        : (options.output ?? defaultReplayPath(path)).replace(/(\.trace)?$/, `-${run}.trace`);
      outputs.push(output);
      if (options.runs > 1 && !options.json) console.error(`run ${run} of ${options.runs}`);
      done.push(
        await replay(parent, {
          faults: options.fault,
          with: options.with,
          faultAt: options.faultAt,
          live: options.live,
          strictOrder: options.strictOrder,
          output,
          keepData: options.data,
          seed: options.seed,
          qmp: qmpEndpoints(options.qmp, parent.scenario),
          ...(options.control ? { control: options.control } : {}),
          signal,
          prepared,
          onEvent: progressPrinter(options),
        }),
      );
    }
    return done;
  }, { kept: () => keptTraces(outputs) });

  const first = results[0];
  const same = (r: ReplayResult) =>
    r.verdict.pass === first.verdict.pass && r.verdict.reason === first.verdict.reason;
  const identical = results.filter(same).length;
  if (options.json) {
    console.log(JSON.stringify(
      options.runs === 1
        ? replayJson(first)
        : { ...replayJson(first), runs: results.map(replayJson), identical },
    ));
  } else {
    for (const [i, result] of results.entries()) {
      if (results.length > 1) console.log(`\n== run ${i + 1}`);
      printRun(result);
      if (result.powerCut) {
        console.log(
          `power loss at op ${result.powerCut.at} (${result.powerCut.source}): ${result.powerCut.writesKept} writes kept, ${result.powerCut.dropped} of ${result.powerCut.volatile} volatile writes dropped`,
        );
      }
      if (result.lost) console.log(`lost: ${result.lost.summary}`);
      if (result.notFired.length > 0) console.log(`never fired: ${result.notFired.join(", ")}`);
      console.log(`prefix: ${describePrefix(result.prefix)}`);
    }
    if (results.length > 1) {
      console.log(`\n${identical} of ${results.length} verdicts equal the first`);
    }
    console.log(`reproduce: ${first.reproduce}`);
  }
  return results.every((r) => r.verdict.pass) ? EXIT.pass : EXIT.verdictFailed;
}
