import assert from "node:assert/strict";
import { progressEvent, shardOption } from "./sweep.ts";

Deno.test("sweep CLI: --shard K/N, or the shard from a variable with --shards", () => {
  assert.equal(shardOption({}), undefined);
  assert.deepEqual(shardOption({ shard: "2/3" }), { index: 2, count: 3 });
  Deno.env.set("FAULTLINE_TEST_SHARD_INDEX", "2");
  try {
    assert.deepEqual(
      shardOption({ shardIndexEnv: "FAULTLINE_TEST_SHARD_INDEX", shards: 3 }),
      { index: 3, count: 3 },
    );
    assert.throws(
      () => shardOption({ shardIndexEnv: "FAULTLINE_TEST_SHARD_INDEX", shards: 2 }),
      /not an index below --shards 2/,
    );
  } finally {
    Deno.env.delete("FAULTLINE_TEST_SHARD_INDEX");
  }
  assert.throws(() => shardOption({ shardIndexEnv: "X" }), /needs --shards N/);
  assert.throws(() => shardOption({ shards: 3 }), /goes with --shard-index-env/);
  assert.throws(
    () => shardOption({ shard: "1/2", shardIndexEnv: "X", shards: 2 }),
    /not both/,
  );
});

Deno.test("sweep CLI: a progress event is one JSON line with the counts and the ETA", () => {
  const line = progressEvent({
    done: 3,
    total: 10,
    points: { done: 7, total: 30 },
    statesChecked: 3,
    failed: 1,
    perMinute: 41.26,
    etaMs: 10_181.4,
  });
  assert.ok(!line.includes("\n"));
  assert.deepEqual(JSON.parse(line), {
    event: "progress",
    points: 7,
    pointsTotal: 30,
    replays: 3,
    replaysTotal: 10,
    statesChecked: 3,
    failed: 1,
    perMinute: 41.3,
    etaMs: 10181,
  });
});
