/**
 * `faultline replay` against real VMs, on a trace of scenarios/fsync-log.ts made
 * at test time (a kernel update changes hashes, so no trace is committed).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type ParentTrace, readParent, replay, replayPlan } from "../src/replay/replay.ts";
import { runScenario } from "../src/run/run.ts";
import { loadScenario, normalizeScenario } from "../src/scenario/load.ts";
import { TraceReader } from "../src/trace/reader.ts";
import { TraceWriter } from "../src/trace/writer.ts";
import type { HeaderRecord, OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline, traceHeader } from "./support/mod.ts";

/** The recording of scenarios/fsync-log.ts that the tests replay. */
interface Recording {
  path: string;
  parent: ParentTrace;
}

let recording: Promise<Recording> | undefined;
let recordingDir: string | undefined;

/** The shared recording, made by the first test that needs it (so `--filter` works). */
function fsyncLog(): Promise<Recording> {
  recording ??= (async () => {
    const dir = await makePrivateDir("faultline-replay-test-");
    recordingDir = dir.path;
    const path = join(dir.path, "fsync-log.trace");
    const recorded = await runScenario({
      scenario: await loadScenario("scenarios/fsync-log.ts"),
      trace: { path, keepData: true },
      command: "record",
    });
    assert.equal(recorded.verdict.pass, true, recorded.verdict.reason);
    return { path, parent: await readParent(path) };
  })();
  return recording;
}

// The recording outlives every test that uses it; it goes when the module's tests are done.
globalThis.addEventListener("unload", () => {
  if (recordingDir) Deno.removeSync(recordingDir, { recursive: true });
});

/** Run-phase writes whose bytes contain `text`, by arrival index. */
function writesContaining(parent: ParentTrace, text: string): OpRecord[] {
  const needle = new TextEncoder().encode(text);
  const has = (data: Uint8Array) => {
    outer: for (let i = 0; i + needle.length <= data.length; i++) {
      for (let j = 0; j < needle.length; j++) if (data[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  };
  return parent.ordered.filter((op) =>
    op.phase === "run" && op.op === "write" && op.data && has(op.data)
  );
}

// deno-lint-ignore no-explicit-any
async function replayJson(args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  const result = await faultline(["replay", ...args, "--json"], {
    timeoutMs: 300_000,
  });
  return {
    code: result.code,
    json: result.stdout.trim() ? JSON.parse(result.stdout) : null,
    stderr: result.stderr,
  };
}

Deno.test("the README's replays of run.trace name ops their faults apply to, in a recording of fsync-log", async () => {
  const { parent } = await fsyncLog();
  const readme = await Deno.readTextFile("README.md");
  const examples = [...readme.matchAll(/replay run\.trace --fault (\S+) --fault-at (\d+)/g)];
  assert.ok(examples.length >= 3, "the README's replay examples");
  for (const [line, fault, at] of examples) {
    assert.doesNotThrow(() => replayPlan(parent, { faults: [fault], faultAt: at }), line);
  }
});

Deno.test("EIO at a write the application fsyncs: it sees the error, loses no acknowledged record, 3 of 3 runs agree", async () => {
  const { path: fsyncTrace, parent } = await fsyncLog();
  await using dir = await makePrivateDir("faultline-replay-");
  // The log file's data block as record 5 is written: the fsync of record 5 must fail.
  const target = writesContaining(parent, "record 5 ")[0];
  assert.ok(target, "the trace has the data write of record 5");
  const { code, json } = await replayJson([
    fsyncTrace,
    "--fault",
    "eio",
    "--fault-at",
    String(target.index),
    "--runs",
    "3",
    "-o",
    join(dir.path, "eio.trace"),
  ]);
  assert.equal(code, 0, JSON.stringify(json?.verdict));
  assert.equal(json.runs.length, 3);
  // On one node, the runs agree to the word: the same verdict, the same counts.
  const reasons = json.runs.map((r: { verdict: { reason: string } }) => r.verdict.reason);
  assert.equal(new Set(reasons).size, 1, reasons.join(" | "));
  assert.deepEqual(json.reproduced, { failed: 0, runs: 3 });
  for (const result of json.runs) {
    assert.equal(result.fired, true);
    // The same ops before the fault; the guest may reorder independent requests between runs.
    assert.notEqual(result.prefix.kind, "diverged", JSON.stringify(result.prefix));

    const workload = result.phases.find((p: { phase: string }) => p.phase === "run");
    assert.notEqual(workload.exit, 0, "the application saw the error");
    assert.equal(result.oracle.lost, 0);
    assert.equal(result.oracle.acked, 4, "records 1 to 4 were acknowledged, record 5 was not");
  }
  assert.match(
    json.reproduce,
    new RegExp(`^faultline replay \\S+ --fault eio --fault-at ${target.index} --runs 3$`),
  );
});

Deno.test("a lost write of the last write to an acknowledged record's block is caught by the oracle", async () => {
  const { path: fsyncTrace, parent } = await fsyncLog();
  await using dir = await makePrivateDir("faultline-replay-");
  // Record 16 is the last: no later write to its block heals a lost one.
  const writes = writesContaining(parent, "record 16 ");
  const last = writes.at(-1)!;
  const { code, json } = await replayJson([
    fsyncTrace,
    "--fault",
    "lost-write",
    "--fault-at",
    String(last.index),
    "-o",
    join(dir.path, "lost.trace"),
  ]);
  assert.equal(code, 1);
  assert.equal(json.verdict.pass, false);
  assert.match(json.verdict.reason, /1 acknowledged key lost \(16\)/);
  assert.deepEqual([json.oracle.acked, json.oracle.lost], [16, 1]);
});

Deno.test("a power loss built from the trace and one injected live at the same op select the same writes", async () => {
  const { parent } = await fsyncLog();
  await using dir = await makePrivateDir("faultline-replay-");
  const flushes = parent.ordered.filter((op) => op.phase === "run" && op.op === "flush");
  const at = flushes[Math.floor(flushes.length / 2)].index;
  const fromTrace = await replay(parent, {
    faults: ["power-loss"],
    faultAt: String(at),
    output: join(dir.path, "pl-trace.trace"),
    keepData: false,
  });
  const live = await replay(parent, {
    faults: ["power-loss"],
    faultAt: String(at),
    live: true,
    output: join(dir.path, "pl-live.trace"),
    keepData: false,
  });
  for (const result of [fromTrace, live]) {
    assert.equal(result.verdict.pass, true, result.verdict.reason);
    assert.equal(result.oracle?.lost, 0);
  }
  assert.equal(fromTrace.powerCut?.source, "trace");
  assert.equal(live.powerCut?.source, "live");
  // The guest may reorder independent requests between runs; the same ops came before the cut.
  assert.notEqual(live.prefix.kind, "diverged", JSON.stringify(live.prefix));
  // The same writes survive. (The bytes differ where the guest wrote its clock: journal commit times.)
  assert.equal(live.powerCut?.key, fromTrace.powerCut?.key);
  assert.equal(live.oracle?.acked, fromTrace.oracle?.acked);
});

Deno.test("a replay refuses when the kernel, the initramfs or a base image changed, naming which", async () => {
  const { path: fsyncTrace } = await fsyncLog();
  await using dir = await makePrivateDir("faultline-replay-");
  // The kernel cannot be changed for real here: a copy of the trace claims another kernel hash.
  const reader = await TraceReader.open(fsyncTrace);
  const header = structuredClone(reader.header) as HeaderRecord;
  (header.guests as Record<string, { kernel: { sha256: string } }>).app.kernel.sha256 = "0".repeat(
    64,
  );
  const { record: _, format: __, version: ___, ...fields } = header;
  const forged = join(dir.path, "other-kernel.trace");
  const writer = await TraceWriter.create(forged, fields);
  for await (const record of reader.records()) {
    if (record.record !== "footer") writer.append(record);
  }
  await writer.close({ duration: 0, endedAt: new Date().toISOString() });
  const kernel = await replayJson([forged, "--fault", "eio", "--fault-at", "20"]);
  assert.equal(kernel.code, 2);
  assert.match(kernel.stderr, /the kernel of node app changed since .* was recorded/);

  // A file the scenario carries into the guest changes: the initramfs changes for real.
  await using work = await makePrivateDir("faultline-changed-");
  const carried = join(work.path, "carried.txt");
  await Deno.writeTextFile(carried, "one\n");
  const image = join(work.path, "given.raw");
  const file = await Deno.open(image, { create: true, write: true });
  await file.truncate(8 * 1024 * 1024);
  file.close();
  const scenario = await normalizeScenario({
    name: "changing",
    nodes: {
      app: {
        disks: { given: { image } },
        files: [{ host: carried, guest: "/etc/carried.txt" }],
        workload: "cat /etc/carried.txt; report ack 1",
      },
    },
  }, { source: "changing.json", baseDir: work.path });
  const trace = join(work.path, "changing.trace");
  const first = await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
  });
  assert.equal(first.verdict.pass, true, first.verdict.reason);
  await Deno.writeTextFile(carried, "two\n");
  const initramfs = await replayJson([trace]);
  assert.equal(initramfs.code, 2);
  assert.match(initramfs.stderr, /the initramfs of node app changed since/);

  // The given image changes: its base hash no longer matches.
  await Deno.writeTextFile(carried, "one\n");
  const bytes = new Uint8Array(512).fill(7);
  const handle = await Deno.open(image, { write: true });
  await handle.write(bytes);
  handle.close();
  const base = await replayJson([trace]);
  assert.equal(base.code, 2);
  assert.match(base.stderr, /the base image of disk app\/given changed since/);
});

Deno.test("a --no-data trace replays online faults, and a power loss from it asks for the data", async () => {
  await using dir = await makePrivateDir("faultline-replay-");
  const trace = join(dir.path, "nodata.trace");
  const record = await faultline([
    "record",
    "scenarios/fsync-log.ts",
    "--no-data",
    "-o",
    trace,
    "--json",
  ], {
    timeoutMs: 240_000,
  });
  assert.equal(record.code, 0, record.text);
  const reader = await TraceReader.open(trace);
  assert.equal(reader.header.recordsData, false);
  // A flush of the workload (after its first acknowledgement), not of the mount.
  const noData = await readParent(trace);
  const firstAck = noData.lines.find((line) => line.kind === "ack")!;
  const target = noData.ordered.find((op) =>
    op.phase === "run" && op.op === "flush" && op.index >= firstAck.at
  )!;

  const online = await replayJson([
    trace,
    "--fault",
    "eio",
    "--fault-at",
    String(target.index),
    "-o",
    join(dir.path, "nd-eio.trace"),
  ]);
  assert.equal(online.code, 0, online.stderr);
  assert.equal(online.json.fired, true);
  const powerLoss = await replayJson([
    trace,
    "--fault",
    "power-loss",
    "--fault-at",
    String(target.index),
  ]);
  assert.equal(powerLoss.code, 2);
  assert.match(powerLoss.stderr, /needs the written data/);
});

Deno.test("replay explains bad requests: an op the trace lacks, --fault-at without --fault, a serve trace", async () => {
  const { path: fsyncTrace } = await fsyncLog();
  await using dir = await makePrivateDir("faultline-replay-");
  const missing = await replayJson([fsyncTrace, "--fault", "eio", "--fault-at", "99999"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /the trace has no op 99999 \(its ops are numbered 0 to \d+\)/);
  const untriggered = await replayJson([fsyncTrace, "--fault", "eio"]);
  assert.equal(untriggered.code, 2);
  assert.match(
    untriggered.stderr,
    /"eio" hits one op and has no trigger: add --fault-at N or @TRIGGER/,
  );
  const lonely = await replayJson([fsyncTrace, "--fault-at", "3"]);
  assert.equal(lonely.code, 2);
  assert.match(lonely.stderr, /give a --fault too/);
  const serveTrace = join(dir.path, "serve.trace");
  const writer = await TraceWriter.create(serveTrace, traceHeader({ command: "serve" }));
  await writer.close({ duration: 0, endedAt: new Date().toISOString() });
  const served = await replayJson([serveTrace]);
  assert.equal(served.code, 2);
  assert.match(served.stderr, /holds no scenario \(it was made by serve\)/);
});

Deno.test("a fault that stands (limp without a trigger) holds for the run phase: the check reads at full speed", async () => {
  const { path: fsyncTrace } = await fsyncLog();
  await using dir = await makePrivateDir("faultline-replay-");
  const output = join(dir.path, "limp.trace");
  const limped = await replayJson([fsyncTrace, "--fault", "limp:20ms", "-o", output]);
  assert.equal(limped.code, 0, limped.stderr);
  assert.deepEqual(limped.json.notFired ?? [], []);
  const reader = await TraceReader.open(output);
  const ops: OpRecord[] = [];
  let ended: Record<string, unknown> | undefined;
  for await (const record of reader.records()) {
    if (record.record === "op") ops.push(record);
    if (record.record === "event" && record.event === "faults-ended") ended = record;
  }
  const run = ops.filter((op) => op.phase === "run");
  const check = ops.filter((op) => op.phase === "check");
  assert.ok(run.length > 0 && run.every((op) => op.fault?.kind === "limp"), "every run op limped");
  assert.ok(check.length > 0 && check.every((op) => op.fault === undefined), "no check op did");
  assert.deepEqual(ended?.rules, ["limp:20ms"]);
});
