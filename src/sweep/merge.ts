/**
 * A sweep's results as a file (`faultline sweep ... --json FILE`), and the merge of the
 * shards' files into the result of the whole sweep (`faultline merge`). The merge refuses
 * files of different traces or different sweeps, a shard given twice and a missing shard,
 * naming the files: a merged report that silently lacks points would pass what was never
 * checked.
 *
 * @module
 */

import type { Shard } from "./shard.ts";
import { countApart, type SweepPoint, type SweepResult } from "./result.ts";
import { type ErrorKind, FaultlineError } from "../util/errors.ts";

/** Shards that cannot be merged: of different traces or sweeps, missing, or twice. */
export class MergeError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}

/** The results of one sweep (or one shard of it), as `--json FILE` writes them. */
export interface SweepResultsFile {
  /** What the file is. */
  format: "faultline-sweep";
  /** Its version. */
  version: 1;
  /** The trace swept, as the command named it, and its SHA-256. */
  trace: { path: string; sha256: string };
  /** The sweep: fault, faults in force, point selection, and `--recovery` when given. */
  sweep: { fault: string; with: string[]; points: string; recovery?: string };
  /** The shard, or null for a whole sweep. */
  shard: Shard | null;
  /** The result, whole. */
  result: SweepResult;
}

/** A results file as read, with the name it was read from. */
export interface NamedResults<T> {
  /** The file's name, for messages. */
  name: string;
  /** Its contents. */
  data: T;
}

/**
 * Checks that a set of shards is complete and of one sweep, and returns it in shard order.
 *
 * @throws {MergeError} naming the files that differ, the shard given twice, or the ones missing.
 */
export function checkShards<T>(
  files: readonly NamedResults<T>[],
  shardOf: (data: T) => Shard | null,
  identity: (data: T) => string,
  describe: (data: T) => string,
): NamedResults<T>[] {
  if (files.length === 0) throw new MergeError("merge: give the shards' results files");
  const first = files[0];
  for (const file of files.slice(1)) {
    if (identity(file.data) !== identity(first.data)) {
      throw new MergeError(
        `merge: ${first.name} and ${file.name} are shards of different traces or sweeps: ${first.name} is ${
          describe(first.data)
        }; ${file.name} is ${describe(file.data)}`,
      );
    }
  }
  const count = shardOf(first.data)?.count ?? 1;
  const byIndex = new Map<number, NamedResults<T>>();
  for (const file of files) {
    const shard = shardOf(file.data) ?? { index: 1, count: 1 };
    if (shard.count !== count) {
      throw new MergeError(
        `merge: ${first.name} is one of ${count} shards, ${file.name} one of ${shard.count}`,
      );
    }
    const twice = byIndex.get(shard.index);
    if (twice) {
      throw new MergeError(
        `merge: shard ${shard.index}/${count} is given twice: ${twice.name} and ${file.name}`,
      );
    }
    byIndex.set(shard.index, file);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new MergeError(
      `merge: shard${missing.length > 1 ? "s" : ""} ${
        missing.map((i) => `${i}/${count}`).join(", ")
      } missing (given: ${files.map((f) => f.name).join(", ")})`,
    );
  }
  return [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!);
}

/**
 * Merges the shards of one sweep into the whole sweep's result: every point once, in op
 * order, the counts added up (the duration is the longest shard's).
 *
 * @throws {MergeError} when the files are not the complete shards of one sweep of one trace,
 *   or one holds a partial sweep (stopped by Ctrl-C).
 * @example
 * ```ts
 * const merged = mergeSweepShards([{ name: "1.json", data: one }, { name: "2.json", data: two }]);
 * merged.result.failed; // failing points of the whole sweep
 * ```
 */
export function mergeSweepShards(
  files: readonly NamedResults<SweepResultsFile>[],
): SweepResultsFile {
  for (const file of files) {
    if (file.data?.format !== "faultline-sweep" || file.data.version !== 1) {
      throw new MergeError(`merge: ${file.name} is not the results of a faultline sweep`);
    }
    const partial = file.data.result.partial;
    if (partial) {
      throw new MergeError(
        `merge: ${file.name} holds a partial sweep (stopped after ${file.data.result.points.length} of ${partial.pointsPlanned} points): run its shard again`,
      );
    }
  }
  const shards = checkShards(
    files,
    (data) => data.shard,
    (data) => JSON.stringify([data.trace.sha256, data.sweep]),
    (data) =>
      `a sweep of ${data.trace.path} (sha256 ${
        data.trace.sha256.slice(0, 12)
      }), --fault ${data.sweep.fault} --points ${data.sweep.points}${
        data.sweep.with.map((w) => ` --with ${w}`).join("")
      }${data.sweep.recovery ? ` --recovery ${data.sweep.recovery}` : ""}`,
  );
  const result = mergeSweepResults(shards.map((shard) => shard.data.result));
  return { ...shards[0].data, shard: null, result };
}

/**
 * The results of a sweep's shards as one: every point once, in op order, the counts
 * added up (the duration is the longest shard's).
 *
 * @throws {MergeError} when the points do not add up to the sweep's.
 * @example
 * ```ts
 * const whole = mergeSweepResults([first.result, second.result]);
 * ```
 */
export function mergeSweepResults(results: readonly SweepResult[]): SweepResult {
  const points: SweepPoint[] = results.flatMap((result) => result.points).sort((a, b) =>
    a.at - b.at
  );
  const sum = (pick: (result: SweepResult) => number | undefined) =>
    results.some((result) => pick(result) !== undefined)
      ? results.reduce((total, result) => total + (pick(result) ?? 0), 0)
      : undefined;
  const first = results[0];
  const expected = first.shard?.sweepPoints;
  if (expected !== undefined && points.length !== expected) {
    throw new MergeError(
      `merge: the shards hold ${points.length} points, the sweep has ${expected}`,
    );
  }
  const distinct = sum((r) => r.distinctCrashStates);
  const crashStates = sum((r) => r.crashStates);
  return {
    fault: first.fault,
    ...(first.with ? { with: first.with } : {}),
    points,
    passed: sum((r) => r.passed)!,
    failed: sum((r) => r.failed)!,
    notFired: sum((r) => r.notFired)!,
    ...countApart(points),
    ...(distinct !== undefined ? { distinctCrashStates: distinct } : {}),
    ...(crashStates !== undefined ? { crashStates } : {}),
    ...(first.recovery ? { recovery: first.recovery } : {}),
    replays: sum((r) => r.replays)!,
    ...(first.confirm !== undefined ? { confirm: first.confirm } : {}),
    durationMs: Math.max(...results.map((r) => r.durationMs)),
    ...(results.some((r) => r.runs)
      ? {
        runs: {
          resumed: results.reduce((n, r) => n + (r.runs?.resumed ?? 0), 0),
          booted: results.reduce((n, r) => n + (r.runs?.booted ?? 0), 0),
          reasons: [...new Set(results.flatMap((r) => r.runs?.reasons ?? []))],
        },
      }
      : {}),
    ...(first.checks
      ? {
        checks: {
          warm: [...new Set(results.flatMap((r) => r.checks?.warm ?? []))],
          cold: results.flatMap((r) => r.checks?.cold ?? []).filter((c, i, all) =>
            all.findIndex((d) => d.node === c.node) === i
          ),
        },
      }
      : {}),
  };
}
