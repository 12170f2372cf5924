import assert from "node:assert/strict";
import { unpack } from "msgpackr";
import { OpRecordEncoder } from "./op_codec.ts";
import type { OpRecord } from "./schema.ts";
import { prng } from "../../tests/support/random.ts";

Deno.test("op records encode to plain msgpack that a generic decoder reads back as the same object", () => {
  const next = prng(99).float;
  const encoder = new OpRecordEncoder();
  const types = ["read", "write", "flush", "trim", "write-zeroes", "cache"] as const;
  for (let i = 0; i < 2000; i++) {
    const type = types[Math.floor(next() * types.length)];
    const size = [0, 1, 100, 255, 256, 4096, 65535, 65536, 70000][Math.floor(next() * 9)];
    const record: OpRecord = {
      record: "op",
      index: Math.floor(next() * 2 ** (next() < 0.5 ? 7 : 40)),
      done: Math.floor(next() * 2 ** 20),
      node: next() < 0.5 ? "app" : "n".repeat(Math.floor(next() * 300)),
      disk: next() < 0.5 ? "data" : "é".repeat(Math.floor(next() * 40)),
      op: type,
      offset: Math.floor(next() * 2 ** (next() < 0.5 ? 16 : 50)),
      length: Math.floor(next() * 2 ** 25),
      start: next() < 0.2 ? 0 : next() * 10_000,
      end: next() * 10_000,
      result: next() < 0.9 ? "ok" : "eio",
    };
    if (next() < 0.2) record.fua = true;
    if (next() < 0.1) record.noHole = true;
    if (type === "write") {
      record.hash = "0123456789abcdef";
      if (next() < 0.8) record.data = new Uint8Array(size).map(() => Math.floor(next() * 256));
    }
    if (next() < 0.5) record.phase = next() < 0.5 ? "run" : "check";
    const out = new Uint8Array(encoder.maxSize(record));
    const end = encoder.encodeInto(record, out, 0);
    assert.ok(end > 0 && end <= out.length);
    assert.deepEqual(unpack(out.subarray(0, end)), record, `record ${i}`);
  }
});

Deno.test("records with a fault are left to the generic encoder", () => {
  const record: OpRecord = {
    record: "op",
    index: 1,
    done: 2,
    node: "n",
    disk: "d",
    op: "read",
    offset: 0,
    length: 512,
    start: 0,
    end: 1,
    result: "eio",
    fault: { kind: "eio", rule: "eio@1" },
  };
  const encoder = new OpRecordEncoder();
  assert.equal(encoder.encodeInto(record, new Uint8Array(encoder.maxSize(record)), 0), -1);
});
