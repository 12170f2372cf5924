/**
 * Traces of older versions, read in the current version's shape: the one place that knows
 * what changed between versions. The reader takes the header and every record through
 * here, so the rest of faultline sees the current schema only, and a trace of a version
 * this code does not know is refused, never guessed at.
 *
 * Version 2 to 3: a write that keeps its bytes has no `hash` in the file; every version's
 * records come out of here with it (computed from `data` where the file has none).
 *
 * Version 1 to 2: the header gained `planVersion` and `scenarioVersion`; a version 1
 * trace's fault specs and scenario are version 1 of each (the fault grammar and the
 * normalized scenario as they were). An op's fault says what it did to the op's bytes
 * (`stored`, `undurable`), where version 1 said it by the fault's name alone.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import { TraceFormatError } from "./errors.ts";
import { dataHash } from "./hash.ts";
import {
  type HeaderRecord,
  type OpFault,
  type OpRecord,
  TRACE_VERSION,
  type TraceRecord,
} from "./schema.ts";

/** The oldest trace version this code reads. */
export const OLDEST_TRACE_VERSION = 1;

/** What a version 1 trace's specs and scenario are, having no versions of their own. */
const VERSION_1_SCHEMAS = { planVersion: 1, scenarioVersion: 1 } as const;

/**
 * A trace's header in the current shape, from the header as the file holds it (its
 * `format` already checked); `version` stays the file's.
 *
 * @throws {TraceFormatError} in one line naming both versions, for a version this code does
 *   not read; naming the field, for a header that lacks one its version carries.
 * @example
 * ```ts
 * upgradeHeader({ record: "header", format: "faultline-trace", version: 1, faults: [], ... }, "old.trace");
 * // { ..., version: 1, planVersion: 1 }
 * ```
 */
export function upgradeHeader(header: Record<string, unknown>, path: string): HeaderRecord {
  const version = header.version;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    throw new TraceFormatError(
      `${path}: its header has no trace version (found ${JSON.stringify(version)})`,
    );
  }
  if (version > TRACE_VERSION) {
    throw new TraceFormatError(
      `${path} is a trace of version ${version}; this faultline (${VERSION}) reads versions ${OLDEST_TRACE_VERSION} to ${TRACE_VERSION}: read it with a newer faultline`,
    );
  }
  if (version === 1) {
    return {
      ...header,
      planVersion: VERSION_1_SCHEMAS.planVersion,
      ...(header.scenario === undefined
        ? {}
        : { scenarioVersion: VERSION_1_SCHEMAS.scenarioVersion }),
    } as HeaderRecord;
  }
  if (typeof header.planVersion !== "number") {
    throw new TraceFormatError(
      `${path}: its header (trace version ${version}) has no planVersion, which every trace of version 2 or later carries`,
    );
  }
  if (header.scenario !== undefined && typeof header.scenarioVersion !== "number") {
    throw new TraceFormatError(
      `${path}: its header (trace version ${version}) has a scenario without its scenarioVersion`,
    );
  }
  return header as unknown as HeaderRecord;
}

/**
 * A record of a trace of version `from`, in the current shape.
 *
 * @example
 * ```ts
 * const current = upgradeRecord(record, header.version); // what TraceReader.records() yields
 * ```
 */
export function upgradeRecord(record: TraceRecord, from: number): TraceRecord {
  if (record.record !== "op") return record;
  if (record.data !== undefined && record.hash === undefined) record.hash = dataHash(record.data);
  if (from !== 1 || !record.fault) return record;
  const meaning = VERSION_1_FAULTS[record.fault.kind];
  return meaning ? { ...record, fault: { ...record.fault, ...meaning(record.fault) } } : record;
}

/**
 * What a version 1 op's fault did to its bytes, by the fault's name (the only faults of
 * version 1 that changed what is stored or durable).
 */
const VERSION_1_FAULTS: Readonly<
  Record<string, (fault: NonNullable<OpRecord["fault"]>) => Partial<OpFault>>
> = {
  "lost-write": () => ({ stored: 0 }),
  "torn-write": (fault) =>
    typeof fault.detail?.keepBytes === "number" ? { stored: fault.detail.keepBytes } : {},
  "lie-flush": () => ({ undurable: true }),
};
