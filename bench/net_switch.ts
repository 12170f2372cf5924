/**
 * How many frames per second the switch forwards, with recording on.
 *
 * Host side (default): two workers stand in for two nodes' QEMUs on the switch's unix
 * sockets; one sends N frames of a size as fast as its socket takes them, the other
 * counts what arrives. The switch runs in this process with a trace writer (frames and
 * their bytes, as `record` keeps them), with hashes only (`--no-data`), or with no
 * sink at all, and then with a 1-in-10 drop fault (every frame decided).
 *
 * `--vm`: two real TCG guests stream 32 MiB with busybox nc through the switch
 * (recording on); frames per second come from the records.
 *
 * ```sh
 * deno run -A bench/net_switch.ts [--frames N] [--vm] [--json]
 * ```
 *
 * @module
 */

import { TCG } from "../src/vm/accel.ts";
import { join } from "node:path";
import process from "node:process";
import { OpClock } from "../src/block/op_clock.ts";
import { PLAN_VERSION } from "../src/fault/plan_version.ts";
import { parseFaultSpec } from "../src/fault/spec.ts";
import { parseMac } from "../src/net/frame.ts";
import { NetSwitch } from "../src/net/switch.ts";
import type { FrameRecord } from "../src/trace/schema.ts";
import { DATA_HASH } from "../src/trace/schema.ts";
import { TraceWriter } from "../src/trace/writer.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";

interface HostResult {
  mode: string;
  /** Frames per socket write of the sender (QEMU writes one frame at a time). */
  batch: number;
  size: number;
  frames: number;
  received: number;
  framesPerSecond: number;
  megabytesPerSecond: number;
  traceBytes: number;
}

function frameOf(dst: string, src: string, size: number): Uint8Array {
  const frame = new Uint8Array(size);
  frame.set(parseMac(dst), 0);
  frame.set(parseMac(src), 6);
  frame[12] = 0x08;
  frame[13] = 0x00;
  frame[14] = 0x45;
  frame[23] = 17; // UDP
  return frame;
}

function worker(): Worker {
  return new Worker(new URL("./_net_peer.ts", import.meta.url), { type: "module" });
}

function next(w: Worker): Promise<Record<string, number | boolean>> {
  return new Promise((resolve) =>
    w.addEventListener("message", (e) => resolve(e.data), { once: true })
  );
}

async function hostRun(
  mode: "trace" | "hashes" | "none" | "drop",
  size: number,
  frames: number,
  batch: number,
): Promise<HostResult> {
  await using dir = await makePrivateDir("faultline-net-bench-");
  const clock = new OpClock();
  const sinks: ((r: FrameRecord) => void)[] = [];
  let writer: TraceWriter | null = null;
  if (mode !== "none") {
    writer = await TraceWriter.create(join(dir.path, "bench.trace"), {
      createdAt: new Date().toISOString(),
      tool: { name: "faultline", version: "bench" },
      command: "bench",
      recordsData: mode !== "hashes",
      dataHash: DATA_HASH,
      seed: 1,
      faults: [],
      planVersion: PLAN_VERSION,
      disks: [],
    });
    sinks.push((r) => writer!.append(r));
  }
  const net = await NetSwitch.start({
    nodes: ["a", "b"],
    clock,
    sinks,
    keepData: mode !== "hashes",
    plan: { seed: 1, rules: mode === "drop" ? [parseFaultSpec("drop:0.1")] : [] },
  });
  const sender = worker();
  const receiver = worker();
  try {
    const expected = mode === "drop" ? Math.floor(frames * 0.85) : frames;
    receiver.postMessage({
      role: "receive",
      socket: net.socketPath("b"),
      count: frames,
      idleMs: 1500,
    });
    await next(receiver);
    await net.waitConnected("b", 5000);
    const done = next(receiver);
    sender.postMessage({
      role: "send",
      socket: net.socketPath("a"),
      count: frames,
      frame: frameOf(net.address("b").mac, net.address("a").mac, size),
      batch,
    });
    await next(sender);
    const result = await done as { received: number; ms: number };
    if (result.received < expected) {
      throw new Error(`${mode}: only ${result.received} of ${frames} frames arrived`);
    }
    await writer?.close({ duration: 0, endedAt: new Date().toISOString() });
    const traceBytes = writer ? (await Deno.stat(writer.path)).size : 0;
    const seconds = result.ms / 1000;
    return {
      mode,
      batch,
      size,
      frames,
      received: result.received,
      framesPerSecond: Math.round(result.received / seconds),
      megabytesPerSecond: Math.round((result.received * size) / seconds / 1e6 * 10) / 10,
      traceBytes,
    };
  } finally {
    sender.terminate();
    receiver.terminate();
    await net.close();
  }
}

async function vmRun(): Promise<Record<string, unknown>> {
  const { buildInitramfs, ensureBusybox, ensureKernel } = await import("../src/vm/mod.ts");
  const { Vm } = await import("../src/vm/launcher.ts");
  const { NbdServer } = await import("../src/nbd/server.ts");
  const { exportUri } = await import("../src/nbd/uri.ts");
  const { RESULTS_SERIAL, ResultsChannel } = await import("../src/vm/results.ts");
  const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);
  await using dir = await makePrivateDir("faultline-net-bench-vm-");
  const clock = new OpClock();
  const writer = await TraceWriter.create(join(dir.path, "vm.trace"), {
    createdAt: new Date().toISOString(),
    tool: { name: "faultline", version: "bench" },
    command: "bench",
    recordsData: true,
    dataHash: DATA_HASH,
    seed: 1,
    faults: [],
    planVersion: PLAN_VERSION,
    disks: [],
  });
  const records: { index: number; time: number; length: number; from: string }[] = [];
  const net = await NetSwitch.start({
    nodes: ["tx", "rx"],
    clock,
    sinks: [
      (r) => writer.append(r),
      (r) => records.push({ index: r.index, time: r.time, length: r.length, from: r.from }),
    ],
  });
  const lines: string[] = [];
  const results = await NbdServer.start({
    exports: ["tx", "rx"].map((node) => ({
      name: node,
      backend: new ResultsChannel((line) => lines.push(`${node} ${line.text}`)),
    })),
    listen: { transport: "unix", path: join(dir.path, "results.sock") },
    clock: new OpClock(),
  });
  const MiB = 32;
  const phases = {
    run: `
if [ "$FAULTLINE_NODE" = rx ]; then
  nc -l -p 7100 -e sh -c 'cat >/tmp/got' &
  report listening
  wait
  report received "$(wc -c </tmp/got)"
else
  sleep 3
  start=$(cat /proc/uptime)
  dd if=/dev/zero bs=64k count=${MiB * 16} 2>/dev/null | nc rx 7100
  report sent "$start" "$(cat /proc/uptime)"
fi`,
  };
  const vms = [];
  try {
    for (const node of ["tx", "rx"]) {
      const image = await buildInitramfs({
        kernel,
        busybox,
        phases,
        network: net.guestNetwork(node),
      });
      vms.push(
        await Vm.start({
          kernel: kernel.vmlinuz,
          accel: TCG,
          initrd: image.path,
          phase: "run",
          memoryBytes: 256 * 1024 * 1024,
          disks: [],
          results: { name: RESULTS_SERIAL, uri: exportUri(results.address, node) },
          qmpSocket: join(dir.path, `${node}.qmp`),
          rtcBase: "2026-01-01T00:00:00",
          network: net.qemuNetwork(node),
        }, { consoleLog: join(dir.path, `${node}.console`) }),
      );
    }
    await net.waitAllConnected(10_000);
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const exits = await Promise.all(vms.map((vm) => vm.wait(180_000)));
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const data = records.filter((r) => r.length > 1000 && r.from === "tx");
    const seconds = (data.at(-1)!.time - data[0].time) / 1000;
    const all = records.filter((r) => r.time >= data[0].time && r.time <= data.at(-1)!.time);
    return {
      mode: "vm",
      exits: exits.map((e) => e.how),
      lines,
      frames: all.length,
      dataFrames: data.length,
      seconds: Math.round(seconds * 100) / 100,
      framesPerSecond: Math.round(all.length / seconds),
      megabytesPerSecond: Math.round(
        (data.reduce((n, r) => n + r.length, 0) / seconds / 1e6) * 10,
      ) / 10,
      counters: { overflow: net.counters().overflow },
      // The switch's process (switch, trace writer, results channel) while the guests ran.
      switchProcessCpu: `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s of CPU in ${
        (wall / 1000).toFixed(2)
      } s`,
    };
  } finally {
    for (const vm of vms) await vm[Symbol.asyncDispose]();
    await writer.close({ duration: 0, endedAt: new Date().toISOString() });
    await results.close();
    await net.close();
  }
}

if (import.meta.main) {
  const args = Deno.args;
  const at = args.indexOf("--frames");
  const frames = at >= 0 ? Number(args[at + 1]) : 200_000;
  const out: unknown[] = [];
  if (args.includes("--vm")) out.push(await vmRun());
  else {
    for (const [size, batch] of [[64, 64], [1514, 64], [64, 1], [1514, 1]]) {
      for (const mode of ["none", "hashes", "trace", "drop"] as const) {
        const count = Math.floor((size > 1000 ? frames / 4 : frames) / (batch === 1 ? 4 : 1));
        const result = await hostRun(mode, size, count, batch);
        out.push(result);
        if (!args.includes("--json")) {
          console.log(
            `${String(size).padStart(4)} B  ${String(batch).padStart(2)}/write  ${
              mode.padEnd(6)
            }  ${String(result.framesPerSecond).padStart(8)} frames/s  ${
              String(result.megabytesPerSecond).padStart(6)
            } MB/s  trace ${(result.traceBytes / 1e6).toFixed(1)} MB`,
          );
        }
      }
    }
  }
  if (args.includes("--json") || args.includes("--vm")) console.log(JSON.stringify(out, null, 1));
}
