import assert from "node:assert/strict";
import { assignShards, linkedGroups, parseShard, shardFromIndex } from "./shard.ts";
import { SweepError } from "./errors.ts";

Deno.test("shard: K/N parses; anything else is refused naming what was found", () => {
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  assert.deepEqual(parseShard("1/1"), { index: 1, count: 1 });
  for (const bad of ["0/3", "4/3", "3", "a/b", "1/0", "-1/2"]) {
    assert.throws(() => parseShard(bad), (e) => e instanceof SweepError && e.kind === "usage");
  }
  assert.throws(() => parseShard("4/3"), /found "4\/3"/);
});

Deno.test("shard: an index from 0 in a variable (JOB_COMPLETION_INDEX) is shard index+1", () => {
  assert.deepEqual(shardFromIndex("0", 3, "JOB_COMPLETION_INDEX"), { index: 1, count: 3 });
  assert.deepEqual(shardFromIndex("2", 3, "JOB_COMPLETION_INDEX"), { index: 3, count: 3 });
  assert.throws(() => shardFromIndex("3", 3, "J"), /\$J is 3, not an index below --shards 3/);
  assert.throws(() => shardFromIndex(undefined, 3, "J"), /it is not set/);
  assert.throws(() => shardFromIndex("x", 3, "J"), /found "x"/);
});

Deno.test("shard: linked points form one group; every point lands in exactly one shard", () => {
  const groups = linkedGroups([1, 2, 3, 4, 5], [[1, 3], [3, 5], [2, 2]], () => 1);
  assert.deepEqual(
    groups.map((g) => g.points).sort((a, b) => a[0] - b[0]),
    [[1, 3, 5], [2], [4]],
  );
  for (const count of [1, 2, 3, 7]) {
    const shardOf = assignShards(groups, count);
    assert.equal(shardOf.size, 5);
    assert.equal(shardOf.get(1), shardOf.get(3));
    assert.equal(shardOf.get(3), shardOf.get(5));
    for (const shard of shardOf.values()) assert.ok(shard >= 1 && shard <= count);
  }
});

Deno.test("shard: the split is deterministic and balanced by cost", () => {
  const points = Array.from({ length: 100 }, (_, i) => i);
  const links: [number, number][] = points.filter((p) => p % 3 !== 0).map((p) => [p, p - (p % 3)]);
  const groups = linkedGroups(points, links, (p) => (p % 3 === 0 ? 1 : 0));
  const a = assignShards(groups, 4);
  const b = assignShards([...groups].reverse(), 4);
  assert.deepEqual([...a].sort(), [...b].sort(), "the order groups come in does not matter");
  const load = [0, 0, 0, 0];
  for (const group of groups) load[a.get(group.points[0])! - 1] += group.cost;
  assert.ok(Math.max(...load) - Math.min(...load) <= 1, `unbalanced: ${load}`);
});
