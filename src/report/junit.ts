/**
 * JUnit XML, the format CI systems read test results from: one test suite per
 * sweep or scenario, one test case per fault point or expectation. Pure.
 *
 * @module
 */

import { escapeMarkup } from "./markup.ts";

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
      if (c.failure) {
        lines.push(
          `${open}>`,
          `      <failure message="${escape(c.failure.message)}">${
            escape(c.failure.text)
          }</failure>`,
          "    </testcase>",
        );
      } else if (c.skipped !== undefined) {
        lines.push(
          `${open}>`,
          `      <skipped message="${escape(c.skipped)}"/>`,
          "    </testcase>",
        );
      } else {
        lines.push(`${open}/>`);
      }
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}
