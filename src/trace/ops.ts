/**
 * Facts derived from op records, shared by everything that reads them.
 *
 * @module
 */

import type { CompletedOp } from "../block/durability.ts";
import type { OpRecord } from "./schema.ts";

/**
 * How many bytes of a successful write-like op reached the store: all of them, or what
 * the fault injected into it says (none for a lost write, a prefix for a torn one).
 *
 * @example
 * ```ts
 * storedLength({ ...record, fault: { kind: "lost-write", rule: "lost-write@3", stored: 0 } }); // 0
 * ```
 */
export function storedLength(record: OpRecord): number {
  if (record.result !== "ok") return 0;
  return record.fault?.stored ?? record.length;
}

/**
 * The key of a disk across a run: its node and its name.
 *
 * @example
 * ```ts
 * diskKey("db", "vda"); // "db/vda"
 * ```
 */
export function diskKey(node: string, disk: string): string {
  return `${node}/${disk}`;
}

/**
 * Whether the disk lied about this op's durability: a flush it acknowledged without
 * flushing, or a FUA write it did not make durable (the fault `lie-flush`).
 *
 * @example
 * ```ts
 * liedAbout({ ...flush, fault: { kind: "lie-flush", rule: "lie-flush", undurable: true } }); // true
 * ```
 */
export function liedAbout(record: Pick<OpRecord, "fault">): boolean {
  return record.fault?.undurable === true;
}

/**
 * The facts of an op record that the durability model needs (disks keyed by {@link diskKey}).
 * A flush the disk lied about makes nothing durable, and a FUA write it lied about is volatile.
 *
 * @example
 * ```ts
 * model.complete(completedOp(record));
 * ```
 */
export function completedOp(record: OpRecord): CompletedOp {
  const stored = storedLength(record);
  return {
    index: record.index,
    done: record.done,
    disk: diskKey(record.node, record.disk),
    type: record.op,
    offset: record.offset,
    length: stored,
    fua: record.fua === true && !liedAbout(record),
    ok: record.result === "ok",
    stored: record.op === "flush" ? !liedAbout(record) : stored > 0,
  };
}
