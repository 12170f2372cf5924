/**
 * The addresses of a cluster's nodes, stable from run to run: node k (from 0, in the
 * scenario's node order) gets
 *
 * - the MAC `02:66:6c:HH:HH:KK`: `02` makes it a locally administered unicast address
 *   (IEEE 802: the U/L bit set, the I/G bit clear), `66:6c` is "fl" for faultline,
 *   `HH:HH` the low 16 bits of the FNV-1a hash of the node's name, `KK` the index k,
 *   which keeps the MACs of one scenario distinct;
 * - the IPv4 address `.10 + k` of the cluster's network, `192.0.2.0/24` (TEST-NET-1,
 *   RFC 5737: documentation only, never routed) unless the scenario names another.
 *
 * These addresses exist only on faultline's switch: nothing reaches the host's network.
 *
 * @module
 */

import { NetError } from "./errors.ts";

/** The cluster's network when none is given: TEST-NET-1 (RFC 5737). */
export const DEFAULT_NETWORK = "192.0.2.0/24";
/** Node k's address is the network's address plus this, plus k. */
export const FIRST_HOST = 10;
/** The first three bytes of every node's MAC. */
export const MAC_PREFIX = "02:66:6c";

/** Where one node is on the cluster's network. */
export interface NodeAddress {
  /** The node's name. */
  name: string;
  /** The node's position in the scenario's node order, from 0. */
  index: number;
  /** `02:66:6c:HH:HH:KK`. */
  mac: string;
  /** Its IPv4 address, dotted. */
  ip: string;
  /** The network's prefix length (24 for a /24). */
  prefixLength: number;
}

/** An IPv4 network: its address as a 32-bit number and its prefix length. */
export interface Ipv4Network {
  /** The network's address as a 32-bit number. */
  address: number;
  /** Its prefix length. */
  prefixLength: number;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** FNV-1a, 32 bits, over the name's UTF-8 bytes. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The MAC of node `index` named `name`.
 *
 * @throws {NetError} when the index is not in [0, 255].
 * @example
 * ```ts
 * nodeMac("db1", 0); // "02:66:6c:..:..:00", the same on every run
 * ```
 */
export function nodeMac(name: string, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 255) {
    throw new NetError(`node index ${index} is not in [0, 255]`);
  }
  const hash = fnv1a(name);
  return `${MAC_PREFIX}:${hex2((hash >>> 8) & 0xff)}:${hex2(hash & 0xff)}:${hex2(index)}`;
}

/**
 * Formats a 32-bit number as a dotted IPv4 address.
 *
 * @example
 * ```ts
 * ipv4ToString(0xc000020a); // "192.0.2.10"
 * ```
 */
export function ipv4ToString(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join(".");
}

/**
 * Parses a network written `A.B.C.D/N`.
 *
 * @throws {NetError} when it is not one, or has host bits set.
 * @example
 * ```ts
 * parseNetwork("10.9.0.0/16"); // { address: 0x0a090000, prefixLength: 16 }
 * ```
 */
export function parseNetwork(text: string): Ipv4Network {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  const octets = match?.slice(1, 5).map(Number);
  const prefixLength = match ? Number(match[5]) : NaN;
  if (!match || octets!.some((o) => o > 255) || prefixLength > 32) {
    throw new NetError(`network "${text}" is not an IPv4 network such as ${DEFAULT_NETWORK}`);
  }
  const address = octets!.reduce((n, o) => n * 256 + o, 0);
  const hostBits = 32 - prefixLength;
  if (hostBits < 32 && address % 2 ** hostBits !== 0) {
    throw new NetError(
      `network "${text}" has host bits set; the network of ${
        ipv4ToString(address)
      }/${prefixLength} is ${ipv4ToString(address - (address % 2 ** hostBits))}/${prefixLength}`,
    );
  }
  return { address, prefixLength };
}

/**
 * The addresses of every node, in the given order.
 *
 * @throws {NetError} when a name repeats, or the network has no room for every node
 *   (node k needs host number 10 + k below the broadcast address).
 * @example
 * ```ts
 * nodeAddresses(["n1", "n2"]).map((n) => n.ip); // ["192.0.2.10", "192.0.2.11"]
 * nodeAddresses(["n1"], { network: "10.9.0.0/16" })[0].ip; // "10.9.0.10"
 * ```
 */
export function nodeAddresses(
  names: readonly string[],
  options: { network?: string } = {},
): NodeAddress[] {
  const network = parseNetwork(options.network ?? DEFAULT_NETWORK);
  const size = 2 ** (32 - network.prefixLength);
  const room = Math.max(0, size - 1 - FIRST_HOST);
  if (names.length > Math.min(room, 256)) {
    throw new NetError(
      `network ${options.network ?? DEFAULT_NETWORK} has room for ${
        Math.min(room, 256)
      } nodes (from host .${FIRST_HOST}); there are ${names.length}`,
    );
  }
  const seen = new Set<string>();
  return names.map((name, index) => {
    if (seen.has(name)) throw new NetError(`node ${name} is named twice`);
    seen.add(name);
    return {
      name,
      index,
      mac: nodeMac(name, index),
      ip: ipv4ToString(network.address + FIRST_HOST + index),
      prefixLength: network.prefixLength,
    };
  });
}

/**
 * The network of a node as the guest image takes it (`network` of the initramfs
 * options): its own name, MAC and address, and every node's name and address for
 * `/etc/hosts`.
 *
 * @example
 * ```ts
 * const nodes = nodeAddresses(["n1", "n2"]);
 * guestNetworkOf(nodes, "n2"); // { node: "n2", mac: "02:66:6c:..:..:01", prefixLength: 24, hosts: [...] }
 * ```
 */
export function guestNetworkOf(
  nodes: readonly NodeAddress[],
  name: string,
): {
  node: string;
  mac: string;
  prefixLength: number;
  hosts: { name: string; ip: string }[];
} {
  const self = nodes.find((n) => n.name === name);
  if (!self) throw new NetError(`no node ${name} (nodes: ${nodes.map((n) => n.name).join(", ")})`);
  return {
    node: self.name,
    mac: self.mac,
    prefixLength: self.prefixLength,
    hosts: nodes.map((n) => ({ name: n.name, ip: n.ip })),
  };
}
