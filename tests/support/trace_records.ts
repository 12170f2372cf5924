/**
 * A trace file's records sorted by kind, for tests that look at what a real run recorded.
 *
 * @module
 */

import { TraceReader } from "../../src/trace/reader.ts";
import type { EventRecord, FrameRecord, OpRecord } from "../../src/trace/schema.ts";

/**
 * Reads every record of the trace at `path`: its ops, frames and events, each in file order.
 *
 * @example
 * ```ts
 * const { events } = await readTraceRecords("run.trace");
 * ```
 */
export async function readTraceRecords(path: string): Promise<{
  ops: OpRecord[];
  frames: FrameRecord[];
  events: EventRecord[];
}> {
  const reader = await TraceReader.open(path);
  const ops: OpRecord[] = [];
  const frames: FrameRecord[] = [];
  const events: EventRecord[] = [];
  try {
    for await (const record of reader.records()) {
      const kind = (record as { record: string }).record;
      if (kind === "op") ops.push(record as OpRecord);
      else if (kind === "frame") frames.push(record as unknown as FrameRecord);
      else if (kind === "event") events.push(record as EventRecord);
    }
  } finally {
    reader.close();
  }
  return { ops, frames, events };
}
