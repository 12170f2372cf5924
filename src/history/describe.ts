/**
 * Counterexamples and anomalies as text a person reads. Pure: strings out, printed by
 * the CLI.
 *
 * @module
 */

import type { Counterexample, CounterexampleOp } from "./counterexample.ts";
import type { PassAnomalies } from "./model.ts";

/**
 * A counterexample as lines of text: the op that cannot be linearized, the state the
 * longest partial linearization before it reached, then the window's ops per process in
 * time order, each with its place in the partial linearization and the state after it.
 *
 * @example
 * ```ts
 * describeCounterexample(result.counterexample!);
 * // process 1's read -> 1 (line 5) cannot be linearized
 * // after the longest partial linearization before it (2 of the key's 3 ops), in state 2;
 * // the window, shrunk to 2 ops, per process in time order (#: place in the partial linearization, from nil):
 * //   process 0  lines 3-4  write 2    #1  2
 * //   process 1  lines 5-6  read -> 1  cannot be linearized
 * ```
 */
export function describeCounterexample(example: Counterexample): string {
  const offending = example.offending;
  const last = example.ops.find((op) => op.linearizedAt === example.linearized.length);
  const state = last?.stateAfter ?? example.initialState;
  const key = example.key === undefined ? "" : `key ${example.key}: `;
  const lines = [
    `${key}process ${offending.process}'s ${offending.description} (${
      lineOf(offending)
    }) cannot be linearized`,
    `after the longest partial linearization before it (${example.keyLinearized} of the ${
      example.key === undefined ? "history's" : "key's"
    } ${example.keyOps} ops), in state ${state};`,
    `the window, ${example.minimal ? "shrunk" : "partly shrunk (its budget ran out)"} to ${
      count(example.ops.length, "op")
    }, per process in time order (#: place in the partial linearization, from ${example.initialState}):`,
  ];
  const rows = [...example.ops]
    .sort((a, b) => a.process - b.process || a.invokeIndex - b.invokeIndex)
    .map((op) => [
      `process ${op.process}`,
      spanOf(op),
      op.description,
      op.offending
        ? "cannot be linearized"
        : op.linearizedAt === null
        ? op.status === "info"
          ? "not linearized (indeterminate: may never have happened)"
          : "not linearized"
        : `#${op.linearizedAt}  ${op.stateAfter}`,
    ]);
  return [...lines, ...columns(rows).map((row) => `  ${row}`)].join("\n");
}

/**
 * A pass model's anomalies in one line: each non-empty category with its count and
 * examples, counts of what holds after.
 *
 * @example
 * ```ts
 * describeAnomalies({ counts: { attempted: 2, lost: 1 }, examples: { lost: ["1"] } });
 * // "lost 1 (1); attempted 2"
 * ```
 */
export function describeAnomalies(anomalies: PassAnomalies): string {
  const names = Object.keys(anomalies.counts);
  const found = names.filter((name) => name in anomalies.examples).map((name) => {
    const examples = anomalies.examples[name];
    const more = anomalies.counts[name] > examples.length ? ", ..." : "";
    return `${name} ${anomalies.counts[name]} (${examples.join(", ")}${more})`;
  });
  const rest = names.filter((name) => !(name in anomalies.examples) && anomalies.counts[name] > 0)
    .map((name) => `${name} ${anomalies.counts[name]}`);
  return [...found, rest.join(", ")].filter((part) => part !== "").join("; ");
}

function lineOf(op: CounterexampleOp): string {
  if (op.completeLine === null) return `line ${op.invokeLine}, never completed`;
  return `lines ${op.invokeLine}-${op.completeLine}`;
}

function spanOf(op: CounterexampleOp): string {
  if (op.completeLine === null) return `line ${op.invokeLine}, never completed`;
  if (op.status === "info") return `lines ${op.invokeLine}-${op.completeLine} (info)`;
  return `lines ${op.invokeLine}-${op.completeLine}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Rows of cells as aligned columns (the last one left ragged). */
function columns(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row) =>
    row.map((cell, i) => i < row.length - 1 ? cell.padEnd(widths[i]) : cell).join("  ")
  );
}
