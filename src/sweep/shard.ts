/**
 * Shards: a sweep's points split over N machines (`--shard K/N` on each, one merge at
 * the end), the way test runners shard. The split is a pure function of the sweep's plan,
 * so every machine computes the same one from the same trace and options. Points whose
 * crash states are byte-identical are checked once, by one of them: such points form one
 * group and stay in one shard, so the dedup works as in the whole sweep. Groups go to the
 * shard with the fewest checks so far, the largest first (ties to the lowest shard).
 *
 * @module
 */

import { SweepError } from "./errors.ts";

/** One shard of N: `index` counts from 1. */
export interface Shard {
  /** This shard, from 1 to `count`. */
  index: number;
  /** How many shards there are. */
  count: number;
}

/**
 * Parses `K/N` (1 <= K <= N).
 *
 * @throws {SweepError} naming what was found.
 * @example
 * ```ts
 * parseShard("2/3"); // { index: 2, count: 3 }
 * ```
 */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw new SweepError(
      `--shard: expected K/N with 1 <= K <= N, such as 2/3, found ${JSON.stringify(text)}`,
    );
  }
  return { index, count };
}

/**
 * The shard of an index from 0, such as a Kubernetes Indexed Job's
 * `JOB_COMPLETION_INDEX`, among `count` shards.
 *
 * @throws {SweepError} when the value is not an index below `count`.
 * @example
 * ```ts
 * shardFromIndex("0", 3, "JOB_COMPLETION_INDEX"); // { index: 1, count: 3 }
 * ```
 */
export function shardFromIndex(value: string | undefined, count: number, name: string): Shard {
  if (value === undefined || !/^\d+$/.test(value.trim())) {
    throw new SweepError(
      `--shard-index-env ${name}: expected an index from 0 in $${name}, found ${
        value === undefined ? "nothing (it is not set)" : JSON.stringify(value)
      }`,
    );
  }
  const index = Number(value.trim());
  if (!Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new SweepError(
      `--shard-index-env ${name}: $${name} is ${index}, not an index below --shards ${count}`,
    );
  }
  return { index: index + 1, count };
}

/**
 * Splits groups of points over the shards: `groups` are the points that must stay
 * together (each a list of point indices) with their cost (the checks they take).
 * Returns the shard (from 1) of every point. Pure and deterministic.
 *
 * @example
 * ```ts
 * assignShards([{ points: [3, 5], cost: 1 }, { points: [7], cost: 1 }], 2);
 * // Map { 3 => 1, 5 => 1, 7 => 2 }
 * ```
 */
export function assignShards(
  groups: readonly { points: readonly number[]; cost: number }[],
  count: number,
): Map<number, number> {
  const order = groups
    .map((group) => ({ ...group, first: Math.min(...group.points) }))
    .sort((a, b) => b.cost - a.cost || a.first - b.first);
  const load = new Array<number>(count).fill(0);
  const shardOf = new Map<number, number>();
  for (const group of order) {
    let least = 0;
    for (let i = 1; i < count; i++) if (load[i] < load[least]) least = i;
    load[least] += group.cost;
    for (const point of group.points) shardOf.set(point, least + 1);
  }
  return shardOf;
}

/**
 * Points that must stay together: those linked by `links` (pairs of points whose crash
 * states are byte-identical), each group with its cost.
 *
 * @example
 * ```ts
 * linkedGroups([1, 2, 3], [[1, 3]], (p) => 1); // [{ points: [1, 3], cost: 2 }, { points: [2], cost: 1 }]
 * ```
 */
export function linkedGroups(
  points: readonly number[],
  links: Iterable<readonly [number, number]>,
  cost: (point: number) => number,
): { points: number[]; cost: number }[] {
  const parent = new Map(points.map((p) => [p, p]));
  const find = (p: number): number => {
    let root = p;
    while (parent.get(root)! !== root) root = parent.get(root)!;
    parent.set(p, root);
    return root;
  };
  for (const [a, b] of links) {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
  }
  const groups = new Map<number, number[]>();
  for (const point of points) {
    const root = find(point);
    groups.set(root, [...(groups.get(root) ?? []), point]);
  }
  return [...groups.values()].map((group) => ({
    points: group,
    cost: group.reduce((sum, point) => sum + cost(point), 0),
  }));
}
