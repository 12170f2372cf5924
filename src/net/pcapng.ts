/**
 * A pcapng writer (pure: blocks in, bytes out), as specified by the IETF draft "PCAP
 * Next Generation (pcapng) Capture File Format", draft-ietf-opsawg-pcapng: section 3.1
 * (general block structure: type, total length, body padded to 32 bits, total length
 * again), 3.5 (options), 4.1 (Section Header Block), 4.2 (Interface Description Block)
 * and 4.3 (Enhanced Packet Block). Blocks are written little-endian; the byte-order
 * magic tells readers so.
 *
 * faultline writes one section, one interface per node (`if_name` = the node's name,
 * LINKTYPE_ETHERNET, microsecond timestamps, `if_MACaddr` and `if_IPv4addr` when known),
 * and one Enhanced Packet Block per frame on the interface of the node that sent it
 * (flagged inbound: the switch's port received it), with the frame's index on the run's
 * clock as `epb_packetid` and what the link faults did to it as a comment.
 *
 * @module
 */

import type { FrameRecord } from "../trace/schema.ts";
import { parseMac } from "./frame.ts";
import { describeFrameFaults } from "./frame_record.ts";

/** Block types (section 4 and the IANA registry of the draft). */
export const PCAPNG_BLOCK = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  enhancedPacket: 0x00000006,
} as const;

/** The byte-order magic of the Section Header Block. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** LINKTYPE_ETHERNET (IEEE 802.3), from the link-type registry. */
export const LINKTYPE_ETHERNET = 1;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_IPV4ADDR = 4;
const IF_MACADDR = 6;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
const EPB_PACKETID = 5;

const encoder = new TextEncoder();

/** An option: its code and value (padded to 32 bits when written). */
type Option = [code: number, value: Uint8Array];

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** The options field: each option, then opt_endofopt (none at all when empty). */
function encodeOptions(options: readonly Option[]): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  const size = options.reduce((n, [, v]) => n + 4 + pad4(v.length), 0) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [code, value] of options) {
    view.setUint16(at, code, true);
    view.setUint16(at + 2, value.length, true);
    out.set(value, at + 4);
    at += 4 + pad4(value.length);
  }
  view.setUint16(at, OPT_ENDOFOPT, true);
  view.setUint16(at + 2, 0, true);
  return out;
}

/** A whole block: type, total length, the body padded to 32 bits, total length. */
function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + pad4(body.length);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  out.set(body, 8);
  view.setUint32(total - 4, total, true);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function text(code: number, value: string): Option {
  return [code, encoder.encode(value)];
}

/**
 * A Section Header Block (section 4.1): version 1.0, section length unknown (-1).
 *
 * @example
 * ```ts
 * sectionHeaderBlock({ application: "faultline 0.1.0" }).length; // 28 + the option
 * ```
 */
export function sectionHeaderBlock(
  options: { application?: string; comment?: string } = {},
): Uint8Array {
  const head = new Uint8Array(16);
  const view = new DataView(head.buffer);
  view.setUint32(0, PCAPNG_BYTE_ORDER_MAGIC, true);
  view.setUint16(4, 1, true); // major
  view.setUint16(6, 0, true); // minor
  view.setBigInt64(8, -1n, true); // section length: not given
  const opts: Option[] = [];
  if (options.comment) opts.push(text(OPT_COMMENT, options.comment));
  if (options.application) opts.push(text(SHB_USERAPPL, options.application));
  return block(PCAPNG_BLOCK.sectionHeader, concat([head, encodeOptions(opts)]));
}

/** An interface of the capture: one per node. */
export interface PcapngInterface {
  /** `if_name`: the node's name. */
  name: string;
  /** `if_description`. */
  description?: string;
  /** `if_MACaddr`. */
  mac?: string;
  /** IPv4 address and prefix length, for `if_IPv4addr`. */
  ip?: string;
  /** The network's prefix length (32 by default). */
  prefixLength?: number;
}

/**
 * An Interface Description Block (section 4.2): Ethernet, no snap length limit,
 * microsecond timestamps (`if_tsresol` 6).
 *
 * @example
 * ```ts
 * interfaceDescriptionBlock({ name: "n1", mac: "02:66:6c:29:2c:00", ip: "192.0.2.10", prefixLength: 24 });
 * ```
 */
export function interfaceDescriptionBlock(iface: PcapngInterface): Uint8Array {
  const head = new Uint8Array(8);
  const view = new DataView(head.buffer);
  view.setUint16(0, LINKTYPE_ETHERNET, true);
  view.setUint16(2, 0, true); // reserved
  view.setUint32(4, 0, true); // snaplen: no limit
  const opts: Option[] = [text(IF_NAME, iface.name)];
  if (iface.description) opts.push(text(IF_DESCRIPTION, iface.description));
  if (iface.ip) {
    const value = new Uint8Array(8);
    value.set(iface.ip.split(".").map(Number), 0);
    const prefix = iface.prefixLength ?? 32;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    new DataView(value.buffer).setUint32(4, mask); // network byte order, like the address
    opts.push([IF_IPV4ADDR, value]);
  }
  if (iface.mac) opts.push([IF_MACADDR, parseMac(iface.mac)]);
  opts.push([IF_TSRESOL, new Uint8Array([6])]);
  return block(PCAPNG_BLOCK.interfaceDescription, concat([head, encodeOptions(opts)]));
}

/** One packet of the capture. */
export interface PcapngPacket {
  /** The interface's number: its position among the Interface Description Blocks. */
  interfaceId: number;
  /** Microseconds since 1970-01-01 00:00:00 UTC. */
  timestampUs: number;
  /** The bytes captured (empty when only the length is known). */
  data: Uint8Array;
  /** The packet's length on the wire; `data.length` by default. */
  originalLength?: number;
  /** `epb_flags` direction: the packet was received (inbound) or sent (outbound). */
  direction?: "inbound" | "outbound";
  /** `epb_packetid`. */
  packetId?: number;
  /** `opt_comment`. */
  comment?: string;
}

/**
 * An Enhanced Packet Block (section 4.3).
 *
 * @example
 * ```ts
 * enhancedPacketBlock({ interfaceId: 0, timestampUs: Date.now() * 1000, data: frame });
 * ```
 */
export function enhancedPacketBlock(packet: PcapngPacket): Uint8Array {
  const head = new Uint8Array(20);
  const view = new DataView(head.buffer);
  const ts = Math.max(0, Math.round(packet.timestampUs));
  view.setUint32(0, packet.interfaceId, true);
  view.setUint32(4, Math.floor(ts / 2 ** 32), true);
  view.setUint32(8, ts % 2 ** 32, true);
  view.setUint32(12, packet.data.length, true);
  view.setUint32(16, packet.originalLength ?? packet.data.length, true);
  const opts: Option[] = [];
  if (packet.comment) opts.push(text(OPT_COMMENT, packet.comment));
  if (packet.direction) {
    const flags = new Uint8Array(4);
    new DataView(flags.buffer).setUint32(0, packet.direction === "inbound" ? 1 : 2, true);
    opts.push([EPB_FLAGS, flags]);
  }
  if (packet.packetId !== undefined) {
    const id = new Uint8Array(8);
    new DataView(id.buffer).setBigUint64(0, BigInt(packet.packetId), true);
    opts.push([EPB_PACKETID, id]);
  }
  const data = new Uint8Array(pad4(packet.data.length));
  data.set(packet.data);
  return block(PCAPNG_BLOCK.enhancedPacket, concat([head, data, encodeOptions(opts)]));
}

/**
 * What the link faults did to a frame, as one line (the packet's comment), or
 * undefined when nothing happened to it.
 *
 * @example
 * ```ts
 * frameComment(record); // "partition dropped to b, c (partition:a|b,c@+2000ms)"
 * ```
 */
export function frameComment(record: FrameRecord): string | undefined {
  const parts = describeFrameFaults(record);
  if (!record.data) parts.push("bytes not recorded (--no-data)");
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/**
 * Writes a capture incrementally: the Section Header Block first, an Interface
 * Description Block the first time a node is seen (or up front for the nodes given),
 * then one Enhanced Packet Block per frame record.
 *
 * @example
 * ```ts
 * const pcap = new PcapngWriter({ application: "faultline", interfaces: [{ name: "n1" }, { name: "n2" }] });
 * await file.write(pcap.start());
 * for (const record of frames) await file.write(pcap.frame(record, epochUs));
 * ```
 */
export class PcapngWriter {
  private readonly ids = new Map<string, number>();
  private readonly known: Map<string, PcapngInterface>;

  /** Makes a writer; `interfaces` get their blocks up front, in order (node order). */
  constructor(
    private readonly options: { application?: string; interfaces?: readonly PcapngInterface[] } =
      {},
  ) {
    this.known = new Map((options.interfaces ?? []).map((i) => [i.name, i]));
  }

  /** The Section Header Block and the blocks of the interfaces given up front. */
  start(): Uint8Array {
    const parts = [sectionHeaderBlock({ application: this.options.application })];
    for (const iface of this.options.interfaces ?? []) parts.push(this.addInterface(iface));
    return concat(parts);
  }

  /** The interfaces so far, by name, in id order. */
  get interfaces(): string[] {
    return [...this.ids.keys()];
  }

  /**
   * The blocks for one frame record: its node's interface when new, then the packet.
   *
   * @param epochUs the trace's start in microseconds since the epoch (record times are
   *   milliseconds since then)
   */
  frame(record: FrameRecord, epochUs: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let id = this.ids.get(record.from);
    if (id === undefined) {
      parts.push(this.addInterface(this.known.get(record.from) ?? { name: record.from }));
      id = this.ids.get(record.from)!;
    }
    parts.push(enhancedPacketBlock({
      interfaceId: id,
      timestampUs: epochUs + record.time * 1000,
      data: record.data ?? new Uint8Array(0),
      originalLength: record.length,
      direction: "inbound",
      packetId: record.index,
      comment: frameComment(record),
    }));
    return parts.length === 1 ? parts[0] : concat(parts);
  }

  /** Assigns the next interface id and encodes its block. */
  private addInterface(iface: PcapngInterface): Uint8Array {
    this.ids.set(iface.name, this.ids.size);
    return interfaceDescriptionBlock({
      description: `faultline switch port of node ${iface.name}`,
      ...iface,
    });
  }
}
