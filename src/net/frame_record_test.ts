import assert from "node:assert/strict";
import { join } from "node:path";
import { Packr } from "msgpackr";
import { PLAN_VERSION } from "../fault/plan_version.ts";
import { TraceReader } from "../trace/reader.ts";
import { DATA_HASH, type FrameRecord, type TraceRecord } from "../trace/schema.ts";
import { FrameStats } from "../trace/stats.ts";
import { TraceWriter } from "../trace/writer.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { decodeFrame } from "./frame.ts";
import { describeFramePoint, frameFactsOfRecord, frameRecord } from "./frame_record.ts";
import { frameFacts } from "./link_plan.ts";

/** A TCP SYN-ACK 192.0.2.11:7000 > 192.0.2.10:40000 from b to a (no options). */
const SYN_ACK = new Uint8Array([
  ...[2, 0x66, 0x6c, 0, 0, 0, 2, 0x66, 0x6c, 0, 0, 1, 0x08, 0x00],
  ...[0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 11, 192, 0, 2, 10],
  ...[0x1b, 0x58, 0x9c, 0x40, 0, 0, 0, 9, 0, 0, 0, 2, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0],
  ...new Array(6).fill(0),
]);

Deno.test("frame records: headers, hash, data, faults grouped per rule, drops, absent ports", () => {
  const view = decodeFrame(SYN_ACK);
  const record = frameRecord({
    index: 12,
    time: 3.5,
    from: "b",
    to: ["a", "c"],
    view,
    frame: SYN_ACK,
    decisions: [
      { rule: "partition:a|b", fault: "partition", to: "a", action: { do: "lose" } },
      {
        rule: "live",
        fault: "delay",
        to: "c",
        action: { do: "late", ms: 10.25 },
        detail: { delayMs: 10.25 },
      },
    ],
    absent: ["c"],
    keepData: true,
    phase: "run",
  });
  assert.deepEqual(record, {
    record: "frame",
    index: 12,
    time: 3.5,
    from: "b",
    to: ["a", "c"],
    length: 60,
    dst: "02:66:6c:00:00:00",
    src: "02:66:6c:00:00:01",
    ethertype: 0x0800,
    proto: 6,
    srcIp: "192.0.2.11",
    dstIp: "192.0.2.10",
    srcPort: 7000,
    dstPort: 40000,
    tcpFlags: "syn,ack",
    hash: record.hash,
    data: SYN_ACK,
    faults: [
      { kind: "partition", rule: "partition:a|b", to: ["a"] },
      { kind: "delay", rule: "live", to: ["c"], detail: { delayMs: 10.25 } },
    ],
    dropped: ["a"],
    absent: ["c"],
    phase: "run",
  });
  assert.match(record.hash, /^[0-9a-f]{16}$/);
  const bare = frameRecord({
    index: 0,
    time: 0,
    from: "a",
    to: [],
    view: { ...view, dst: "02:00:00:00:00:99" },
    frame: SYN_ACK,
    decisions: [],
    keepData: false,
  });
  assert.equal(bare.unknown, true);
  assert.equal(bare.data, undefined);
  assert.equal(bare.hash, record.hash);
});

Deno.test("frame records in a trace: written, read back, counted per link; unknown kinds skipped", async () => {
  await using dir = await makePrivateDir("faultline-frames-");
  const path = join(dir.path, "frames.trace");
  const writer = await TraceWriter.create(path, {
    createdAt: "2026-01-01T00:00:00.000Z",
    tool: { name: "faultline", version: "test" },
    command: "test",
    recordsData: true,
    dataHash: DATA_HASH,
    seed: 1,
    faults: [],
    planVersion: PLAN_VERSION,
    disks: [],
  });
  const view = decodeFrame(SYN_ACK);
  const make = (index: number, from: string, to: string[], dropped = false): FrameRecord =>
    frameRecord({
      index,
      time: index,
      from,
      to,
      view: to.length > 1 ? { ...view, group: true } : view,
      frame: SYN_ACK,
      decisions: dropped
        ? [{ rule: "isolate:a", fault: "isolate", to: to[0], action: { do: "lose" } }]
        : [],
      keepData: true,
    });
  writer.append(make(0, "a", ["b", "c"]));
  writer.append(make(1, "b", ["a"]));
  writer.append(make(2, "b", ["a"], true));
  await writer.close({ duration: 3, endedAt: "2026-01-01T00:00:01.000Z" });
  // A record of a kind a newer faultline might write.
  const unknown = new Packr({ useRecords: false }).pack({ record: "hologram", x: 1 });
  await Deno.writeFile(path, unknown, { append: true });

  const reader = await TraceReader.open(path);
  const records: TraceRecord[] = [];
  for await (const record of reader.records()) records.push(record);
  assert.deepEqual(records.map((r) => r.record).slice(0, 4), ["frame", "frame", "frame", "footer"]);
  assert.equal(reader.end.unknownRecords, 1);
  const frames = records.filter((r): r is FrameRecord => r.record === "frame");
  assert.deepEqual(frames[0].data, SYN_ACK, "bytes come back as bytes");
  const stats = new FrameStats();
  for (const frame of frames) stats.add(frame);
  assert.deepEqual(stats.summary(), {
    frames: 3,
    bytes: 180,
    broadcast: 1,
    unknown: 0,
    byLink: {
      "a->b": { frames: 1, bytes: 60, dropped: 0, absent: 0 },
      "a->c": { frames: 1, bytes: 60, dropped: 0, absent: 0 },
      "b->a": { frames: 2, bytes: 120, dropped: 1, absent: 0 },
    },
    faults: { isolate: 1 },
    duration: 2,
  });
});

Deno.test("the trace writer counts frames into the footer", async () => {
  await using dir = await makePrivateDir("faultline-frames-");
  const path = join(dir.path, "count.trace");
  const writer = await TraceWriter.create(path, {
    createdAt: "2026-01-01T00:00:00.000Z",
    tool: { name: "faultline", version: "test" },
    command: "test",
    recordsData: false,
    dataHash: DATA_HASH,
    seed: 1,
    faults: [],
    planVersion: PLAN_VERSION,
    disks: [],
  });
  const view = decodeFrame(SYN_ACK);
  for (let i = 0; i < 5; i++) {
    writer.append(frameRecord({
      index: i,
      time: i,
      from: "a",
      to: ["b"],
      view,
      frame: SYN_ACK,
      decisions: [],
      keepData: false,
    }));
  }
  await writer.close({ duration: 5, endedAt: "2026-01-01T00:00:01.000Z" });
  const reader = await TraceReader.open(path);
  for await (const _ of reader.records()) { /* to the end */ }
  assert.equal(reader.end.footer?.frames, 5);
  assert.equal(reader.end.footer?.ops, 0);
});

Deno.test("a frame record gives the trigger engine the facts the switch gave it, bytes or not", () => {
  const view = decodeFrame(SYN_ACK);
  const input = { index: 12, time: 3.5, from: "b", to: ["a"], view, frame: SYN_ACK, decisions: [] };
  for (const keepData of [true, false]) {
    const record = frameRecord({ ...input, keepData });
    assert.deepEqual(frameFactsOfRecord(record), frameFacts({ ...input }));
    assert.equal(describeFramePoint(record), "frame b->a tcp 7000>40000 syn,ack");
  }
});
