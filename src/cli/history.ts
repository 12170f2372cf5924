/**
 * `faultline history check FILE... --model M`: each history file checked against a
 * model, one result per file (one JSON object a line with `--json`), and one exit code:
 * 1 when any history is invalid, else 2 when any file is bad input, else 3 when any
 * answer is unknown (a budget ran out), else 0.
 *
 * @module
 */

import { checkHistory, type HistoryCheckResult } from "../history/check.ts";
import { describeAnomalies, describeCounterexample } from "../history/describe.ts";
import { readEdn } from "../history/edn.ts";
import { HistoryError } from "../history/errors.ts";
import { modelNamed } from "../history/models/mod.ts";
import { type HistoryFormat, parseHistory } from "../history/parse.ts";
import type { Value } from "../history/value.ts";
import { FaultlineError } from "../util/errors.ts";
import { parseDuration } from "../util/units.ts";
import { errorLine, EXIT } from "./errors.ts";

/** Options of `history check`, as the command line gives them. */
export interface HistoryCheckCommandOptions {
  model: string;
  json: boolean;
  /** The search's budget per history, a duration (`30s`). */
  timeout: string;
  /** `register`: the value before anything is written, as EDN. */
  initial?: string;
  /** `queue`: at-least-once or exactly-once. */
  mode?: string;
  format?: HistoryFormat;
}

/** What one file gave: its result, or the bad input that stopped it. */
type FileOutcome = { file: string; result: HistoryCheckResult } | { file: string; error: Error };

/** Runs `history check`. */
export async function historyCheckCommand(
  files: string[],
  options: HistoryCheckCommandOptions,
): Promise<number> {
  modelNamed(options.model);
  const timeoutMs = parseDuration(options.timeout);
  const initial = options.initial === undefined ? undefined : initialValue(options.initial);
  // An option the model does not take is refused before any file is read.
  checkHistory([], { model: options.model, initial, mode: options.mode });
  const outcomes: FileOutcome[] = [];
  for (const file of files) {
    const outcome = await checkFile(file, { ...options, timeoutMs, initial });
    print(outcome, options);
    outcomes.push(outcome);
  }
  return exitCode(outcomes);
}

async function checkFile(
  file: string,
  options: Omit<HistoryCheckCommandOptions, "initial"> & { timeoutMs: number; initial?: Value },
): Promise<FileOutcome> {
  try {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      throw new HistoryError(`cannot read the history: ${(error as Error).message}`, { file });
    }
    const ops = parseHistory(text, { file, format: options.format });
    const result = checkHistory(ops, {
      model: options.model,
      file,
      timeoutMs: options.timeoutMs,
      initial: options.initial,
      mode: options.mode,
    });
    return { file, result };
  } catch (error) {
    // Bad input in one file is that file's answer; a bug is not.
    if (error instanceof FaultlineError) return { file, error };
    throw error;
  }
}

function initialValue(text: string): Value {
  const forms = readEdn(text, { file: "--initial" });
  if (forms.length !== 1) {
    throw new HistoryError(`--initial: expected one EDN value, such as 0 or nil, found "${text}"`);
  }
  return forms[0].value;
}

function print(outcome: FileOutcome, options: { json: boolean }): void {
  if ("error" in outcome) {
    console.error(errorLine(outcome.error));
    if (options.json) {
      console.log(JSON.stringify({ file: outcome.file, error: outcome.error.message }));
    }
    return;
  }
  const { file, result } = outcome;
  if (options.json) {
    console.log(JSON.stringify({ file, ...result, ms: Math.round(result.ms * 10) / 10 }));
    return;
  }
  console.log(`${file}: ${verdictWord(result.valid)} (${summary(result)})`);
  const details: string[] = [];
  if (result.counterexample) {
    details.push(...describeCounterexample(result.counterexample).split("\n"));
  }
  if (result.anomalies) details.push(describeAnomalies(result.anomalies));
  for (const note of result.notes) details.push(`note: ${note}`);
  for (const line of details) console.log(`  ${line}`);
}

function verdictWord(valid: boolean | "unknown"): string {
  return valid === true ? "valid" : valid === false ? "INVALID" : "unknown";
}

function summary(result: HistoryCheckResult): string {
  const keys = result.keys <= 1 ? "" : `, ${result.keys} keys`;
  return `${result.model}, ${result.ops} ops${keys}, ${result.ms.toFixed(1)} ms`;
}

function exitCode(outcomes: readonly FileOutcome[]): number {
  const results = outcomes.flatMap((outcome) => ("result" in outcome ? [outcome.result] : []));
  if (results.some((result) => result.valid === false)) return EXIT.verdictFailed;
  if (results.length < outcomes.length) return EXIT.usage;
  if (results.some((result) => result.valid === "unknown")) return EXIT.unknown;
  return EXIT.pass;
}
