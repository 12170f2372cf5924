/**
 * Several connections to one export, as a client does when the server
 * advertises `NBD_FLAG_CAN_MULTI_CONN`: a flush on any connection covers the
 * writes completed on all of them (proto.md, "Transmission flags"), and a power
 * loss built from the trace keeps exactly those.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import * as P from "../src/nbd/protocol.ts";
import { selectCrashWrites, writeCrashImages } from "../src/run/crash_state.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { NbdTestClient } from "./support/nbd_pipeline.ts";
import {
  makeImage,
  readTraceRecords,
  run,
  seededFill,
  type Served,
  serveImage,
} from "./support/mod.ts";

const BLOCK = 4096;

function socketOf(served: Served): string {
  const address = served.service.address;
  if (address.transport !== "unix") throw new Error("a unix socket was expected");
  return address.path;
}

/** The disk after a power loss at op `cutAt`, built from the trace alone. */
async function crashImage(served: Served, records: OpRecord[], cutAt: number): Promise<Uint8Array> {
  const selection = selectCrashWrites(records, cutAt, { kind: "drop" });
  const out = join(served.dir.path, `crash-${cutAt}`);
  await Deno.mkdir(out);
  const images = await writeCrashImages(selection, new Map([["serve/vda", served.image]]), out);
  return await Deno.readFile(images.get("serve/vda")!.path);
}

Deno.test("a flush on one connection covers the writes completed on another; a power loss from the trace keeps exactly those", async () => {
  await using served = await serveImage({ size: 1024 * 1024, fill: seededFill(3) });
  const base = await Deno.readFile(served.image);
  await using a = await NbdTestClient.open(socketOf(served), "vda");
  await using b = await NbdTestClient.open(socketOf(served), "vda");
  assert.ok(a.transmissionFlags & P.FLAG_CAN_MULTI_CONN, "multi-conn is advertised");

  const block = (n: number) => new Uint8Array(BLOCK).fill(0x10 + n);
  const write = (n: number) => ({ type: "write" as const, offset: n * BLOCK, data: block(n) });
  // Each request waits for its reply: the order across the connections is this one.
  await a.run(write(0)); // op 0
  await b.run(write(1)); // op 1
  await a.run({ type: "flush" }); // op 2: covers blocks 0 and 1, the second written on b
  await b.run(write(2)); // op 3
  await a.run(write(3)); // op 4
  await b.run({ type: "flush" }); // op 5: covers blocks 2 and 3, the second written on a
  await a.run(write(4)); // op 6: never flushed
  await b.run(write(5)); // op 7: never flushed
  await a.disconnect();
  await b.disconnect();
  await served.service.close("test finished");

  const records = (await readTraceRecords(served.trace)).ops;
  assert.deepEqual(
    records.map((r) => `${r.index}:${r.op}`),
    ["0:write", "1:write", "2:flush", "3:write", "4:write", "5:flush", "6:write", "7:write"],
  );
  const kept = (cutAt: number) =>
    selectCrashWrites(records, cutAt, { kind: "drop" }).writes.map((w) => w.record.offset / BLOCK);
  // Before a flush completes it covers nothing; once it has, every write completed before it arrived.
  assert.deepEqual(kept(2), []);
  assert.deepEqual(kept(3), [0, 1]);
  assert.deepEqual(kept(5), [0, 1]);
  assert.deepEqual(kept(6), [0, 1, 2, 3]);
  assert.deepEqual(kept(8), [0, 1, 2, 3]);

  const image = await crashImage(served, records, 8);
  const expected = base.slice();
  for (const n of [0, 1, 2, 3]) expected.set(block(n), n * BLOCK);
  assert.deepEqual(image, expected, "the crash state holds the flushed writes and nothing else");
});

Deno.test("nbdcopy opens several connections; with --flush the power loss at its end keeps every byte, without it none", async () => {
  for (const flush of [true, false]) {
    let connections = 0;
    await using served = await serveImage({
      size: 16 * 1024 * 1024,
      onEvent: (event) => {
        if (event.type === "connection-opened") connections++;
      },
    });
    const source = await makeImage(
      join(served.dir.path, "source.raw"),
      16 * 1024 * 1024,
      seededFill(flush ? 5 : 6),
    );
    const copy = await run("nbdcopy", [
      ...(flush ? ["--flush"] : []),
      "--request-size=65536",
      source,
      served.uri(),
    ]);
    assert.equal(copy.code, 0, copy.text);
    assert.ok(connections >= 2, `nbdcopy used ${connections} connections`);
    await served.service.close("test finished");

    const records = (await readTraceRecords(served.trace)).ops;
    assert.ok(records.some((r) => r.op === "write"));
    const end = Math.max(...records.map((r) => r.done));
    const image = await crashImage(served, records, end);
    if (flush) {
      assert.deepEqual(image, await Deno.readFile(source), "every write was covered by a flush");
    } else {
      assert.deepEqual(
        image,
        await Deno.readFile(served.image),
        "no flush: every write was volatile",
      );
    }
  }
});
