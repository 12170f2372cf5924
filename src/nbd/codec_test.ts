/**
 * Byte-exact tests of the NBD codec. Every expected byte string below is
 * written out by hand from the layouts in the spec (doc/proto.md), not computed
 * with the codec itself, so that a change in field order, width or endianness
 * shows up as a diff of hex.
 */

import assert from "node:assert/strict";
import {
  decodeInfoRequest,
  decodeName,
  decodeOptionHeader,
  decodeRequestHeader,
  encodeExportNameReply,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeOptionError,
  encodeOptionReply,
  encodeServerEntry,
  encodeServerGreeting,
  encodeSimpleReply,
  encodeStructuredData,
  encodeStructuredDone,
  encodeStructuredError,
  NbdCodecError,
} from "./codec.ts";
import * as P from "./protocol.ts";
import { ascii } from "../../tests/support/bytes.ts";
import {
  decodeOptionReplyHeader,
  decodeReplyHeader,
  encodeInfoRequest,
  encodeOptionRequest,
  encodeRequest,
} from "../../tests/support/nbd_codec.ts";

/** Bytes from hex written with any spacing: `hex("4e42 444d")`. */
function hex(text: string): Uint8Array<ArrayBuffer> {
  const digits = text.replace(/\s+/g, "");
  assert.equal(digits.length % 2, 0, `odd hex: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex of bytes, for readable assertion diffs. */
function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(toHex(actual), toHex(expected));
}

// The magics as the spec writes them.
const NBDMAGIC = "4e42444d41474943";
const IHAVEOPT = "49484156454f5054";
const OPT_REPLY = "0003e889045565a9";
const REQUEST = "25609513";
const SIMPLE = "67446698";
const STRUCTURED = "668e33ef";

// ----------------------------------------------------------------- handshake

Deno.test("encodeServerGreeting: NBDMAGIC, IHAVEOPT, 16-bit handshake flags", () => {
  assertBytes(
    encodeServerGreeting(P.FLAG_FIXED_NEWSTYLE | P.FLAG_NO_ZEROES),
    hex(`${NBDMAGIC} ${IHAVEOPT} 0003`),
  );
  assertBytes(encodeServerGreeting(P.FLAG_FIXED_NEWSTYLE), hex(`${NBDMAGIC} ${IHAVEOPT} 0001`));
});

Deno.test("encodeOptionRequest: IHAVEOPT, 32-bit option, 32-bit length, data", () => {
  assertBytes(encodeOptionRequest(P.OPT_LIST), hex(`${IHAVEOPT} 00000003 00000000`));
  assertBytes(
    encodeOptionRequest(P.OPT_EXPORT_NAME, ascii("vda")),
    hex(`${IHAVEOPT} 00000001 00000003 766461`),
  );
  assertBytes(
    encodeOptionRequest(0x12345678, hex("deadbeef01")),
    hex(`${IHAVEOPT} 12345678 00000005 deadbeef01`),
  );
});

Deno.test("decodeOptionHeader reads option and length, and flags a wrong magic", () => {
  assert.deepEqual(decodeOptionHeader(hex(`${IHAVEOPT} 00000007 0000000e`)), {
    magicOk: true,
    option: P.OPT_GO,
    length: 14,
  });
  // The full 32-bit range of both fields is unsigned.
  assert.deepEqual(decodeOptionHeader(hex(`${IHAVEOPT} 80000001 ffffffff`)), {
    magicOk: true,
    option: 0x80000001,
    length: 0xffffffff,
  });
  // One bit off in the magic.
  assert.equal(decodeOptionHeader(hex(`49484156454f5055 00000003 00000000`)).magicOk, false);
  assert.equal(decodeOptionHeader(hex(`${NBDMAGIC} 00000003 00000000`)).magicOk, false);
});

Deno.test("encodeOptionReply: reply magic, option, 32-bit reply type, length, data", () => {
  assertBytes(
    encodeOptionReply(P.OPT_ABORT, P.REP_ACK),
    hex(`${OPT_REPLY} 00000002 00000001 00000000`),
  );
  assertBytes(
    encodeOptionReply(P.OPT_LIST, P.REP_SERVER, hex("00000003 766461")),
    hex(`${OPT_REPLY} 00000003 00000002 00000007 00000003 766461`),
  );
});

Deno.test("encodeOptionError: error types have bit 31 set, the message is the data", () => {
  assertBytes(
    encodeOptionError(P.OPT_GO, P.REP_ERR_UNKNOWN, "no"),
    hex(`${OPT_REPLY} 00000007 80000006 00000002 6e6f`),
  );
  assertBytes(
    encodeOptionError(0x1234, P.REP_ERR_UNSUP, ""),
    hex(`${OPT_REPLY} 00001234 80000001 00000000`),
  );
  const errors = [
    [P.REP_ERR_UNSUP, "80000001"],
    [P.REP_ERR_POLICY, "80000002"],
    [P.REP_ERR_INVALID, "80000003"],
    [P.REP_ERR_PLATFORM, "80000004"],
    [P.REP_ERR_TLS_REQD, "80000005"],
    [P.REP_ERR_UNKNOWN, "80000006"],
    [P.REP_ERR_SHUTDOWN, "80000007"],
    [P.REP_ERR_BLOCK_SIZE_REQD, "80000008"],
    [P.REP_ERR_TOO_BIG, "80000009"],
  ] as const;
  for (const [type, bytes] of errors) {
    assertBytes(
      encodeOptionError(P.OPT_INFO, type, "x"),
      hex(`${OPT_REPLY} 00000006 ${bytes} 00000001 78`),
    );
  }
});

Deno.test("encodeOptionError keeps a message within the spec's 4096-byte string limit", () => {
  const long = encodeOptionError(P.OPT_GO, P.REP_ERR_UNKNOWN, "x".repeat(5000));
  assert.equal(decodeOptionReplyHeader(long).length, 4096);
  assert.equal(long.length, 20 + 4096);
  // Two bytes per character: the limit is in bytes, and no character is cut in half.
  const wide = encodeOptionError(P.OPT_GO, P.REP_ERR_UNKNOWN, "é".repeat(3000));
  const length = decodeOptionReplyHeader(wide).length;
  assert.ok(length <= 4096, `message of ${length} bytes`);
  assert.equal(length, 4096);
  assert.equal(
    new TextDecoder("utf-8", { fatal: true }).decode(wide.subarray(20)),
    "é".repeat(2048),
  );
  // A four-byte character straddling the limit is left out whole.
  const emoji = encodeOptionError(P.OPT_GO, P.REP_ERR_UNKNOWN, "ab" + "\u{1F600}".repeat(1024));
  assert.equal(decodeOptionReplyHeader(emoji).length, 2 + 4 * 1023);
});

Deno.test("decodeOptionReplyHeader reads the 20-byte header and refuses a wrong magic", () => {
  assert.deepEqual(decodeOptionReplyHeader(hex(`${OPT_REPLY} 00000007 00000003 0000000c`)), {
    option: P.OPT_GO,
    replyType: P.REP_INFO,
    length: 12,
  });
  assert.deepEqual(decodeOptionReplyHeader(hex(`${OPT_REPLY} 00001234 80000001 00000000`)), {
    option: 0x1234,
    replyType: P.REP_ERR_UNSUP,
    length: 0,
  });
  assert.throws(
    () => decodeOptionReplyHeader(hex(`${IHAVEOPT} 00000007 00000001 00000000`)),
    NbdCodecError,
  );
});

Deno.test("encodeExportNameReply: 64-bit size, 16-bit flags, then 124 zeroes unless NO_ZEROES", () => {
  assertBytes(
    encodeExportNameReply(1 << 20, P.FLAG_HAS_FLAGS | P.FLAG_SEND_FLUSH, true),
    hex("0000000000100000 0005"),
  );
  // A size above 2^32: the high word is not lost.
  assertBytes(encodeExportNameReply(2 ** 32 + 5, 0x0d6d, true), hex("0000000100000005 0d6d"));
  const padded = encodeExportNameReply(512, P.FLAG_HAS_FLAGS, false);
  assert.equal(padded.length, 8 + 2 + 124);
  assertBytes(padded, hex("0000000000000200 0001" + "00".repeat(124)));
});

Deno.test("encodeInfoRequest: 32-bit name length, name, 16-bit count, 16-bit requests", () => {
  assertBytes(
    encodeInfoRequest({ name: "vda", requests: [P.INFO_BLOCK_SIZE, P.INFO_NAME] }),
    hex("00000003 766461 0002 0003 0001"),
  );
  assertBytes(encodeInfoRequest({ name: "", requests: [] }), hex("00000000 0000"));
  // The name length counts bytes, not characters.
  assertBytes(encodeInfoRequest({ name: "é", requests: [] }), hex("00000002 c3a9 0000"));
});

Deno.test("decodeInfoRequest reads hand-built data", () => {
  assert.deepEqual(decodeInfoRequest(hex("00000003 766461 0002 0003 0001")), {
    name: "vda",
    requests: [P.INFO_BLOCK_SIZE, P.INFO_NAME],
  });
  // The default export, no requests.
  assert.deepEqual(decodeInfoRequest(hex("00000000 0000")), { name: "", requests: [] });
  // Unknown information types are passed on (the server ignores them).
  assert.deepEqual(decodeInfoRequest(hex("00000001 61 0001 ffff")), {
    name: "a",
    requests: [0xffff],
  });
});

Deno.test("decodeInfoRequest refuses data whose lengths disagree", async (t) => {
  const cases: [string, string][] = [
    ["empty data", ""],
    ["shorter than the 6 fixed bytes", "00000000 00"],
    ["a name length beyond the data", "00000004 766461 0000"],
    ["a name length that leaves no room for the count", "00000005 7664610000"],
    ["a name length of 2^32 - 1", "ffffffff 766461 0000"],
    ["more requests than the data holds", "00000003 766461 0002 0003"],
    ["fewer requests than the data holds (trailing bytes)", "00000003 766461 0001 0003 0001"],
    ["a trailing odd byte", "00000003 766461 0000 00"],
    ["a name that is not UTF-8", "00000002 c328 0000"],
  ];
  for (const [what, bytes] of cases) {
    await t.step(what, () => {
      assert.throws(() => decodeInfoRequest(hex(bytes)), NbdCodecError);
    });
  }
});

Deno.test("encodeInfoExport: type 0, 64-bit size, 16-bit flags (length 12)", () => {
  assertBytes(
    encodeInfoExport(16 * 1024 * 1024, P.FLAG_HAS_FLAGS | P.FLAG_READ_ONLY),
    hex("0000 0000000001000000 0003"),
  );
  assertBytes(encodeInfoExport(2 ** 33 + 0x1000, 0x8d6d), hex("0000 0000000200001000 8d6d"));
  // The largest size a double holds exactly.
  assertBytes(encodeInfoExport(2 ** 53 - 1, 1), hex("0000 001fffffffffffff 0001"));
});

Deno.test("encodeInfoString: 16-bit type, then the string without a length or NUL", () => {
  assertBytes(encodeInfoString(P.INFO_NAME, "vda"), hex("0001 766461"));
  assertBytes(encodeInfoString(P.INFO_DESCRIPTION, "a b"), hex("0002 612062"));
  assertBytes(encodeInfoString(P.INFO_NAME, ""), hex("0001"));
});

Deno.test("encodeInfoBlockSize: type 3, then minimum, preferred, maximum as 32 bits", () => {
  assertBytes(
    encodeInfoBlockSize(1, 4096, P.MAX_PAYLOAD),
    hex("0003 00000001 00001000 02000000"),
  );
  assertBytes(encodeInfoBlockSize(512, 65536, 0xffffffff), hex("0003 00000200 00010000 ffffffff"));
});

Deno.test("encodeServerEntry: 32-bit name length, then the name", () => {
  assertBytes(encodeServerEntry("vda"), hex("00000003 766461"));
  assertBytes(encodeServerEntry(""), hex("00000000"));
  assertBytes(encodeServerEntry("ü"), hex("00000002 c3bc"));
});

Deno.test("decodeName accepts UTF-8 up to 4096 bytes and refuses the rest", () => {
  assert.equal(decodeName(hex("766461")), "vda");
  assert.equal(decodeName(new Uint8Array(0)), "");
  assert.equal(decodeName(new Uint8Array(4096).fill(0x61)), "a".repeat(4096));
  assert.throws(() => decodeName(new Uint8Array(4097).fill(0x61)), NbdCodecError);
  assert.throws(() => decodeName(hex("ff")), NbdCodecError);
  assert.throws(() => decodeName(hex("c3")), NbdCodecError); // a cut two-byte character
});

// -------------------------------------------------------------- transmission

Deno.test("encodeRequest: magic, 16-bit flags, 16-bit type, 64-bit cookie, offset, 32-bit length", () => {
  assertBytes(
    encodeRequest({ type: P.CMD_READ, flags: 0, cookie: 1n, offset: 0, length: 512 }),
    hex(`${REQUEST} 0000 0000 0000000000000001 0000000000000000 00000200`),
  );
  assertBytes(
    encodeRequest({
      type: P.CMD_WRITE,
      flags: P.CMD_FLAG_FUA,
      cookie: 0x0102030405060708n,
      offset: 2 ** 32 + 4096,
      length: 3,
      data: hex("aabbcc"),
    }),
    hex(`${REQUEST} 0001 0001 0102030405060708 0000000100001000 00000003 aabbcc`),
  );
  assertBytes(
    encodeRequest({
      type: P.CMD_DISC,
      flags: 0,
      cookie: 0xffffffffffffffffn,
      offset: 0,
      length: 0,
    }),
    hex(`${REQUEST} 0000 0002 ffffffffffffffff 0000000000000000 00000000`),
  );
  // Another magic, for tests of servers that must refuse it.
  assertBytes(
    encodeRequest({ type: P.CMD_FLUSH, flags: 0, cookie: 2n, offset: 0, length: 0 }, 0x25609514),
    hex(`25609514 0000 0003 0000000000000002 0000000000000000 00000000`),
  );
});

Deno.test("decodeRequestHeader reads hand-built headers, at any position in a buffer", () => {
  const header = hex(
    `${REQUEST} 0005 0006 8000000000000001 0000000300000200 00010000`,
  );
  assert.deepEqual(decodeRequestHeader(header), {
    magicOk: true,
    flags: 5,
    type: P.CMD_WRITE_ZEROES,
    cookieHigh: 0x80000000,
    cookieLow: 1,
    offset: 3 * 2 ** 32 + 512,
    length: 65536,
  });
  // Behind 3 bytes of something else, as in a buffer of pipelined requests.
  const shifted = new Uint8Array(3 + header.length);
  shifted.set(header, 3);
  assert.deepEqual(decodeRequestHeader(shifted, 3), decodeRequestHeader(header));
  // In a subarray whose buffer starts elsewhere.
  assert.deepEqual(decodeRequestHeader(shifted.subarray(3)), decodeRequestHeader(header));

  assert.equal(decodeRequestHeader(hex(`67446698 ${"00".repeat(24)}`)).magicOk, false);
  // The largest unsigned length.
  assert.equal(
    decodeRequestHeader(hex(`${REQUEST} ${"00".repeat(20)} ffffffff`)).length,
    2 ** 32 - 1,
  );
});

Deno.test("decodeRequestHeader keeps 64-bit offsets above 2^32, and huge ones stay huge", () => {
  const at = (offsetHex: string) =>
    decodeRequestHeader(hex(`${REQUEST} 0000 0000 0000000000000000 ${offsetHex} 00000000`)).offset;
  assert.equal(at("0000000100000000"), 2 ** 32);
  assert.equal(at("00000001ffffffff"), 2 ** 33 - 1);
  assert.equal(at("001fffffffffffff"), 2 ** 53 - 1);
  // Beyond 2^53 precision goes, but the value is still far past any export's end.
  assert.ok(at("ffffffffffffffff") >= 2 ** 64 - 2 ** 12);
  assert.ok(at("8000000000000000") >= 2 ** 63);
});

Deno.test("encodeSimpleReply: magic, 32-bit error, 64-bit cookie, then a read's data", () => {
  assertBytes(encodeSimpleReply(0, 7, P.EIO), hex(`${SIMPLE} 00000005 0000000000000007`));
  assertBytes(
    encodeSimpleReply(0x01020304, 0x05060708, 0, hex("cafe")),
    hex(`${SIMPLE} 00000000 0102030405060708 cafe`),
  );
  assertBytes(
    encodeSimpleReply(0xffffffff, 0xfffffffe, P.ENOSPC),
    hex(`${SIMPLE} 0000001c fffffffffffffffe`),
  );
});

Deno.test("the error values are the spec's", () => {
  assert.deepEqual(
    [P.EPERM, P.EIO, P.ENOMEM, P.EINVAL, P.ENOSPC, P.EOVERFLOW, P.ENOTSUP, P.ESHUTDOWN],
    [1, 5, 12, 22, 28, 75, 95, 108],
  );
});

Deno.test("encodeStructuredDone: magic, flags DONE, type NONE, cookie, length 0", () => {
  assertBytes(
    encodeStructuredDone(0, 1),
    hex(`${STRUCTURED} 0001 0000 0000000000000001 00000000`),
  );
  assertBytes(
    encodeStructuredDone(0xdeadbeef, 0x00c0ffee),
    hex(`${STRUCTURED} 0001 0000 deadbeef00c0ffee 00000000`),
  );
});

Deno.test("encodeStructuredData: type OFFSET_DATA, length 8 + n, 64-bit offset, data", () => {
  assertBytes(
    encodeStructuredData(0, 9, 4096, hex("0102")),
    hex(`${STRUCTURED} 0001 0001 0000000000000009 0000000a 0000000000001000 0102`),
  );
  assertBytes(
    encodeStructuredData(1, 2, 2 ** 32 * 7 + 1, hex("ff")),
    hex(`${STRUCTURED} 0001 0001 0000000100000002 00000009 0000000700000001 ff`),
  );
});

Deno.test("encodeStructuredError: type ERROR (2^15 + 1), 32-bit error, 16-bit message length, message", () => {
  assertBytes(
    encodeStructuredError(0, 3, P.EINVAL, "bad"),
    hex(`${STRUCTURED} 0001 8001 0000000000000003 00000009 00000016 0003 626164`),
  );
  assertBytes(
    encodeStructuredError(0, 4, P.EIO, ""),
    hex(`${STRUCTURED} 0001 8001 0000000000000004 00000006 00000005 0000`),
  );
});

Deno.test("encodeStructuredError keeps the message within 4096 bytes of whole characters", () => {
  const long = encodeStructuredError(0, 1, P.EIO, "y".repeat(9000));
  const dv = new DataView(long.buffer);
  assert.equal(dv.getUint32(16), 6 + 4096);
  assert.equal(dv.getUint16(24), 4096);
  assert.equal(long.length, 20 + 6 + 4096);

  const wide = encodeStructuredError(0, 1, P.EIO, "€".repeat(2000)); // 3 bytes each
  const wdv = new DataView(wide.buffer);
  const messageLength = wdv.getUint16(24);
  assert.equal(messageLength, 3 * 1365);
  assert.equal(wdv.getUint32(16), 6 + messageLength);
  assert.equal(
    new TextDecoder("utf-8", { fatal: true }).decode(wide.subarray(26)),
    "€".repeat(1365),
  );
});

Deno.test("decodeReplyHeader reads simple and structured headers built by hand", () => {
  assert.deepEqual(decodeReplyHeader(hex(`${SIMPLE} 00000016 0000000100000002`)), {
    kind: "simple",
    error: P.EINVAL,
    cookie: 0x100000002n,
    headerSize: 16,
  });
  assert.deepEqual(
    decodeReplyHeader(hex(`${STRUCTURED} 0001 8001 ffffffffffffffff 00000009`)),
    {
      kind: "structured",
      flags: P.REPLY_FLAG_DONE,
      type: P.REPLY_TYPE_ERROR,
      cookie: 0xffffffffffffffffn,
      length: 9,
      headerSize: 20,
    },
  );
  assert.throws(
    () => decodeReplyHeader(hex(`${REQUEST} 00000000 0000000000000000`)),
    NbdCodecError,
  );
  assert.throws(() => decodeReplyHeader(hex(`${"00".repeat(20)}`)), NbdCodecError);
});

// ---------------------------------------------------------------- round trips

Deno.test("round trip: option requests and replies", () => {
  for (const [option, data] of [[P.OPT_GO, hex("00000000 0000")], [0xfffffffe, hex("")]] as const) {
    const bytes = encodeOptionRequest(option, data);
    const header = decodeOptionHeader(bytes);
    assert.deepEqual(header, { magicOk: true, option, length: data.length });
    assertBytes(bytes.subarray(16), data);
  }
  const reply = encodeOptionReply(P.OPT_INFO, P.REP_INFO, encodeInfoExport(4096, 1));
  assert.deepEqual(decodeOptionReplyHeader(reply), {
    option: P.OPT_INFO,
    replyType: P.REP_INFO,
    length: 12,
  });
});

Deno.test("round trip: information requests", () => {
  const requests = [
    { name: "vda", requests: [] },
    { name: "", requests: [P.INFO_EXPORT, P.INFO_NAME, P.INFO_DESCRIPTION, P.INFO_BLOCK_SIZE] },
    { name: "disk ünïcödé 💾", requests: [0xffff, 0] },
    { name: "n".repeat(4096), requests: [1] },
  ];
  for (const request of requests) {
    assert.deepEqual(decodeInfoRequest(encodeInfoRequest(request)), request);
  }
});

Deno.test("round trip: requests with offsets above 2^32 and every cookie bit", () => {
  const cases = [
    { type: P.CMD_READ, flags: P.CMD_FLAG_DF, cookie: 0n, offset: 0, length: 0 },
    {
      type: P.CMD_TRIM,
      flags: 0,
      cookie: 0xfedcba9876543210n,
      offset: 2 ** 40 + 512,
      length: 2 ** 32 - 1,
    },
    { type: 0xffff, flags: 0xffff, cookie: 0xffffffffffffffffn, offset: 2 ** 53 - 1, length: 1 },
  ];
  for (const request of cases) {
    const decoded = decodeRequestHeader(encodeRequest(request));
    assert.equal(decoded.magicOk, true);
    assert.equal(decoded.type, request.type);
    assert.equal(decoded.flags, request.flags);
    assert.equal((BigInt(decoded.cookieHigh) << 32n) | BigInt(decoded.cookieLow), request.cookie);
    assert.equal(decoded.offset, request.offset);
    assert.equal(decoded.length, request.length);
  }
});

Deno.test("round trip: replies keep the cookie the client sent", () => {
  const high = 0x89abcdef;
  const low = 0x01234567;
  const cookie = 0x89abcdef01234567n;
  assert.deepEqual(decodeReplyHeader(encodeSimpleReply(high, low, P.ENOSPC)), {
    kind: "simple",
    error: P.ENOSPC,
    cookie,
    headerSize: 16,
  });
  const data = encodeStructuredData(high, low, 2 ** 35, new Uint8Array(100).fill(7));
  const header = decodeReplyHeader(data);
  assert.equal(header.kind, "structured");
  assert.equal(header.cookie, cookie);
  if (header.kind === "structured") {
    assert.equal(header.type, P.REPLY_TYPE_OFFSET_DATA);
    assert.equal(header.length, 108);
    assert.equal(data.length, 20 + header.length);
    assert.equal(new DataView(data.buffer).getBigUint64(20), 2n ** 35n);
  }
  const done = decodeReplyHeader(encodeStructuredDone(high, low));
  assert.equal(done.cookie, cookie);
  const error = decodeReplyHeader(encodeStructuredError(high, low, P.EIO, "oops"));
  assert.equal(error.kind === "structured" && error.length, 10);
});
