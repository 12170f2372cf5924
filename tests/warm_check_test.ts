/**
 * Warm checks against real QEMU: the saved check guest has read no disk (its disks were
 * served by the fault layer while it booted and saved, and served no op), and checks
 * started from one saved state, taken from the cache of saved guests where an earlier
 * session kept it, each see their own crash state, as cold checks do; the trace of a warm
 * check names the saved state it started from.
 *
 * @module
 */

import { TCG } from "../src/vm/accel.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareForReplay, readParent, replay } from "../src/replay/replay.ts";
import { RTC_BASE } from "../src/run/boot.ts";
import { runScenario } from "../src/run/run.ts";
import { openWarmChecks } from "../src/run/warm.ts";
import { pinningOfTrace } from "../src/run/pinning.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { loadTrace } from "../src/trace/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { RESULTS_DISK_SIZE, RESULTS_SERIAL } from "../src/vm/results.ts";
import { saveGuestState, startFromState } from "../src/vm/snapshot.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { serveImage } from "./support/mod.ts";

const scenario = await loadScenario("scenarios/fsync-log.ts");

Deno.test("warm check: the saved check guest has read no disk, and its start reads them", async () => {
  await using dir = await makePrivateDir("faultline-warm-test-");
  const parentPrepared = await prepareForReplay(
    await recorded(join(dir.path, "fsync.trace")),
  );
  const guest = parentPrepared.guests.get("app")!;
  const base = parentPrepared.bases[0];
  // The disks of the guest being saved are served through the fault layer, which counts
  // every op: had the guest read a disk before its state was saved, the count would say so.
  const dataOps: OpRecord[] = [];
  const resultsOps: OpRecord[] = [];
  await using data = await serveImage({
    size: base.sizeBytes,
    name: "data",
    onRecord: (op) => dataOps.push(op),
  });
  await using results = await serveImage({
    size: RESULTS_DISK_SIZE,
    name: "results",
    onRecord: (op) => resultsOps.push(op),
  });
  const spec = {
    kernel: guest.kernel.path,
    accel: TCG,
    initrd: guest.initramfs.path,
    phase: "check",
    memoryBytes: scenario.nodes[0].memoryBytes,
    disks: [{ name: "data", uri: data.uri("data") }],
    results: { name: RESULTS_SERIAL, uri: results.uri("results") },
    rtcBase: RTC_BASE,
  };
  // Before the guest's kernel runs, QEMU (guessing the disk's geometry as it creates the
  // device) and the firmware (looking for a boot sector) read the first sector: the
  // kernel's own probe would read its partition table in pages. In a sweep these disks
  // hold no data at all (null-co); here they are served, to see every op.
  const state = await saveGuestState(spec, { hold: "disks", dir: dir.path, timeoutMs: 60_000 });
  assert.ok(dataOps.length > 0 && resultsOps.length > 0, "the served disks saw no op at all");
  for (const ops of [dataOps, resultsOps]) {
    const reads = ops.filter((op) => op.op !== "flush");
    assert.ok(
      reads.every((op) => op.op === "read" && op.offset === 0 && op.length <= 512),
      `the guest read a disk before its state was saved: ${
        JSON.stringify(reads.map(({ op, offset, length }) => ({ op, offset, length })))
      }`,
    );
  }
  const seen = dataOps.length;
  const devices = (await Deno.stat(state.devices)).size;
  assert.ok(devices < 4 * 1024 * 1024, `the device state is ${devices} bytes: memory went in it`);
  assert.match(state.id, /^[0-9a-f]{64}$/);

  // Started from the state, the guest loads its disk driver and reads the disks: the
  // count is not blind.
  const vm = await startFromState(
    { ...spec, qmpSocket: join(dir.path, "resumed.qmp") },
    state,
    { consoleLog: join(dir.path, "resumed.console") },
  );
  const exit = await vm.wait(60_000);
  assert.equal(exit.how, "exited", exit.stderr);
  const resumed = dataOps.slice(seen);
  assert.ok(
    resumed.some((op) => op.op === "read" && (op.offset > 0 || op.length > 512)),
    "the resumed guest read nothing: the count is blind",
  );
});

Deno.test("warm check: checks from one saved state, kept in the cache and taken from it, see their own crash states, as cold ones", async () => {
  await using dir = await makePrivateDir("faultline-warm-test-");
  const parent = await readParent(await recordedPath(join(dir.path, "fsync.trace")));
  const prepared = await prepareForReplay(parent);
  const options = {
    pinning: pinningOfTrace(parent.header),
    accel: TCG,
    cacheDir: join(dir.path, "cache"),
  };
  // The first session saves the guest into a cache of its own; the second takes it from there.
  {
    await using saved = await openWarmChecks(parent.scenario, prepared, options);
    assert.deepEqual([...saved.states.keys()], ["app"]);
    assert.deepEqual(saved.cached, []);
  }
  await using warm = await openWarmChecks(parent.scenario, prepared, options);
  assert.deepEqual(warm.cached, ["app"]);
  const flushes = parent.ordered.filter((op) => op.op === "flush" && op.phase === "run");
  // The first flush of the workload, and its last: few records found, then all.
  const points = [flushes[0].index, flushes.at(-1)!.index];
  const found: Record<string, number[]> = { warm: [], cold: [] };
  for (const at of points) {
    for (const mode of ["warm", "cold"] as const) {
      const output = join(dir.path, `${mode}-${at}.trace`);
      const result = await replay(parent, {
        faults: ["power-loss"],
        faultAt: String(at),
        output,
        keepData: false,
        prepared,
        ...(mode === "warm" ? { warmChecks: warm.states } : {}),
      });
      found[mode].push(result.oracle?.found ?? -1);
      const header = (await loadTrace(output)).header as Record<string, unknown>;
      if (mode === "warm") {
        assert.deepEqual(header.warm, {
          check: {
            app: {
              hold: "disks",
              phase: "check",
              state: warm.states.get("app")!.id,
              machine: warm.states.get("app")!.key,
            },
          },
        });
      } else {
        assert.equal(header.warm, undefined, "a cold check's trace names no saved state");
      }
    }
  }
  assert.deepEqual(found.warm, found.cold);
  assert.ok(found.warm[0] < found.warm[1], `found ${found.warm}: the two states were not distinct`);
});

async function recordedPath(path: string): Promise<string> {
  const result = await runScenario({
    scenario,
    trace: { path, keepData: true },
    command: "record",
  });
  assert.ok(result.verdict.pass, result.verdict.reason);
  return path;
}

async function recorded(path: string) {
  return await readParent(await recordedPath(path));
}
