/**
 * `faultline ci [PATHS...]`: every scenario's run and declared faults, a
 * summary, JUnit XML on request, and a non-zero exit when any check fails,
 * with the command that reproduces each failure.
 *
 * @module
 */

import { type CiCheck, type CiProgress, ciTracePath, runCi, scenarioFiles } from "../ci/ci.ts";
import type { CiResultsFile } from "../ci/merge.ts";
import { loadScenario } from "../scenario/load.ts";
import { sha256File } from "../util/hash.ts";
import { progressFields, shardOption, sweepLine } from "./sweep.ts";
import { junitXml, pointText } from "../report/junit.ts";
import { formatDuration } from "../util/units.ts";
import { drawSeed, parseBudget } from "../ci/budget.ts";
import { accelChooser } from "./accel.ts";
import { EXIT, UsageError } from "./errors.ts";
import { table } from "./format.ts";
import { withInterrupt } from "./interrupt.ts";
import { pacedProgress, progressLine, roughDuration } from "./progress.ts";
import { progressPrinter } from "./record.ts";

/** Options of `ci`. */
export interface CiCommandOptions {
  junit?: string;
  /** `--json`: print the JSON; `--json FILE`: write the results file (for `merge`) and print the table. */
  json: boolean | string;
  jobs?: number;
  /** `--confirm R`: verdicts a failing point gets. */
  confirm?: number;
  traceDir: string;
  verbose: boolean;
  /** `--cold`: every check of a sweep boots. */
  cold?: boolean;
  /** `--record-only`: record and judge each scenario, for shards to share. */
  recordOnly?: boolean;
  /** `--shard K/N`. */
  shard?: string;
  /** `--shard-index-env NAME`, with `--shards N`. */
  shardIndexEnv?: string;
  shards?: number;
  /** `--accel kvm|tcg|auto`. */
  accel?: string;
  /** `--budget DURATION`: the points sampled to fit. */
  budget?: string;
  /** `--budget-seed N`: the seed the sample is drawn from. */
  budgetSeed?: number;
}

/**
 * The JUnit document of a CI run: a suite per scenario, a case per check (skipped when the
 * budget left it out, or its sample could not decide), and a skipped case per point a
 * budget left out, with why.
 */
export function ciJunit(checks: readonly CiCheck[]): string {
  const scenarios = [...new Set(checks.map((c) => c.scenario))];
  return junitXml(scenarios.map((scenario) => ({
    name: scenario,
    cases: checks.filter((c) => c.scenario === scenario).flatMap((c) => [{
      name: c.name,
      classname: scenario,
      timeSeconds: c.durationMs / 1000,
      ...(c.points?.length || c.trace
        ? {
          output: [
            ...(c.trace ? [`trace: ${c.trace}`] : []),
            ...(c.points ?? []).map(pointText),
          ].join("\n"),
        }
        : {}),
      ...(c.skipped !== undefined ? { skipped: c.skipped } : {}),
      ...(c.pass ? {} : {
        failure: {
          message: c.reason,
          text: c.reproduce.map((r) => `reproduce: ${r}`).join("\n"),
        },
      }),
    }, ...leftOutCases(c)]),
  })));
}

/** A skipped JUnit case for each point a budget left out of a check that ran. */
function leftOutCases(check: CiCheck) {
  if (!check.budget || check.budget.kept.length === 0) return [];
  return check.budget.leftOut.map((point) => ({
    name: `${check.name}: op ${point.at}`,
    classname: check.scenario,
    skipped: point.why,
  }));
}

/** Prints the checks' table and each failure's reproduce commands. */
export function printCi(checks: readonly CiCheck[]): void {
  const failed = checks.filter((c) => !c.pass);
  console.log(table([
    ["scenario", "check", "result", "reason"],
    ...checks.map((c) => [
      c.scenario,
      c.name,
      c.skipped !== undefined ? "skipped" : c.pass ? "pass" : "FAIL",
      c.reason,
    ]),
  ]));
  printLeftOut(checks);
  for (const check of failed) {
    console.log(`\n${check.scenario}: ${check.name} failed: ${check.reason}`);
    for (const command of check.reproduce.slice(0, 10)) console.log(`  reproduce: ${command}`);
    if (check.reproduce.length > 10) console.log(`  ... and ${check.reproduce.length - 10} more`);
  }
  const skipped = checks.filter((c) => c.skipped !== undefined).length;
  console.log(
    `\n${checks.length - failed.length - skipped} of ${checks.length} checks passed${
      skipped > 0 ? `, ${skipped} skipped` : ""
    }`,
  );
}

/** What a budget left out, check by check, and how to run a check's sample again. */
function printLeftOut(checks: readonly CiCheck[]): void {
  const sampled = checks.filter((c) => c.budget);
  if (sampled.length === 0) return;
  const seed = sampled[0].budget!.seed;
  console.log(
    `\nbudget: the points were drawn from seed ${seed} (--budget-seed ${seed} draws them in the same order); left out:`,
  );
  for (const check of sampled) {
    const { kept, leftOut } = check.budget!;
    console.log(
      `  ${check.scenario}: ${check.name}: ran ${kept.length} (${
        kept.join(",") || "none"
      }), left out ${leftOut.length} (${leftOut.map((p) => p.at).join(",")})`,
    );
  }
}

/**
 * A progress line of `ci`: the check running (of how many), its sweep's points, failing
 * points and time left, and the checks failed so far.
 *
 * @example
 * ```ts
 * ciProgressLine(progress, { elapsedMs: 60_000, sinceMs: 0 });
 * // "ci: check 3 of 7 (scenarios/fsync-log.ts: power-loss at flushes): 12/40 points, 1 failing so far, 1 min 0 s in, about 45 s left; checks: 0 of 2 failed"
 * ```
 */
export function ciProgressLine(
  progress: CiProgress,
  times: { elapsedMs: number; sinceMs: number },
): string {
  const { checks, current } = progress;
  if (!current) {
    return progressLine({
      work: "ci",
      done: checks.done,
      total: checks.total,
      unit: "checks",
      findings: progress.failed,
      etaMs: null,
    }, times);
  }
  const stage = `check ${
    checks.done + 1
  } of ${checks.total} (${current.scenario}: ${current.name})`;
  const tally = `${progress.failed} of ${checks.done} checks failed so far`;
  if (!current.sweep) {
    return `ci: ${stage}, ${roughDuration(times.elapsedMs)} in; ${tally}`;
  }
  return `${progressLine({ ...sweepLine(current.sweep), work: "ci", stage }, times)}; ${tally}`;
}

/** A progress event of `ci --json`: one JSON object on stderr. */
export function ciProgressEvent(progress: CiProgress, sinceMs: number): string {
  const sweep = progress.current?.sweep;
  return JSON.stringify({
    event: "progress",
    checks: progress.checks.done,
    checksTotal: progress.checks.total,
    checksFailed: progress.failed,
    ...(progress.current
      ? { check: { scenario: progress.current.scenario, name: progress.current.name } }
      : {}),
    ...(sweep ? progressFields(sweep, sinceMs) : {}),
  });
}

/**
 * The budget of a run: `--budget` (null: only the scenarios' own), the seed given or
 * drawn; none when neither `--budget` nor `--budget-seed` is given (a scenario's own
 * budget then still applies, from a drawn seed). Not with a shard.
 */
function budgetOption(
  options: CiCommandOptions,
  shard: unknown,
): { ms: number | null; seed: number } | undefined {
  const ms = options.budget === undefined ? null : parseBudget(options.budget);
  if (shard && (ms !== null || options.budgetSeed !== undefined)) {
    throw new UsageError("--budget samples a whole run's points: give it without --shard");
  }
  if (shard) return undefined;
  return { ms, seed: options.budgetSeed ?? drawSeed() };
}

/** `ci --json`'s object: the checks, their counts, and the budget when there was one. */
function printCiJson(
  checks: readonly CiCheck[],
  budget: { ms: number | null; seed: number } | undefined,
): void {
  const failed = checks.filter((c) => !c.pass).length;
  const skipped = checks.filter((c) => c.skipped !== undefined).length;
  console.log(JSON.stringify({
    checks,
    passed: checks.length - failed - skipped,
    failed,
    skipped,
    ...(budget ? { budget } : {}),
  }));
}

/** The line `ci` begins with under a budget: how long, and the seed. */
function budgetLine(budget: { ms: number | null; seed: number }): string {
  return `ci: budget ${
    budget.ms === null ? "of each scenario that has one" : formatDuration(budget.ms)
  }, points drawn from seed ${budget.seed} (rerun with --budget-seed ${budget.seed})`;
}

/** Runs `ci`. */
export async function ciCommand(paths: string[], options: CiCommandOptions): Promise<number> {
  if (options.jobs !== undefined && options.jobs < 1) {
    throw new UsageError(`--jobs ${options.jobs}: give at least 1`);
  }
  const shard = shardOption(options);
  if (shard && options.recordOnly) {
    throw new UsageError("--record-only records for every shard: run it once, without --shard");
  }
  const files = await scenarioFiles(paths.length > 0 ? paths : ["scenarios"]);
  if (files.length === 0) {
    throw new UsageError(`no scenario files in ${paths.join(", ") || "scenarios"}`);
  }
  const accel = await accelChooser(options.accel);
  const budget = budgetOption(options, shard);
  const printJson = options.json === true;
  const asked = options.budget !== undefined || options.budgetSeed !== undefined;
  if (budget && asked && !printJson) console.error(budgetLine(budget));
  let finished = 0;
  // A line at least every 10 s (JSON lines with --json), as a sweep in it may take minutes.
  const progress = pacedProgress<CiProgress>({
    print: (line) => console.error(line),
    eager: printJson,
    format: (p, times) => printJson ? ciProgressEvent(p, times.sinceMs) : ciProgressLine(p, times),
  });
  const checks = await withInterrupt((signal) =>
    runCi(files, {
      traceDir: options.traceDir,
      ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
      ...(options.confirm !== undefined ? { confirm: options.confirm } : {}),
      cold: options.cold ?? false,
      accel,
      ...(budget ? { budget } : {}),
      ...(options.recordOnly ? { recordOnly: true } : {}),
      ...(shard ? { shard } : {}),
      signal,
      onEvent: options.verbose ? progressPrinter({ json: printJson, verbose: true }) : undefined,
      onCheck: (check) => {
        finished++;
        if (printJson) return;
        console.error(
          `${check.pass ? "ok  " : "FAIL"}  ${check.scenario}: ${check.name} (${
            formatDuration(check.durationMs)
          })`,
        );
      },
      onProgress: progress.show,
    }), {
    kept: () =>
      `${finished} check${
        finished === 1 ? "" : "s"
      } finished; the traces recorded are in ${options.traceDir}`,
  }).finally(() => progress.stop());
  if (options.junit) await Deno.writeTextFile(options.junit, ciJunit(checks));
  if (typeof options.json === "string") {
    const traces: CiResultsFile["traces"] = {};
    for (const file of files) {
      const scenario = await loadScenario(file);
      const path = ciTracePath(options.traceDir, scenario);
      const sha256 = await sha256File(path).catch(() => null);
      if (sha256) traces[file] = { path, sha256 };
    }
    const results: CiResultsFile = {
      format: "faultline-ci",
      version: 1,
      shard: shard ?? null,
      traces,
      checks,
    };
    await Deno.writeTextFile(options.json, JSON.stringify(results));
  }
  const failed = checks.filter((c) => !c.pass);
  if (printJson) {
    printCiJson(checks, budget && (asked || checks.some((c) => c.budget)) ? budget : undefined);
  } else {
    printCi(checks);
  }
  return failed.length > 0 ? EXIT.verdictFailed : EXIT.pass;
}
