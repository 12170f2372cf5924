/**
 * `faultline trace perfetto` through the real CLI: a trace of two nodes (ops on their
 * disks, frames between them, a fault, the run's phases) written by the trace writer
 * becomes a Chrome trace event file that the format's checker passes, with a process
 * per node, a track per disk and link, and the frames as flows. The sweep's report page
 * and the file beside it are checked by tests/sweep_ci_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { PLAN_VERSION } from "../src/fault/plan_version.ts";
import { SCENARIO_VERSION } from "../src/scenario/schema.ts";
import type { FrameRecord } from "../src/trace/schema.ts";
import { DATA_HASH } from "../src/trace/schema.ts";
import { TraceWriter } from "../src/trace/writer.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { chromeTraceProblems, faultline, opRecord } from "./support/mod.ts";

function frame(index: number, time: number, from: string, to: string): FrameRecord {
  return {
    record: "frame",
    index,
    time,
    from,
    to: [to],
    length: 60,
    dst: "52:54:00:00:00:02",
    src: "52:54:00:00:00:01",
    ethertype: 0x0800,
    proto: 17,
    srcIp: "192.0.2.11",
    dstIp: "192.0.2.12",
    srcPort: 5000,
    dstPort: 5000,
    hash: "0".repeat(16),
  };
}

Deno.test("trace perfetto: a two-node trace as a Chrome trace event file the format check passes", async () => {
  await using dir = await makePrivateDir("faultline-perfetto-test-");
  const trace = join(dir.path, "pair.trace");
  const writer = await TraceWriter.create(trace, {
    createdAt: "2026-03-01T12:00:00.000Z",
    tool: { name: "faultline", version: "test" },
    command: "record",
    recordsData: false,
    dataHash: DATA_HASH,
    seed: 1,
    faults: ["eio@2"],
    planVersion: PLAN_VERSION,
    disks: [],
    scenario: { name: "pair", nodes: [{ name: "a" }, { name: "b" }] },
    scenarioVersion: SCENARIO_VERSION,
  });
  writer.append({ record: "event", event: "phase", at: 0, time: 1, name: "run" });
  for (let i = 0; i < 40; i++) {
    const node = i % 2 ? "a" : "b";
    // Ops of a disk overlap in pairs: the timeline needs a second track for them.
    const start = 10 + Math.floor(i / 2) * 3;
    writer.append(opRecord({
      index: i,
      done: i + 1,
      node,
      disk: "data",
      op: i % 5 === 4 ? "flush" : "write",
      offset: i * 4096,
      length: i % 5 === 4 ? 0 : 4096,
      start,
      end: start + 4,
      ...(i === 2 ? { result: "eio", fault: { kind: "eio", rule: "eio@2" } } : {}),
    }));
  }
  writer.append({
    record: "event",
    event: "fault",
    at: 3,
    time: 13,
    index: 2,
    fault: "eio",
    rule: "eio@2",
  });
  for (let i = 0; i < 6; i++) {
    writer.append(frame(40 + i, 20 + i, i % 2 ? "a" : "b", i % 2 ? "b" : "a"));
  }
  await writer.close({ duration: 200, endedAt: "2026-03-01T12:00:01.000Z" });

  const output = join(dir.path, "pair.perfetto.json");
  const result = await faultline(["trace", "perfetto", trace, "-o", output, "--json"]);
  assert.equal(result.code, 0, result.text);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.ops, 40);
  assert.equal(summary.frames, 12, "each frame sent and delivered");
  assert.equal(summary.processes, 3, "a, b and the run");
  const timeline = JSON.parse(await Deno.readTextFile(output));
  assert.deepEqual(chromeTraceProblems(timeline), []);
  const names = timeline.traceEvents.filter((e: { name: string }) => e.name === "thread_name")
    .map((e: { args: { name: string } }) => e.args.name);
  for (const track of ["data", "data #2", "to b", "from b", "faults"]) {
    assert.ok(names.includes(track), `${track} in ${names}`);
  }
  assert.equal(timeline.traceEvents.filter((e: { ph: string }) => e.ph === "s").length, 6);

  const text = await faultline(["trace", "perfetto", trace, "-o", output]);
  assert.match(
    text.stdout,
    /40 ops, 12 frame slices, 1 instant \(faults, crashes\) on \d+ tracks of 3 processes .*ui\.perfetto\.dev/,
  );
});
