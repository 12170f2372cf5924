import assert from "node:assert/strict";
import { join } from "node:path";
import { Packr, unpackMultiple } from "msgpackr";
import { makePrivateDir } from "../util/tempdir.ts";
import { TraceFormatError } from "./errors.ts";
import { dataHash } from "./hash.ts";
import { describeEnd, TraceReader } from "./reader.ts";
import { type HeaderFields, type OpRecord, TRACE_FORMAT, type TraceRecord } from "./schema.ts";
import { TraceWriter } from "./writer.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { prng } from "../../tests/support/random.ts";
import { traceHeader } from "../../tests/support/traces.ts";

const header: HeaderFields = traceHeader({
  command: "test",
  faults: ["eio@3"],
  disks: [{ node: "n", name: "vda", size: 1 << 20, base: { path: "/x.raw", sha256: "00" } }],
});

/** Write `index`: its bytes differ in length and content from every other's. */
function writeRecord(index: number): OpRecord {
  const data = new Uint8Array(100 + index).fill(index & 0xff);
  return opRecord({
    index,
    node: "n",
    disk: "vda",
    offset: index * 512,
    hash: dataHash(data),
    data,
  });
}

async function readAll(path: string): Promise<{ records: TraceRecord[]; reader: TraceReader }> {
  const reader = await TraceReader.open(path);
  const records: TraceRecord[] = [];
  for await (const record of reader.records()) records.push(record);
  return { records, reader };
}

async function writeTrace(path: string, ops: number): Promise<void> {
  const writer = await TraceWriter.create(path, header);
  for (let i = 0; i < ops; i++) {
    writer.append(writeRecord(i));
    if (i % 10 === 0) {
      writer.append({ record: "event", event: "note", at: i, time: i, text: `op ${i}` });
    }
  }
  await writer.close({ duration: 5, endedAt: "2026-11-25T00:00:01.000Z", reason: "finished" });
}

Deno.test("a trace is plain msgpack that any reader decodes, and reads back complete", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "t.trace");
  await writeTrace(path, 50);
  // Plain msgpack: a generic decoder without faultline's reader sees the same values.
  const values = unpackMultiple(await Deno.readFile(path)) as Record<string, unknown>[];
  assert.equal(values[0].format, TRACE_FORMAT);
  assert.equal(values.at(-1)!.record, "footer");
  const { records, reader } = await readAll(path);
  assert.equal(reader.header.seed, 1);
  assert.deepEqual(reader.header.faults, ["eio@3"]);
  const ops = records.filter((r) => r.record === "op");
  assert.equal(ops.length, 50);
  assert.deepEqual(ops[7], writeRecord(7));
  assert.equal(reader.end.footer?.ops, 50);
  assert.equal(describeEnd(path, reader.end), null);
});

Deno.test("a trace cut at a random byte reads up to its last complete value, and says so", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "full.trace");
  await writeTrace(path, 200);
  const bytes = await Deno.readFile(path);
  const { records: all } = await readAll(path);
  const random = prng(12345);
  const cuts = [bytes.length - 1, bytes.length - 2];
  for (let i = 0; i < 40; i++) {
    cuts.push(200 + random.below(bytes.length - 200));
  }
  for (const cut of cuts) {
    const cutPath = join(dir.path, `cut-${cut}.trace`);
    await Deno.writeFile(cutPath, bytes.subarray(0, cut));
    const { records, reader } = await readAll(cutPath);
    assert.deepEqual(
      records,
      all.slice(0, records.length),
      `cut at ${cut}: a prefix of the records`,
    );
    assert.equal(reader.end.footer, null);
    const warning = describeEnd(cutPath, reader.end);
    assert.ok(warning, `cut at ${cut} is reported`);
    if (reader.end.cutAt !== null) {
      assert.match(warning, /was cut at byte \d+/);
      assert.equal(reader.end.cutAt + reader.end.discardedBytes, cut);
    } else {
      assert.match(warning, /no footer/);
    }
  }
});

Deno.test("files that are not traces, or of a newer version, are refused with the reason", async () => {
  await using dir = await makePrivateDir();
  const packr = new Packr({ useRecords: false });
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /holds no complete value/],
    ["text", new TextEncoder().encode("hello world\n"), /not a faultline trace/],
    ["other", packr.pack({ format: "something-else" }), /no format "faultline-trace"/],
    ["newer", packr.pack({ record: "header", format: TRACE_FORMAT, version: 99 }), /version 99/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const path = join(dir.path, `${name}.trace`);
    await Deno.writeFile(path, bytes);
    await assert.rejects(
      TraceReader.open(path),
      (e: unknown) =>
        e instanceof TraceFormatError && pattern.test(e.message) && e.message.includes(path),
    );
  }
  await assert.rejects(TraceReader.open(join(dir.path, "missing.trace")), /cannot open trace/);

  // Corruption in the middle names the byte.
  const path = join(dir.path, "corrupt.trace");
  await writeTrace(path, 20);
  const bytes = await Deno.readFile(path);
  const headerLength =
    packr.pack({ record: "header", format: TRACE_FORMAT, version: 1, ...header }).length;
  bytes.fill(0xc1, headerLength + 10, headerLength + 20); // 0xc1 is never used in msgpack
  await Deno.writeFile(path, bytes);
  await assert.rejects(
    readAll(path),
    (e: unknown) => e instanceof TraceFormatError && /byte \d+/.test(e.message),
  );
});

Deno.test("a write's bytes read back from the trace at the position the writer announced, before and after they reach the file", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "log.trace");
  const writer = await TraceWriter.create(path, header);
  const positions: number[] = [];
  const records: OpRecord[] = [];
  for (let i = 0; i < 600; i++) {
    const record = opRecord({ index: i });
    record.data = new Uint8Array(4096).fill(i & 0xff);
    record.length = 4096;
    if (i % 3 === 0) record.phase = "run";
    const position = writer.dataPosition(record);
    writer.append(record);
    positions.push(position);
    records.push(record);
    // Some from the batch in memory, some from batches on their way to the file.
    const into = new Uint8Array(4096);
    writer.readAt(positions[i >> 1], into, 0, 4096);
    assert.deepEqual(into, records[i >> 1].data);
  }
  await writer.flush();
  const bytes = await Deno.readFile(path);
  for (const [i, position] of positions.entries()) {
    assert.deepEqual(bytes.subarray(position, position + 4096), records[i].data, `record ${i}`);
    const into = new Uint8Array(4096);
    writer.readAt(position, into, 0, 4096);
    assert.deepEqual(into, records[i].data);
  }
  assert.equal(writer.dataPosition({ ...opRecord({ index: 1 }), data: undefined }), -1);
  await writer.close({ duration: 1, endedAt: "2026-11-25T00:00:01.000Z" });
  assert.equal(
    writer.dataPosition(opRecord({ index: 2 })),
    -1,
    "a closed writer announces nothing",
  );
});

Deno.test("large writes go to the file from where they are, between small ones, and read back", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "large.trace");
  const writer = await TraceWriter.create(path, header);
  const random = prng(7);
  const hashes: string[] = [];
  for (let i = 0; i < 40; i++) {
    // 256 KiB writes (nbdcopy's) among 4 KiB ones, every third in a phase (a field after the data).
    const length = i % 4 === 0 ? 4096 : 256 * 1024;
    const data = random.bytes(length);
    const record = opRecord({ index: i, length, hash: dataHash(data), data });
    if (i % 3 === 0) record.phase = "run";
    const position = writer.dataPosition(record);
    writer.append(record);
    hashes.push(record.hash!);
    // The request's buffer is reused once the record is appended: the trace must not need it.
    data.fill(0);
    const back = new Uint8Array(length);
    writer.readAt(position, back, 0, length);
    assert.equal(dataHash(back), record.hash, `op ${i} read back before the close`);
  }
  await writer.close({ duration: 1, endedAt: "2026-11-25T00:00:01.000Z" });
  const { records } = await readAll(path);
  const ops = records.filter((r): r is OpRecord => r.record === "op");
  assert.equal(ops.length, 40);
  for (const [i, op] of ops.entries()) {
    assert.equal(dataHash(op.data!), hashes[i], `op ${i} in the file`);
    assert.equal(op.phase, i % 3 === 0 ? "run" : undefined);
  }
});

Deno.test("a closed trace keeps no blocks reserved past its end", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "reserved.trace");
  await writeTrace(path, 50);
  const info = await Deno.stat(path);
  // Blocks reserved ahead of the writes (a MiB or more) are given back at the close.
  assert.ok(info.blocks !== null && info.blocks * 512 < info.size + 64 * 1024, `${info.blocks}`);
});
