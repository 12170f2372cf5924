/**
 * `faultline merge RESULTS... [--html FILE] [--junit FILE]`: the shards' results files
 * (`sweep ... --shard K/N --json FILE`, `ci --shard K/N --json FILE`) joined into one
 * report and one exit code.
 *
 * @module
 */

import { type CiResultsFile, mergeCiShards } from "../ci/merge.ts";
import { readParent } from "../replay/replay.ts";
import { MergeError, mergeSweepShards, type SweepResultsFile } from "../sweep/merge.ts";
import { ciJunit, printCi } from "./ci.ts";
import { EXIT } from "./errors.ts";
import { printSweep, sweepJson, sweepJunit, writeReportPage } from "./sweep.ts";

/** Options of `merge`. */
export interface MergeCommandOptions {
  html?: string;
  junit?: string;
  json: boolean;
}

async function readResults(path: string): Promise<{ name: string; data: unknown }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new MergeError(`merge: cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return { name: path, data: JSON.parse(text) };
  } catch {
    throw new MergeError(`merge: ${path} is not JSON (a results file of sweep or ci --json FILE)`);
  }
}

/** Runs `merge`. */
export async function mergeCommand(paths: string[], options: MergeCommandOptions): Promise<number> {
  const files = await Promise.all(paths.map(readResults));
  const format = (files[0]?.data as { format?: string } | undefined)?.format;
  if (format === "faultline-ci") {
    const merged = mergeCiShards(files as { name: string; data: CiResultsFile }[]);
    if (options.junit) await Deno.writeTextFile(options.junit, ciJunit(merged.checks));
    if (options.html) {
      throw new MergeError("merge: --html is a sweep's report; for ci results use --junit");
    }
    if (options.json) console.log(JSON.stringify(merged));
    else printCi(merged.checks);
    return merged.checks.some((check) => !check.pass) ? EXIT.verdictFailed : EXIT.pass;
  }
  const merged = mergeSweepShards(files as { name: string; data: SweepResultsFile }[]);
  const { trace, result } = merged;
  if (options.junit) await Deno.writeTextFile(options.junit, sweepJunit(trace.path, result));
  if (options.html) {
    const parent = await readParent(trace.path).catch((error) => {
      throw new MergeError(
        `merge: the report page shows the trace's ops: ${trace.path} cannot be read (${
          (error as Error).message
        })`,
      );
    });
    if (parent.sha256 !== trace.sha256) {
      throw new MergeError(
        `merge: ${trace.path} is not the trace the shards swept (sha256 ${
          parent.sha256.slice(0, 12)
        }, the shards' ${trace.sha256.slice(0, 12)})`,
      );
    }
    await writeReportPage(options.html, { parent, result });
  }
  if (options.json) console.log(JSON.stringify(sweepJson(trace.path, result)));
  else printSweep(trace.path, result);
  return result.failed > 0 ? EXIT.verdictFailed : EXIT.pass;
}
