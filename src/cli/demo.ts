/**
 * `faultline demo`: the main job on the built-in scenarios, from a fresh
 * machine: set-up, record scenarios/fsync-log.ts, replay it with an I/O error
 * and a power loss at chosen ops, catch the lost acknowledgements of the same
 * log mounted with barrier=0, and put the fault layer under a disk with faults
 * switched live.
 *
 * @module
 */

import { join } from "node:path";
import { exportUri } from "../nbd/uri.ts";
import { QmpClient } from "../qmp/client.ts";
import { type ParentTrace, readParent, replay } from "../replay/replay.ts";
import { describePrefix } from "../replay/signature.ts";
import { runScenario } from "../run/run.ts";
import { loadScenario } from "../scenario/load.ts";
import { DiskService } from "../service/disk_service.ts";
import { sweep } from "../sweep/sweep.ts";
import { hostCommand } from "../util/host_command.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { formatDuration } from "../util/units.ts";
import type { Scenario } from "../scenario/schema.ts";
import type { AccelChoice } from "../vm/accel.ts";
import { accelChooser } from "./accel.ts";
import { EXIT } from "./errors.ts";
import { ensurePackages } from "./setup.ts";
import { withInterrupt } from "./interrupt.ts";
import { printRun } from "./record.ts";

const step = (text: string) => console.log(`\n== ${text}`);

/** The data write of the log that holds record `n` (the first one). */
function dataWriteOf(
  ops: readonly { op: string; phase?: string; data?: Uint8Array; index: number }[],
  n: number,
) {
  const needle = `record ${n} `;
  return ops.find((op) =>
    op.phase === "run" && op.op === "write" && op.data &&
    new TextDecoder().decode(op.data).includes(needle)
  );
}

/** Runs the demo. Traces go to `traceDir` (kept), or to a private directory removed at the end. */
export async function demoCommand(
  options: { traceDir?: string; accel?: string },
): Promise<number> {
  const started = performance.now();
  step("set-up: Debian packages (QEMU, NBD tools), then the guest kernel and image");
  await ensurePackages({ quiet: false });
  const accelOf = await accelChooser(options.accel);
  await using scratch = await makePrivateDir("faultline-demo-");
  const traces = options.traceDir ?? scratch.path;
  await Deno.mkdir(traces, { recursive: true });
  await withInterrupt(async (signal) => {
    const run = { signal, accelOf };
    const parent = await recordFsyncLog(traces, run);
    await replayEio(parent, traces, run);
    await replayPowerLoss(parent, traces, run);
    await sweepNobarrier(traces, scratch.path, run);
    await etcdLyingDisks(traces, run);
  }, { kept: () => options.traceDir ? `the traces so far are in ${options.traceDir}` : "" });
  step("serve: the fault layer under any VM, with faults switched live");
  await serveWalkthrough(scratch.path);
  console.log(`\ndemo finished in ${formatDuration(performance.now() - started)}.`);
  if (!options.traceDir) {
    console.log(
      "The traces above were in a temporary directory, now removed: --trace-dir DIR keeps them.",
    );
  }
  console.log(
    "Next: faultline record|replay|sweep|ci (see --help), or faultline serve --image disk.raw for your own VM.",
  );
  return EXIT.pass;
}

/** What every step of the demo runs with: its signal, and each scenario's accelerator. */
interface DemoRun {
  signal: AbortSignal;
  accelOf: (scenario: Scenario) => AccelChoice;
}

async function recordFsyncLog(traces: string, run: DemoRun): Promise<ParentTrace> {
  step("record scenarios/fsync-log.ts: append a record, fsync, acknowledge; 16 times; then check");
  const trace = join(traces, "fsync-log.trace");
  const scenario = await loadScenario("scenarios/fsync-log.ts");
  const recorded = await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
    signal: run.signal,
    accel: run.accelOf(scenario),
  });
  printRun(recorded);
  return await readParent(trace);
}

async function replayEio(parent: ParentTrace, traces: string, run: DemoRun): Promise<void> {
  const target = dataWriteOf(parent.ordered, 5);
  if (!target) return;
  step(
    `replay with EIO at op ${target.index}, the write of record 5 (found again by its signature)`,
  );
  const eio = await replay(parent, {
    faults: ["eio"],
    faultAt: String(target.index),
    output: join(traces, "fsync-log.eio.trace"),
    keepData: false,
    signal: run.signal,
    accel: run.accelOf(parent.scenario),
  });
  const workload = eio.outcomes.find((o) => o.phase === "run");
  console.log(`  the workload exited ${workload?.exit} (its fsync saw the error)`);
  console.log(
    `  oracle: acked ${eio.oracle?.acked}, found ${eio.oracle?.found}, lost ${eio.oracle?.lost}`,
  );
  console.log(`  prefix: ${describePrefix(eio.prefix)}`);
  console.log(`  verdict: ${eio.verdict.pass ? "PASS" : "FAIL"}: ${eio.verdict.reason}`);
  console.log(`  reproduce: ${eio.reproduce}`);
}

async function replayPowerLoss(
  parent: ParentTrace,
  traces: string,
  run: DemoRun,
): Promise<void> {
  const flushes = parent.ordered.filter((op) => op.phase === "run" && op.op === "flush");
  const middle = flushes[Math.floor(flushes.length / 2)];
  step(
    `power loss at op ${middle.index} (a flush), built from the trace: only durable writes survive`,
  );
  const lost = await replay(parent, {
    faults: ["power-loss"],
    faultAt: String(middle.index),
    output: join(traces, "fsync-log.power-loss.trace"),
    keepData: false,
    signal: run.signal,
    accel: run.accelOf(parent.scenario),
  });
  console.log(
    `  ${lost.powerCut?.writesKept} writes kept, ${lost.powerCut?.dropped} volatile writes dropped; oracle: acked ${lost.oracle?.acked}, found ${lost.oracle?.found}`,
  );
  console.log(`  verdict: ${lost.verdict.pass ? "PASS" : "FAIL"}: ${lost.verdict.reason}`);
}

async function etcdLyingDisks(traces: string, run: DemoRun): Promise<void> {
  step(
    "etcd 3.4, three members, on disks that acknowledge flushes and make nothing durable: a power loss of the whole cluster",
  );
  const trace = join(traces, "etcd-lying-disks.trace");
  const scenario = await loadScenario("scenarios/etcd-lying-disks.ts");
  const recorded = await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
    signal: run.signal,
    accel: run.accelOf(scenario),
  });
  console.log(`  recorded: ${recorded.verdict.reason}`);
  const parent = await readParent(trace);
  const last = parent.ordered.findLast((op) => op.phase === "run" && op.op === "flush");
  if (!last) return;
  const lost = await replay(parent, {
    faults: ["power-loss", "lie-flush@any"],
    faultAt: String(last.index),
    output: join(traces, "etcd-lying-disks.power-loss.trace"),
    keepData: false,
    expect: { ...parent.scenario.expect, checkExit: "any" },
    signal: run.signal,
    accel: run.accelOf(parent.scenario),
  });
  console.log(
    `  every member's fsync succeeded; after the power loss: acked ${lost.oracle?.acked}, found ${lost.oracle?.found}`,
  );
  console.log(`  verdict: ${lost.verdict.pass ? "PASS" : "FAIL"}: ${lost.verdict.reason}`);
  console.log(`  reproduce: ${lost.reproduce}`);
}

async function sweepNobarrier(traces: string, scratch: string, run: DemoRun): Promise<void> {
  step("the same log on ext4 mounted with barrier=0: a power-loss sweep over every op");
  const trace = join(traces, "fsync-log-nobarrier.trace");
  const scenario = await loadScenario("scenarios/fsync-log-nobarrier.ts");
  const accel = run.accelOf(scenario);
  await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
    signal: run.signal,
    accel,
  });
  const swept = await sweep(await readParent(trace), {
    fault: "power-loss",
    points: { kind: "all" },
    jobs: navigator.hardwareConcurrency ?? 2,
    outputDir: scratch,
    keepData: false,
    accel,
    signal: run.signal,
  });
  run.signal.throwIfAborted();
  const failing = swept.points.filter((p) => !p.verdict.pass);
  console.log(
    `  ${swept.points.length} points, ${swept.distinctCrashStates} distinct crash states checked: ${failing.length} points lose acknowledged records`,
  );
  if (failing[0]) {
    console.log(`  e.g. op ${failing[0].at}: ${failing[0].verdict.reason}`);
    console.log(`  reproduce: ${failing[0].reproduce}`);
  }
}

async function qemuIo(uri: string, commands: string[]): Promise<{ ok: boolean; text: string }> {
  const output = await hostCommand("qemu-io", {
    args: ["-f", "raw", uri, ...commands.flatMap((c) => ["-c", c])],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const text = (decoder.decode(output.stdout) + decoder.decode(output.stderr)).trim();
  return { ok: output.success && !/error|failed/i.test(text), text };
}

/** `serve` a built-in image, switch faults over the control socket, and watch qemu-io. */
async function serveWalkthrough(dir: string): Promise<void> {
  const image = join(dir, "serve.raw");
  const file = await Deno.open(image, { create: true, write: true });
  await file.truncate(64 * 1024 * 1024);
  file.close();
  const service = await DiskService.start({
    disks: [{ name: "demo", image }],
    listen: { transport: "unix", path: join(dir, "nbd.sock") },
    controlPath: join(dir, "control.sock"),
    plan: { seed: 1, rules: [] },
    scratchDir: dir,
  });
  const uri = exportUri(service.address, "demo");
  try {
    await using control = await QmpClient.connect(join(dir, "control.sock"), { timeoutMs: 5000 });
    const show = async (label: string, commands: string[]) => {
      const started = performance.now();
      const result = await qemuIo(uri, commands);
      console.log(
        `  ${label}: ${result.ok ? "ok" : "FAILED"} in ${
          Math.round(performance.now() - started)
        } ms: ${result.text.split("\n")[0]}`,
      );
    };
    console.log(`  ${uri}`);
    await show("qemu-io write, flush, read", ["write -P 0x5a 0 1M", "flush", "read -P 0x5a 0 1M"]);
    await control.execute("set-block-fault-state", { id: "demo", state: "error" });
    await show('after set-block-fault-state {"state": "error"}', ["read 0 4k"]);
    await control.execute("set-block-fault-state", {
      id: "demo",
      state: "delay",
      "duration-ms": 200,
    });
    await show('after {"state": "delay", "duration-ms": 200}', ["read 0 4k"]);
    await control.execute("set-block-fault-state", { id: "demo", state: "none" });
    await show('after {"state": "none"}', ["read -P 0x5a 0 4k"]);
  } finally {
    await service.close("demo finished");
  }
}
