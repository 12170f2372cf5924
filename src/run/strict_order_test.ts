import assert from "node:assert/strict";
import type { BlockBackend, BlockOp } from "../block/backend.ts";
import type { OpRecord } from "../trace/schema.ts";
import { SequencedLayer, Sequencer } from "./strict_order.ts";
import { blockOp, opRecord } from "../../tests/support/ops.ts";

/** A backend that notes the order ops reach it in and answers at once. */
class FakeDisk implements BlockBackend {
  readonly size = 1 << 20;
  readonly served: string[] = [];
  closed = false;
  constructor(private readonly name: string) {}
  execute(op: BlockOp): Promise<Uint8Array | undefined> {
    this.served.push(`${this.name}:${op.type}@${op.offset}`);
    if (op.offset === 666) return Promise.reject(new Error("the disk failed"));
    return Promise.resolve(op.type === "read" ? new Uint8Array(op.length) : undefined);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** Recorded writes of 512 bytes at these offsets (in this arrival order) on app/data. */
function recording(...offsets: number[]): OpRecord[] {
  return offsets.map((offset, index) => opRecord({ index, offset, length: 512 }));
}

let arrivals = 100;
/** A replayed write of 512 bytes at `offset`; its replay index is of no concern to the order. */
const write = (offset: number): BlockOp =>
  blockOp({ index: arrivals++, type: "write", offset, length: 512, data: new Uint8Array(512) });

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("strict order: ops that arrive out of order reach the disk in the recorded order", async () => {
  const disk = new FakeDisk("data");
  const sequencer = new Sequencer(recording(0, 512, 1024, 1536), { boundMs: 10_000 });
  const layer = new SequencedLayer(disk, sequencer, { node: "app", disk: "data" });
  const done: number[] = [];
  const running = [1536, 512, 1024, 0].map((offset) =>
    layer.execute(write(offset)).then(() => done.push(offset))
  );
  await settle();
  await Promise.all(running);
  assert.deepEqual(disk.served, [
    "data:write@0",
    "data:write@512",
    "data:write@1024",
    "data:write@1536",
  ]);
  assert.deepEqual(done, [0, 512, 1024, 1536]);
  assert.deepEqual(sequencer.breaks, []);
});

Deno.test("strict order: an op waits for exactly its predecessors, matched by signature and occurrence", async () => {
  const disk = new FakeDisk("data");
  // Offset 0 is written twice: recorded ops 0 and 2.
  const sequencer = new Sequencer(recording(0, 512, 0), { boundMs: 10_000 });
  const layer = new SequencedLayer(disk, sequencer, { node: "app", disk: "data" });
  const second = layer.execute(write(512)); // recorded op 1: waits for op 0
  await settle();
  assert.deepEqual(disk.served, [], "op 1 waits for op 0");
  await layer.execute(write(0)); // the first write at 0 is recorded op 0
  await second;
  assert.deepEqual(disk.served, ["data:write@0", "data:write@512"]);
  await layer.execute(write(0)); // the second write at 0 is recorded op 2, whose turn it is
  assert.equal(disk.served.length, 3);
  assert.deepEqual(sequencer.breaks, []);
  assert.ok(sequencer.waitedMs > 0, "op 1's wait is counted");
});

Deno.test("strict order: node and disk are part of the match; disks share one order", async () => {
  const data = new FakeDisk("data");
  const wal = new FakeDisk("wal");
  const recorded = [
    opRecord({ index: 0, node: "db", disk: "wal", offset: 0 }),
    opRecord({ index: 1, node: "db", disk: "data", offset: 0 }),
    opRecord({ index: 2, node: "db", disk: "wal", op: "flush" }),
  ];
  const sequencer = new Sequencer(recorded, { boundMs: 10_000 });
  const onData = new SequencedLayer(data, sequencer, { node: "db", disk: "data" });
  const onWal = new SequencedLayer(wal, sequencer, { node: "db", disk: "wal" });
  const flush = onWal.execute(blockOp({ index: 1, type: "flush" }));
  const dataWrite = onData.execute(write(0));
  await settle();
  assert.deepEqual([...data.served, ...wal.served], [], "both wait for wal's write");
  await onWal.execute(write(0));
  await Promise.all([flush, dataWrite]);
  assert.deepEqual(data.served, ["data:write@0"]);
  assert.deepEqual(wal.served, ["wal:write@0", "wal:flush@0"]);
  // The same op on another node is not in the recording.
  const other = new SequencedLayer(new FakeDisk("x"), sequencer, { node: "app", disk: "data" });
  const stray = write(0);
  await other.execute(stray);
  assert.deepEqual(sequencer.breaks, [{ index: stray.index, reason: "not-recorded" }]);
});

Deno.test("strict order: the same write on two nodes is two ops, each in its recorded place", async () => {
  const a = new FakeDisk("a");
  const b = new FakeDisk("b");
  const recorded = [
    opRecord({ index: 0, node: "a", offset: 0 }),
    opRecord({ index: 1, node: "b", offset: 0 }),
  ];
  const sequencer = new Sequencer(recorded, { boundMs: 10_000 });
  const onB = new SequencedLayer(b, sequencer, { node: "b", disk: "data" }).execute(write(0));
  await settle();
  assert.deepEqual(b.served, [], "b's write is recorded op 1: it waits for a's");
  await new SequencedLayer(a, sequencer, { node: "a", disk: "data" }).execute(write(0));
  await onB;
  assert.deepEqual([a.served, b.served], [["a:write@0"], ["b:write@0"]]);
  assert.deepEqual(sequencer.breaks, []);
});

Deno.test("strict order: ops the recording lacks, or more occurrences than it had, pass at once and are noted", async () => {
  const disk = new FakeDisk("data");
  const sequencer = new Sequencer(recording(0, 512), { boundMs: 10_000 });
  const layer = new SequencedLayer(disk, sequencer, { node: "app", disk: "data" });
  const unknown = write(4096);
  await layer.execute(unknown); // would hang for 10 s if it waited
  const first = write(0);
  await layer.execute(first);
  const again = write(0);
  await layer.execute(again);
  assert.deepEqual(sequencer.breaks, [
    { index: unknown.index, reason: "not-recorded" },
    { index: again.index, reason: "not-recorded" },
  ]);
  assert.deepEqual(disk.served, ["data:write@4096", "data:write@0", "data:write@0"]);
});

Deno.test("strict order: an op whose predecessor never comes goes on after the bound, and the break is noted", async () => {
  const disk = new FakeDisk("data");
  const boundMs = 60;
  const sequencer = new Sequencer(recording(0, 512), { boundMs });
  const layer = new SequencedLayer(disk, sequencer, { node: "app", disk: "data" });
  const late = write(512);
  const started = performance.now();
  await layer.execute(late);
  const waited = performance.now() - started;
  assert.ok(waited >= boundMs - 2, `went on after ${waited} ms`);
  assert.deepEqual(sequencer.breaks, [{ index: late.index, reason: "timeout", recorded: 1 }]);
  assert.ok(sequencer.waitedMs >= boundMs - 2 && sequencer.waitedMs < 10 * boundMs);
  assert.deepEqual(disk.served, ["data:write@512"]);
});

Deno.test({
  name: "strict order: a recorded op that never comes delays only the op after it",
  async fn() {
    const disk = new FakeDisk("data");
    const boundMs = 50;
    const sequencer = new Sequencer(recording(0, 512, 1024, 1536), { boundMs });
    const layer = new SequencedLayer(disk, sequencer, { node: "app", disk: "data" });
    const started = performance.now();
    for (const offset of [512, 1024, 1536]) await layer.execute(write(offset));
    const took = performance.now() - started;
    assert.ok(took < 2 * boundMs, `three ops took ${Math.round(took)} ms`);
    assert.deepEqual(sequencer.breaks.map((b) => b.reason), ["timeout"]);
  },
});

Deno.test("strict order: release lets every waiting op through at once, and later ones do not wait", async () => {
  const disk = new FakeDisk("data");
  const sequencer = new Sequencer(recording(0, 512, 1024), { boundMs: 10_000 });
  const layer = new SequencedLayer(disk, sequencer, { node: "app", disk: "data" });
  const waiting = [layer.execute(write(1024)), layer.execute(write(512))];
  await settle();
  assert.deepEqual(disk.served, []);
  const started = performance.now();
  sequencer.release();
  await Promise.all(waiting);
  assert.equal(disk.served.length, 2);
  await layer.execute(write(8192)); // not recorded: after a release nothing is noted either
  assert.ok(performance.now() - started < 1000);
  assert.deepEqual(sequencer.breaks, [], "ops let through by a release are no breaks");
});

Deno.test("SequencedLayer: size, results, errors and close are the next layer's", async () => {
  const disk = new FakeDisk("data");
  const recorded = [
    opRecord({ index: 0, op: "read", offset: 0, length: 4096 }),
    opRecord({ index: 1, offset: 666 }),
  ];
  const layer = new SequencedLayer(disk, new Sequencer(recorded, { boundMs: 10_000 }), {
    node: "app",
    disk: "data",
  });
  assert.equal(layer.size, 1 << 20);
  assert.deepEqual(
    await layer.execute(blockOp({ type: "read", offset: 0, length: 4096 })),
    new Uint8Array(4096),
  );
  await assert.rejects(layer.execute(write(666)), /the disk failed/);
  await layer.close();
  assert.equal(disk.closed, true);
});
