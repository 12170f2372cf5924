/**
 * The trace record of a frame (`record: "frame"`, docs/trace-format.md): built from
 * the frame's headers, where the switch sent it, and the link faults that hit it.
 * Pure, apart from hashing.
 *
 * @module
 */

import type { FrameFacts } from "../fault/trigger.ts";
import { dataHash } from "../trace/hash.ts";
import type { FrameFault, FrameRecord } from "../trace/schema.ts";
import { ETHERTYPE, type FrameView, IP_PROTOCOL, tcpFlagNames } from "./frame.ts";
import type { LinkDecision } from "./link_plan.ts";

/** What {@link frameRecord} builds a record from. */
export interface FrameRecordInput {
  /** Its index on the run's clock. */
  index: number;
  /** Milliseconds since the run started, at arrival. */
  time: number;
  /** The node that sent it. */
  from: string;
  /** Where the switch sends it by its destination MAC, before faults. */
  to: readonly string[];
  /** Its decoded headers. */
  view: FrameView;
  /** The frame's bytes. */
  frame: Uint8Array;
  /** The link faults' decisions for it. */
  decisions: readonly LinkDecision[];
  /** Destinations whose port had no connection. */
  absent?: readonly string[];
  /** Keep the bytes in `data` (else only `hash`). */
  keepData: boolean;
  /** The run's phase, when it has phases. */
  phase?: string;
}

/**
 * Builds the record of one frame.
 *
 * @example
 * ```ts
 * const record = frameRecord({ index, time, from: "n1", to: ["n2"], view, frame, decisions: [], keepData: true });
 * record.srcPort; // 40000
 * ```
 */
export function frameRecord(input: FrameRecordInput): FrameRecord {
  const { view } = input;
  const record: FrameRecord = {
    record: "frame",
    index: input.index,
    time: input.time,
    from: input.from,
    to: [...input.to],
    length: view.length,
    dst: view.dst,
    src: view.src,
    ethertype: view.ethertype,
    hash: dataHash(input.frame),
  };
  if (view.group) record.broadcast = true;
  else if (input.to.length === 0) record.unknown = true;
  const ip = view.ipv4;
  if (ip) {
    record.proto = ip.protocol;
    record.srcIp = ip.src;
    record.dstIp = ip.dst;
    if (ip.srcPort !== undefined) record.srcPort = ip.srcPort;
    if (ip.dstPort !== undefined) record.dstPort = ip.dstPort;
    if (ip.tcpFlags !== undefined) record.tcpFlags = tcpFlagNames(ip.tcpFlags);
  }
  if (input.keepData) record.data = input.frame;
  if (input.decisions.length > 0) {
    const faults = new Map<string, FrameFault>();
    const dropped = new Set<string>();
    for (const decision of input.decisions) {
      // One entry per rule and detail: a jittered delay differs per destination.
      const detail = decision.detail;
      const key = `${decision.rule}\u0000${decision.fault}\u0000${JSON.stringify(detail ?? null)}`;
      let fault = faults.get(key);
      if (!fault) {
        fault = { kind: decision.fault, rule: decision.rule, to: [] };
        if (detail) fault.detail = detail;
        faults.set(key, fault);
      }
      if (!fault.to.includes(decision.to)) fault.to.push(decision.to);
      if (decision.action.do === "lose") dropped.add(decision.to);
    }
    record.faults = [...faults.values()];
    if (dropped.size > 0) record.dropped = input.to.filter((node) => dropped.has(node));
  }
  if (input.absent && input.absent.length > 0) record.absent = [...input.absent];
  if (input.phase !== undefined) record.phase = input.phase;
  return record;
}

/**
 * What happened to a frame, one phrase per fault (`partition dropped to b (partition:a|b)`,
 * `delay delayMs=5 to c (live)`), then the destinations it was lost to and a frame that
 * went nowhere: the faults column of `trace show --net` and the comment in a pcapng.
 *
 * @example
 * ```ts
 * describeFrameFaults(record); // ["partition dropped to b, c (partition:a|b,c@+2000ms)"]
 * ```
 */
export function describeFrameFaults(
  record: Pick<FrameRecord, "faults" | "dropped" | "absent" | "unknown">,
): string[] {
  const parts: string[] = [];
  for (const fault of record.faults ?? []) {
    const dropped = record.dropped?.some((node) => fault.to.includes(node)) ? " dropped" : "";
    const detail = fault.detail
      ? Object.entries(fault.detail).map(([k, v]) => ` ${k}=${v}`).join("")
      : "";
    parts.push(`${fault.kind}${dropped}${detail} to ${fault.to.join(", ")} (${fault.rule})`);
  }
  if (record.absent?.length) parts.push(`lost to ${record.absent.join(", ")} (port down)`);
  if (record.unknown) parts.push("unknown destination: delivered nowhere");
  return parts;
}

const PROTOCOL_NAMES = new Map<number, "tcp" | "udp" | "icmp">(
  Object.entries(IP_PROTOCOL).map(([name, number]) => [number, name as "tcp" | "udp" | "icmp"]),
);

/**
 * What a trigger knows of a recorded frame, from its record alone: the same facts the
 * switch gave the trigger engine when the frame arrived (src/net/link_plan.ts `frameFacts`),
 * so that a frame filter picks the same frames from a trace as it did in the run.
 *
 * @example
 * ```ts
 * frameFactsOfRecord(record).protocol; // "tcp"
 * ```
 */
export function frameFactsOfRecord(record: FrameRecord): FrameFacts {
  const facts: FrameFacts = {
    index: record.index,
    time: record.time,
    from: record.from,
    to: record.to,
  };
  if (record.ethertype === ETHERTYPE.arp) facts.protocol = "arp";
  else if (record.proto !== undefined) {
    facts.protocol = PROTOCOL_NAMES.get(record.proto) ?? "ip";
    if (record.srcPort !== undefined) facts.srcPort = record.srcPort;
    if (record.dstPort !== undefined) facts.dstPort = record.dstPort;
    if (record.tcpFlags !== undefined) facts.tcpFlags = record.tcpFlags.split(",");
  }
  return facts;
}

/**
 * A frame in a few words, for a sweep's table: its link, protocol, ports and TCP flags.
 *
 * @example
 * ```ts
 * describeFramePoint(record); // "frame n1->n2 tcp 40000>2379 psh,ack"
 * ```
 */
export function describeFramePoint(record: FrameRecord): string {
  const facts = frameFactsOfRecord(record);
  const to = record.to.length > 0 ? record.to.join(",") : "nowhere";
  const ports = facts.srcPort !== undefined ? ` ${facts.srcPort}>${facts.dstPort}` : "";
  const flags = record.tcpFlags ? ` ${record.tcpFlags}` : "";
  return `frame ${record.from}->${to} ${facts.protocol ?? "ethernet"}${ports}${flags}`;
}
