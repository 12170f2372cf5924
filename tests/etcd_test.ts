/**
 * A real distributed system under faults: the three-member etcd 3.4 cluster of
 * scenarios/etcd-put.ts, recorded, then replayed with its leader's node losing
 * power in the middle of the client's puts and coming back: the client's later puts
 * succeed (the others elected a new leader) and no acknowledged key is lost.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadTrace } from "../src/trace/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline } from "./_helpers.ts";

Deno.test("etcd: the leader crashes and restarts mid-workload; later puts succeed, no acknowledged key is lost", async () => {
  await using dir = await makePrivateDir("faultline-etcd-");
  const trace = join(dir.path, "etcd.trace");
  const recorded = await faultline(["record", "scenarios/etcd-put.ts", "-o", trace, "--json"], {
    timeoutMs: 400_000,
  });
  assert.equal(recorded.code, 0, recorded.text);
  const run = JSON.parse(recorded.stdout);
  assert.equal(run.oracle.lost, 0);
  assert.equal(run.oracle.acked, 16);

  // The leader's first flush once the client started its 8th put.
  const parent = await loadTrace(trace);
  const put8 = parent.lines.find((l) => l.kind === "step" && l.args.join(" ") === "put 8");
  assert.ok(put8, "the client marks its steps");
  const flush = parent.ordered.find((op) =>
    op.node === "e1" && op.op === "flush" && op.phase === "run" && op.index > put8.at
  );
  assert.ok(flush, "the leader flushed during the puts");

  const output = join(dir.path, "restart.trace");
  const replayed = await faultline([
    "replay",
    trace,
    "--fault",
    "restart:e1,after=1s",
    "--fault-at",
    String(flush.index),
    "-o",
    output,
    "--json",
  ], { timeoutMs: 400_000 });
  assert.equal(replayed.code, 0, replayed.text);
  const result = JSON.parse(replayed.stdout);
  assert.equal(result.fired, true);
  assert.equal(result.oracle.lost, 0, result.verdict.reason);

  const replay = await loadTrace(output);
  const crashedAt = (result.firings as { rule: string; index: number }[])[0].index;
  const later = replay.lines.filter((l) =>
    l.node === "e3" && l.phase === "run" && l.kind === "ack" && l.at > crashedAt
  );
  assert.ok(later.length > 0, "the client's puts after the leader's crash were acknowledged");
  const restarted = replay.lines.filter((l) =>
    l.node === "e1" && l.phase === "restart" && l.kind === "phase"
  );
  assert.ok(restarted.length > 0, "the leader's node booted again");
});
