/**
 * Malformed and hostile NBD traffic against the real server, over its unix
 * socket, from the tests' raw client (support/nbd_client.ts). For every case the server must
 * either answer as the spec says (the exact option reply type or error value)
 * or drop that connection only: a bystander connection opened before the case
 * is still served after it, and so is a new qemu-io client.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 */

import assert from "node:assert/strict";
import * as P from "../src/nbd/protocol.ts";
import type { FaultPlan } from "../src/fault/types.ts";
import type { ServiceEvent } from "../src/service/disk_service.ts";
import {
  ascii,
  concat,
  encodeInfoRequest,
  encodeOptionRequest,
  prng,
  qemuIo,
  qemuIoFailed,
  RawClient,
  type Request,
  seededFill,
  type Served,
  serveImage,
  u32,
} from "./support/mod.ts";

/** The export's size: small, so that every test starts fast. */
const SIZE = 1024 * 1024;
/** A region no test writes: read at the end of every test by the bystander and by qemu-io. */
const CHECK_OFFSET = 512 * 1024;
const CHECK_LENGTH = 4096;

const utf8 = new TextDecoder("utf-8", { fatal: true });

// ------------------------------------------------------------- test harness

interface Env {
  served: Served;
  /** The server's unix socket. */
  path: string;
  /** The image's bytes when serving began. */
  base: Uint8Array;
  /** What the service reported (connections refused, protocol errors, ...). */
  events: ServiceEvent[];
  connect(): Promise<RawClient>;
  open(options?: { structured?: boolean }): Promise<RawClient>;
}

/**
 * One case: a fresh export, a bystander connection in transmission that must
 * outlive the case, and afterwards a read by the bystander and by qemu-io.
 */
function malformed(
  name: string,
  fn: (env: Env) => Promise<void>,
  options: { size?: number; plan?: FaultPlan; fill?: boolean } = {},
): void {
  Deno.test(name, async () => {
    const events: ServiceEvent[] = [];
    await using served = await serveImage({
      size: options.size ?? SIZE,
      fill: options.fill === false ? undefined : seededFill(0x5eed),
      plan: options.plan,
      onEvent: (event) => events.push(event),
    });
    const address = served.service.address;
    assert.equal(address.transport, "unix");
    const path = address.path;
    const env: Env = {
      served,
      path,
      base: await Deno.readFile(served.image),
      events,
      connect: () => RawClient.connect(path),
      open: (opts) => RawClient.open(path, opts),
    };
    await using bystander = await env.open();

    await fn(env);

    const expected = env.base.subarray(CHECK_OFFSET, CHECK_OFFSET + CHECK_LENGTH);
    assert.deepEqual(
      await bystander.readAt(CHECK_OFFSET, CHECK_LENGTH),
      expected,
      "the bystander connection is still served",
    );
    const result = await qemuIo(served.uri(), [`read -v ${CHECK_OFFSET} 16`]);
    assert.equal(qemuIoFailed(result), false, result.text);
    const hex = [...expected.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    assert.ok(result.stdout.includes(hex), `qemu-io read ${hex}:\n${result.stdout}`);
  });
}

// ------------------------------------------------------------------ handshake

malformed("unknown client flag bits close the connection", async ({ connect }) => {
  for (
    const flags of [
      0x4,
      0x8000_0000,
      0xffff_ffff,
      P.FLAG_C_FIXED_NEWSTYLE | P.FLAG_C_NO_ZEROES | 0x100,
    ]
  ) {
    await using client = await connect();
    await client.greet(flags);
    await client.expectClosed();
  }
});

malformed("an option without the IHAVEOPT magic closes the connection", async ({ connect }) => {
  await using client = await connect();
  await client.greet();
  await client.expectOptionReply(P.OPT_STRUCTURED_REPLY, undefined, P.REP_ACK);
  const bad = encodeOptionRequest(P.OPT_LIST);
  bad[7] ^= 0x01; // IHAVEOPT -> IHAVEOPU
  await client.sendMaybeRefused(bad);
  await client.expectClosed();
});

malformed(
  "an unknown option gets NBD_REP_ERR_UNSUP, and the next option still works",
  async ({ connect }) => {
    await using client = await connect();
    await client.greet();
    await client.expectOptionReply(0x1234, prng(1).bytes(100), P.REP_ERR_UNSUP);
    // Also one with bit 31 set and no data, which no server can know.
    await client.expectOptionReply(0x8000_1234, undefined, P.REP_ERR_UNSUP);
    // SET_META_CONTEXT is not offered: an error, not an ACK.
    await client.option(
      P.OPT_SET_META_CONTEXT,
      concat(u32(3), ascii("vda"), u32(1), u32(15), ascii("base:allocation")),
    );
    const meta = await client.optionReply();
    assert.equal(meta.option, P.OPT_SET_META_CONTEXT);
    assert.ok(meta.replyType & 0x8000_0000, `reply type 0x${meta.replyType.toString(16)}`);
    // The connection goes on: LIST, then GO and a read.
    await client.expectOptionReply(P.OPT_LIST, undefined, P.REP_SERVER);
    assert.equal((await client.optionReply()).replyType, P.REP_ACK);
    await client.go();
    assert.equal(client.size, SIZE);
    await client.readAt(0, 512);
  },
);

malformed(
  "STARTTLS gets an error reply, never an ACK, and the session goes on",
  async ({ connect }) => {
    await using client = await connect();
    await client.greet();
    await client.option(P.OPT_STARTTLS);
    const reply = await client.optionReply();
    assert.equal(reply.option, P.OPT_STARTTLS);
    // NOTLS mode: ERR_UNSUP or ERR_POLICY (or another permitted error), never TLS_REQD.
    assert.ok(
      [P.REP_ERR_UNSUP, P.REP_ERR_POLICY, P.REP_ERR_INVALID].includes(reply.replyType),
      `reply type 0x${reply.replyType.toString(16)}`,
    );
    await client.go();
    await client.readAt(4096, 512);
  },
);

malformed("LIST with data gets NBD_REP_ERR_INVALID", async ({ connect }) => {
  await using client = await connect();
  await client.greet();
  await client.expectOptionReply(P.OPT_LIST, ascii("vda"), P.REP_ERR_INVALID);
  await client.go();
});

malformed("LIST answers one NBD_REP_SERVER for vda, then NBD_REP_ACK", async ({ connect }) => {
  await using client = await connect();
  await client.greet();
  const entry = await client.expectOptionReply(P.OPT_LIST, undefined, P.REP_SERVER);
  const nameLength = new DataView(entry.buffer, entry.byteOffset).getUint32(0);
  assert.ok(nameLength <= entry.length - 4);
  assert.equal(utf8.decode(entry.subarray(4, 4 + nameLength)), "vda");
  const ack = await client.optionReply();
  assert.deepEqual([ack.option, ack.replyType, ack.data.length], [P.OPT_LIST, P.REP_ACK, 0]);
});

malformed("STRUCTURED_REPLY with data, or twice, gets NBD_REP_ERR_INVALID", async ({ connect }) => {
  await using client = await connect();
  await client.greet();
  await client.expectOptionReply(P.OPT_STRUCTURED_REPLY, ascii("x"), P.REP_ERR_INVALID);
  await client.expectOptionReply(P.OPT_STRUCTURED_REPLY, undefined, P.REP_ACK);
  await client.expectOptionReply(P.OPT_STRUCTURED_REPLY, undefined, P.REP_ERR_INVALID);
  client.structured = true;
  await client.go();
  assert.ok(client.transmissionFlags & P.FLAG_SEND_DF, "DF is offered with structured replies");
  await client.readAt(0, 4096);
});

malformed("INFO and GO with inconsistent lengths get NBD_REP_ERR_INVALID", async ({ connect }) => {
  const bad: [string, Uint8Array<ArrayBuffer>][] = [
    ["no data", new Uint8Array(0)],
    ["5 bytes", concat(u32(0), new Uint8Array(1))],
    ["name length past the data", concat(u32(4), ascii("vda"), new Uint8Array(2))],
    ["name length 2^32 - 1", concat(u32(0xffff_ffff), ascii("vda"), new Uint8Array(2))],
    ["name length leaving no count", concat(u32(5), ascii("vda"), new Uint8Array(2))],
    ["more requests than data", concat(u32(3), ascii("vda"), new Uint8Array([0, 2, 0, 3]))],
    ["trailing bytes", concat(u32(3), ascii("vda"), new Uint8Array([0, 0, 9]))],
    ["a name that is not UTF-8", concat(u32(2), new Uint8Array([0xc3, 0x28, 0, 0]))],
  ];
  await using client = await connect();
  await client.greet();
  for (const option of [P.OPT_INFO, P.OPT_GO]) {
    for (const [what, data] of bad) {
      await client.option(option, data);
      const reply = await client.optionReply();
      assert.equal(reply.option, option, what);
      assert.equal(
        reply.replyType,
        P.REP_ERR_INVALID,
        `${what}: 0x${reply.replyType.toString(16)}`,
      );
    }
  }
  // The same connection can still ask properly.
  const info = await client.info(P.OPT_INFO, "vda", [P.INFO_BLOCK_SIZE, P.INFO_NAME]);
  assert.equal(info.size, SIZE);
  const blockSize = info.infos.get(P.INFO_BLOCK_SIZE);
  assert.ok(blockSize);
  assert.equal(blockSize.length, 14);
  const bs = new DataView(blockSize.buffer, blockSize.byteOffset);
  assert.ok(bs.getUint32(2) >= 1 && bs.getUint32(6) >= 512 && bs.getUint32(10) >= P.MAX_PAYLOAD);
  await client.go();
  await client.readAt(0, 512);
});

malformed(
  "GO on an unknown export gets NBD_REP_ERR_UNKNOWN, then GO vda works",
  async ({ connect }) => {
    await using client = await connect();
    await client.greet();
    for (const option of [P.OPT_INFO, P.OPT_GO]) {
      // The server SHOULD NOT send NBD_REP_INFO before this error: it must be the only reply.
      await client.expectOptionReply(
        option,
        encodeInfoRequest({ name: "vdz", requests: [] }),
        P.REP_ERR_UNKNOWN,
      );
    }
    // An unknown name far longer than a string may be, in two-byte characters: the
    // error message that repeats it still keeps to 4096 bytes of whole characters.
    await client.expectOptionReply(
      P.OPT_GO,
      encodeInfoRequest({ name: "é".repeat(3000), requests: [] }),
      P.REP_ERR_UNKNOWN,
    );
    await client.go();
    await client.readAt(0, 512);
  },
);

malformed("EXPORT_NAME of an unknown export closes the connection", async ({ connect }) => {
  await using client = await connect();
  await client.greet();
  await client.option(P.OPT_EXPORT_NAME, ascii("vdz"));
  await client.expectClosed();
});

malformed(
  "EXPORT_NAME of vda: size and flags, with or without the 124 zeroes",
  async ({ connect, base }) => {
    for (const noZeroes of [true, false]) {
      await using client = await connect();
      await client.greet(P.FLAG_C_FIXED_NEWSTYLE | (noZeroes ? P.FLAG_C_NO_ZEROES : 0));
      await client.option(P.OPT_EXPORT_NAME, ascii("vda"));
      const reply = await client.read(noZeroes ? 10 : 134);
      const dv = new DataView(reply.buffer);
      assert.equal(Number(dv.getBigUint64(0)), SIZE);
      assert.ok(dv.getUint16(8) & P.FLAG_HAS_FLAGS);
      assert.ok(reply.subarray(10).every((b) => b === 0));
      // Transmission follows directly.
      assert.deepEqual(await client.readAt(0, 16), base.subarray(0, 16));
    }
  },
);

malformed(
  "a huge option length closes the connection without reading the data",
  async ({ connect }) => {
    for (const option of [P.OPT_GO, 0x1234]) {
      await using client = await connect();
      await client.greet();
      const header = encodeOptionRequest(option);
      new DataView(header.buffer).setUint32(12, 0xffff_ffff);
      await client.send(header);
      await client.sendMaybeRefused(new Uint8Array(4096));
      // Well within the handshake timeout: the server did not wait for 4 GiB.
      await client.expectClosed(2000);
    }
  },
);

malformed("ABORT gets NBD_REP_ACK, then the server closes", async ({ connect }) => {
  for (const data of [undefined, ascii("ignored")]) {
    await using client = await connect();
    await client.greet();
    await client.expectOptionReply(P.OPT_ABORT, data, P.REP_ACK);
    await client.expectClosed();
  }
});

// --------------------------------------------------------------- transmission

malformed("after GO, a request with a bad magic closes the connection", async ({ open }) => {
  await using client = await open();
  await client.readAt(0, 512);
  const { bytes } = client.encode({ type: P.CMD_READ, offset: 0, length: 512 });
  bytes[0] ^= 0x80;
  await client.sendMaybeRefused(bytes);
  await client.expectClosed();
});

/** Reads that end past the export, including offsets above 2^32 and one whose end wraps in 64 bits. */
function pastTheEnd(): { offset: bigint; length: number }[] {
  return [
    { offset: BigInt(SIZE - 512), length: 1024 },
    { offset: BigInt(SIZE), length: 1 },
    { offset: 2n ** 32n + 512n, length: 512 },
    { offset: 2n ** 63n, length: 512 },
    { offset: 2n ** 64n - 256n, length: 512 }, // offset + length wraps to 256
  ];
}

/** A request with a 64-bit offset that a double cannot hold. */
function withOffset(bytes: Uint8Array, offset: bigint): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(16, offset);
  return bytes;
}

for (const structured of [false, true]) {
  const mode = structured ? "structured" : "simple";
  malformed(`a read past the end gets EINVAL (${mode} replies)`, async ({ open, base }) => {
    await using client = await open({ structured });
    for (const { offset, length } of pastTheEnd()) {
      const { bytes } = client.encode({ type: P.CMD_READ, offset: 0, length });
      await client.send(withOffset(bytes, offset));
      const reply = await client.reply();
      assert.equal(reply.error, P.EINVAL, `read of ${length} at ${offset}`);
      assert.equal(reply.kind, mode);
      if (structured) {
        assert.ok(
          reply.chunks.every((t) => t === P.REPLY_TYPE_ERROR || t === P.REPLY_TYPE_ERROR_OFFSET),
          `chunks ${reply.chunks}`,
        );
      }
    }
    // The last bytes of the export can still be read.
    assert.deepEqual(await client.readAt(SIZE - 512, 512), base.subarray(SIZE - 512));
  });
}

malformed(
  "a write past the end gets ENOSPC and its payload is consumed",
  async ({ open, base }) => {
    await using client = await open();
    for (const { offset, length } of pastTheEnd()) {
      const { bytes } = client.encode({
        type: P.CMD_WRITE,
        length,
        data: new Uint8Array(length).fill(0xee),
      });
      await client.send(withOffset(bytes, offset));
      const reply = await client.reply();
      assert.equal(reply.error, P.ENOSPC, `write of ${length} at ${offset}`);
      // The payload was not taken for a request: the next one is read correctly.
      assert.deepEqual(await client.readAt(SIZE - 512, 512), base.subarray(SIZE - 512));
    }
    // Write-zeroes past the end: ENOSPC as well; trim past the end: EINVAL.
    const zero = await client.exchange({
      type: P.CMD_WRITE_ZEROES,
      offset: SIZE - 512,
      length: 1024,
    });
    assert.equal(zero.error, P.ENOSPC);
    const trim = await client.exchange({ type: P.CMD_TRIM, offset: SIZE, length: 4096 });
    assert.equal(trim.error, P.EINVAL);
    assert.deepEqual(await client.readAt(SIZE - 1024, 1024), base.subarray(SIZE - 1024));
  },
);

const BIG = 48 * 1024 * 1024;

malformed(
  "a read over 32 MiB gets EINVAL, and one of exactly 32 MiB is served",
  async ({ open }) => {
    for (const structured of [false, true]) {
      await using client = await open({ structured });
      assert.equal(client.size, BIG);
      for (const length of [P.MAX_PAYLOAD + 1, 0xffff_ffff]) {
        const reply = await client.exchange({ type: P.CMD_READ, offset: 0, length });
        assert.equal(reply.error, P.EINVAL, `read of ${length}`);
      }
      const whole = await client.readAt(0, P.MAX_PAYLOAD);
      assert.ok(whole.every((b) => b === 0));
    }
  },
  { size: BIG, fill: false },
);

malformed(
  "a write over 32 MiB gets EINVAL once its payload is skipped, and nothing is written",
  async ({ open }) => {
    await using client = await open();
    const length = 33 * 1024 * 1024;
    const { bytes } = client.encode({ type: P.CMD_WRITE, offset: 0, length });
    await client.send(bytes.subarray(0, P.REQUEST_HEADER_SIZE));
    const chunk = new Uint8Array(1024 * 1024).fill(0xab);
    for (let sent = 0; sent < length; sent += chunk.length) await client.send(chunk);
    const reply = await client.reply();
    assert.equal(reply.error, P.EINVAL);
    // The same connection goes on, and the write left no trace.
    const head = await client.readAt(0, 1024 * 1024);
    assert.ok(head.every((b) => b === 0));
  },
  { size: BIG, fill: false },
);

malformed("an unknown command gets EINVAL", async ({ open, base }) => {
  for (const structured of [false, true]) {
    await using client = await open({ structured });
    for (const type of [42, 8, 0xffff]) {
      const reply = await client.exchange({ type, offset: 0, length: 512 });
      assert.equal(reply.error, P.EINVAL, `command ${type}`);
    }
    assert.deepEqual(await client.readAt(0, 512), base.subarray(0, 512));
  }
});

malformed("flags a command does not take get EINVAL", async ({ open, base }) => {
  await using simple = await open();
  const refused: [string, Partial<Request> & { type: number }][] = [
    ["NO_HOLE on READ", { type: P.CMD_READ, flags: P.CMD_FLAG_NO_HOLE, length: 512 }],
    ["DF without structured replies", { type: P.CMD_READ, flags: P.CMD_FLAG_DF, length: 512 }],
    ["REQ_ONE on READ", { type: P.CMD_READ, flags: P.CMD_FLAG_REQ_ONE, length: 512 }],
    ["an unknown flag on READ", { type: P.CMD_READ, flags: 0x8000, length: 512 }],
    ["FAST_ZERO (not offered) on WRITE_ZEROES", {
      type: P.CMD_WRITE_ZEROES,
      flags: P.CMD_FLAG_FAST_ZERO,
      offset: 8192,
      length: 512,
    }],
    ["NO_HOLE on TRIM", { type: P.CMD_TRIM, flags: P.CMD_FLAG_NO_HOLE, offset: 8192, length: 512 }],
    ["DF on FLUSH", { type: P.CMD_FLUSH, flags: P.CMD_FLAG_DF }],
    ["an unknown flag on WRITE (its payload is still consumed)", {
      type: P.CMD_WRITE,
      flags: 0x4000,
      offset: 8192,
      data: new Uint8Array(4096).fill(0x11),
    }],
  ];
  for (const [what, request] of refused) {
    const reply = await simple.exchange(request);
    assert.equal(reply.error, P.EINVAL, what);
    assert.equal(reply.data.length, 0, `${what}: no payload with an error`);
  }
  // Nothing was written, and the connection still parses requests.
  assert.deepEqual(await simple.readAt(8192, 4096), base.subarray(8192, 8192 + 4096));

  await using structured = await open({ structured: true });
  const noHole = await structured.exchange({
    type: P.CMD_READ,
    flags: P.CMD_FLAG_NO_HOLE,
    length: 512,
  });
  assert.equal(noHole.error, P.EINVAL);
  assert.equal(noHole.kind, "structured");
  // DF is valid once structured replies are negotiated: one content chunk at most.
  const df = await structured.exchange({
    type: P.CMD_READ,
    flags: P.CMD_FLAG_DF,
    offset: 0,
    length: 65536,
  });
  assert.equal(df.error, 0);
  assert.equal(df.chunks.filter((t) => t === P.REPLY_TYPE_OFFSET_DATA).length, 1);
  assert.deepEqual(df.data, base.subarray(0, 65536));
  // FUA is valid on every command.
  const fuaRead = await structured.exchange({
    type: P.CMD_READ,
    flags: P.CMD_FLAG_FUA,
    length: 512,
  });
  assert.equal(fuaRead.error, 0);
});

malformed("a flush with a non-zero offset or length gets EINVAL", async ({ open }) => {
  await using client = await open();
  assert.equal((await client.exchange({ type: P.CMD_FLUSH, offset: 512 })).error, P.EINVAL);
  assert.equal((await client.exchange({ type: P.CMD_FLUSH, length: 512 })).error, P.EINVAL);
  const { bytes } = client.encode({ type: P.CMD_FLUSH });
  await client.send(withOffset(bytes, 2n ** 40n));
  assert.equal((await client.reply()).error, P.EINVAL);
  assert.equal((await client.exchange({ type: P.CMD_FLUSH })).error, 0);
});

malformed("BLOCK_STATUS without a metadata context gets EINVAL", async ({ open }) => {
  for (const structured of [false, true]) {
    await using client = await open({ structured });
    const reply = await client.exchange({ type: P.CMD_BLOCK_STATUS, offset: 0, length: 65536 });
    assert.equal(reply.error, P.EINVAL);
    assert.equal(reply.kind, structured ? "structured" : "simple");
    await client.readAt(0, 512);
  }
});

malformed("zero-length reads and writes succeed", async ({ open, base }) => {
  for (const structured of [false, true]) {
    await using client = await open({ structured });
    const read = await client.exchange({ type: P.CMD_READ, offset: 4096, length: 0 });
    assert.equal(read.error, 0);
    assert.equal(read.data.length, 0);
    if (structured) {
      assert.ok(!read.chunks.includes(P.REPLY_TYPE_OFFSET_DATA), "no empty data chunk");
    }
    const write = await client.exchange({ type: P.CMD_WRITE, offset: 4096, length: 0 });
    assert.equal(write.error, 0);
    // At the very end of the export too.
    assert.equal((await client.exchange({ type: P.CMD_READ, offset: SIZE, length: 0 })).error, 0);
    assert.equal((await client.exchange({ type: P.CMD_WRITE, offset: SIZE, length: 0 })).error, 0);
    // Unspecified for trim and write-zeroes, but the server must not disconnect.
    await client.exchange({ type: P.CMD_TRIM, offset: 4096, length: 0 });
    await client.exchange({ type: P.CMD_WRITE_ZEROES, offset: 4096, length: 0 });
    assert.deepEqual(await client.readAt(4096, 4096), base.subarray(4096, 8192));
  }
});

malformed(
  "a write whose payload is cut short by a close changes nothing",
  async ({ open, base }) => {
    const offset = 256 * 1024;
    const length = 8192;
    {
      await using client = await open();
      const { bytes } = client.encode({
        type: P.CMD_WRITE,
        offset,
        data: new Uint8Array(length).fill(0x77),
      });
      await client.send(bytes.subarray(0, P.REQUEST_HEADER_SIZE + 5000));
      // Give the server time to take in the partial payload, then hang up.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await using later = await open();
    assert.deepEqual(await later.readAt(offset, length), base.subarray(offset, offset + length));
  },
);

malformed("seeded garbage in any phase closes the connection", async ({ connect, open }) => {
  const sizes = [1, 3, 4, 15, 16, 27, 28, 29, 100, 4096, 65536];
  for (const [i, size] of sizes.entries()) {
    for (const phase of ["greeting", "options", "transmission"] as const) {
      const bytes = prng(1000 + i).bytes(size);
      let client: RawClient;
      if (phase === "transmission") client = await open();
      else {
        client = await connect();
        if (phase === "greeting") await client.read(18);
        else await client.greet();
      }
      try {
        await client.sendMaybeRefused(bytes);
        // What is too short to judge waits for more: end it from our side.
        const unit = { greeting: 4, options: 16, transmission: 28 }[phase];
        if (size < unit) await client.conn.closeWrite();
        await client.expectClosed();
      } catch (error) {
        throw new Error(`${size} bytes of garbage in the ${phase} phase: ${error}`);
      } finally {
        client.close();
      }
    }
  }
});

malformed("a request delivered one byte at a time is served", async ({ open, base }) => {
  await using client = await open();
  const { bytes, cookie } = client.encode({ type: P.CMD_READ, offset: 1000, length: 3000 });
  for (const byte of bytes) {
    await client.send(new Uint8Array([byte]));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const reply = await client.reply();
  assert.equal(reply.cookie, cookie);
  assert.deepEqual(reply.data, base.subarray(1000, 4000));
});

malformed(
  "after a flood of 300 connections, a normal client is served",
  async ({ served, connect, events }) => {
    const clients: RawClient[] = [];
    try {
      const connected = await Promise.allSettled(
        Array.from({ length: 300 }, () => connect()),
      );
      for (const result of connected) if (result.status === "fulfilled") clients.push(result.value);
      assert.ok(clients.length >= 200, `only ${clients.length} connections were made`);
      // A third stay idle, a third send garbage, a third start a handshake and stop.
      await Promise.all(clients.map(async (client, i) => {
        if (i % 3 === 1) await client.sendMaybeRefused(prng(i).bytes(64));
        if (i % 3 === 2) await client.sendMaybeRefused(u32(P.FLAG_C_FIXED_NEWSTYLE));
      }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      for (const client of clients) client.close();
    }
    // The server lets go of them all (the bystander stays).
    const deadline = Date.now() + 5000;
    while (served.service.connectionCount > 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(served.service.connectionCount, 1);
    // More were open at once than the server takes: some were refused, and it coped.
    assert.ok(events.some((e) => e.type === "connection-refused"), "no connection was refused");
  },
);

malformed(
  "64 pipelined writes and reads sent in one write all get their replies",
  async ({ open, base }) => {
    await using client = await open();
    const block = 4096;
    const count = 64;
    const writes = new Map<bigint, number>();
    const reads = new Map<bigint, number>();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      // Writes go to the first 64 blocks, reads to the next 64: no request depends on another.
      const w = client.encode({
        type: P.CMD_WRITE,
        offset: i * block,
        data: new Uint8Array(block).fill(i + 1),
      });
      writes.set(w.cookie, i);
      parts.push(w.bytes);
      const r = client.encode({ type: P.CMD_READ, offset: (count + i) * block, length: block });
      reads.set(r.cookie, count + i);
      parts.push(r.bytes);
    }
    await client.send(concat(...parts));
    const seen = new Set<bigint>();
    for (let i = 0; i < 2 * count; i++) {
      const reply = await client.reply();
      assert.ok(!seen.has(reply.cookie), "one reply per cookie");
      seen.add(reply.cookie);
      assert.equal(reply.error, 0);
      const at = reads.get(reply.cookie);
      if (at !== undefined) {
        assert.deepEqual(
          reply.data,
          base.subarray(at * block, (at + 1) * block),
        );
      } else assert.ok(writes.has(reply.cookie));
    }
    assert.equal(seen.size, 2 * count);
    for (let i = 0; i < count; i++) {
      assert.deepEqual(await client.readAt(i * block, block), new Uint8Array(block).fill(i + 1));
    }
  },
);

const SLOW_OFFSET = 64 * 1024;

malformed(
  "DISC with requests in flight: their replies all arrive, then the server closes",
  async ({ open, base }) => {
    for (const structured of [false, true]) {
      await using client = await open({ structured });
      const cookies = new Set<bigint>();
      const parts: Uint8Array[] = [];
      // The slow reads are held by a delay fault, so they are surely in flight at DISC.
      for (let i = 0; i < 4; i++) {
        const slow = client.encode({ type: P.CMD_READ, offset: SLOW_OFFSET, length: 512 });
        const write = client.encode({
          type: P.CMD_WRITE,
          offset: 128 * 1024 + i * 512,
          data: new Uint8Array(512).fill(0x30 + i),
        });
        const flush = client.encode({ type: P.CMD_FLUSH });
        for (const r of [slow, write, flush]) {
          cookies.add(r.cookie);
          parts.push(r.bytes);
        }
      }
      parts.push(client.encode({ type: P.CMD_DISC }).bytes);
      const started = Date.now();
      await client.send(concat(...parts));
      while (cookies.size > 0) {
        const reply = await client.reply();
        assert.ok(cookies.delete(reply.cookie), "a reply for a request that was sent");
        assert.equal(reply.error, 0);
        if (reply.data.length > 0) {
          assert.deepEqual(reply.data, base.subarray(SLOW_OFFSET, SLOW_OFFSET + 512));
        }
      }
      assert.ok(Date.now() - started >= 150, "the slow reads were in flight when DISC came");
      await client.expectClosed();
    }
    await using after = await open();
    assert.deepEqual(
      await after.readAt(128 * 1024, 2048),
      concat(...[0, 1, 2, 3].map((i) => new Uint8Array(512).fill(0x30 + i))),
    );
  },
  {
    plan: {
      seed: 1,
      rules: [{
        spec: "delay:200ms@read",
        effect: { kind: "delay", durationMs: 200 },
        trigger: { kind: "match", type: "read", exact: { offset: SLOW_OFFSET, length: 512 } },
      }],
    },
  },
);
