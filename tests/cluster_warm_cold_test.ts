/**
 * Warm clusters against cold ones, on real QEMU guests (fixtures/cluster-recovery.json:
 * three busybox nodes; in the check phase n1 and n2 restart in order and n3 checks n2's
 * log). An EIO at one of n2's writes during its workload, run cold (`cold: true`, a boot
 * per node) and warm (every node's check-phase guest saved once; the point resumed from
 * the whole cluster saved at its workloads' start), gives the same verdict and oracle
 * counts; and, the workload being deterministic, the resumed point's writes and flushes on
 * n2 up to its fault are the recording's, one by one (its ops before the hold are checked
 * against the recording's by the save). tests/etcd_test.ts compares a real system's
 * cluster, etcd, warm and cold, a power loss among its points.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { recordForReplay } from "./support/mod.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { parsePoints } from "../src/scenario/points.ts";
import type { SweepPoint, SweepResult } from "../src/sweep/result.ts";
import { sweep } from "../src/sweep/sweep.ts";
import { loadTrace } from "../src/trace/load.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";

/** What must be the same, cold or warm, of one point. */
function comparable(point: SweepPoint) {
  return {
    at: point.at,
    fired: point.fired,
    pass: point.verdict.pass,
    reason: point.verdict.reason,
    oracle: point.oracle
      ? { acked: point.oracle.acked, found: point.oracle.found, lost: point.oracle.lost }
      : null,
    states: point.states?.outcomes.map((state) => ({ id: state.id, pass: state.verdict.pass })) ??
      null,
    error: point.error ?? null,
  };
}

const signature = (op: OpRecord) => `${op.node}/${op.disk}/${op.op}:${op.offset}+${op.length}`;

Deno.test("warm = cold on a cluster: an EIO point, every node warm; a resumed point's ops before its fault are the recording's", async () => {
  await using dir = await makePrivateDir("faultline-cluster-warm-");
  const scenario = await loadScenario("fixtures/cluster-recovery.json");
  const trace = join(dir.path, "recovery.trace");
  const { parent, prepared } = await recordForReplay(scenario, trace);

  // One of n2's writes two thirds into its workload: after every node's hold in any run.
  const start = parent.lines.find((line) =>
    line.node === "n2" && line.kind === "phase" && line.args[0] === "run"
  )!;
  const writes = parent.ordered.filter((op) =>
    op.node === "n2" && op.op === "write" && op.index >= start.at
  );
  const eioAt = writes[Math.floor(writes.length * 2 / 3)].index;
  const what = `eio at ${eioAt}`;
  const run = async (cold: boolean): Promise<SweepResult> => {
    const outputDir = join(dir.path, cold ? "cold" : "warm");
    await Deno.mkdir(outputDir);
    return await sweep(parent, {
      fault: "eio",
      points: parsePoints(String(eioAt)),
      jobs: 1,
      confirm: 1,
      outputDir,
      keepData: false,
      prepared,
      cold,
    });
  };
  const cold = await run(true);
  const warm = await run(false);
  assert.ok(cold.points.length > 0, `${what}: no point`);
  assert.deepEqual(
    warm.checks?.warm,
    ["n1", "n2", "n3"],
    `${what}: not every node's check-phase guest was saved (${JSON.stringify(warm.checks)})`,
  );
  assert.deepEqual(cold.checks?.warm, [], `${what}: --cold started a node warm`);
  assert.deepEqual(warm.points.map(comparable), cold.points.map(comparable), what);

  assert.equal(cold.runs?.resumed, 0, `${what}: --cold resumed a run`);
  assert.equal(warm.runs?.resumed, 1, `${what}: the point booted (${warm.runs?.reasons})`);
  const point = await loadTrace(warm.points[0].trace!);
  type WarmRunHeader = { nodes: Record<string, { state: string; opsBefore: number }> };
  const saved = (point.header as { warm?: { run?: WarmRunHeader } }).warm!.run!;
  assert.deepEqual(Object.keys(saved.nodes).sort(), ["n1", "n2", "n3"]);
  // n2's writes and flushes up to its fault: those before its hold are the recording's
  // (openWarmRun checks them), and those the resumed run served are the recording's after
  // its workload started. Reads are left out: their sizes and order follow the page cache's
  // timing (a read the kernel makes by itself after a mount, readahead), cold runs too.
  const before = saved.nodes.n2.opsBefore;
  const recordedN2 = parent.ordered.filter((op) => op.node === "n2" && op.index <= eioAt);
  assert.ok(before > 0 && before < recordedN2.length, `${what}: n2's ops before its hold`);
  const changes = (op: OpRecord) => op.op !== "read";
  const expected = recordedN2.filter((op) => op.index >= start.at && changes(op)).map(signature);
  const served = point.ordered.filter((op) => op.node === "n2" && changes(op)).map(signature);
  assert.deepEqual(
    served.slice(0, expected.length),
    expected,
    `${what}: n2's writes and flushes after resuming, up to its fault, against the recording's`,
  );
  assert.equal(expected.at(-1), signature(parent.ordered.find((op) => op.index === eioAt)!));
});
