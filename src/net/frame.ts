/**
 * Decoding of the headers of an Ethernet frame, as far as records, filters and link
 * faults need them: destination and source MAC, EtherType (802.1Q and 802.1ad tags
 * skipped), ARP, and for IPv4 the protocol, the addresses, the ports of TCP and UDP,
 * TCP's flags and ICMP's type. The result, a {@link FrameView}, is the frame's summary
 * everywhere in faultline.
 *
 * References: IEEE 802.3 clause 3 (MAC frame), IEEE 802.1Q clause 9 (tag), RFC 826
 * (ARP), RFC 791 section 3.1 (IPv4 header), RFC 9293 section 3.1 (TCP header), RFC 768
 * (UDP), RFC 792 (ICMP). Pure: never touches `Deno.*`.
 *
 * @module
 */

/** EtherTypes that faultline names. */
export const ETHERTYPE = {
  ipv4: 0x0800,
  arp: 0x0806,
  vlan: 0x8100,
  qinq: 0x88a8,
  ipv6: 0x86dd,
} as const;

/** IPv4 protocol numbers that faultline names (IANA "Assigned Internet Protocol Numbers"). */
export const IP_PROTOCOL = { icmp: 1, tcp: 6, udp: 17 } as const;

/** TCP flag bits of header byte 13, and NS (bit 0 of byte 12), by name. */
export const TCP_FLAGS = {
  fin: 0x01,
  syn: 0x02,
  rst: 0x04,
  psh: 0x08,
  ack: 0x10,
  urg: 0x20,
  ece: 0x40,
  cwr: 0x80,
  ns: 0x100,
} as const;

/** A TCP flag's name. */
export type TcpFlag = keyof typeof TCP_FLAGS;

/** An ARP packet (Ethernet and IPv4 only; other hardware or protocol types leave it out). */
export interface ArpView {
  /** 1 request, 2 reply. */
  op: number;
  /** The sender's MAC. */
  senderMac: string;
  /** The sender's IPv4 address. */
  senderIp: string;
  /** The target's MAC (zeros in a request). */
  targetMac: string;
  /** The target's IPv4 address. */
  targetIp: string;
}

/** The IPv4 header and, for the first fragment, the transport header's summary. */
export interface Ipv4View {
  /** The protocol number (6 TCP, 17 UDP, 1 ICMP, ...). */
  protocol: number;
  /** Source address. */
  src: string;
  /** Destination address. */
  dst: string;
  /** Time to live. */
  ttl: number;
  /** The header's total length field. */
  totalLength: number;
  /** A fragment after the first (no transport header), or the first with more to come. */
  fragment?: { offset: number; more: boolean };
  /** TCP and UDP. */
  srcPort?: number;
  /** TCP and UDP: the destination port. */
  dstPort?: number;
  /** TCP: the flags as a bit mask of {@link TCP_FLAGS}. */
  tcpFlags?: number;
  /** TCP sequence and acknowledgement numbers. */
  seq?: number;
  /** TCP acknowledgement number. */
  ack?: number;
  /** ICMP type and code. */
  icmpType?: number;
  /** ICMP code. */
  icmpCode?: number;
  /** Bytes of transport payload, when the headers are complete. */
  payloadLength?: number;
}

/** What faultline knows of a frame from its headers. */
export interface FrameView {
  /** Bytes of the frame (no preamble, no FCS: QEMU's stream carries neither). */
  length: number;
  /** Destination and source MAC, as `52:54:00:12:34:56`. */
  dst: string;
  /** Source MAC. */
  src: string;
  /** The destination is a group address (I/G bit set): broadcast or multicast. */
  group: boolean;
  /** The destination is ff:ff:ff:ff:ff:ff. */
  broadcast: boolean;
  /** The EtherType after any VLAN tags (or an 802.3 length, below 0x0600). */
  ethertype: number;
  /** The VLAN ids of the tags skipped, outermost first. */
  vlans?: number[];
  /** An ARP packet, when the frame is one (Ethernet/IPv4). */
  arp?: ArpView;
  /** The IPv4 header, when the frame carries IPv4. */
  ipv4?: Ipv4View;
  /** The frame ended inside a header it announced (what was decoded is kept). */
  truncated?: true;
}

/** Bytes of an Ethernet header without tags. */
export const ETHERNET_HEADER_BYTES = 14;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Formats 6 bytes as a MAC address.
 *
 * @example
 * ```ts
 * formatMac(new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56])); // "52:54:00:12:34:56"
 * ```
 */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  return `${HEX[bytes[offset]]}:${HEX[bytes[offset + 1]]}:${HEX[bytes[offset + 2]]}:${
    HEX[bytes[offset + 3]]
  }:${HEX[bytes[offset + 4]]}:${HEX[bytes[offset + 5]]}`;
}

/**
 * Parses a MAC address written with `:` or `-` into 6 bytes.
 *
 * @throws {RangeError} when it is not six hex pairs.
 * @example
 * ```ts
 * parseMac("02:66:6c:00:00:01"); // Uint8Array [2, 0x66, 0x6c, 0, 0, 1]
 * ```
 */
export function parseMac(text: string): Uint8Array {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`"${text}" is not a MAC address (six hex pairs, as 52:54:00:12:34:56)`);
  }
  return new Uint8Array(parts.map((p) => Number.parseInt(p, 16)));
}

/**
 * Formats 4 bytes as a dotted IPv4 address.
 *
 * @example
 * ```ts
 * formatIpv4(new Uint8Array([192, 0, 2, 10])); // "192.0.2.10"
 * ```
 */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * The names of the TCP flags set in a mask, in header order (`syn,ack`).
 *
 * @example
 * ```ts
 * tcpFlagNames(TCP_FLAGS.syn | TCP_FLAGS.ack); // "syn,ack"
 * ```
 */
export function tcpFlagNames(mask: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(TCP_FLAGS)) if (mask & bit) names.push(name);
  return names.join(",");
}

/**
 * Decodes the headers of an Ethernet frame. Never throws: a frame shorter than its
 * headers is marked `truncated`, with what could be read; a frame shorter than an
 * Ethernet header has zero MACs and EtherType 0.
 *
 * @example
 * ```ts
 * const view = decodeFrame(frame);
 * view.ipv4?.protocol === IP_PROTOCOL.tcp && view.ipv4.dstPort; // 2379
 * ```
 */
export function decodeFrame(frame: Uint8Array): FrameView {
  const length = frame.length;
  if (length < ETHERNET_HEADER_BYTES) {
    return {
      length,
      dst: "00:00:00:00:00:00",
      src: "00:00:00:00:00:00",
      group: false,
      broadcast: false,
      ethertype: 0,
      truncated: true,
    };
  }
  const view: FrameView = {
    length,
    dst: formatMac(frame, 0),
    src: formatMac(frame, 6),
    group: (frame[0] & 1) === 1,
    broadcast: frame[0] === 0xff && frame[1] === 0xff && frame[2] === 0xff &&
      frame[3] === 0xff && frame[4] === 0xff && frame[5] === 0xff,
    ethertype: 0,
  };
  let at = 12;
  let type = u16(frame, at);
  while (type === ETHERTYPE.vlan || type === ETHERTYPE.qinq) {
    if (length < at + 6) {
      view.ethertype = type;
      view.truncated = true;
      return view;
    }
    (view.vlans ??= []).push(u16(frame, at + 2) & 0x0fff);
    at += 4;
    type = u16(frame, at);
  }
  view.ethertype = type;
  at += 2;
  if (type === ETHERTYPE.arp) decodeArp(frame, at, view);
  else if (type === ETHERTYPE.ipv4) decodeIpv4(frame, at, view);
  return view;
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** RFC 826: htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4. */
function decodeArp(frame: Uint8Array, at: number, view: FrameView): void {
  if (frame.length < at + 28) {
    view.truncated = true;
    return;
  }
  if (u16(frame, at) !== 1 || u16(frame, at + 2) !== ETHERTYPE.ipv4) return;
  if (frame[at + 4] !== 6 || frame[at + 5] !== 4) return;
  view.arp = {
    op: u16(frame, at + 6),
    senderMac: formatMac(frame, at + 8),
    senderIp: formatIpv4(frame, at + 14),
    targetMac: formatMac(frame, at + 18),
    targetIp: formatIpv4(frame, at + 24),
  };
}

/** RFC 791 section 3.1, then the first bytes of TCP, UDP or ICMP. */
function decodeIpv4(frame: Uint8Array, at: number, view: FrameView): void {
  if (frame.length < at + 20 || frame[at] >> 4 !== 4) {
    view.truncated = frame.length < at + 20 ? true : view.truncated;
    return;
  }
  const headerBytes = (frame[at] & 0x0f) * 4;
  const flagsFragment = u16(frame, at + 6);
  const ip: Ipv4View = {
    protocol: frame[at + 9],
    src: formatIpv4(frame, at + 12),
    dst: formatIpv4(frame, at + 16),
    ttl: frame[at + 8],
    totalLength: u16(frame, at + 2),
  };
  view.ipv4 = ip;
  const offset = (flagsFragment & 0x1fff) * 8;
  const more = (flagsFragment & 0x2000) !== 0;
  if (offset !== 0 || more) ip.fragment = { offset, more };
  if (offset !== 0 || headerBytes < 20) return; // no transport header in this fragment
  const t = at + headerBytes;
  // The IP total length bounds the packet; Ethernet padding after it is not payload.
  const end = Math.min(frame.length, at + Math.max(ip.totalLength, headerBytes));
  switch (ip.protocol) {
    case IP_PROTOCOL.tcp: {
      if (end < t + 20) {
        view.truncated = true;
        return;
      }
      ip.srcPort = u16(frame, t);
      ip.dstPort = u16(frame, t + 2);
      ip.seq = u32(frame, t + 4);
      ip.ack = u32(frame, t + 8);
      ip.tcpFlags = frame[t + 13] | ((frame[t + 12] & 1) << 8);
      const dataOffset = (frame[t + 12] >> 4) * 4;
      ip.payloadLength = Math.max(0, end - t - dataOffset);
      return;
    }
    case IP_PROTOCOL.udp: {
      if (end < t + 8) {
        view.truncated = true;
        return;
      }
      ip.srcPort = u16(frame, t);
      ip.dstPort = u16(frame, t + 2);
      ip.payloadLength = Math.max(0, end - t - 8);
      return;
    }
    case IP_PROTOCOL.icmp: {
      if (end < t + 4) {
        view.truncated = true;
        return;
      }
      ip.icmpType = frame[t];
      ip.icmpCode = frame[t + 1];
      return;
    }
  }
}

/** The name of an EtherType (`ipv4`, `arp`, `ipv6`), or its hex value. */
export function ethertypeName(type: number): string {
  for (const [name, value] of Object.entries(ETHERTYPE)) if (value === type) return name;
  return `0x${type.toString(16).padStart(4, "0")}`;
}

/** The name of an IPv4 protocol (`tcp`, `udp`, `icmp`), or its number. */
export function ipProtocolName(protocol: number): string {
  for (const [name, value] of Object.entries(IP_PROTOCOL)) if (value === protocol) return name;
  return String(protocol);
}

/**
 * A one-line summary of a frame, as `trace show --net` prints it.
 *
 * @example
 * ```ts
 * describeFrame(decodeFrame(syn)); // "tcp 192.0.2.10:40000 > 192.0.2.11:7000 [syn]"
 * describeFrame(decodeFrame(arp)); // "arp who-has 192.0.2.11 tell 192.0.2.10"
 * ```
 */
export function describeFrame(view: FrameView): string {
  const ip = view.ipv4;
  if (view.arp) {
    const a = view.arp;
    if (a.op === 1) return `arp who-has ${a.targetIp} tell ${a.senderIp}`;
    if (a.op === 2) return `arp ${a.senderIp} is-at ${a.senderMac}`;
    return `arp op ${a.op}`;
  }
  if (ip) {
    const name = ipProtocolName(ip.protocol);
    const ports = ip.srcPort !== undefined;
    const from = ports ? `${ip.src}:${ip.srcPort}` : ip.src;
    const to = ports ? `${ip.dst}:${ip.dstPort}` : ip.dst;
    let text = `${name} ${from} > ${to}`;
    if (ip.tcpFlags !== undefined) text += ` [${tcpFlagNames(ip.tcpFlags)}]`;
    if (ip.icmpType !== undefined) text += ` type ${ip.icmpType} code ${ip.icmpCode}`;
    if (ip.payloadLength) text += ` len ${ip.payloadLength}`;
    if (ip.fragment) text += ` frag ${ip.fragment.offset}${ip.fragment.more ? "+" : ""}`;
    return text;
  }
  return `${ethertypeName(view.ethertype)} ${view.src} > ${view.dst}`;
}
