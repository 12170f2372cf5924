/**
 * `ci`'s results as a file (`faultline ci --shard K/N --json FILE`), and the merge of the
 * shards' files: each declared sweep's points joined and judged again as a whole, each
 * single point taken from the shard that ran it.
 *
 * @module
 */

import { checkShards, MergeError, mergeSweepResults, type NamedResults } from "../sweep/merge.ts";
import type { Shard } from "../sweep/shard.ts";
import { type CiCheck, sweepVerdict } from "./ci.ts";

/** The results of `ci` (or one shard of it), as `--json FILE` writes them. */
export interface CiResultsFile {
  /** What the file is. */
  format: "faultline-ci";
  /** Its version. */
  version: 1;
  /** The shard, or null for a whole run. */
  shard: Shard | null;
  /** The trace of each scenario file: its path and SHA-256. */
  traces: Record<string, { path: string; sha256: string }>;
  /** The checks run. */
  checks: CiCheck[];
}

/**
 * Merges the shards of one `ci` run.
 *
 * @throws {MergeError} when the shards ran on different traces, or one is missing or twice.
 * @example
 * ```ts
 * const merged = mergeCiShards([{ name: "1.json", data: one }, { name: "2.json", data: two }]);
 * merged.checks.every((check) => check.pass);
 * ```
 */
export function mergeCiShards(files: readonly NamedResults<CiResultsFile>[]): CiResultsFile {
  for (const file of files) {
    if (file.data?.format !== "faultline-ci" || file.data.version !== 1) {
      throw new MergeError(`merge: ${file.name} is not the results of faultline ci`);
    }
  }
  const shards = checkShards(
    files,
    (data) => data.shard,
    (data) => JSON.stringify(Object.entries(data.traces).sort()),
    (data) =>
      `ci on ${
        Object.values(data.traces).map((t) => `${t.path} (sha256 ${t.sha256.slice(0, 12)})`)
          .join(", ")
      }`,
  );
  const checks: CiCheck[] = [];
  const parts = new Map<string, CiCheck[]>();
  for (const check of shards.flatMap((shard) => shard.data.checks)) {
    if (!check.part) {
      checks.push(check);
      continue;
    }
    const key = `${check.scenario}\n${check.name}`;
    if (!parts.has(key)) {
      parts.set(key, []);
      checks.push(check);
    }
    parts.get(key)!.push(check);
  }
  const merged = checks.map((check) => {
    if (!check.part) return check;
    const all = parts.get(`${check.scenario}\n${check.name}`)!;
    const { fault, trace } = check.part;
    const result = mergeSweepResults(all.map((part) => part.part!.result));
    const { part: _, ...rest } = check;
    return {
      ...rest,
      ...sweepVerdict(trace, fault, result),
      durationMs: Math.max(...all.map((part) => part.durationMs)),
    };
  });
  return { ...shards[0].data, shard: null, checks: merged };
}
