/**
 * Op builders: a block op as the layers see it and an op record as the trace
 * holds it, with every field a test does not name set to a plain default.
 *
 * @module
 */

import type { BlockOp } from "../../src/block/backend.ts";
import type { OpRecord } from "../../src/trace/schema.ts";

/**
 * A block op: a read of nothing at offset 0 of `vda`, unless told otherwise;
 * `length` defaults to the data's.
 *
 * @example
 * ```ts
 * await store.execute(blockOp({ type: "write", offset: 4096, data: new Uint8Array(512) }));
 * ```
 */
export function blockOp(fields: Partial<BlockOp> = {}): BlockOp {
  return {
    index: 0,
    disk: "vda",
    type: "read",
    offset: 0,
    length: fields.data?.length ?? 0,
    fua: false,
    noHole: false,
    arrivedAt: 0,
    ...fields,
  };
}

/**
 * An op record: a successful write of 512 bytes to `app/data` that completed
 * before the next op arrived (`done = index + 1`), unless told otherwise; a
 * flush's length defaults to 0, a write's to its data's.
 *
 * @example
 * ```ts
 * opRecord({ index: 3, op: "flush" }); // { record: "op", index: 3, done: 4, op: "flush", length: 0, ... }
 * ```
 */
export function opRecord(fields: Partial<OpRecord> = {}): OpRecord {
  const index = fields.index ?? 0;
  const op = fields.op ?? "write";
  return {
    record: "op",
    index,
    done: index + 1,
    node: "app",
    disk: "data",
    op,
    offset: 0,
    length: op === "flush" ? 0 : fields.data?.length ?? 512,
    start: index,
    end: index + 0.5,
    result: "ok",
    ...fields,
  };
}
