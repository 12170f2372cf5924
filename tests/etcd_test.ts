/**
 * A real distributed system under faults: the three-member etcd 3.4 cluster of
 * scenarios/etcd-put.ts, recorded once, then swept at one of the leader's flushes in the
 * middle of the client's puts:
 *
 * - the leader's node loses power and comes back (`restart:e1`), warm: the point resumes the
 *   whole cluster from the run saved at its workloads' start, the client's later puts succeed
 *   (the others elected a new leader) and no acknowledged key is lost. An online point warm
 *   against cold is tests/cluster_warm_cold_test.ts's (a deterministic cluster, op by op);
 * - the whole cluster loses power, cold (`cold: true`, a boot per node) and warm: every
 *   member's check starts from its saved guest, and the crash state, verdict and oracle
 *   counts are the cold ones.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readTraceRecords, recordForReplay } from "./support/mod.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { parsePoints } from "../src/scenario/points.ts";
import type { SweepPoint, SweepResult } from "../src/sweep/result.ts";
import { sweep } from "../src/sweep/sweep.ts";
import { loadTrace } from "../src/trace/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";

/** What must be the same, cold or warm, of one point (the reason's wording carries timings). */
function comparable(point: SweepPoint) {
  return {
    at: point.at,
    fired: point.fired,
    pass: point.verdict.pass,
    oracle: point.oracle
      ? { acked: point.oracle.acked, found: point.oracle.found, lost: point.oracle.lost }
      : null,
    states: point.states?.outcomes.map((state) => ({ id: state.id, pass: state.verdict.pass })) ??
      null,
    error: point.error ?? null,
  };
}

Deno.test("etcd: the leader crashes and restarts mid-workload, warm, and the cluster loses power: later puts succeed, no acknowledged key is lost, the power loss's warm = cold", async () => {
  await using dir = await makePrivateDir("faultline-etcd-");
  const scenario = await loadScenario("scenarios/etcd-put.ts");
  const trace = join(dir.path, "etcd.trace");
  const { recorded, parent, prepared } = await recordForReplay(scenario, trace);
  assert.equal(recorded.oracle?.lost, 0);
  assert.equal(recorded.oracle?.acked, 16);

  const put8 = parent.lines.find((l) => l.kind === "step" && l.args.join(" ") === "put 8");
  assert.ok(put8, "the client marks its steps");
  const flush = parent.ordered.find((op) =>
    op.node === "e1" && op.op === "flush" && op.phase === "run" && op.index > put8.at
  );
  assert.ok(flush, "the leader flushed during the puts");

  const run = async (fault: string, cold: boolean): Promise<SweepResult> => {
    const outputDir = join(dir.path, `${fault.split(":")[0]}-${cold ? "cold" : "warm"}`);
    await Deno.mkdir(outputDir);
    return await sweep(parent, {
      fault,
      points: parsePoints(String(flush.index)),
      jobs: 1,
      confirm: 1,
      outputDir,
      keepData: false,
      prepared,
      cold,
    });
  };

  const reasons = (result: SweepResult) => result.points.map((p) => p.verdict.reason).join("; ");

  // The leader's node loses power at that flush and boots again a second later.
  const warm = await run("restart:e1,after=1s", false);
  const [point] = warm.points;
  assert.equal(point.fired, true, reasons(warm));
  assert.equal(point.verdict.pass, true, point.verdict.reason);
  assert.equal(point.oracle?.lost, 0, point.verdict.reason);
  assert.equal(warm.runs?.resumed, 1, `the warm point booted (${warm.runs?.reasons})`);

  const replay = await loadTrace(point.trace!);
  const crash = (await readTraceRecords(point.trace!)).events.find((e) =>
    e.event === "crash" && e.node === "e1"
  );
  assert.ok(crash, "e1 crashed");
  const later = replay.lines.filter((l) =>
    l.node === "e3" && l.phase === "run" && l.kind === "ack" && l.at > crash.at
  );
  assert.ok(later.length > 0, "the client's puts after the leader's crash were acknowledged");
  const restarted = replay.lines.filter((l) =>
    l.node === "e1" && l.phase === "restart" && l.kind === "phase"
  );
  assert.ok(restarted.length > 0, "the leader's node booted again");

  // The resumed point started from every member saved at its hold, after ops the save held to
  // the recording's. After the hold etcd's own timing orders its writes (a cold run's differ
  // from the recording's too): tests/cluster_warm_cold_test.ts compares a deterministic
  // cluster's ops after resuming, one by one.
  type WarmRunHeader = { nodes: Record<string, { state: string; opsBefore: number }> };
  const saved = (replay.header as { warm?: { run?: WarmRunHeader } }).warm!.run!;
  assert.deepEqual(Object.keys(saved.nodes).sort(), ["e1", "e2", "e3"]);
  assert.ok(Object.values(saved.nodes).every((n) => n.opsBefore > 0), JSON.stringify(saved));

  // The whole cluster loses power at the same flush: every member's check starts warm.
  const coldCut = await run("power-loss", true);
  const warmCut = await run("power-loss", false);
  assert.deepEqual(warmCut.checks?.warm, ["e1", "e2", "e3"], JSON.stringify(warmCut.checks));
  assert.deepEqual(coldCut.checks?.warm, [], "--cold started a member warm");
  // Each on its own first: a failure's reason then heads its report (a diff of the two can be long).
  assert.equal(coldCut.points[0].verdict.pass, true, `power-loss, cold: ${reasons(coldCut)}`);
  assert.equal(warmCut.points[0].verdict.pass, true, `power-loss, warm: ${reasons(warmCut)}`);
  assert.deepEqual(
    warmCut.points.map(comparable),
    coldCut.points.map(comparable),
    `power-loss: warm ${reasons(warmCut)}, cold ${reasons(coldCut)}`,
  );
  assert.equal(coldCut.points[0].oracle?.lost, 0, coldCut.points[0].verdict.reason);
});
