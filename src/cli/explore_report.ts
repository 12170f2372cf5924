/**
 * An explore's report: distinct findings first (each with its minimal schedule, its rate,
 * the schedule it was shrunk from, how shrinking went, the replay command of the minimal
 * one, the roles its nodes held and the history checker's counterexample, when there are),
 * then the schedules that did not pass, then what was covered. As a table for people and
 * as one JSON object; the page is src/report/explore_html.ts.
 *
 * @module
 */

import type { DrawnFault } from "../explore/draw.ts";
import type { ExploreResult, ShrunkFailure } from "../explore/explore.ts";
import { describeRate } from "../sweep/confirm.ts";
import { formatDuration } from "../util/units.ts";
import { type JunitCase, junitXml } from "../report/junit.ts";
import { table } from "./format.ts";

/** The replay command of a schedule. */
export type ReplayCommandOf = (faults: readonly DrawnFault[]) => string;

function shrinkNote(failure: ShrunkFailure): string {
  const { tried, kept, replays, stoppedEarly } = failure.shrink;
  const how = `${kept} of ${tried} steps kept, ${replays} replays`;
  return stoppedEarly ? `${how}; stopped early: ${stoppedEarly}` : how;
}

/**
 * The report as one JSON object.
 *
 * @example
 * ```ts
 * exploreJson("run.trace", result, replayOf).findings.length; // 1
 * ```
 */
export function exploreJson(
  trace: string,
  result: ExploreResult,
  replayOf: ReplayCommandOf,
): Record<string, unknown> & { findings: unknown[] } {
  const counts: Record<string, number> = {};
  for (const s of result.schedules) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return {
    trace,
    seed: result.seed,
    kindTableVersion: result.tableVersion,
    maxFaults: result.maxFaults,
    kinds: result.kinds,
    excluded: result.excluded,
    elapsedMs: Math.round(result.elapsedMs),
    stopped: result.stopped,
    counts,
    findings: result.findings.map((finding) => {
      const failure = finding.first as ShrunkFailure;
      return {
        shape: finding.shape,
        reason: failure.reason,
        reasonClass: finding.reason,
        count: finding.count,
        schedules: finding.schedules,
        minimal: failure.minimal.map((f) => f.spec),
        rate: failure.rate,
        original: failure.original.map((f) => f.spec),
        originalRate: failure.originalRate,
        shrink: failure.shrink,
        replay: replayOf(failure.minimal),
        ...(failure.roles
          ? { roles: failure.roles.map((roles) => Object.fromEntries(roles)) }
          : {}),
        ...(failure.history
          ? {
            history: {
              model: failure.history.model,
              reason: failure.history.reason,
              ...(failure.history.description ? { description: failure.history.description } : {}),
            },
          }
          : {}),
      };
    }),
    schedules: result.schedules,
    coverage: result.coverage,
  };
}

function list(kinds: readonly string[]): string {
  return kinds.length > 0 ? kinds.join(", ") : "none";
}

/** Prints the report for people. */
export function printExplore(
  trace: string,
  result: ExploreResult,
  replayOf: ReplayCommandOf,
): void {
  const { coverage } = result;
  console.log(
    `explore ${trace}: seed ${result.seed}, kind table v${result.tableVersion}, 1 to ${result.maxFaults} faults a schedule, ${coverage.schedules} schedules in ${
      formatDuration(result.elapsedMs)
    }${result.stopped ? ` (${result.stopped})` : ""}`,
  );
  console.log(
    `\n${result.findings.length} distinct finding${result.findings.length === 1 ? "" : "s"}`,
  );
  result.findings.forEach((finding, i) => {
    const failure = finding.first as ShrunkFailure;
    console.log(
      `\n#${i + 1} ${finding.shape}: ${failure.reason} (${finding.count} schedule${
        finding.count === 1 ? "" : "s"
      }: ${finding.schedules.join(", ")})`,
    );
    console.log(
      `  minimal, ${describeRate(failure.rate)}: ${failure.minimal.map((f) => f.spec).join("  ")}`,
    );
    console.log(
      `  from schedule ${failure.schedule}, ${describeRate(failure.originalRate)}: ${
        failure.original.map((f) => f.spec).join("  ")
      }`,
    );
    console.log(`  shrinking: ${shrinkNote(failure)}`);
    if (failure.history) {
      console.log(`  history (${failure.history.model}): ${failure.history.reason}`);
    }
    console.log(`  ${replayOf(failure.minimal)}`);
  });
  const other = result.schedules.filter((s) => s.status !== "pass" && s.status !== "fail");
  if (other.length > 0) {
    console.log("\nschedules that judged nothing or could not run");
    console.log(
      table([
        ["#", "status", "reason"],
        ...other.map((s) => [String(s.index), s.status, s.reason]),
      ]),
    );
  }
  console.log("\ncoverage");
  console.log(table([
    ["kind", "drawn", "fired"],
    ...coverage.kinds.map((k) => [k.kind, String(k.drawn), String(k.fired)]),
  ]));
  console.log(table([
    ["node", "drawn", "fired"],
    ...coverage.nodes.map((n) => [n.node, String(n.drawn), String(n.fired)]),
  ]));
  if (result.excluded.length > 0) {
    console.log(`not drawn: ${result.excluded.map((e) => `${e.kind} (${e.why})`).join("; ")}`);
  }
  console.log(
    `never drawn: ${list(coverage.neverDrawn)}; drawn, never fired: ${
      list(coverage.neverFired)
    }; ${coverage.crashStates} distinct crash states; ${coverage.combinations} distinct combinations of kinds fired`,
  );
}

/**
 * The report as JUnit XML: a case per schedule, failed with its finding's minimal schedule
 * and replay command, skipped when it judged nothing (its first fault never fired, or its
 * check could not run), failed too when the replay refused it.
 *
 * @example
 * ```ts
 * exploreJunit("run.trace", result, replayOf); // '<?xml version="1.0" ...'
 * ```
 */
export function exploreJunit(
  trace: string,
  result: ExploreResult,
  replayOf: ReplayCommandOf,
): string {
  const failureOf = new Map(result.failures.map((f) => [f.schedule, f]));
  const cases = result.schedules.map((schedule): JunitCase => {
    const name = `schedule ${schedule.index}: ${schedule.faults.join(" ")}`;
    const failure = failureOf.get(schedule.index);
    if (failure) {
      return {
        name,
        classname: trace,
        failure: {
          message: failure.reason,
          text: `minimal, ${describeRate(failure.rate)}: ${
            failure.minimal.map((f) => f.spec).join(" ")
          }\n${replayOf(failure.minimal)}`,
        },
      };
    }
    if (schedule.status === "error") {
      return { name, classname: trace, failure: { message: schedule.reason, text: "" } };
    }
    if (schedule.status === "not-reached" || schedule.status === "inconclusive") {
      return { name, classname: trace, skipped: schedule.reason };
    }
    return { name, classname: trace };
  });
  return junitXml([{ name: `explore ${trace} seed ${result.seed}`, cases }]);
}
