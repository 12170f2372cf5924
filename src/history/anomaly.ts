/**
 * A counterexample in one sentence that names the anomaly, for a verdict's reason: `stale
 * read of key x: process 2 read 3 at 8.2 s after write 4 completed at 7.9 s`, or after an
 * indeterminate write `took effect (indeterminate: its client gave up at 5.0 s)`. Times are the
 * history's `:time` (nanoseconds), written in seconds; a history without times names lines.
 * Pure.
 *
 * @module
 */

import type { Counterexample, CounterexampleOp } from "./counterexample.ts";
import type { HistoryOp } from "./op.ts";
import { formatValue, type Value } from "./value.ts";

/** Functions that read without writing, as the models name them. */
const READS: ReadonlySet<string> = new Set(["read", "get"]);

/**
 * The anomaly a counterexample shows, in one sentence. `history` is the history checked
 * (its ops by `index`), for the values read and written.
 *
 * @example
 * ```ts
 * anomalyOf(result.counterexample!, ops);
 * // "stale read of key x: process 2 read 3 at 8.2 s after write 4 completed at 7.9 s"
 * ```
 */
export function anomalyOf(example: Counterexample, history: readonly HistoryOp[]): string {
  const offending = example.offending;
  const key = example.key === undefined ? "" : ` of key ${example.key}`;
  const read = offending.completeIndex === null
    ? undefined
    : history.find((op) => op.index === offending.completeIndex);
  if (!READS.has(offending.f) || read === undefined) {
    return `not linearizable${key}: process ${offending.process}'s ${offending.description}${
      at(offending, "invoke", 1)
    } fits no order of the ops around it`;
  }
  const value = formatValue(plainValue(read, example));
  const before = example.ops.filter((op) =>
    op !== offending && op.linearizedAt !== null && !READS.has(op.f) &&
    op.completeIndex !== null && op.completeIndex < offending.invokeIndex
  ).sort((a, b) => b.completeIndex! - a.completeIndex!);
  const missed = before[0];
  const written = wasWritten(value, example, history);
  const what = written === "yes"
    ? "stale read"
    : written === "no"
    ? "impossible read"
    : "non-linearizable read";
  const shown = missed && written === "yes" ? missed : undefined;
  const digits = decimals(offending.invokeTime, shown?.completeTime);
  const after = written === "no" ? ", a value no op wrote" : shown?.status === "info"
    // An indeterminate write has no completion: the search placed it before the read.
    ? ` after ${shown.description} took effect (indeterminate: its client gave up${
      at(shown, "complete", digits)
    })`
    : shown
    ? ` after ${shown.description} completed${at(shown, "complete", digits)}`
    : "";
  return `${what}${key}: process ${offending.process} read ${value}${
    at(offending, "invoke", digits)
  }${after}`;
}

/** A completion's value, its key taken out when the history gives keys as `[key value]` tuples. */
function plainValue(op: HistoryOp, example: Counterexample): Value {
  if (op.key !== undefined || example.key === undefined) return op.value;
  return Array.isArray(op.value) && op.value.length === 2 ? op.value[1] : op.value;
}

/**
 * Whether some op of the key could have left `value` (or it is the initial state); `unsure`
 * when the key has appends, whose values are parts of what a read sees.
 */
function wasWritten(
  value: string,
  example: Counterexample,
  history: readonly HistoryOp[],
): "yes" | "no" | "unsure" {
  if (value === example.initialState) return "yes";
  let answer: "yes" | "no" | "unsure" = "no";
  for (const op of history) {
    if (op.type !== "invoke" || READS.has(op.f) || typeof op.process !== "number") continue;
    if (example.key !== undefined && op.key !== undefined && formatValue(op.key) !== example.key) {
      continue;
    }
    if (op.f === "append") answer = "unsure";
    const written = plainValue(op, example);
    const to = op.f === "cas" && Array.isArray(written) ? written[written.length - 1] : written;
    if (formatValue(to) === value) return "yes";
  }
  return answer;
}

/** Decimals of seconds (1 to 3) that tell two times apart, when both are known. */
function decimals(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return 1;
  for (const digits of [1, 2]) {
    if ((a / 1e9).toFixed(digits) !== (b / 1e9).toFixed(digits)) return digits;
  }
  return 3;
}

/** ` at 8.2 s` from the op's invocation or completion time; ` (line N)` without times. */
function at(op: CounterexampleOp, end: "invoke" | "complete", digits: number): string {
  const time = end === "invoke" ? op.invokeTime : op.completeTime;
  if (time !== undefined) return ` at ${(time / 1e9).toFixed(digits)} s`;
  const line = end === "invoke" ? op.invokeLine : op.completeLine;
  return line === null ? "" : ` (line ${line})`;
}
