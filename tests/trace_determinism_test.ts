/**
 * The same client sequence gives the same op records: arrival order, completion
 * order (`done`), offsets, lengths, data and hashes are byte-identical between
 * two runs; only the times (`start`, `end`) differ. Requests come pipelined, in
 * socket writes of varying sizes, so the test also shows that how the bytes are
 * cut on the socket does not change the trace.
 */

import assert from "node:assert/strict";
import { pack, unpack } from "msgpackr";
import { TraceReader } from "../src/trace/reader.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { NbdTestClient, type TestRequest } from "./support/nbd_pipeline.ts";
import { seededFill, type Served, serveImage } from "./support/mod.ts";

const SIZE = 8 * 1024 * 1024;

/** Every op record of a trace, packed without its times. */
async function opBytes(path: string): Promise<Uint8Array[]> {
  const reader = await TraceReader.open(path);
  const out: Uint8Array[] = [];
  for await (const record of reader.records()) {
    if (record.record !== "op") continue;
    const { start: _start, end: _end, ...rest } = record as OpRecord;
    out.push(pack(rest));
  }
  return out;
}

function socketOf(served: Served): string {
  const address = served.service.address;
  if (address.transport !== "unix") throw new Error("a unix socket was expected");
  return address.path;
}

/** A fixed sequence of batches of requests, from a seeded generator. */
function sequence(seed: number): TestRequest[][] {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const batches: TestRequest[][] = [];
  for (let b = 0; b < 60; b++) {
    const batch: TestRequest[] = [];
    const count = 1 + next() % 12;
    for (let i = 0; i < count; i++) {
      const kind = next() % 10;
      const blocks = 1 + next() % 4;
      const offset = (next() % (SIZE / 4096 - 4)) * 4096 + (next() % 4 === 0 ? 512 : 0);
      if (kind < 5) {
        const data = new Uint8Array(blocks * 4096 - (offset % 4096));
        seededFill(next())(data);
        batch.push({ type: "write", offset, data, fua: next() % 8 === 0 });
      } else if (kind < 9) batch.push({ type: "read", offset, length: blocks * 4096 });
      else batch.push({ type: "flush" });
    }
    batches.push(batch);
  }
  return batches;
}

/** Compares op records one by one, naming the first that differs (a whole-array diff would be huge). */
function assertSameOps(actual: Uint8Array[], expected: Uint8Array[]): void {
  assert.equal(actual.length, expected.length, "as many op records");
  for (let i = 0; i < expected.length; i++) {
    if (actual[i].length !== expected[i].length || actual[i].some((b, j) => b !== expected[i][j])) {
      assert.fail(
        `op record ${i} differs: ${JSON.stringify(unpack(actual[i]))} vs ${
          JSON.stringify(unpack(expected[i]))
        }`,
      );
    }
  }
}

async function record(drive: (served: Served) => Promise<void>): Promise<Uint8Array[]> {
  await using served = await serveImage({ size: SIZE, fill: seededFill(9) });
  await drive(served);
  await served.service.close("test finished");
  return await opBytes(served.trace);
}

Deno.test("a fixed pipelined request sequence records byte-identical op records twice", async () => {
  const drive = async (served: Served) => {
    await using client = await NbdTestClient.open(socketOf(served), "vda");
    for (const batch of sequence(77)) await client.run(...batch);
  };
  const first = await record(drive);
  const second = await record(drive);
  assert.ok(first.length > 200, `${first.length} ops`);
  assertSameOps(second, first);
});

Deno.test("two connections taking turns record byte-identical op records twice", async () => {
  const drive = async (served: Served) => {
    await using a = await NbdTestClient.open(socketOf(served), "vda");
    await using b = await NbdTestClient.open(socketOf(served), "vda");
    for (const [i, batch] of sequence(78).entries()) await (i % 2 ? b : a).run(...batch);
  };
  assertSameOps(await record(drive), await record(drive));
});

Deno.test("a bench-like client, 16 requests in flight, records byte-identical op records twice", async () => {
  // As qemu-img bench does: 16 requests in flight, the next sent as each reply comes, sequential
  // offsets. (qemu-img bench itself does not send the same order twice: the order it issues
  // requests in depends on how its replies were batched.)
  const drive = async (served: Served) => {
    await using client = await NbdTestClient.open(socketOf(served), "vda");
    for (const type of ["write", "read"] as const) {
      let sent = 0;
      const request = (): TestRequest => {
        const offset = (sent++ * 4096) % SIZE;
        return type === "write"
          ? { type, offset, data: new Uint8Array(4096).fill(sent & 0xff) }
          : { type, offset, length: 4096 };
      };
      await client.send(...Array.from({ length: 16 }, request));
      for (let done = 0; done < 3000; done++) {
        const reply = await client.reply();
        assert.equal(reply.error, 0);
        if (sent < 3000) await client.send(request());
      }
    }
  };
  const first = await record(drive);
  assert.equal(first.length, 6000);
  assertSameOps(await record(drive), first);
});
