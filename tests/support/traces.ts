/**
 * Fake traces: a header's fields and a trace read whole (a `ParentTrace`)
 * built from op records, for code that reads traces without a recording.
 *
 * @module
 */

import type { ParentTrace } from "../../src/replay/replay.ts";
import { PLAN_VERSION } from "../../src/fault/plan_version.ts";
import { type Scenario, SCENARIO_VERSION } from "../../src/scenario/schema.ts";
import { byIndex, type GuestLine } from "../../src/trace/load.ts";
import {
  DATA_HASH,
  type FrameRecord,
  type HeaderFields,
  type OpRecord,
  TRACE_FORMAT,
  TRACE_VERSION,
} from "../../src/trace/schema.ts";

/**
 * The fields of a trace header, with plain values unless told otherwise.
 *
 * @example
 * ```ts
 * const writer = await TraceWriter.create(path, traceHeader({ command: "serve" }));
 * ```
 */
export function traceHeader(fields: Partial<HeaderFields> = {}): HeaderFields {
  return {
    createdAt: "2026-01-01T00:00:00.000Z",
    tool: { name: "faultline", version: "0.1.0" },
    command: "record",
    recordsData: true,
    dataHash: DATA_HASH,
    seed: 1,
    faults: [],
    planVersion: PLAN_VERSION,
    disks: [],
    ...fields,
  };
}

/** What {@link fakeParentTrace} builds a trace from. */
export interface FakeTrace {
  /** Op records in completion order (the order of a trace file). */
  records: OpRecord[];
  path?: string;
  /** The scenario's name (the rest of the scenario is left out). */
  name?: string;
  /** More header fields (disks, seed, recordsData, guests, ...). */
  header?: Partial<HeaderFields>;
  lines?: GuestLine[];
  /** Frame records, by arrival index. */
  frames?: FrameRecord[];
}

/**
 * A trace read whole, as `readParent` returns it, from op records.
 *
 * @example
 * ```ts
 * const parent = fakeParentTrace({ records: [opRecord({ index: 0 }), opRecord({ index: 1, op: "flush" })] });
 * parent.ordered.length; // 2
 * ```
 */
export function fakeParentTrace(trace: FakeTrace): ParentTrace {
  const name = trace.name ?? "fake";
  return {
    path: trace.path ?? `/traces/${name}.trace`,
    sha256: "0".repeat(64),
    header: {
      record: "header",
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      ...traceHeader({ scenario: { name }, scenarioVersion: SCENARIO_VERSION, ...trace.header }),
    },
    scenario: { name, nodes: [] } as unknown as Scenario,
    records: trace.records,
    ordered: byIndex(trace.records),
    frames: trace.frames ?? [],
    lines: trace.lines ?? [],
    warning: null,
  };
}
