/**
 * The trace's records (schema version 3), as documented in docs/trace-format.md.
 * A trace is a plain sequence of msgpack values: one header, then op records in
 * completion order, frame records in arrival order and events, then one footer.
 * Keep this file and the document in step, and raise {@link TRACE_VERSION} on any
 * change a reader must know of; a new record kind is not one (readers skip kinds
 * they do not know). How a trace of an older version is read is in ./upgrade.ts.
 *
 * @module
 */

import type { OpType } from "../block/backend.ts";

/** The value of the header's `format` field. */
export const TRACE_FORMAT = "faultline-trace";
/**
 * The schema version this code writes, and the newest it reads. 2: the header names the
 * versions of its fault plan and scenario (`planVersion`, `scenarioVersion`). 3: a write
 * whose bytes are in `data` has no `hash` in the file; the reader computes it.
 */
export const TRACE_VERSION = 3;
/** The algorithm of op data hashes: XXH64, as 16 lowercase hex digits. */
export const DATA_HASH = "xxh64";

/** A disk of the run, in the header. */
export interface TraceDisk {
  /** The node (VM) the disk belongs to; `serve` uses the name given with `--node`. */
  node: string;
  /** The export name. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** The base image and its content hash. */
  base: { path: string; sha256: string };
}

/** The header's fields that the command making the trace provides. */
export interface HeaderFields {
  /** When recording started (ISO 8601). */
  createdAt: string;
  /** What wrote the trace. */
  tool: { name: "faultline"; version: string };
  /** What made the trace: `serve`, `record` or `replay`. */
  command: string;
  /** Written bytes are in the trace (`data` of write records); else only their hashes. */
  recordsData: boolean;
  /** The algorithm of op data hashes. */
  dataHash: typeof DATA_HASH;
  /** The seed of every random choice of the fault plan. */
  seed: number;
  /** The fault plan, as canonical fault specs. */
  faults: string[];
  /**
   * The version of the fault spec grammar of `faults` and of every other spec in the
   * header (`replay.faults`, the scenario's declared faults): src/fault/plan_version.ts.
   */
  planVersion: number;
  /** The version of the normalized scenario in `scenario`, present with it: src/scenario/schema.ts. */
  scenarioVersion?: number;
  /** Every disk of the run. */
  disks: TraceDisk[];
  /**
   * `record` and `replay`: the guests' clock, `{mode: "host"}` or `{mode: "icount", shift,
   * sleep, align}` (src/vm/guest_clock.ts); absent in traces recorded before it was kept,
   * whose guests ran on the host's clock. Each node's seed is in its `guests` entry.
   */
  clock?: Record<string, unknown>;
  /** Anything the command that made the trace adds (scenario, guest hashes, parent trace). */
  [extra: string]: unknown;
}

/** The first value of every trace. */
export interface HeaderRecord extends HeaderFields {
  /** What the record is. */
  record: "header";
  /** Identifies the file. */
  format: typeof TRACE_FORMAT;
  /**
   * The schema version the file was written with. The reader hands every header and record
   * over in the current version's shape (./upgrade.ts), whatever this says.
   */
  version: number;
}

/** What happened to an op: `ok`, or the errno it failed with. */
export type OpResult = "ok" | string;

/** One block operation, written when it completed. */
export interface OpRecord {
  /** What the record is. */
  record: "op";
  /** Arrival position in the whole run, from 0. */
  index: number;
  /** Ops that had arrived when this one completed: a write W completed before flush F arrived iff `W.done <= F.index`. */
  done: number;
  /** The node (VM) of the disk. */
  node: string;
  /** The disk's name in its node. */
  disk: string;
  /** What the op did. */
  op: OpType;
  /** Where it starts, in bytes. */
  offset: number;
  /** How many bytes it covers. */
  length: number;
  /** Present and true when the op carried FUA. */
  fua?: true;
  /** Present and true on write-zeroes with NO_HOLE. */
  noHole?: true;
  /** Milliseconds since the trace started, at arrival and at completion. */
  start: number;
  /** Milliseconds since the trace started, at completion. */
  end: number;
  /** `ok`, or the errno it failed with. */
  result: OpResult;
  /** The fault injected into this op. */
  fault?: OpFault;
  /**
   * XXH64 of the bytes stored (writes only; shorter than `length` for a torn write). From
   * version 3 the file holds it only when it holds no `data`: the reader computes it then,
   * and the recorder leaves it out, since hashing every recorded byte cost the recording
   * more than anything but the write itself (bench/README.md).
   */
  hash?: string;
  /** The bytes stored (writes only, unless recorded with --no-data). */
  data?: Uint8Array;
  /** The phase of the run (`run`, `check`), when the command has phases. */
  phase?: string;
  /** The step of its node's workload (`report step NAME`) the op came in, when it named one. */
  step?: string;
}

/** A fault injected into an op: its name and rule, and what it did to the op's bytes. */
export interface OpFault {
  /** The fault's name as its spec writes it (`eio`, `delay`, `lost-write`, ...). */
  kind: string;
  /** The rule's canonical spec, or `live`. */
  rule: string;
  /** What else the fault says of itself (a delay's `durationMs`, a torn write's `keepBytes`). */
  detail?: Record<string, unknown>;
  /** Bytes of a write that reached the store, when fewer than its length (0: none). */
  stored?: number;
  /** A flush or FUA write that made nothing durable (the disk lied). */
  undurable?: true;
}

/** Something that happened besides an op: an injected fault, a control command, a guest line. */
export interface EventRecord {
  /** What the record is. */
  record: "event";
  /** The event's kind: `fault`, `control`, `connection`, `phase`, `guest`, `qmp`, ... */
  event: string;
  /** Ops that had arrived when it happened (the same counter as an op's `done`). */
  at: number;
  /** Milliseconds since the trace started. */
  time: number;
  /** The event's own fields. */
  [field: string]: unknown;
}

/** A fault that hit a frame, on its way to some of its destinations. */
export interface FrameFault {
  /** The fault's name as the spec writes it (`partition`, `drop`, `delay`, ...). */
  kind: string;
  /** The rule's canonical spec, or `live`. */
  rule: string;
  /** The destinations it hit. */
  to: string[];
  /** What it did beyond its name (`delayMs`, `bytesPerSecond`, `holdMs`). */
  detail?: Record<string, unknown>;
}

/** One Ethernet frame that a node sent into the switch, written when it arrived. */
export interface FrameRecord {
  /** What the record is. */
  record: "frame";
  /** Arrival position on the run's one clock, shared with ops, from 0. */
  index: number;
  /** Milliseconds since the trace started, at arrival. */
  time: number;
  /** The node that sent it. */
  from: string;
  /** The nodes the switch delivers it to by its destination MAC (before faults). */
  to: string[];
  /** Present when the destination was a group address (broadcast, multicast): every other node. */
  broadcast?: true;
  /** Present when the destination was a unicast MAC no other node owns: delivered nowhere. */
  unknown?: true;
  /** Bytes of the frame. */
  length: number;
  /** The destination MAC address. */
  dst: string;
  /** The source MAC address. */
  src: string;
  /** The EtherType, after any VLAN tags. */
  ethertype: number;
  /** IPv4: the protocol number. */
  proto?: number;
  /** IPv4: the source address. */
  srcIp?: string;
  /** IPv4: the destination address. */
  dstIp?: string;
  /** TCP or UDP: the source port. */
  srcPort?: number;
  /** TCP or UDP: the destination port. */
  dstPort?: number;
  /** TCP: the flags set, as `syn,ack`. */
  tcpFlags?: string;
  /** XXH64 of the frame, 16 hex digits. */
  hash: string;
  /** The frame (absent with `--no-data`). */
  data?: Uint8Array;
  /** Destinations a fault dropped it for. */
  dropped?: string[];
  /** Destinations whose port had no connection (the node was down): lost. */
  absent?: string[];
  /** The faults that hit it. */
  faults?: FrameFault[];
  /** The phase of the run, when the command has phases. */
  phase?: string;
}

/** The last value of a complete trace. */
export interface FooterRecord {
  /** What the record is. */
  record: "footer";
  /** Ops recorded. */
  ops: number;
  /** Milliseconds from the header to the footer. */
  duration: number;
  /** When recording ended (ISO 8601). */
  endedAt: string;
  /** Why recording ended (`signal SIGINT`, `finished`, ...). */
  reason?: string;
  /** What the command adds (verdict, statistics). */
  [extra: string]: unknown;
}

/** Any value after the header. */
export type TraceRecord = OpRecord | FrameRecord | EventRecord | FooterRecord;
