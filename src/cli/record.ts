/**
 * `faultline record SCENARIO`: run a scenario with every disk behind the fault
 * layer, record the trace, and judge the run.
 *
 * @module
 */

import { basename } from "node:path";
import { OP_TYPES } from "../block/backend.ts";
import { type RunEvent, type RunResult, runScenario } from "../run/run.ts";
import { loadScenario } from "../scenario/load.ts";
import { formatBytes, formatDuration } from "../util/units.ts";
import type { Scenario } from "../scenario/schema.ts";
import { accelChooser, describeAccel } from "./accel.ts";
import { EXIT, UsageError } from "./errors.ts";
import { printStatsTable } from "./format.ts";
import { withInterrupt } from "./interrupt.ts";

/** Options of `record`. */
export interface RecordOptions {
  output?: string;
  json: boolean;
  verbose: boolean;
  data: boolean;
  /** `--qmp [NODE=]PATH`, as given. */
  qmp: string[];
  /** `--control PATH`. */
  control?: string;
  /** `--seed N`: the run's seed (guest seeds are drawn from it); 0 when absent. */
  seed?: number;
  /** `--accel kvm|tcg|auto`; absent: the scenario's, else auto. */
  accel?: string;
}

/**
 * The `--qmp` endpoints by node: `PATH` is the first node's, `NODE=PATH` that node's.
 *
 * @example
 * ```ts
 * qmpEndpoints(["/tmp/a.sock", "n2=/tmp/b.sock"], scenario); // Map { "n1" => "/tmp/a.sock", "n2" => "/tmp/b.sock" }
 * ```
 */
export function qmpEndpoints(values: readonly string[], scenario: Scenario): Map<string, string> {
  const endpoints = new Map<string, string>();
  for (const value of values) {
    const named = /^([a-z][a-z0-9-]{0,19})=(.+)$/.exec(value);
    const [node, path] = named ? [named[1], named[2]] : [scenario.nodes[0].name, value];
    if (endpoints.has(node)) throw new UsageError(`--qmp names node ${node} twice`);
    endpoints.set(node, path);
  }
  return endpoints;
}

/** A default trace name: the scenario's name and the time, in the current directory. */
export function defaultTracePath(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "-");
  return `${name}-${stamp}.trace`;
}

/** Prints a run's progress to stderr: steps always (unless --json), the console and guest lines with --verbose. */
export function progressPrinter(
  options: { json: boolean; verbose: boolean },
): (event: RunEvent) => void {
  const started = performance.now();
  const at = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  return (event) => {
    if (event.type === "step" && !options.json) {
      console.error(`${at()}  ${event.step}${event.detail ? `: ${event.detail}` : ""}`);
    } else if (event.type === "console" && options.verbose) {
      Deno.stderr.writeSync(new TextEncoder().encode(event.text));
    } else if (event.type === "guest" && options.verbose) {
      console.error(
        `${at()}  [${event.line.node}/${event.line.phase}] ${event.line.kind} ${
          event.line.args.join(" ")
        }`,
      );
    }
  };
}

/** The JSON summary of a run (also used by replay). */
export function runJson(result: RunResult): Record<string, unknown> {
  return {
    trace: result.trace,
    accel: result.accel,
    ops: result.ops,
    ...(result.oracle
      ? {
        oracle: {
          acked: result.oracle.acked,
          found: result.oracle.found,
          lost: result.oracle.lost,
          lostKeys: result.oracle.lostKeys,
        },
      }
      : {}),
    verdict: result.verdict,
    ...(result.history ? { history: { ...result.history, counterexample: undefined } } : {}),
    ...(result.recovery ? { recovery: result.recovery } : {}),
    timings: result.timings,
    phases: result.outcomes.map(({ node, phase, exit, how, error, ms }) => ({
      node,
      phase,
      exit,
      how,
      error,
      ms,
    })),
    stats: result.stats,
  };
}

/** Prints the text summary of a run (also used by replay). */
export function printRun(result: RunResult): void {
  const { timings } = result;
  console.log(
    `prepare ${formatDuration(timings.prepareMs)}, run ${formatDuration(timings.runMs)}, check ${
      formatDuration(timings.checkMs)
    }, total ${formatDuration(timings.totalMs)} on ${describeAccel(result.accel)}` +
      (timings.workloadFirstOpMs !== null
        ? ` (workload's first op at ${formatDuration(timings.workloadFirstOpMs)})`
        : ""),
  );
  for (const outcome of result.outcomes) {
    const ended = outcome.how === "exited" ? `exit ${outcome.exit ?? "(none)"}` : outcome.how;
    console.log(
      `  ${outcome.phase.padEnd(5)} ${outcome.node}: ${ended} after ${formatDuration(outcome.ms)}${
        outcome.error ? ` (${outcome.error})` : ""
      }`,
    );
  }
  console.log(
    `ops: ${
      OP_TYPES.filter((t) => result.ops[t] > 0).map((t) => `${t} ${result.ops[t]}`).join(", ")
    }, ${formatBytes(result.stats.bytes)} moved`,
  );
  if (result.stats.ops > 0) printStatsTable(result.stats);
  const recovery = recoveryLine(result);
  if (recovery) console.log(recovery);
  if (result.oracle) {
    console.log(
      `oracle: acked ${result.oracle.acked}, found ${result.oracle.found}, lost ${result.oracle.lost}`,
    );
  }
  printHistory(result);
  console.log(`verdict: ${result.verdict.pass ? "PASS" : "FAIL"}: ${result.verdict.reason}`);
  console.log(`trace: ${result.trace}`);
}

/** The clients' history's verdict, and an invalid one's counterexample (lines: `trace history`'s). */
function printHistory(result: RunResult): void {
  const history = result.history;
  if (!history) return;
  console.log(
    `history: ${
      history.valid === true ? "valid" : history.valid === false ? "INVALID" : history.valid
    } (${history.model}, ${history.ops} ops, ${history.ms.toFixed(1)} ms): ${history.reason}`,
  );
  if (history.description) {
    console.log(history.description.split("\n").map((line) => `  ${line}`).join("\n"));
    console.log(`  (lines of: faultline trace history ${result.trace})`);
  }
  for (const note of history.notes) console.log(`  note: ${note}`);
}

/**
 * How the check phase started the nodes serving its checks, in words; null when none served.
 *
 * @example
 * ```ts
 * recoveryLine(result); // "recovery in-order: e1, then e2"
 * ```
 */
export function recoveryLine(result: Pick<RunResult, "recovery">): string | null {
  const recovery = result.recovery;
  if (!recovery || recovery.serving.length === 0) return null;
  const checks = recovery.checksWithServing ? " and the checks" : "";
  return recovery.order === null
    ? `recovery ${recovery.name}: ${recovery.serving.join(", ")}${checks} at once`
    : `recovery ${recovery.name}: ${recovery.order.join(", then ")}`;
}

/**
 * What an interrupted run kept, in words: its traces (closed with the footer's reason
 * "interrupted") hold every op recorded until then.
 */
export async function keptTraces(paths: readonly string[]): Promise<string> {
  const kept: string[] = [];
  for (const path of paths) {
    if (await Deno.stat(path).then(() => true, () => false)) kept.push(path);
  }
  if (kept.length === 0) return "nothing was recorded yet";
  return `${kept.length === 1 ? "the trace" : "the traces"} ${kept.join(", ")} keep${
    kept.length === 1 ? "s" : ""
  } what was recorded until then`;
}

/** Runs `record`. */
export async function recordCommand(path: string, options: RecordOptions): Promise<number> {
  const accelOf = await accelChooser(options.accel);
  const scenario = await loadScenario(path);
  const accel = accelOf(scenario);
  const trace = options.output ?? defaultTracePath(scenario.name || basename(path));
  const result = await withInterrupt((signal) =>
    runScenario({
      scenario,
      accel,
      trace: { path: trace, keepData: options.data },
      command: "record",
      ...(options.seed !== undefined ? { plan: { seed: options.seed, rules: [] } } : {}),
      qmp: qmpEndpoints(options.qmp, scenario),
      ...(options.control ? { control: options.control } : {}),
      signal,
      onEvent: progressPrinter(options),
    }), { kept: () => keptTraces([trace]) });
  if (options.json) console.log(JSON.stringify(runJson(result)));
  else printRun(result);
  return result.verdict.pass ? EXIT.pass : EXIT.verdictFailed;
}
