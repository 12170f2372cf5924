/**
 * The disk models against real clients on `faultline serve`'s fault layer: a disk that
 * lies about flushes (set live over the control socket), a limping disk whose latency
 * percentiles qemu-img bench lives through, and bad sectors that a write remaps.
 */

import assert from "node:assert/strict";
import { parseFaultSpec } from "../src/fault/spec.ts";
import { QmpClient } from "../src/qmp/client.ts";
import { selectCrashWrites } from "../src/run/crash_state.ts";
import { percentile } from "../src/trace/latency_stats.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import {
  faultline,
  qemuIo,
  qemuIoFailed,
  readTraceRecords,
  run,
  seededFill,
  serveImage,
} from "./support/mod.ts";

const MiB = 1024 * 1024;

async function volatileWrites(qmp: QmpClient): Promise<number> {
  const state = await qmp.execute("query-block-fault-state", { id: "vda" }) as Record<
    string,
    number
  >;
  return state["volatile-writes"];
}

Deno.test("set-block-fault-state lie-flush: flushes and FUA are acknowledged and make nothing durable, until none", async () => {
  await using served = await serveImage({ size: MiB });
  await using qmp = await QmpClient.connect(served.control, { timeoutMs: 5000 });
  // Each qemu-io flushes the disk as it exits (a lied flush too); with a writeback cache only
  // `write -f` carries FUA.
  const io = async (commands: string[]) => {
    const result = await qemuIo(served.uri(), commands, ["-t", "writeback"]);
    assert.equal(qemuIoFailed(result), false, result.text);
  };
  // An honest disk: a flush makes the write durable.
  await io(["write -P 0x11 0 4096", "flush"]);
  assert.equal(await volatileWrites(qmp), 0);

  await qmp.execute("set-block-fault-state", { id: "vda", state: "lie-flush" });
  await io(["write -P 0x22 4096 4096", "flush", "write -f -P 0x33 8192 4096"]);
  assert.equal(await volatileWrites(qmp), 2, "the lied flushes and FUA left both volatile");
  // The data is there to read: only durability was a lie.
  await io(["read -P 0x22 4096 4096", "read -P 0x33 8192 4096"]);

  // lie-flush:fua keeps flushes honest: the first makes the two writes durable at last.
  await qmp.execute("set-block-fault-state", { id: "vda", state: "lie-flush", "fua-only": true });
  await io(["flush", "write -f -P 0x44 12288 4096"]);
  assert.equal(await volatileWrites(qmp), 0);
  await qmp.execute("set-block-fault-state", { id: "vda", state: "none" });
  await io(["write -f -P 0x55 16384 4096"]);

  // The trace says which ops were lied about, and a power loss built from it drops their writes.
  await served.service.close("done");
  const ops = (await readTraceRecords(served.trace)).ops.map((op) => ({ ...op, phase: "run" }));
  const describe = (op: OpRecord) =>
    `${op.op}${op.fua ? " fua" : ""} ${op.offset}${op.fault ? ` ${op.fault.kind}` : ""}`;
  const lied = ops.filter((op) => op.fault?.kind === "lie-flush");
  assert.deepEqual(lied.filter((op) => op.op === "write").map(describe), [
    "write fua 8192 lie-flush",
    "write fua 12288 lie-flush",
  ]);
  const flushes = lied.filter((op) => op.op === "flush");
  assert.ok(flushes.length >= 2, "the explicit flush and the exit's");
  const switched = ops.find((op) => op.op === "write" && op.offset === 12288)!.index;
  assert.ok(flushes.every((op) => op.index < switched), "lie-flush:fua lies about no flush");
  const surviving = (cutAt: number) =>
    selectCrashWrites(ops, cutAt, { kind: "drop" }).writes.map((w) => w.record.offset);
  const after = (offset: number) => ops.find((op) => op.op === "write" && op.offset === offset)!;
  // Power lost after the lied flushes: only the honestly flushed write survives.
  assert.deepEqual(surviving(after(8192).index + 2), [0]);
  // After the honest flush: everything so far; the FUA write lied about is not durable.
  assert.deepEqual(surviving(after(12288).index + 1), [0, 4096, 8192]);
  // An honest FUA write is durable at once.
  assert.deepEqual(surviving(after(16384).index + 1), [0, 4096, 8192, 12288, 16384]);
  const text = await faultline(["trace", "show", served.trace]);
  assert.match(text.stdout, /flush .*lie-flush \(live\)/);
});

Deno.test("limp:p50=2ms,p99=150ms under qemu-img bench: the draws have those percentiles, trace stats shows at least them, and the same seed limps each op the same", async () => {
  const plan = { seed: 3, rules: [parseFaultSpec("limp:p50=2ms,p99=150ms")] };
  const bench = async (count: number) => {
    const served = await serveImage({ size: 64 * MiB, plan });
    try {
      const result = await run("qemu-img", [
        "bench",
        "-f",
        "raw",
        "-c",
        String(count),
        "-d",
        "16",
        "-s",
        "4096",
        served.uri(),
      ], { timeoutMs: 120_000 });
      assert.equal(result.code, 0, result.text);
      await served.service.close("done");
      const stats = await faultline(["trace", "stats", served.trace, "--json"]);
      assert.equal(stats.code, 0, stats.text);
      // A draw is keyed by the op's signature and occurrence, not by its arrival index: 16
      // requests in flight arrive in a different order each run.
      const seen = new Map<string, number>();
      const injected = new Map((await readTraceRecords(served.trace)).ops.map((op) => {
        const signature = `${op.op} ${op.offset} ${op.length}`;
        const occurrence = (seen.get(signature) ?? 0) + 1;
        seen.set(signature, occurrence);
        return [`${signature} #${occurrence}`, op.fault?.detail?.latencyMs];
      }));
      return { latency: JSON.parse(stats.stdout).latency["serve/vda"].read, injected };
    } finally {
      await served.stop();
    }
  };
  const first = await bench(10_000);
  assert.equal(first.latency.count, 10_000);
  // The draws themselves are the distribution asked for (within 20% over 10,000 draws).
  const draws = Float64Array.from(first.injected.values() as Iterable<number>).sort();
  const drawn = {
    p50: percentile(draws, 50),
    p90: percentile(draws, 90),
    p99: percentile(draws, 99),
  };
  const off = (value: number, target: number) => Math.abs(value / target - 1);
  assert.ok(
    off(drawn.p50, 2) < 0.2 && off(drawn.p99, 150) < 0.2,
    `drawn p50 ${drawn.p50} ms (target 2 ms), p99 ${drawn.p99} ms (target 150 ms)`,
  );
  assert.ok(drawn.p90 > drawn.p50 && drawn.p99 > drawn.p90);
  // What qemu-img lived through, as trace stats shows it, counts from each op's arrival: never
  // less than its draw, so each percentile is at least the draws' (the host adds its scheduling).
  for (const q of ["p50", "p90", "p99"] as const) {
    assert.ok(
      first.latency[q] >= drawn[q] - 0.001,
      `trace stats ${q} ${first.latency[q]} ms is below the drawn ${drawn[q]} ms`,
    );
  }

  // Again with the same seed: each op limps by exactly the same latency.
  const again = await bench(2000);
  let compared = 0;
  for (const [op, latency] of again.injected) {
    assert.equal(typeof latency, "number", `${op} limped`);
    assert.equal(latency, first.injected.get(op), op);
    compared++;
  }
  assert.equal(compared, 2000);
});

Deno.test("bad-sectors: qemu-io reads fail until a write covers them, then read the written data", async () => {
  await using served = await serveImage({
    size: 4 * MiB,
    fill: seededFill(11),
    plan: { seed: 1, rules: [parseFaultSpec("bad-sectors:1M+8K")] },
  });
  const io = (commands: string[]) => qemuIo(served.uri(), commands);
  const failing = await io(["read 1M 4096"]);
  assert.match(failing.text, /read failed: Input\/output error/);
  assert.equal(qemuIoFailed(await io(["read 0 1M", "read 1056768 4096"])), false, "beside them");
  // A write remaps the sectors it covers; the rest stay bad.
  const write = await io(["write -P 0xab 1M 4096"]);
  assert.equal(qemuIoFailed(write), false, write.text);
  const healed = await io(["read -P 0xab 1M 4096"]);
  assert.equal(qemuIoFailed(healed), false, healed.text);
  assert.match((await io(["read 1052672 4096"])).text, /Input\/output error/);
  assert.equal(qemuIoFailed(await io(["write -z 1052672 4096", "read -P 0 1052672 4096"])), false);

  await served.service.close("done");
  const failed = (await readTraceRecords(served.trace)).ops.filter((op) => op.result === "eio");
  assert.deepEqual(
    failed.map((op) => [op.offset, op.fault?.kind, op.fault?.detail?.sectors]),
    [[MiB, "bad-sectors", [2048, 2056]], [MiB + 4096, "bad-sectors", [2056, 2064]]],
  );
});
