import assert from "node:assert/strict";
import type { FrameRecord } from "../trace/schema.ts";
import {
  enhancedPacketBlock,
  frameComment,
  interfaceDescriptionBlock,
  PcapngWriter,
  sectionHeaderBlock,
} from "./pcapng.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, "");
  return new Uint8Array(clean.match(/../g)!.map((pair) => Number.parseInt(pair, 16)));
}

Deno.test("pcapng: a Section Header Block, byte for byte", () => {
  assert.deepEqual(
    sectionHeaderBlock({ application: "fl" }),
    hex(`
      0a 0d 0d 0a | 28 00 00 00 |
      4d 3c 2b 1a | 01 00 | 00 00 | ff ff ff ff ff ff ff ff |
      04 00 02 00 66 6c 00 00 | 00 00 00 00 |
      28 00 00 00`),
  );
  assert.deepEqual(
    sectionHeaderBlock(),
    hex("0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000"),
    "no options: no opt_endofopt either",
  );
});

Deno.test("pcapng: an Interface Description Block with name, address, MAC and resolution", () => {
  assert.deepEqual(
    interfaceDescriptionBlock({
      name: "n1",
      mac: "02:66:6c:29:2c:00",
      ip: "192.0.2.10",
      prefixLength: 24,
    }),
    hex(`
      01 00 00 00 | 40 00 00 00 |
      01 00 | 00 00 | 00 00 00 00 |
      02 00 02 00 6e 31 00 00 |
      04 00 08 00 c0 00 02 0a ff ff ff 00 |
      06 00 06 00 02 66 6c 29 2c 00 00 00 |
      09 00 01 00 06 00 00 00 |
      00 00 00 00 |
      40 00 00 00`),
  );
});

Deno.test("pcapng: an Enhanced Packet Block: 64-bit microseconds, padding, flags, packet id, comment", () => {
  const ts = 0x0006_1234_5678_9abc; // about 2023 in microseconds
  assert.deepEqual(
    enhancedPacketBlock({
      interfaceId: 2,
      timestampUs: ts,
      data: hex("aa bb cc dd ee"),
      direction: "inbound",
      packetId: 7,
      comment: "x",
    }),
    hex(`
      06 00 00 00 | 48 00 00 00 |
      02 00 00 00 | 34 12 06 00 | bc 9a 78 56 | 05 00 00 00 | 05 00 00 00 |
      aa bb cc dd ee 00 00 00 |
      01 00 01 00 78 00 00 00 |
      02 00 04 00 01 00 00 00 |
      05 00 08 00 07 00 00 00 00 00 00 00 |
      00 00 00 00 |
      48 00 00 00`),
  );
  const truncated = enhancedPacketBlock({
    interfaceId: 0,
    timestampUs: 1,
    data: new Uint8Array(0),
    originalLength: 60,
  });
  assert.deepEqual(
    truncated,
    hex("06000000 20000000 00000000 00000000 01000000 00000000 3c000000 20000000"),
  );
});

const RECORD: FrameRecord = {
  record: "frame",
  index: 9,
  time: 1.5,
  from: "b",
  to: ["a", "c"],
  broadcast: true,
  length: 4,
  dst: "ff:ff:ff:ff:ff:ff",
  src: "02:66:6c:00:00:01",
  ethertype: 0x0806,
  hash: "0000000000000000",
  data: hex("01 02 03 04"),
  dropped: ["a"],
  faults: [
    { kind: "partition", rule: "partition:a|b", to: ["a"] },
    { kind: "delay", rule: "live", to: ["c"], detail: { delayMs: 5 } },
  ],
};

Deno.test("pcapng: frame records become packets on their sender's interface, with what happened", () => {
  assert.equal(
    frameComment(RECORD),
    "partition dropped to a (partition:a|b); delay delayMs=5 to c (live)",
  );
  assert.equal(frameComment({ ...RECORD, faults: undefined, dropped: undefined }), undefined);
  assert.match(frameComment({ ...RECORD, faults: undefined, data: undefined })!, /not recorded/);
  const writer = new PcapngWriter({ application: "t", interfaces: [{ name: "a" }] });
  const start = writer.start();
  assert.equal(new DataView(start.buffer).getUint32(0, true), 0x0a0d0d0a);
  const first = writer.frame(RECORD, 1_000_000);
  const second = writer.frame({ ...RECORD, index: 10 }, 1_000_000);
  assert.deepEqual(writer.interfaces, ["a", "b"]);
  // The first frame of b brings b's Interface Description Block.
  assert.equal(new DataView(first.buffer).getUint32(0, true), 1);
  assert.equal(new DataView(second.buffer).getUint32(0, true), 6);
  const epb = new DataView(second.buffer);
  assert.equal(epb.getUint32(8, true), 1, "interface b is number 1");
  assert.equal(epb.getUint32(16, true), 1_001_500, "microseconds: the epoch plus 1.5 ms");
});
