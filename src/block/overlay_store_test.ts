import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import type { BlockOp, OpType } from "./backend.ts";
import { OVERLAY_BLOCK, OverlayStore } from "./overlay_store.ts";
import { blockOp } from "../../tests/support/ops.ts";
import { prng } from "../../tests/support/random.ts";

function opOf(type: OpType, offset: number, length: number, data?: Uint8Array): BlockOp {
  return blockOp({ type, offset, length, data });
}

/** Random writes, trims, write-zeroes and reads against `store`, checked against `model`, an in-memory disk. */
async function exercise(
  store: OverlayStore,
  model: Uint8Array,
  next: () => number,
  steps: number,
): Promise<void> {
  const size = model.length;
  for (let step = 0; step < steps; step++) {
    const offset = next() % size;
    const length = Math.min(size - offset, next() % (3 * OVERLAY_BLOCK));
    const kind = next() % 4;
    if (kind === 0) {
      const data = new Uint8Array(length).map(() => next() & 0xff);
      await store.execute(opOf("write", offset, length, data));
      model.set(data, offset);
    } else if (kind === 1) {
      await store.execute(opOf(next() % 2 ? "trim" : "write-zeroes", offset, length));
      model.fill(0, offset, offset + length);
    } else {
      const got = await store.execute(opOf("read", offset, length));
      assert.deepEqual(
        got,
        model.subarray(offset, offset + length),
        `step ${step}: read ${offset}+${length}`,
      );
    }
  }
  assert.deepEqual(await store.execute(opOf("read", 0, size)), model);
}

Deno.test("the overlay store reads what an in-memory disk would, and never writes its base", async () => {
  await using dir = await makePrivateDir();
  // An unaligned size exercises the short last block.
  const size = 37 * OVERLAY_BLOCK + 1234;
  const next = prng(7).u32;
  const base = new Uint8Array(size).map(() => next() & 0xff);
  const basePath = join(dir.path, "base.raw");
  await Deno.writeFile(basePath, base);
  const model = base.slice();
  const store = OverlayStore.open({ base: basePath, scratchDir: dir.path, name: "vda" });
  try {
    await exercise(store, model, next, 2000);
    // Zeroing up to the end of an unaligned disk.
    await store.execute(opOf("write-zeroes", size - 5000, 5000));
    model.fill(0, size - 5000);
    assert.deepEqual(await store.execute(opOf("read", 0, size)), model);
  } finally {
    await store.close();
  }
  assert.deepEqual(await Deno.readFile(basePath), base, "the base image is unchanged");
  assert.deepEqual(
    [...Deno.readDirSync(dir.path)].map((e) => e.name),
    ["base.raw"],
    "the overlay is removed",
  );
});

Deno.test("a closed store refuses ops with ESHUTDOWN", async () => {
  await using dir = await makePrivateDir();
  const basePath = join(dir.path, "base.raw");
  await Deno.writeFile(basePath, new Uint8Array(4096));
  const store = OverlayStore.open({ base: basePath, scratchDir: dir.path, name: "vda" });
  await store.close();
  await assert.rejects(store.execute(opOf("read", 0, 512)), /closed/);
});

Deno.test("with a small memory budget, the overlay spills to its file and still reads what a model would", async () => {
  await using dir = await makePrivateDir();
  const size = 64 * OVERLAY_BLOCK + 700;
  const next = prng(11).u32;
  const base = new Uint8Array(size).map(() => next() & 0xff);
  const basePath = join(dir.path, "base.raw");
  await Deno.writeFile(basePath, base);
  const model = base.slice();
  for (const memoryBudget of [0, 5 * OVERLAY_BLOCK, 1 << 30]) {
    model.set(base);
    const store = OverlayStore.open({
      base: basePath,
      scratchDir: dir.path,
      name: `b${memoryBudget}`,
      memoryBudget,
    });
    try {
      await exercise(store, model, next, 1500);
      assert.ok(
        store.memoryBytes <= memoryBudget,
        `memory ${store.memoryBytes} within budget ${memoryBudget}`,
      );
    } finally {
      await store.close();
    }
  }
  assert.deepEqual(await Deno.readFile(basePath), base);
});
