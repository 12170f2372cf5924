/**
 * Frame records to pcapng, read by Debian's tshark: a TCP conversation between two
 * nodes, an ARP broadcast and a dropped frame, written as a trace, turned into a
 * capture by `faultline trace pcap`, then checked with `tshark -z conv,tcp` and
 * `-T fields -e frame.interface_name`. Also `trace show --net` and `trace stats`.
 * Skipped, saying why, when tshark is absent (`apt-get install tshark`).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { nodeAddresses } from "../src/net/addresses.ts";
import { decodeFrame, parseMac } from "../src/net/frame.ts";
import { frameRecord } from "../src/net/frame_record.ts";
import { PLAN_VERSION } from "../src/fault/plan_version.ts";
import { DATA_HASH } from "../src/trace/schema.ts";
import { TraceWriter } from "../src/trace/writer.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline, run } from "./support/mod.ts";

const TSHARK = "/usr/bin/tshark";
const hasTshark = await Deno.stat(TSHARK).then(() => true, () => false);
const SKIP = hasTshark ? "" : ` (skipped: ${TSHARK} is absent; apt-get install tshark)`;

/** The Internet checksum (RFC 1071) of an IPv4 header. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

interface Endpoint {
  mac: string;
  ip: string;
  port: number;
}

/** An Ethernet + IPv4 + TCP frame (TCP checksum left zero: tshark does not check it by default). */
function tcpFrame(
  src: Endpoint,
  dst: Endpoint,
  seq: number,
  ack: number,
  flags: number,
  payload = new Uint8Array(0),
): Uint8Array {
  const frame = new Uint8Array(Math.max(60, 14 + 20 + 20 + payload.length));
  const view = new DataView(frame.buffer);
  frame.set(parseMac(dst.mac), 0);
  frame.set(parseMac(src.mac), 6);
  view.setUint16(12, 0x0800);
  const ip = 14;
  frame[ip] = 0x45;
  view.setUint16(ip + 2, 40 + payload.length);
  view.setUint16(ip + 6, 0x4000);
  frame[ip + 8] = 64;
  frame[ip + 9] = 6;
  frame.set(src.ip.split(".").map(Number), ip + 12);
  frame.set(dst.ip.split(".").map(Number), ip + 16);
  view.setUint16(ip + 10, checksum(frame.subarray(ip, ip + 20)));
  const tcp = ip + 20;
  view.setUint16(tcp, src.port);
  view.setUint16(tcp + 2, dst.port);
  view.setUint32(tcp + 4, seq);
  view.setUint32(tcp + 8, ack);
  frame[tcp + 12] = 0x50;
  frame[tcp + 13] = flags;
  view.setUint16(tcp + 14, 65535);
  frame.set(payload, tcp + 20);
  return frame;
}

Deno.test(
  `trace pcap: tshark reads the conversation, the interfaces by node name, and the comments${SKIP}`,
  {
    ignore: !hasTshark,
  },
  async () => {
    await using dir = await makePrivateDir("faultline-pcap-test-");
    const nodes = nodeAddresses(["a", "b", "c"]);
    const [a, b] = nodes;
    const client = { mac: a.mac, ip: a.ip, port: 40000 };
    const server = { mac: b.mac, ip: b.ip, port: 7000 };
    const hello = new TextEncoder().encode("file of b\n");
    const SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01;
    const arp = new Uint8Array(60);
    arp.set(parseMac("ff:ff:ff:ff:ff:ff"), 0);
    arp.set(parseMac(a.mac), 6);
    arp.set([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1], 12);
    arp.set(parseMac(a.mac), 22);
    arp.set([192, 0, 2, 10], 28);
    arp.set([192, 0, 2, 11], 38);
    const frames: [string, string[], Uint8Array][] = [
      ["a", ["b", "c"], arp],
      ["a", ["b"], tcpFrame(client, server, 1, 0, SYN)],
      ["b", ["a"], tcpFrame(server, client, 100, 2, SYN | ACK)],
      ["a", ["b"], tcpFrame(client, server, 2, 101, ACK)],
      ["b", ["a"], tcpFrame(server, client, 101, 2, PSH | ACK, hello)],
      ["b", ["a"], tcpFrame(server, client, 111, 2, FIN | ACK)],
      ["a", ["b"], tcpFrame(client, server, 2, 112, FIN | ACK)],
      ["b", ["a"], tcpFrame(server, client, 112, 3, ACK)],
    ];
    const trace = join(dir.path, "net.trace");
    const writer = await TraceWriter.create(trace, {
      createdAt: "2026-03-01T12:00:00.000Z",
      tool: { name: "faultline", version: "test" },
      command: "test",
      recordsData: true,
      dataHash: DATA_HASH,
      seed: 1,
      faults: ["partition:a|c"],
      planVersion: PLAN_VERSION,
      disks: [],
      network: { network: "192.0.2.0/24", nodes },
    });
    frames.forEach(([from, to, bytes], i) => {
      const dropped = from === "a" && to.includes("c");
      writer.append(frameRecord({
        index: i * 2 + 1, // block ops take the even indices
        time: 10 + i * 4,
        from,
        to,
        view: decodeFrame(bytes),
        frame: bytes,
        decisions: dropped
          ? [{
            rule: "partition:a|c",
            fault: "partition",
            to: "c",
            action: { do: "lose" as const },
          }]
          : [],
        keepData: true,
      }));
    });
    await writer.close({ duration: 50, endedAt: "2026-03-01T12:00:01.000Z" });

    const pcap = join(dir.path, "net.pcapng");
    const wrote = await faultline(["trace", "pcap", trace, "-o", pcap, "--json"]);
    assert.equal(wrote.code, 0, wrote.text);
    assert.deepEqual(JSON.parse(wrote.stdout).interfaces, ["a", "b", "c"]);

    const conv = await run(TSHARK, ["-r", pcap, "-q", "-z", "conv,tcp"]);
    assert.equal(conv.code, 0, conv.text);
    assert.match(conv.stdout, /192\.0\.2\.10:40000\s+<->\s+192\.0\.2\.11:7000/, conv.stdout);
    const line = conv.stdout.split("\n").find((l) => l.includes("<->"))!;
    const numbers = line.split(/\s+/).filter((w) => /^\d+$/.test(w)).map(Number);
    // Frames from b to a, then from a to b, then in all: 4 and 3 of 7.
    assert.deepEqual(numbers.slice(0, 1).concat(numbers.slice(2, 3), numbers.slice(4, 5)), [
      4,
      3,
      7,
    ], line);

    const fields = await run(TSHARK, [
      "-r",
      pcap,
      "-T",
      "fields",
      "-e",
      "frame.interface_name",
      "-e",
      "frame.time_epoch",
      "-e",
      "eth.src",
      "-e",
      "frame.comment",
    ]);
    assert.equal(fields.code, 0, fields.text);
    const rows = fields.stdout.trim().split("\n").map((l) => l.split("\t"));
    assert.deepEqual(rows.map((r) => r[0]), ["a", "a", "b", "a", "b", "b", "a", "b"]);
    assert.deepEqual(rows.map((r) => r[2]), frames.map(([from]) => from === "a" ? a.mac : b.mac));
    assert.equal(
      Number(rows[0][1]).toFixed(3),
      (Date.parse("2026-03-01T12:00:00Z") / 1000 + 0.01).toFixed(3),
    );
    assert.match(rows[0][3], /^partition dropped to c \(partition:a\|c\)$/, fields.stdout);
    assert.equal(rows[1][3], "");

    const show = await faultline(["trace", "show", trace, "--net"]);
    assert.equal(show.code, 0, show.text);
    assert.match(
      show.stdout,
      /arp who-has 192\.0\.2\.11 tell 192\.0\.2\.10\s+partition dropped to c \(partition:a\|c\)/,
    );
    assert.match(show.stdout, /tcp 192\.0\.2\.11:7000 > 192\.0\.2\.10:40000 \[psh,ack\] len 10/);
    const json = await faultline(["trace", "show", trace, "--net", "--json", "--limit", "2"]);
    const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.equal(lines[1].tcpFlags, "syn");
    assert.equal("data" in lines[1], false);

    const stats = await faultline(["trace", "stats", trace, "--json"]);
    const net = JSON.parse(stats.stdout).net;
    assert.equal(net.frames, 8);
    assert.deepEqual(net.byLink["a->c"], { frames: 1, bytes: 60, dropped: 1, absent: 0 });
    assert.equal(net.byLink["b->a"].frames, 4);
    const text = await faultline(["trace", "stats", trace]);
    assert.match(text.stdout, /frames: 8 .* 1 broadcast/);
    assert.match(text.stdout, /a->c\s+1\s+60 B\s+1\s+0/);
  },
);

Deno.test("trace pcap: a one-node trace has no frames: exit 2, saying so, and no capture written", async () => {
  await using dir = await makePrivateDir("faultline-pcap-test-");
  const trace = join(dir.path, "one-node.trace");
  const writer = await TraceWriter.create(trace, {
    createdAt: "2026-03-01T12:00:00.000Z",
    tool: { name: "faultline", version: "test" },
    command: "test",
    recordsData: true,
    dataHash: DATA_HASH,
    seed: 1,
    faults: [],
    planVersion: PLAN_VERSION,
    disks: [],
  });
  await writer.close({ duration: 50, endedAt: "2026-03-01T12:00:01.000Z" });
  const pcap = join(dir.path, "one-node.pcapng");
  const result = await faultline(["trace", "pcap", trace, "-o", pcap]);
  assert.equal(result.code, 2, result.text);
  assert.match(result.stderr, /this trace has no network frames \(one-node run\)/);
  assert.equal(await Deno.stat(pcap).then(() => true, () => false), false);
});
