import assert from "node:assert/strict";
import { join } from "node:path";
import { Packr } from "msgpackr";
import { makePrivateDir } from "../util/tempdir.ts";
import { VERSION } from "../version.ts";
import { TraceError, TraceFormatError } from "./errors.ts";
import { dataHash } from "./hash.ts";
import { TraceReader } from "./reader.ts";
import {
  DATA_HASH,
  type OpRecord,
  TRACE_FORMAT,
  TRACE_VERSION,
  type TraceRecord,
} from "./schema.ts";
import { TraceWriter } from "./writer.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { traceHeader } from "../../tests/support/traces.ts";

/** A trace's bytes as a faultline of another version wrote it: its header, records and footer. */
function traceBytes(header: Record<string, unknown>, records: readonly TraceRecord[]): Uint8Array {
  const packr = new Packr({ useRecords: false, moreTypes: false });
  const values = [header, ...records, { record: "footer", ops: records.length, duration: 1 }];
  const packed = values.map((value) => packr.pack(value));
  const bytes = new Uint8Array(packed.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of packed) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** The header of a version 1 trace of `record`: no plan or scenario version of its own. */
const VERSION_1_HEADER = {
  record: "header",
  format: TRACE_FORMAT,
  version: 1,
  createdAt: "2026-01-01T00:00:00.000Z",
  tool: { name: "faultline", version: "0.1.0" },
  command: "record",
  recordsData: true,
  dataHash: DATA_HASH,
  seed: 7,
  faults: ["eio@3"],
  disks: [],
  scenario: { name: "old", nodes: [] },
};

const OPS: OpRecord[] = [
  opRecord({ index: 0, node: "app", disk: "data", offset: 0 }),
  opRecord({ index: 1, node: "app", disk: "data", op: "flush", offset: 0, length: 0 }),
];

async function readAll(path: string): Promise<{ reader: TraceReader; records: TraceRecord[] }> {
  const reader = await TraceReader.open(path);
  const records: TraceRecord[] = [];
  for await (const record of reader.records()) records.push(record);
  return { reader, records };
}

Deno.test("a trace of version 1 reads: its specs and scenario are version 1 of each, its records as written", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "v1.trace");
  await Deno.writeFile(path, traceBytes(VERSION_1_HEADER, OPS));
  const { reader, records } = await readAll(path);
  assert.equal(reader.header.version, 1, "the file's version stays");
  assert.equal(reader.header.planVersion, 1);
  assert.equal(reader.header.scenarioVersion, 1);
  assert.deepEqual(reader.header.faults, ["eio@3"]);
  assert.deepEqual(records.filter((r) => r.record === "op"), OPS);
  assert.equal(reader.end.footer?.ops, 2);

  // A serve trace has no scenario, so no scenario version either.
  const { scenario: _, ...serve } = { ...VERSION_1_HEADER, command: "serve" };
  const servePath = join(dir.path, "serve-v1.trace");
  await Deno.writeFile(servePath, traceBytes(serve, OPS));
  const { reader: served } = await readAll(servePath);
  assert.equal(served.header.planVersion, 1);
  assert.equal("scenarioVersion" in served.header, false);
});

Deno.test("a version 1 op's fault is read as what it did to the bytes: lost, torn, lied about", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "v1-faults.trace");
  const faulted: OpRecord[] = [
    opRecord({
      index: 0,
      node: "app",
      disk: "data",
      fault: { kind: "lost-write", rule: "lost-write@0" },
    }),
    opRecord({
      index: 1,
      node: "app",
      disk: "data",
      fault: { kind: "torn-write", rule: "torn-write@1", detail: { keepBytes: 1024 } },
    }),
    opRecord({
      index: 2,
      node: "app",
      disk: "data",
      op: "flush",
      offset: 0,
      length: 0,
      fault: { kind: "lie-flush", rule: "lie-flush" },
    }),
    opRecord({ index: 3, node: "app", disk: "data", fault: { kind: "eio", rule: "eio@3" } }),
  ];
  await Deno.writeFile(path, traceBytes(VERSION_1_HEADER, faulted));
  const { records } = await readAll(path);
  assert.deepEqual(
    records.flatMap((r) => r.record === "op" ? [r.fault] : []),
    [
      { kind: "lost-write", rule: "lost-write@0", stored: 0 },
      { kind: "torn-write", rule: "torn-write@1", detail: { keepBytes: 1024 }, stored: 1024 },
      { kind: "lie-flush", rule: "lie-flush", undurable: true },
      { kind: "eio", rule: "eio@3" },
    ],
  );
});

Deno.test("a trace of a newer version is refused in one line naming both versions and what to do", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "v3.trace");
  const newer = { ...VERSION_1_HEADER, version: TRACE_VERSION + 1, planVersion: 9 };
  await Deno.writeFile(path, traceBytes(newer, OPS));
  await assert.rejects(TraceReader.open(path), (error: unknown) => {
    assert.ok(error instanceof TraceFormatError);
    assert.equal(error.kind, "usage", "exit code 2");
    assert.equal(
      error.message,
      `${path} is a trace of version ${
        TRACE_VERSION + 1
      }; this faultline (${VERSION}) reads versions 1 to ${TRACE_VERSION}: read it with a newer faultline`,
    );
    return true;
  });
});

Deno.test("a header of version 2 without its plan version, or with a scenario without its version, is refused", async () => {
  await using dir = await makePrivateDir();
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["no-plan", { ...VERSION_1_HEADER, version: 2, scenarioVersion: 1 }, /has no planVersion/],
    [
      "no-scenario-version",
      { ...VERSION_1_HEADER, version: 2, planVersion: 2 },
      /a scenario without its scenarioVersion/,
    ],
    ["no-version", { ...VERSION_1_HEADER, version: "2" }, /has no trace version/],
  ];
  for (const [name, header, pattern] of cases) {
    const path = join(dir.path, `${name}.trace`);
    await Deno.writeFile(path, traceBytes(header, OPS));
    await assert.rejects(
      TraceReader.open(path),
      (e: unknown) => e instanceof TraceFormatError && pattern.test(e.message),
      name,
    );
  }
});

Deno.test("the writer writes the current version and refuses a scenario without its version", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "now.trace");
  const writer = await TraceWriter.create(
    path,
    traceHeader({ scenario: { name: "x" }, scenarioVersion: 1 }),
  );
  await writer.close({ duration: 0, endedAt: "2026-01-01T00:00:01.000Z" });
  const { reader } = await readAll(path);
  assert.equal(reader.header.version, TRACE_VERSION);
  assert.equal(reader.header.scenarioVersion, 1);
  await assert.rejects(
    TraceWriter.create(join(dir.path, "bad.trace"), traceHeader({ scenario: { name: "x" } })),
    (e: unknown) => e instanceof TraceError && /without its scenarioVersion/.test(e.message),
  );
});

Deno.test("a write's hash reads as the file has it (version 2), and from its bytes where the file has none (version 3)", async () => {
  await using dir = await makePrivateDir();
  const data = new Uint8Array(4096).fill(7);
  const header = { ...VERSION_1_HEADER, version: 2, planVersion: 2, scenarioVersion: 1 };
  const v2 = join(dir.path, "v2.trace");
  const stored = opRecord({ index: 0, hash: "0123456789abcdef", data });
  await Deno.writeFile(v2, traceBytes(header, [stored]));
  const v3 = join(dir.path, "v3.trace");
  const withoutHash = opRecord({ index: 0, data });
  assert.equal(withoutHash.hash, undefined);
  await Deno.writeFile(v3, traceBytes({ ...header, version: 3 }, [withoutHash]));
  const hashes = async (path: string) =>
    (await readAll(path)).records.flatMap((r) => r.record === "op" ? [r.hash] : []);
  assert.deepEqual(await hashes(v2), ["0123456789abcdef"], "a version 2 trace's hash as written");
  assert.deepEqual(await hashes(v3), [dataHash(data)], "a version 3 write's hash from its data");
});
