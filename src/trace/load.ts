/**
 * A trace read whole, as replay, sweep, reports and benchmarks need it: the
 * header, the op records in file (completion) order and by arrival index, the
 * frame records (a cluster's), and the guests' result lines placed on the trace's
 * op clock.
 *
 * @module
 */

import { sha256File } from "../util/hash.ts";
import { describeEnd, TraceReader } from "./reader.ts";
import type { EventRecord, FrameRecord, HeaderRecord, OpRecord } from "./schema.ts";

/** A line from a guest's results channel, with where it stands among the ops. */
export interface GuestLine {
  /** The node that wrote it. */
  node: string;
  /** `run` or `check`. */
  phase: string;
  /** The first word (`ack`, `have`, `exit`, ...). */
  kind: string;
  /** The words after the kind. */
  args: readonly string[];
  /** Ops that had arrived when the line arrived (the trace's `at`). */
  at: number;
  /** The host's time when it arrived, in ms on the run's clock (the trace's `time`), when known. */
  time?: number;
  /** The whole line as the guest wrote it (spaces inside kept), when known. */
  text?: string;
}

/** A trace read whole. */
export interface LoadedTrace {
  /** The trace file. */
  path: string;
  /** The file's SHA-256. */
  sha256: string;
  /** Its header. */
  header: HeaderRecord;
  /** Op records in file (completion) order; with their data when the trace has it. */
  records: OpRecord[];
  /** The same, by arrival index. */
  ordered: OpRecord[];
  /**
   * Frame records, by arrival index (the order of the file), without their bytes (`data`):
   * the frames between a cluster's nodes, on the same clock as the ops.
   */
  frames: FrameRecord[];
  /** The guests' result lines, placed on the trace's op clock. */
  lines: GuestLine[];
  /** A warning when the trace was cut short. */
  warning: string | null;
}

/**
 * The ops of a trace by arrival index (the trace is in completion order).
 *
 * @example
 * ```ts
 * byIndex(trace.records)[0].index; // 0
 * ```
 */
export function byIndex(records: readonly OpRecord[]): OpRecord[] {
  return [...records].sort((a, b) => a.index - b.index);
}

/**
 * The guest line a `guest` event records.
 *
 * @example
 * ```ts
 * guestLineOf({ record: "event", event: "guest", at: 7, time: 1, node: "app", phase: "run", line: "ack 3" });
 * // { node: "app", phase: "run", kind: "ack", args: ["3"], at: 7, time: 1, text: "ack 3" }
 * ```
 */
export function guestLineOf(event: EventRecord): GuestLine {
  const text = String(event.line);
  const words = text.trim().split(/\s+/);
  return {
    node: String(event.node),
    phase: String(event.phase),
    kind: words[0],
    args: words.slice(1),
    at: event.at,
    time: event.time,
    text,
  };
}

/**
 * Reads a whole trace.
 *
 * @throws {TraceFormatError} when the file is not a trace.
 * @example
 * ```ts
 * const trace = await loadTrace("run.trace");
 * console.log(trace.ordered.length, trace.warning ?? "complete");
 * ```
 */
export async function loadTrace(path: string): Promise<LoadedTrace> {
  const reader = await TraceReader.open(path);
  const records: OpRecord[] = [];
  const lines: GuestLine[] = [];
  const frames: FrameRecord[] = [];
  for await (const record of reader.records()) {
    if (record.record === "op") records.push(record);
    else if (record.record === "frame") {
      // Points and reports need where a frame went, not its bytes.
      const { data: _, ...frame } = record;
      frames.push(frame);
    } else if (record.record === "event" && record.event === "guest") {
      lines.push(guestLineOf(record));
    }
  }
  return {
    path,
    sha256: await sha256File(path),
    header: reader.header,
    records,
    ordered: byIndex(records),
    frames,
    lines,
    warning: describeEnd(path, reader.end),
  };
}
