import assert from "node:assert/strict";
import { FrameStreamError } from "./errors.ts";
import { encodeStreamFrame, FrameSplitter, QEMU_NET_BUFSIZE } from "./stream_framing.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("stream framing: a 4-byte big-endian length, then the frame", () => {
  assert.deepEqual(encodeStreamFrame(bytes(0xaa, 0xbb, 0xcc)), bytes(0, 0, 0, 3, 0xaa, 0xbb, 0xcc));
  const big = new Uint8Array(0x1234).fill(7);
  const encoded = encodeStreamFrame(big);
  assert.deepEqual([...encoded.subarray(0, 4)], [0, 0, 0x12, 0x34]);
  assert.equal(encoded.length, 4 + 0x1234);
});

Deno.test("stream framing: frames within one chunk, and split at every byte", () => {
  const frames = [bytes(1), bytes(2, 3), new Uint8Array(300).map((_, i) => i & 0xff)];
  const stream = new Uint8Array(frames.reduce((n, f) => n + 4 + f.length, 0));
  let at = 0;
  for (const frame of frames) {
    stream.set(encodeStreamFrame(frame), at);
    at += 4 + frame.length;
  }
  assert.deepEqual(new FrameSplitter().push(stream), frames);
  for (let cut = 0; cut <= stream.length; cut++) {
    const splitter = new FrameSplitter();
    const got = [...splitter.push(stream.slice(0, cut)), ...splitter.push(stream.slice(cut))];
    assert.deepEqual(got, frames, `cut at ${cut}`);
    assert.equal(splitter.bufferedBytes, 0);
    splitter.finish();
  }
  // One byte at a time.
  const splitter = new FrameSplitter();
  const got: Uint8Array[] = [];
  for (const b of stream) got.push(...splitter.push(bytes(b)));
  assert.deepEqual(got, frames);
});

Deno.test("stream framing: a frame inside one chunk is a view; one across chunks is its own", () => {
  const chunk = bytes(0, 0, 0, 2, 9, 8);
  const [frame] = new FrameSplitter().push(chunk);
  assert.equal(frame.buffer, chunk.buffer);
  const splitter = new FrameSplitter();
  splitter.push(bytes(0, 0, 0, 2, 9));
  const [joined] = splitter.push(bytes(8));
  assert.deepEqual(joined, bytes(9, 8));
  assert.equal(splitter.bufferedBytes, 0);
});

Deno.test("stream framing: a bad length fails the stream, naming the offset", () => {
  const zero = new FrameSplitter();
  assert.throws(
    () => zero.push(bytes(0, 0, 0, 1, 0x55, 0, 0, 0, 0)),
    (e: unknown) =>
      e instanceof FrameStreamError && e.offset === 5 &&
      /length of 0 at stream offset 5/.test(e.message),
  );
  assert.throws(() => zero.push(bytes(0, 0, 0, 1, 1)), /length of 0/, "failed for good");

  const limited = new FrameSplitter({ maxFrameBytes: 1514 });
  assert.throws(
    () => limited.push(bytes(0, 0, 0x05, 0xeb)),
    /length of 1515 at stream offset 0 is over the limit of 1514 bytes/,
  );
  // A length split across chunks is checked too.
  const split = new FrameSplitter();
  split.push(bytes(0, 0x01));
  assert.throws(() => split.push(bytes(0x10, 0x01)), /length of 69633 .* over the limit of 69632/);
  assert.equal(QEMU_NET_BUFSIZE, 69632);
  assert.throws(() => new FrameSplitter({ maxFrameBytes: 0 }), RangeError);
});

Deno.test("stream framing: the end of the stream inside a frame or a length is an error", () => {
  const inFrame = new FrameSplitter();
  inFrame.push(bytes(0, 0, 0, 60, 1, 2));
  assert.equal(inFrame.bufferedBytes, 6);
  assert.throws(() => inFrame.finish(), /ended 2 bytes into a frame of 60/);
  const inLength = new FrameSplitter();
  inLength.push(bytes(0, 0));
  assert.throws(() => inLength.finish(), /inside a frame length \(2 of 4 bytes\)/);
  new FrameSplitter().finish();
});
