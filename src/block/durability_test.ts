import assert from "node:assert/strict";
import type { OpType } from "./backend.ts";
import { type CompletedOp, DurabilityModel } from "./durability.ts";

function completed(
  index: number,
  done: number,
  type: OpType,
  extra: Partial<CompletedOp> = {},
): CompletedOp {
  return {
    index,
    done,
    disk: "vda",
    type,
    offset: index * 512,
    length: type === "flush" ? 0 : 512,
    fua: false,
    ok: true,
    stored: true,
    ...extra,
  };
}

Deno.test("a write is volatile until a flush that arrived after its completion completes", () => {
  const model = new DurabilityModel();
  model.complete(completed(0, 1, "write"));
  assert.deepEqual(model.volatileWrites("vda").map((w) => w.index), [0]);
  model.complete(completed(1, 2, "flush"));
  assert.deepEqual(model.counts("vda"), { volatileWrites: 0, volatileBytes: 0, durableWrites: 1 });
});

Deno.test("a flush covers only the writes completed when it arrived", () => {
  const model = new DurabilityModel();
  // Write 0 completes before flush 1 arrives; write 2 arrives after the flush and completes first.
  model.complete(completed(0, 1, "write"));
  model.complete(completed(2, 3, "write"));
  model.complete(completed(1, 3, "flush"));
  assert.deepEqual(model.volatileWrites("vda").map((w) => w.index), [2]);
  // A write still in flight when the flush arrived is not covered either.
  const later = new DurabilityModel();
  later.complete(completed(1, 2, "flush"));
  later.complete(completed(0, 2, "write"));
  assert.deepEqual(later.volatileWrites("vda").map((w) => w.index), [0]);
});

Deno.test("FUA writes are durable at once; failed, lost and other disks' writes are not tracked", () => {
  const model = new DurabilityModel();
  model.complete(completed(0, 1, "write", { fua: true }));
  model.complete(completed(1, 2, "write", { ok: false }));
  model.complete(completed(2, 3, "write", { stored: false }));
  model.complete(completed(3, 4, "trim", { disk: "vdb" }));
  model.complete(completed(4, 5, "write-zeroes"));
  assert.deepEqual(model.counts("vda"), {
    volatileWrites: 1,
    volatileBytes: 512,
    durableWrites: 1,
  });
  model.complete(completed(5, 6, "flush", { disk: "vdb" }));
  assert.equal(model.counts("vda").volatileWrites, 1, "a flush of vdb does not cover vda");
  assert.equal(model.counts("vdb").durableWrites, 1);
  model.complete(completed(6, 7, "flush", { ok: false }));
  assert.equal(model.counts("vda").volatileWrites, 1, "a failed flush makes nothing durable");
});

Deno.test("a flush that did not reach the platter (a lie) makes nothing durable", () => {
  const model = new DurabilityModel();
  model.complete(completed(0, 1, "write"));
  model.complete(completed(1, 2, "flush", { stored: false }));
  assert.deepEqual(model.volatileWrites("vda").map((w) => w.index), [0]);
});
