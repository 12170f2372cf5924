/**
 * Fault points: which ops of a trace a sweep puts its fault at. Pure.
 *
 * @module
 */

import type { OpRecord } from "../trace/schema.ts";
import { ScenarioError } from "./errors.ts";

/** Which ops of the trace are fault points. */
export type PointSelection =
  | { kind: "all" }
  | { kind: "reads" }
  | { kind: "writes" }
  | { kind: "flushes" }
  /** Op indices from `from` to `to`, both included. */
  | { kind: "range"; from: number; to: number }
  /** Every k-th op (0, k, 2k, ...). */
  | { kind: "every"; step: number };

/**
 * Parses `--points`: `all`, `reads`, `writes`, `flushes`, `N..M` or `every:K`.
 *
 * @throws {ScenarioError} naming what was expected.
 * @example
 * ```ts
 * parsePoints("10..20"); // { kind: "range", from: 10, to: 20 }
 * ```
 */
export function parsePoints(text: string): PointSelection {
  const trimmed = text.trim();
  if (trimmed === "all" || trimmed === "reads" || trimmed === "writes" || trimmed === "flushes") {
    return { kind: trimmed };
  }
  const range = /^(\d+)\.\.(\d+)$/.exec(trimmed);
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])];
    if (to < from) {
      throw new ScenarioError(`--points ${text}: the range is empty (${to} < ${from})`);
    }
    return { kind: "range", from, to };
  }
  const every = /^every:(\d+)$/.exec(trimmed);
  if (every && Number(every[1]) >= 1) return { kind: "every", step: Number(every[1]) };
  throw new ScenarioError(
    `--points ${text}: expected all, reads, writes, flushes, N..M or every:K`,
  );
}

/**
 * The op indices a selection picks from a trace, in order. Only the run
 * phase's ops are picked, except by an explicit range `N..M` (which may reach
 * into the check, to hit the recovery code) when `runPhaseOnly` is false.
 */
export function selectPoints(
  ordered: readonly OpRecord[],
  selection: PointSelection,
  runPhaseOnly: boolean,
): number[] {
  const inRun = (op: OpRecord) => op.phase === undefined || op.phase === "run";
  const ops = runPhaseOnly || selection.kind !== "range" ? ordered.filter(inRun) : ordered;
  switch (selection.kind) {
    case "all":
      return ops.map((op) => op.index);
    case "reads":
      return ops.filter((op) => op.op === "read").map((op) => op.index);
    case "writes":
      return ops.filter((op) => op.op === "write" || op.op === "write-zeroes" || op.op === "trim")
        .map((op) => op.index);
    case "flushes":
      return ops.filter((op) => op.op === "flush").map((op) => op.index);
    case "range":
      return ops.filter((op) => op.index >= selection.from && op.index <= selection.to).map((op) =>
        op.index
      );
    case "every":
      return ops.filter((op) => op.index % selection.step === 0).map((op) => op.index);
  }
}
