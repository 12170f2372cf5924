import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import type { BlockOp, ByteLog, OpType } from "./backend.ts";
import { OVERLAY_BLOCK, OverlayStore } from "./overlay_store.ts";
import { PositionedFile } from "./positioned_file.ts";
import { blockOp } from "../../tests/support/ops.ts";
import { prng } from "../../tests/support/random.ts";

function opOf(type: OpType, offset: number, length: number, data?: Uint8Array): BlockOp {
  return blockOp({ type, offset, length, data });
}

/** An append-only log in memory, as the trace writer is one: each append at the end, with junk between. */
class MemoryLog implements ByteLog {
  bytes = new Uint8Array(1 << 16);
  length = 0;
  append(data: Uint8Array): number {
    const at = this.length + 7; // record bytes before the payload
    while (this.bytes.length < at + data.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.fill(0xee, this.length, at);
    this.bytes.set(data, at);
    this.length = at + data.length;
    return at;
  }
  readAt(position: number, into: Uint8Array, at: number, length: number): void {
    assert.ok(position + length <= this.length, "reads only what was logged");
    into.set(this.bytes.subarray(position, position + length), at);
  }
}

/** Random writes, trims, write-zeroes and reads against `store`, checked against `model`, an in-memory disk. */
async function exercise(
  store: OverlayStore,
  model: Uint8Array,
  next: () => number,
  steps: number,
  log?: MemoryLog,
): Promise<void> {
  const size = model.length;
  for (let step = 0; step < steps; step++) {
    // Logged writes are mostly aligned, as a guest's are.
    const aligned = log && next() % 2 === 0;
    const offset = aligned
      ? (next() % Math.ceil(size / OVERLAY_BLOCK)) * OVERLAY_BLOCK
      : next() % size;
    const length = Math.min(size - offset, next() % (3 * OVERLAY_BLOCK));
    const kind = next() % 4;
    if (kind === 0) {
      const data = new Uint8Array(length).map(() => next() & 0xff);
      const op = opOf("write", offset, length, data);
      if (log) {
        op.logPosition = log.append(data);
        // The fast lane's payload is a view that is reused: the store must not keep it.
        assert.equal(store.executeNow(op, new Uint8Array(0), 0), true);
        data.fill(0x5a);
      } else await store.execute(op);
      // The bytes as written: the logged copy, since the payload was scribbled over.
      model.set(log ? log.bytes.subarray(op.logPosition!, op.logPosition! + length) : data, offset);
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

Deno.test("over a sparse base, holes read as zeroes and data as written, whatever is written over them", async () => {
  await using dir = await makePrivateDir();
  const size = 256 * OVERLAY_BLOCK + 1234;
  const basePath = join(dir.path, "base.raw");
  const model = new Uint8Array(size);
  const next = prng(11).u32;
  {
    using base = PositionedFile.open(basePath, { write: true, create: true });
    base.truncate(size);
    // Islands of data, some not on block boundaries, in a file of holes.
    for (const [at, length] of [[0, 5000], [40_000, 9000], [300_000, 100], [size - 700, 700]]) {
      const bytes = new Uint8Array(length).map(() => (next() & 0xff) | 1);
      base.write(at, bytes);
      model.set(bytes, at);
    }
  }
  const store = OverlayStore.open({ base: basePath, scratchDir: dir.path, name: "vda" });
  const firstDifference = async () => {
    const read = (await store.execute(opOf("read", 0, size)))!;
    return read.findIndex((byte, at) => byte !== model[at]);
  };
  try {
    assert.equal(await firstDifference(), -1, "the base reads as written, holes as zeroes");
    await exercise(store, model, next, 1000);
    assert.equal(await firstDifference(), -1, "after writes over data and holes");
  } finally {
    await store.close();
  }
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

Deno.test("writes kept as positions in a byte log read back as an in-memory disk would", async () => {
  await using dir = await makePrivateDir();
  const size = 41 * OVERLAY_BLOCK + 300;
  const next = prng(23).u32;
  const base = new Uint8Array(size).map(() => next() & 0xff);
  const basePath = join(dir.path, "base.raw");
  await Deno.writeFile(basePath, base);
  for (const memoryBudget of [0, 3 * OVERLAY_BLOCK, 1 << 30]) {
    const model = base.slice();
    const log = new MemoryLog();
    const store = OverlayStore.open({
      base: basePath,
      scratchDir: dir.path,
      name: `log${memoryBudget}`,
      memoryBudget,
      log,
    });
    try {
      await exercise(store, model, next, 3000, log);
      assert.ok(store.memoryBytes <= memoryBudget);
    } finally {
      await store.close();
    }
  }
  assert.deepEqual(await Deno.readFile(basePath), base);
});

Deno.test("an aligned logged write takes no overlay memory; its reads come from the log", async () => {
  await using dir = await makePrivateDir();
  const basePath = join(dir.path, "base.raw");
  await Deno.writeFile(basePath, new Uint8Array(16 * OVERLAY_BLOCK));
  const log = new MemoryLog();
  const store = OverlayStore.open({ base: basePath, scratchDir: dir.path, name: "vda", log });
  try {
    const data = new Uint8Array(4 * OVERLAY_BLOCK).map((_, i) => i * 7);
    const op = opOf("write", 2 * OVERLAY_BLOCK, data.length, data);
    op.logPosition = log.append(data);
    assert.equal(store.executeNow(op, new Uint8Array(0), 0), true);
    assert.equal(store.memoryBytes, 0);
    const out = new Uint8Array(8 + data.length);
    assert.equal(store.executeNow(opOf("read", 2 * OVERLAY_BLOCK, data.length), out, 8), true);
    assert.deepEqual(out.subarray(8), data);
    // An unaligned write over a logged block brings that block into memory.
    await store.execute(opOf("write", 3 * OVERLAY_BLOCK + 10, 5, new Uint8Array(5).fill(1)));
    assert.equal(store.memoryBytes, OVERLAY_BLOCK);
    const back = (await store.execute(opOf("read", 2 * OVERLAY_BLOCK, data.length)))!;
    const expected = data.slice();
    expected.fill(1, OVERLAY_BLOCK + 10, OVERLAY_BLOCK + 15);
    assert.deepEqual(back, expected);
  } finally {
    await store.close();
  }
});

Deno.test("large writes go to the scratch file and read back as an in-memory disk would", async () => {
  await using dir = await makePrivateDir();
  const size = 300 * OVERLAY_BLOCK + 100;
  const next = prng(31).u32;
  const base = new Uint8Array(size).map(() => next() & 0xff);
  const basePath = join(dir.path, "base.raw");
  await Deno.writeFile(basePath, base);
  const model = base.slice();
  const store = OverlayStore.open({ base: basePath, scratchDir: dir.path, name: "large" });
  try {
    for (let step = 0; step < 300; step++) {
      const offset = next() % size;
      const length = Math.min(size - offset, next() % 2 ? next() % (40 * OVERLAY_BLOCK) : 3000);
      if (next() % 3 === 0) {
        const got = await store.execute(opOf("read", offset, length));
        assert.deepEqual(got, model.subarray(offset, offset + length), `step ${step}`);
        continue;
      }
      const data = new Uint8Array(length).map(() => next() & 0xff);
      await store.execute(opOf("write", offset, length, data));
      model.set(data, offset);
    }
    assert.deepEqual(await store.execute(opOf("read", 0, size)), model);
  } finally {
    await store.close();
  }
});
