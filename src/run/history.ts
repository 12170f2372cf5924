/**
 * A run's client history: the guests' `report invoke|ok|fail|info PROCESS F [KEY] [VALUE]`
 * lines, each stamped by the host as it arrived (the run's op clock and its monotonic time),
 * with the faults and node events of the run as ops of the `nemesis`, in the order the host
 * heard them. The same trace events give the same history, live or read back from a trace.
 *
 * The stamps bound each op from outside: `report` returns only once the host has its line
 * (src/vm/results.ts), so an invocation is stamped before the client sends its request and a
 * completion after the answer came back. A stamp taken when the host merely received a line
 * the guest emitted without waiting could fall after the op took effect, and a checker would
 * then find stale reads that never happened (Porcupine's issue #40).
 *
 * @module
 */

import { anomalyOf } from "../history/anomaly.ts";
import { checkHistory, type HistoryCheckResult } from "../history/check.ts";
import type { Counterexample } from "../history/counterexample.ts";
import { describeAnomalies, describeCounterexample } from "../history/describe.ts";
import { readEdn } from "../history/edn.ts";
import { HistoryError } from "../history/errors.ts";
import type { HistoryOp } from "../history/op.ts";
import { reportedOp } from "../history/report_line.ts";
import type { HistoryExpectation } from "../scenario/schema.ts";
import type { GuestLine } from "../trace/load.ts";
import type { EventRecord } from "../trace/schema.ts";

/** Trace events that are the nemesis's ops in a history. */
const NEMESIS_EVENTS: ReadonlySet<string> = new Set([
  "fault",
  "link-fault",
  "node-fault",
  "node-resumed",
  "power-cut",
  "crash",
  "clock-jump",
]);

/** Every trace event a history is made of (the guests' lines, the nemesis's, the phases). */
export const HISTORY_EVENTS: ReadonlySet<string> = new Set([...NEMESIS_EVENTS, "guest", "phase"]);

/** One op of a run's history: Jepsen's fields, and where and when on the run's clocks. */
export interface RunHistoryOp extends HistoryOp {
  /** The node whose guest reported it, or `nemesis`'s: the node the fault hit, when one. */
  node: string;
  /** The boot's phase (`run`, `check`, `restart`), or the run's phase for a nemesis op. */
  phase: string;
  /** The run's op clock when it was heard: ops that had arrived. */
  at: number;
}

/** A run's history and the moments its phases began. */
export interface RunHistory {
  /** Client and nemesis ops, in the order the host heard them. */
  ops: RunHistoryOp[];
  /** When each phase began, in ms on the run's clock. */
  phases: { name: string; ms: number }[];
}

/**
 * The history of a run's trace events ({@link HISTORY_EVENTS}; others are skipped). The run
 * phase's client ops, and the check's with `check`; with `cutAt` (a power cut), a client op
 * heard after the cut is left out, so an op invoked before it never completes.
 *
 * @throws {HistoryError} naming the node, the phase and the line that cannot be read.
 * @example
 * ```ts
 * const history = runHistory(events, { check: false });
 * history.ops[0]; // { index: 0, type: "invoke", process: 0, f: "write", value: 3, node: "e2", ... }
 * ```
 */
export function runHistory(
  events: readonly EventRecord[],
  options: { check?: boolean; cutAt?: number } = {},
): RunHistory {
  const ops: RunHistoryOp[] = [];
  const phases: { name: string; ms: number }[] = [];
  let phase = "run";
  const sorted = [...events].sort((a, b) => a.time - b.time);
  for (const event of sorted) {
    if (event.event === "phase") {
      phase = String(event.name);
      phases.push({ name: phase, ms: event.time });
    } else if (event.event === "guest") {
      const op = clientOp(event, ops.length, options);
      if (op) ops.push(op);
    } else if (NEMESIS_EVENTS.has(event.event)) {
      ops.push(...nemesisOps(event, ops.length, phase));
    }
  }
  return { ops, phases };
}

/**
 * The `guest` events of a run's lines (a crash state's recorded run lines, which a replay
 * has as lines rather than events), for {@link runHistory}.
 *
 * @example
 * ```ts
 * runHistory([...linesAsEvents(crash.lines), ...events]);
 * ```
 */
export function linesAsEvents(lines: readonly GuestLine[]): EventRecord[] {
  return lines.map((line) => ({
    record: "event",
    event: "guest",
    at: line.at,
    time: line.time ?? 0,
    node: line.node,
    phase: line.phase,
    line: line.text ?? [line.kind, ...line.args].join(" "),
  }));
}

function clientOp(
  event: EventRecord,
  index: number,
  options: { check?: boolean; cutAt?: number },
): RunHistoryOp | null {
  const phase = String(event.phase);
  if (phase === "check" && !options.check) return null;
  if (phase !== "check" && options.cutAt !== undefined && event.at > options.cutAt) return null;
  const node = String(event.node);
  const op = reportedOp(String(event.line), {
    index,
    time: nanoseconds(event.time),
    where: `node ${node}, ${phase} phase`,
  });
  return op && { ...op, node, phase, at: event.at };
}

/** A fault or node event as the nemesis's invocation and `info` completion, at one moment. */
function nemesisOps(event: EventRecord, index: number, phase: string): RunHistoryOp[] {
  const { f, value, node } = nemesisWhat(event);
  const base = {
    process: "nemesis",
    f,
    key: undefined,
    value,
    time: nanoseconds(event.time),
    error: undefined,
    node,
    phase,
    at: event.at,
  };
  return [
    { ...base, index, type: "invoke", line: index + 1 },
    { ...base, index: index + 1, type: "info", line: index + 2 },
  ];
}

/** What the nemesis did: its function (the fault kind, `heal`, ...) and a value naming where. */
function nemesisWhat(event: EventRecord): { f: string; value: string; node: string } {
  const rule = String(event.rule ?? "");
  const kindOf = (spec: string) => spec.split(/[:@]/, 1)[0];
  switch (event.event) {
    case "fault":
      return {
        f: String(event.fault),
        value: `${event.disk} ${event.op} #${event.index}`,
        node: "",
      };
    case "link-fault":
      return {
        f: event.action === "healed" ? "heal" : kindOf(rule),
        value: rule,
        node: "",
      };
    case "node-fault":
    case "clock-jump":
      return { f: String(event.kind ?? event.event), value: rule, node: String(event.node) };
    case "node-resumed":
      return { f: "resume", value: String(event.node), node: String(event.node) };
    case "power-cut":
      return { f: "power-cut", value: `op ${event.index}`, node: "" };
    default:
      return {
        f: "crash-state",
        value: `op ${event.at}${event.node ? ` of ${event.node}` : ""}`,
        node: String(event.node ?? ""),
      };
  }
}

function nanoseconds(ms: number): number {
  return Math.round(ms * 1e6);
}

/** A run's history checked against the scenario's model. */
export interface HistoryVerdict {
  /** The model checked against. */
  model: string;
  /** true, false, "unknown" (a budget ran out: never valid), or "error" (a line that cannot be read). */
  valid: boolean | "unknown" | "error";
  /** One sentence: the anomaly (`stale read of key x: ...`), or what holds. */
  reason: string;
  /** Ops in the history (client and nemesis; each invocation and completion is one). */
  ops: number;
  /** Client ops checked. */
  checked: number;
  /** How long the check took, in ms. */
  ms: number;
  /** What the checker notes (indeterminate ops, the nemesis's left out). */
  notes: string[];
  /** The counterexample as text (lines are those of `faultline trace history`). */
  description?: string;
  /** The counterexample as data, for a timeline. */
  counterexample?: Counterexample;
}

/**
 * Checks a run's history against a scenario's `expect.history`. A line that cannot be
 * read, or a history that cannot be paired, is an `error` verdict naming it; a budget that
 * ran out is `unknown`.
 *
 * @example
 * ```ts
 * const verdict = checkRunHistory(runHistory(events), { model: "register", timeoutMs: 30_000, initial: null, mode: null, check: false });
 * verdict.reason; // "stale read of key x: process 2 read 3 at 8.2 s after write 4 completed at 7.9 s"
 * ```
 */
export function checkRunHistory(
  history: () => RunHistory,
  expectation: HistoryExpectation,
): HistoryVerdict {
  const model = expectation.model;
  let ops: RunHistoryOp[] = [];
  let result: HistoryCheckResult;
  try {
    ops = history().ops;
    result = checkHistory(ops, {
      model,
      timeoutMs: expectation.timeoutMs,
      ...(expectation.initial === null ? {} : { initial: readEdn(expectation.initial)[0].value }),
      ...(expectation.mode === null ? {} : { mode: expectation.mode }),
    });
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    return {
      model,
      valid: "error",
      reason: `the client history cannot be read: ${error.message}`,
      ops: ops.length,
      checked: 0,
      ms: 0,
      notes: [],
    };
  }
  return verdictOf(result, ops);
}

function verdictOf(result: HistoryCheckResult, ops: readonly RunHistoryOp[]): HistoryVerdict {
  const base = {
    model: result.model,
    valid: result.valid,
    ops: result.ops,
    checked: result.checked,
    ms: result.ms,
    notes: result.notes,
  };
  const counts = `${result.model}, ${result.checked} client ops, ${result.keys} ${
    result.keys === 1 ? "key" : "keys"
  }`;
  if (result.valid === true) return { ...base, reason: `history valid (${counts})` };
  if (result.valid === "unknown") {
    return { ...base, reason: `history unknown (${counts}): ${result.notes.at(-1)}` };
  }
  if (result.counterexample) {
    return {
      ...base,
      reason: anomalyOf(result.counterexample, ops),
      description: describeCounterexample(result.counterexample),
      counterexample: result.counterexample,
    };
  }
  return {
    ...base,
    reason: `history invalid (${counts}): ${describeAnomalies(result.anomalies!)}`,
  };
}
