import assert from "node:assert/strict";
import {
  decodeFrame,
  describeFrame,
  formatIpv4,
  formatMac,
  parseMac,
  TCP_FLAGS,
  tcpFlagNames,
} from "./frame.ts";

/** Bytes from hex written with spaces and `|` between the headers, for reading. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, "");
  return new Uint8Array(clean.match(/../g)!.map((pair) => Number.parseInt(pair, 16)));
}

/** Pads a frame to Ethernet's minimum of 60 bytes (without FCS), as a NIC does. */
function pad(frame: Uint8Array): Uint8Array {
  if (frame.length >= 60) return frame;
  const out = new Uint8Array(60);
  out.set(frame);
  return out;
}

const MAC_A = "02 66 6c aa bb 00";
const MAC_B = "02 66 6c aa bb 01";

/** An ARP request: who has 192.0.2.11, tell 192.0.2.10 (RFC 826). */
const ARP_REQUEST = pad(hex(`
  ff ff ff ff ff ff | ${MAC_A} | 08 06 |
  00 01 08 00 06 04 00 01 | ${MAC_A} | c0 00 02 0a | 00 00 00 00 00 00 | c0 00 02 0b`));

/** A TCP SYN 192.0.2.10:40000 > 192.0.2.11:7000 with 20 bytes of options (data offset 10). */
const TCP_SYN = hex(`
  ${MAC_B} | ${MAC_A} | 08 00 |
  45 00 00 3c 12 34 40 00 40 06 00 00 c0 00 02 0a c0 00 02 0b |
  9c 40 1b 58 00 00 00 01 00 00 00 00 a0 02 ff ff 00 00 00 00 |
  01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01`);

Deno.test("frame: MACs and addresses format and parse", () => {
  assert.equal(formatMac(hex("52 54 00 12 34 56")), "52:54:00:12:34:56");
  assert.equal(formatMac(hex("00 ff 02 66 6c aa bb 01"), 2), "02:66:6c:aa:bb:01");
  assert.deepEqual(parseMac("02-66-6C-aa-bb-01"), hex(MAC_B));
  assert.throws(() => parseMac("02:66:6c:aa:bb"), /not a MAC address/);
  assert.equal(formatIpv4(hex("c0 00 02 0a")), "192.0.2.10");
  assert.equal(tcpFlagNames(TCP_FLAGS.syn | TCP_FLAGS.ack), "syn,ack");
  assert.equal(tcpFlagNames(0x111), "fin,ack,ns");
});

Deno.test("frame: an ARP request, broadcast", () => {
  const view = decodeFrame(ARP_REQUEST);
  assert.deepEqual(view, {
    length: 60,
    dst: "ff:ff:ff:ff:ff:ff",
    src: "02:66:6c:aa:bb:00",
    group: true,
    broadcast: true,
    ethertype: 0x0806,
    arp: {
      op: 1,
      senderMac: "02:66:6c:aa:bb:00",
      senderIp: "192.0.2.10",
      targetMac: "00:00:00:00:00:00",
      targetIp: "192.0.2.11",
    },
  });
  assert.equal(describeFrame(view), "arp who-has 192.0.2.11 tell 192.0.2.10");
});

Deno.test("frame: a TCP SYN with options", () => {
  const view = decodeFrame(TCP_SYN);
  assert.deepEqual(view, {
    length: 74,
    dst: "02:66:6c:aa:bb:01",
    src: "02:66:6c:aa:bb:00",
    group: false,
    broadcast: false,
    ethertype: 0x0800,
    ipv4: {
      protocol: 6,
      src: "192.0.2.10",
      dst: "192.0.2.11",
      ttl: 64,
      totalLength: 60,
      srcPort: 40000,
      dstPort: 7000,
      seq: 1,
      ack: 0,
      tcpFlags: TCP_FLAGS.syn,
      payloadLength: 0,
    },
  });
  assert.equal(describeFrame(view), "tcp 192.0.2.10:40000 > 192.0.2.11:7000 [syn]");
});

Deno.test("frame: UDP behind an 802.1Q tag, padding not counted as payload", () => {
  const frame = pad(hex(`
    ${MAC_B} | ${MAC_A} | 81 00 00 64 | 08 00 |
    45 00 00 21 00 01 00 00 40 11 00 00 c0 00 02 0a c0 00 02 0b |
    30 39 00 35 00 0d 00 00 | 68 65 6c 6c 6f`));
  const view = decodeFrame(frame);
  assert.equal(view.ethertype, 0x0800);
  assert.deepEqual(view.vlans, [100]);
  assert.deepEqual(view.ipv4, {
    protocol: 17,
    src: "192.0.2.10",
    dst: "192.0.2.11",
    ttl: 64,
    totalLength: 33,
    srcPort: 12345,
    dstPort: 53,
    payloadLength: 5,
  });
  assert.equal(describeFrame(view), "udp 192.0.2.10:12345 > 192.0.2.11:53 len 5");
  // 802.1ad outer tag, then 802.1Q.
  const qinq = decodeFrame(pad(hex(`${MAC_B} | ${MAC_A} | 88 a8 00 0a | 81 00 20 14 | 08 06`)));
  assert.deepEqual(qinq.vlans, [10, 20]);
  assert.equal(qinq.ethertype, 0x0806);
  assert.equal(qinq.arp, undefined, "zero padding is not an Ethernet/IPv4 ARP packet");
});

Deno.test("frame: fragments: ports only in the first; ICMP; IPv6 and multicast", () => {
  const ipHeader = (flagsFragment: string, proto = "11") =>
    `45 00 00 24 00 02 ${flagsFragment} 40 ${proto} 00 00 c0 00 02 0a c0 00 02 0b`;
  const first = decodeFrame(pad(hex(`${MAC_B} | ${MAC_A} | 08 00 | ${ipHeader("20 00")} |
    04 d2 16 2e 00 10 00 00 | 01 02 03 04 05 06 07 08`)));
  assert.deepEqual(first.ipv4?.fragment, { offset: 0, more: true });
  assert.equal(first.ipv4?.dstPort, 5678);
  const later = decodeFrame(pad(hex(`${MAC_B} | ${MAC_A} | 08 00 | ${ipHeader("00 b9")} |
    aa aa aa aa aa aa aa aa`)));
  assert.deepEqual(later.ipv4?.fragment, { offset: 1480, more: false });
  assert.equal(later.ipv4?.srcPort, undefined);
  assert.match(describeFrame(later), /^udp 192\.0\.2\.10 > 192\.0\.2\.11 frag 1480$/);

  const ping = decodeFrame(pad(hex(`${MAC_B} | ${MAC_A} | 08 00 |
    45 00 00 1c 00 03 00 00 40 01 00 00 c0 00 02 0a c0 00 02 0b | 08 00 f7 ff 00 00 00 00`)));
  assert.equal(ping.ipv4?.icmpType, 8);
  assert.equal(describeFrame(ping), "icmp 192.0.2.10 > 192.0.2.11 type 8 code 0");

  const v6 = decodeFrame(pad(hex(`33 33 00 00 00 16 | ${MAC_A} | 86 dd | 60 00 00 00`)));
  assert.equal(v6.group, true);
  assert.equal(v6.broadcast, false);
  assert.equal(v6.ipv4, undefined);
  assert.equal(describeFrame(v6), "ipv6 02:66:6c:aa:bb:00 > 33:33:00:00:00:16");
});

Deno.test("frame: short frames are marked truncated, never thrown on", () => {
  assert.deepEqual(decodeFrame(hex("ff ff ff")), {
    length: 3,
    dst: "00:00:00:00:00:00",
    src: "00:00:00:00:00:00",
    group: false,
    broadcast: false,
    ethertype: 0,
    truncated: true,
  });
  const cut = decodeFrame(TCP_SYN.subarray(0, 40));
  assert.equal(cut.truncated, true);
  assert.equal(cut.ipv4?.src, "192.0.2.10", "the IPv4 header was complete");
  assert.equal(cut.ipv4?.srcPort, undefined);
  const tagOnly = decodeFrame(hex(`${MAC_B} | ${MAC_A} | 81 00 00`));
  assert.equal(tagOnly.truncated, true);
});
