/**
 * JUnit XML, the format CI systems read test results from: one test suite per
 * sweep or scenario, one test case per fault point or expectation. Pure.
 *
 * @module
 */

import type { OracleResult } from "../run/oracle.ts";
import type { Verdict } from "../run/verdict.ts";
import { escapeMarkup } from "./markup.ts";
import type { Reproduced } from "../sweep/confirm.ts";
import { statusWord } from "../sweep/status.ts";

/** One test case. */
export interface JunitCase {
  name: string;
  /** The class name CI tools group cases by (the scenario or trace). */
  classname: string;
  timeSeconds?: number;
  /** Present when the case failed: a one-line message and a longer text (the reproduce command). */
  failure?: { message: string; text: string };
  /** Present when the case did not run as planned (a fault that never fired). */
  skipped?: string;
  /** What the case saw, as `<system-out>`: every point's verdict, oracle and trace. */
  output?: string;
}

/** One test suite. */
export interface JunitSuite {
  name: string;
  cases: readonly JunitCase[];
}

const escape = escapeMarkup;

/**
 * Renders suites as a JUnit XML document.
 *
 * @example
 * ```ts
 * junitXml([{ name: "fsync-log power-loss", cases: [{ name: "op 42", classname: "fsync-log" }] }]);
 * ```
 */
export function junitXml(suites: readonly JunitSuite[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = suites.flatMap((s) => s.cases);
  const failures = all.filter((c) => c.failure).length;
  const skipped = all.filter((c) => c.skipped !== undefined).length;
  lines.push(`<testsuites tests="${all.length}" failures="${failures}" skipped="${skipped}">`);
  for (const suite of suites) {
    const suiteFailures = suite.cases.filter((c) => c.failure).length;
    const suiteSkipped = suite.cases.filter((c) => c.skipped !== undefined).length;
    lines.push(
      `  <testsuite name="${
        escape(suite.name)
      }" tests="${suite.cases.length}" failures="${suiteFailures}" skipped="${suiteSkipped}">`,
    );
    for (const c of suite.cases) {
      const time = c.timeSeconds === undefined ? "" : ` time="${c.timeSeconds.toFixed(3)}"`;
      const open = `    <testcase name="${escape(c.name)}" classname="${
        escape(c.classname)
      }"${time}`;
      const inner = [
        ...(c.failure
          ? [
            `      <failure message="${escape(c.failure.message)}">${
              escape(c.failure.text)
            }</failure>`,
          ]
          : c.skipped !== undefined
          ? [`      <skipped message="${escape(c.skipped)}"/>`]
          : []),
        ...(c.output ? [`      <system-out>${escape(c.output)}</system-out>`] : []),
      ];
      if (inner.length === 0) lines.push(`${open}/>`);
      else lines.push(`${open}>`, ...inner, "    </testcase>");
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}

/** What a fault point's text in a case's `<system-out>` is made of. */
export interface PointFacts {
  /** The recorded op index the fault was put at. */
  at: number | null;
  /** The recorded op: `write 4096+1024`. */
  op?: string;
  /** Where the fault hit the workload. */
  where?: string;
  verdict: Verdict;
  fired: boolean;
  oracle: OracleResult | null;
  reproduce: string;
  /** The point's trace, when it was kept. */
  trace?: string;
  /** The point whose byte-identical crash state was checked for this one. */
  sameCrashAs?: number;
  /** A failing point: how often it failed in the runs it got. */
  reproduced?: Reproduced;
  /** The replay failed to run. */
  error?: string;
}

/**
 * A fault point in a few lines, for a case's `<system-out>`: its verdict, where it hit,
 * the oracle's counts, the command that replays it, and its trace when kept.
 *
 * @example
 * ```ts
 * pointText(point);
 * // "op 17 (write 4096+512): FAIL stable 3/3: 1 acknowledged key lost (5): acked 5, found 4\n  oracle: ..."
 * ```
 */
export function pointText(point: PointFacts): string {
  const status = statusWord(point);
  const at = point.at === null ? "the fault" : `op ${point.at}`;
  const oracle = point.oracle;
  return [
    `${at}${point.op ? ` (${point.op})` : ""}: ${status}: ${point.verdict.reason}`,
    ...(point.where ? [`  where: ${point.where}`] : []),
    ...(oracle
      ? [`  oracle: acked ${oracle.acked}, found ${oracle.found}, lost ${oracle.lost}`]
      : []),
    ...(point.sameCrashAs !== undefined
      ? [`  same crash state as op ${point.sameCrashAs}, checked once`]
      : []),
    `  reproduce: ${point.reproduce}`,
    ...(point.trace ? [`  trace: ${point.trace}`] : []),
  ].join("\n");
}
