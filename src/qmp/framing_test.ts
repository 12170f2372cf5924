import assert from "node:assert/strict";
import {
  decodeMessages,
  DEFAULT_MAX_MESSAGE_BYTES,
  encodeMessage,
  type JsonObject,
  MessageSplitter,
} from "./framing.ts";
import { QmpFramingError } from "./errors.ts";
import { prng } from "../../tests/support/random.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A stream as QEMU sends it, plus the tricky cases: braces and quotes inside strings. */
const STREAM_TEXT = [
  '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, ' +
  '"capabilities": ["oob"]}}\r\n',
  '{"return": {}, "id": 1}\r\n',
  '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}\r\n',
  // Braces and brackets inside strings, escaped quotes, an escaped backslash before a quote.
  '{"error": {"class": "GenericError", "desc": "}{ ][ {{ \\"}\\" \\\\"}, "id": 2}',
  // No separator at all between messages, then a multi-byte UTF-8 text (2, 3 and 4 bytes).
  '{"return": "é€😀", "id": 3}',
  " \t\r\n",
  '{"return": [{"a": [1, {"b": []}]}, "[", "{"], "id": 4}\n',
].join("");
const STREAM = enc.encode(STREAM_TEXT);
const EXPECTED: JsonObject[] = [
  {
    QMP: {
      version: { qemu: { micro: 22, minor: 2, major: 7 }, package: "" },
      capabilities: ["oob"],
    },
  },
  { return: {}, id: 1 },
  { timestamp: { seconds: 1, microseconds: 2 }, event: "STOP" },
  { error: { class: "GenericError", desc: '}{ ][ {{ "}" \\' }, id: 2 },
  { return: "é€😀", id: 3 },
  { return: [{ a: [1, { b: [] }] }, "[", "{"], id: 4 },
];

function splitAll(chunks: Uint8Array[], options?: { maxMessageBytes?: number }): JsonObject[] {
  const splitter = new MessageSplitter(options);
  const out: JsonObject[] = [];
  for (const chunk of chunks) out.push(...splitter.push(chunk));
  splitter.finish();
  assert.equal(splitter.bufferedBytes, 0);
  return out;
}

function catchFraming(fn: () => unknown): QmpFramingError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof QmpFramingError, `expected QmpFramingError, got ${e}`);
    return e;
  }
  assert.fail("expected a QmpFramingError");
}

Deno.test("framing: the whole stream in one chunk", () => {
  assert.deepEqual(splitAll([STREAM]), EXPECTED);
});

Deno.test("framing: split in two at every byte position", () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(
      splitAll([STREAM.subarray(0, i), STREAM.subarray(i)]),
      EXPECTED,
      `split at byte ${i}`,
    );
  }
});

Deno.test("framing: one byte at a time, including inside multi-byte UTF-8 characters", () => {
  const chunks = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));
  assert.deepEqual(splitAll(chunks), EXPECTED);
});

Deno.test("framing: seeded random chunkings", () => {
  const random = prng(0x2545f491).float; // a fixed sequence, so a failure reproduces
  for (let round = 0; round < 200; round++) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < STREAM.length;) {
      const size = 1 + Math.floor(random() * 40);
      chunks.push(STREAM.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(splitAll(chunks), EXPECTED, `round ${round}`);
  }
});

Deno.test("framing: the messages a chunk completes come back at once; the rest waits", () => {
  const splitter = new MessageSplitter();
  assert.deepEqual(splitter.push(enc.encode('{"a":1}{"b"')), [{ a: 1 }]);
  assert.equal(splitter.bufferedBytes, 4);
  assert.deepEqual(splitter.push(enc.encode(":2}")), [{ b: 2 }]);
  assert.equal(splitter.bufferedBytes, 0);
  assert.deepEqual(splitter.push(new Uint8Array()), []);
  splitter.finish();
});

Deno.test("framing: kept bytes are copied, so the caller may reuse its buffer", () => {
  const splitter = new MessageSplitter();
  const buffer = enc.encode('{"key": "val');
  assert.deepEqual(splitter.push(buffer), []);
  buffer.fill(0x7d); // overwrite with '}'
  assert.deepEqual(splitter.push(enc.encode('ue"}')), [{ key: "value" }]);
});

Deno.test("framing: escapes at chunk boundaries (backslash last byte of a chunk)", () => {
  const text = '{"s": "a\\"b\\\\", "t": "\\\\\\""}';
  const bytes = enc.encode(text);
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(
      splitAll([bytes.subarray(0, i), bytes.subarray(i)]),
      [{ s: 'a"b\\', t: '\\"' }],
      `split at byte ${i}`,
    );
  }
});

Deno.test("framing: garbage between messages fails with its offset, after the earlier ones", () => {
  const splitter = new MessageSplitter();
  const error = catchFraming(() => splitter.push(enc.encode('{"a":1}\r\ngarbage{"b":2}')));
  assert.equal(error.offset, 9);
  assert.deepEqual(error.messages, [{ a: 1 }]);
  assert.match(error.message, /expected '\{' to begin a QMP message, found 'g' \(0x67\)/);
  // Failed for good: later input is refused without returning old messages again.
  const again = catchFraming(() => splitter.push(enc.encode('{"c":3}')));
  assert.deepEqual(again.messages, []);
  assert.match(again.message, /already failed/);
  assert.throws(() => splitter.finish(), QmpFramingError);
});

Deno.test("framing: a top-level value other than an object is garbage", () => {
  for (const text of ["[1]", '"x"', "1", "null", "\x00", "\xff"]) {
    const bytes = text === "\xff" ? new Uint8Array([0xff]) : enc.encode(text);
    const error = catchFraming(() => new MessageSplitter().push(bytes));
    assert.equal(error.offset, 0, text);
  }
});

Deno.test("framing: mismatched closing bracket fails where it is", () => {
  const error = catchFraming(() => new MessageSplitter().push(enc.encode('{"a": [1}')));
  assert.equal(error.offset, 8);
  assert.match(error.message, /unbalanced '\}'/);
});

Deno.test("framing: balanced but invalid JSON fails with the parser's reason", () => {
  for (const text of ['{"a": 1,}', "{a: 1}", "{'a': 1}", '{"a": "\x01"}']) {
    const error = catchFraming(() => new MessageSplitter().push(enc.encode(`  ${text}`)));
    assert.equal(error.offset, 2, text);
    assert.match(error.message, /is not valid JSON/, text);
  }
});

Deno.test("framing: invalid UTF-8 inside a string fails", () => {
  const bytes = new Uint8Array([...enc.encode('{"a": "'), 0xc3, 0x28, ...enc.encode('"}')]);
  const error = catchFraming(() => new MessageSplitter().push(bytes));
  assert.match(error.message, /not valid UTF-8/);
});

Deno.test("framing: size limit is exact, and enforced before the message ends", () => {
  const seventeen = enc.encode('{"a":"123456789"}'); // 17 bytes
  assert.equal(seventeen.length, 17);
  assert.deepEqual(splitAll([seventeen], { maxMessageBytes: 17 }), [{ a: "123456789" }]);
  const error = catchFraming(() => splitAll([seventeen], { maxMessageBytes: 16 }));
  assert.match(error.message, /exceeds the limit of 16 bytes/);

  // An endless message fails as soon as it crosses the limit, across chunks.
  const splitter = new MessageSplitter({ maxMessageBytes: 1024 });
  splitter.push(enc.encode('{"a": "'));
  const filler = new Uint8Array(1000).fill(0x78);
  splitter.push(filler);
  const late = catchFraming(() => splitter.push(filler));
  assert.equal(late.offset, 1024);
  assert.equal(new MessageSplitter().maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES);
  assert.throws(() => new MessageSplitter({ maxMessageBytes: 1 }), RangeError);
});

Deno.test("framing: finish() refuses a stream cut inside a message", () => {
  const splitter = new MessageSplitter();
  splitter.push(enc.encode('{"a": 1}\r\n{"return": {'));
  const error = catchFraming(() => splitter.finish());
  assert.match(error.message, /ended inside a message that began at stream offset 10/);
  const clean = new MessageSplitter();
  clean.push(enc.encode(" \r\n"));
  clean.finish();
});

Deno.test("framing: decodeMessages yields what came before an error, then throws", async () => {
  async function* chunks() {
    yield enc.encode('{"a": 1}{"b"');
    yield enc.encode(': 2} oops {"c": 3}');
  }
  const seen: JsonObject[] = [];
  await assert.rejects(async () => {
    for await (const message of decodeMessages(chunks())) seen.push(message);
  }, QmpFramingError);
  assert.deepEqual(seen, [{ a: 1 }, { b: 2 }]);

  async function* cut() {
    yield enc.encode('{"a": 1}{"b"');
  }
  const seenCut: JsonObject[] = [];
  await assert.rejects(async () => {
    for await (const message of decodeMessages(cut())) seenCut.push(message);
  }, /ended inside a message/);
  assert.deepEqual(seenCut, [{ a: 1 }]);
});

Deno.test("framing: encodeMessage is JSON + CRLF, ASCII only", () => {
  assert.equal(
    dec.decode(encodeMessage({ execute: "query-status", id: 1 })),
    '{"execute":"query-status","id":1}\r\n',
  );
  const bytes = encodeMessage({ s: "é€😀\u007f" });
  assert.equal(dec.decode(bytes), '{"s":"\\u00e9\\u20ac\\ud83d\\ude00\u007f"}\r\n');
  assert.ok(bytes.every((b) => b < 0x80));
  // Round trip through the splitter.
  assert.deepEqual(splitAll([bytes]), [{ s: "é€😀\u007f" }]);
  assert.throws(() => encodeMessage([1, 2]), TypeError);
  assert.throws(() => encodeMessage(null as unknown as object), TypeError);
  assert.throws(() => encodeMessage({ n: 1n }), TypeError);
});
