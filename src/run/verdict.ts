/**
 * The verdict of a run against its scenario's expectations: exit codes,
 * output patterns, the durability oracle and timeouts. Pure.
 *
 * @module
 */

import type { Scenario } from "../scenario/schema.ts";
import type { HistoryVerdict } from "./history.ts";
import type { OracleResult } from "./oracle.ts";

/** How one boot of one node went. */
export interface PhaseOutcome {
  /** The node that booted. */
  node: string;
  /** What it booted for: its workload, its check, or its restart script. */
  phase: "run" | "check" | "restart";
  /** The exit code the guest reported, or null when it reported none. */
  exit: number | null;
  /** `exited`: QEMU ended by itself; `deadline`: killed at the phase's timeout; `aborted`: cut on purpose (a power loss). */
  how: "exited" | "deadline" | "aborted";
  /** An `error TEXT` line from the guest's init, when setting up failed. */
  error: string | null;
  /** The console text of this boot. */
  console: string;
  /** How long the boot took. */
  ms: number;
  /** Its phase script started (its `phase NAME` line came): the guest booted and set up. */
  started?: boolean;
  /** It said `report ready`: its service answered. */
  ready?: boolean;
  /** The phase of the run it booted in: a restart serving the check is the check's. */
  stage?: "run" | "check";
}

/**
 * The verdicts that are neither a pass nor a plain failure: `inconclusive`, the check could
 * not run (a guest that never booted, a script that never started), so nothing was judged;
 * `unavailable`, a node booted and its service never said it was ready (the system did not
 * recover). Neither is ever counted as a loss.
 */
export const VERDICT_KINDS = ["inconclusive", "unavailable"] as const;

/** Pass or fail, with the reason in one sentence. */
export interface Verdict {
  /** Everything held. */
  pass: boolean;
  /** Why, in one sentence. */
  reason: string;
  /** A failure that is not a plain one ({@link VERDICT_KINDS}). */
  kind?: typeof VERDICT_KINDS[number];
}

/**
 * The check phase could not run (a boot that never reached its script), or a node that
 * says when it is ready booted and never said it: judged before anything else, since what
 * follows (exit codes, the oracle's found keys) means nothing then.
 */
function inconclusiveOrUnavailable(
  scenario: Scenario,
  outcomes: readonly PhaseOutcome[],
): Verdict | null {
  const inCheck = outcomes.filter((o) => o.stage === "check");
  // The checks do not start when a node serving them never served (src/run/run.ts).
  const unchecked = inCheck.length > 0 && !inCheck.some((o) => o.phase === "check")
    ? "; the checks did not start"
    : "";
  const declared = new Set(scenario.nodes.filter((n) => n.ready).map((n) => n.name));
  const silent = inCheck.filter((o) => declared.has(o.node) && o.started && !o.ready);
  const unavailable = (node: PhaseOutcome, how = ""): Verdict => ({
    pass: false,
    kind: "unavailable",
    reason:
      `unavailable: ${node.node} booted and never reported ready after the crash${how}${unchecked}`,
  });
  // A node whose script ended by itself before it was ready is why the others were stopped
  // (src/run/run.ts), even those that had not reached their scripts yet: it is the one named.
  const ended = silent.find((o) => o.how === "exited" && o.exit !== null);
  if (ended) return unavailable(ended, ` (${scriptEnd(ended)})`);
  const never = inCheck.find((o) => o.started === false && o.error === null);
  if (never) {
    return {
      pass: false,
      kind: "inconclusive",
      reason: `inconclusive: the ${never.phase} boot of ${never.node} never reached its script (${
        never.how === "deadline" ? "timed out" : never.how
      } after ${Math.round(never.ms / 1000)} s)${unchecked}`,
    };
  }
  return silent.length > 0 ? unavailable(silent[0]) : null;
}

/**
 * How a phase script that ended by itself ended: its exit code, and the last line it
 * printed (its own words, such as a daemon's fatal error: not the kernel's, nor faultline's
 * report lines).
 */
function scriptEnd(outcome: PhaseOutcome): string {
  const what = outcome.phase === "check" ? "check" : "restart script";
  const own = outcome.console.split(/\r?\n/).filter((line) =>
    !/^\[\s*\d+\.\d+\]/.test(line.trim()) && !line.startsWith("faultline: ")
  ).join("\n");
  const last = lastConsoleLine(own);
  return `its ${what} exited ${outcome.exit}${last ? `; its last line: "${last}"` : ""}`;
}

function exitMatches(expected: number[] | "any", code: number): boolean {
  return expected === "any" || expected.includes(code);
}

function describeExpected(expected: number[] | "any"): string {
  return expected === "any" ? "any code" : expected.join(" or ");
}

/**
 * Judges a run. A boot cut on purpose (`how: "aborted"`, a power loss) has no
 * exit code to judge; with `judgeWorkloadExit: false` (runs with faults) the
 * workload may exit as it likes, and what must hold is the rest. A client history
 * (`history`) fails the run when it is invalid or cannot be read, and makes it
 * inconclusive when its search ran out of budget: unknown is never a pass.
 *
 * @example
 * ```ts
 * const verdict = judge(scenario, outcomes, oracle);
 * if (!verdict.pass) console.log(verdict.reason);
 * ```
 */
export function judge(
  scenario: Scenario,
  outcomes: readonly PhaseOutcome[],
  oracle: OracleResult | null,
  options: { judgeWorkloadExit?: boolean; history?: HistoryVerdict | null } = {},
): Verdict {
  const { expect } = scenario;
  const decided = inconclusiveOrUnavailable(scenario, outcomes) ??
    phaseFailure(scenario, outcomes, options.judgeWorkloadExit ?? true) ??
    outputFailure(scenario, outcomes);
  if (decided) return decided;
  if (expect.noLostAcks && oracle && oracle.lost > 0) {
    return {
      pass: false,
      reason: `${oracle.lost} acknowledged key${oracle.lost > 1 ? "s" : ""} lost (${
        oracle.lostKeys.join(", ")
      }${
        oracle.lost > oracle.lostKeys.length ? ", ..." : ""
      }): acked ${oracle.acked}, found ${oracle.found}`,
    };
  }
  const history = options.history;
  if (history && history.valid !== true) {
    return history.valid === "unknown"
      ? { pass: false, kind: "inconclusive", reason: history.reason }
      : { pass: false, reason: history.reason };
  }
  const parts = [];
  const run = outcomes.filter((o) => o.phase === "run" && o.how === "exited");
  if (run.length > 0) {
    parts.push(`workload exited ${[...new Set(run.map((o) => o.exit))].join(", ")}`);
  }
  const check = outcomes.filter((o) => o.phase === "check");
  if (check.length > 0) {
    parts.push(`check exited ${[...new Set(check.map((o) => o.exit))].join(", ")}`);
  }
  if (oracle && expect.noLostAcks) {
    parts.push(`${oracle.found} of ${oracle.acked} acknowledged keys found`);
  }
  if (history) parts.push(history.reason);
  return { pass: true, reason: parts.join("; ") || "every expectation holds" };
}

/** The first phase that failed on its own terms: a deadline, a setup error, an exit code. */
function phaseFailure(
  scenario: Scenario,
  outcomes: readonly PhaseOutcome[],
  judgeWorkloadExit: boolean,
): Verdict | null {
  const { expect, timeouts } = scenario;
  for (const outcome of outcomes) {
    const where = `${outcome.phase} phase of ${outcome.node}`;
    if (outcome.how === "deadline") {
      const limit = outcome.phase === "check" ? timeouts.checkMs : timeouts.runMs;
      const last = lastConsoleLine(outcome.console);
      return {
        pass: false,
        reason: `${where} timed out after ${Math.round(limit / 1000)} s${
          last ? `; its console's last line: ${JSON.stringify(last)}` : ""
        }`,
      };
    }
    // Under injected faults the workload may fail, and so may its setup (a mount that hit the fault).
    if (outcome.phase !== "check" && !judgeWorkloadExit) continue;
    if (outcome.error) {
      return { pass: false, reason: `${where}: the guest could not set up: ${outcome.error}` };
    }
    if (outcome.how === "aborted") continue;
    if (outcome.exit === null) {
      return { pass: false, reason: `${where}: the guest stopped without reporting an exit code` };
    }
    const expected = outcome.phase === "check" ? expect.checkExit : expect.workloadExit;
    if (!exitMatches(expected, outcome.exit)) {
      const what = outcome.phase === "check"
        ? "check"
        : outcome.phase === "run"
        ? "workload"
        : "restart script";
      return {
        pass: false,
        reason: `${what} on ${outcome.node} exited ${outcome.exit}, expected ${
          describeExpected(expected)
        }`,
      };
    }
  }
  return null;
}

/** What a guest last printed, so that a deadline says where it stood; long lines are cut. */
function lastConsoleLine(console: string): string | null {
  const lines = console.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
  const last = lines.at(-1);
  if (last === undefined) return null;
  return last.length > 120 ? `${last.slice(0, 117)}...` : last;
}

/** The first `expect.output` pattern the phases' console contradicts. */
function outputFailure(scenario: Scenario, outcomes: readonly PhaseOutcome[]): Verdict | null {
  for (const output of scenario.expect.output) {
    const pattern = new RegExp(output.pattern, output.flags);
    const text = outcomes.filter((o) => o.phase === output.phase).map((o) => o.console).join("\n");
    if (pattern.test(text) === output.absent) {
      return {
        pass: false,
        reason: `the ${output.phase} output ${
          output.absent ? "contains" : "lacks"
        } /${output.pattern}/`,
      };
    }
  }
  return null;
}
