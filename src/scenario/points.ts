/**
 * Fault points: which ops of a trace a sweep puts its fault at. Pure.
 *
 * @module
 */

import type { OpRecord } from "../trace/schema.ts";
import { ScenarioError } from "./errors.ts";

/** Narrows a selection of ops: to one disk (of one node), and to every k-th op of what is left. */
export interface PointFilter {
  /** Only the ops of this disk (and node, in a cluster). */
  disk?: { node?: string; name: string };
  /** Every k-th of the selected ops (the first, the k+1-th, ...). */
  every?: number;
}

/** Which ops of the trace are fault points. */
export type PointSelection =
  | ({ kind: "all" } & PointFilter)
  | ({ kind: "reads" } & PointFilter)
  | ({ kind: "writes" } & PointFilter)
  | ({ kind: "flushes" } & PointFilter)
  /** Op indices from `from` to `to`, both included. */
  | { kind: "range"; from: number; to: number }
  /** Every k-th op (0, k, 2k, ...). */
  | { kind: "every"; step: number };

const EXPECTED =
  "all, reads, writes, flushes (each with :[NODE/]DISK and ,every:K), N..M or every:K";

/**
 * Parses `--points`: `all`, `reads`, `writes` or `flushes`, each optionally of one disk
 * (`flushes:e1/data`) and thinned to every k-th (`flushes:e1/data,every:10`); `N..M`
 * (op indices, both included); or `every:K` (every op whose index is a multiple of K).
 *
 * @throws {ScenarioError} naming what was expected.
 * @example
 * ```ts
 * parsePoints("10..20"); // { kind: "range", from: 10, to: 20 }
 * ```
 */
export function parsePoints(text: string): PointSelection {
  const trimmed = text.trim();
  const kinded =
    /^(all|reads|writes|flushes)(?::(?:([a-z][a-z0-9-]*)\/)?([a-z][a-z0-9_-]*))?(?:,every:(\d+))?$/
      .exec(trimmed);
  if (kinded) {
    const [, kind, node, disk, every] = kinded;
    if (every !== undefined && Number(every) < 1) {
      throw new ScenarioError(`--points ${text}: every:K needs K of at least 1`);
    }
    return {
      kind: kind as "all" | "reads" | "writes" | "flushes",
      ...(disk !== undefined
        ? { disk: node !== undefined ? { node, name: disk } : { name: disk } }
        : {}),
      ...(every !== undefined ? { every: Number(every) } : {}),
    };
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
  throw new ScenarioError(`--points ${text}: expected ${EXPECTED}`);
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
  const filtered = (picked: readonly OpRecord[]): number[] => {
    if (selection.kind === "range" || selection.kind === "every") {
      return picked.map((op) => op.index);
    }
    const { disk, every } = selection;
    const onDisk = disk
      ? picked.filter((op) =>
        op.disk === disk.name && (disk.node === undefined || op.node === disk.node)
      )
      : picked;
    return (every ? onDisk.filter((_, i) => i % every === 0) : onDisk).map((op) => op.index);
  };
  switch (selection.kind) {
    case "all":
      return filtered(ops);
    case "reads":
      return filtered(ops.filter((op) => op.op === "read"));
    case "writes":
      return filtered(
        ops.filter((op) => op.op === "write" || op.op === "write-zeroes" || op.op === "trim"),
      );
    case "flushes":
      return filtered(ops.filter((op) => op.op === "flush"));
    case "range":
      return ops.filter((op) => op.index >= selection.from && op.index <= selection.to).map((op) =>
        op.index
      );
    case "every":
      return ops.filter((op) => op.index % selection.step === 0).map((op) => op.index);
  }
}
