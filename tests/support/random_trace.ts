/**
 * Random traces that keep the trace's invariants: op records in completion
 * order, `index` the arrival order, `done` the number of ops that had arrived
 * when the op completed (so `done` never decreases along the file and
 * `done > index`), any completion order among the ops in flight. Writes,
 * flushes, FUA, trims, write-zeroes and reads on a few disks, some failed,
 * lost or torn. For model tests of what reads traces.
 *
 * @module
 */

import type { OpType } from "../../src/block/backend.ts";
import type { OpRecord } from "../../src/trace/schema.ts";
import { opRecord } from "./ops.ts";
import { type Prng, prng } from "./random.ts";

/** Options of {@link randomTrace}. */
export interface RandomTraceOptions {
  /** Ops of the run phase. */
  ops: number;
  /** The disks ops go to (by default one: `app/data`). */
  disks?: readonly { node: string; disk: string }[];
  /** At most this many ops in flight at once (4 by default; 1 completes each op before the next arrives). */
  maxInFlight?: number;
  /** Ops of a check phase after the run (none by default). */
  checkOps?: number;
  /** Offsets fall in this many 512-byte sectors (16 by default: writes overlap often). */
  sectors?: number;
}

const TYPES: readonly [OpType, number][] = [
  ["write", 45],
  ["flush", 16],
  ["read", 15],
  ["trim", 8],
  ["write-zeroes", 8],
  ["cache", 2],
];

function pickType(random: Prng): OpType {
  let draw = random.below(TYPES.reduce((sum, [, weight]) => sum + weight, 0));
  for (const [type, weight] of TYPES) {
    if (draw < weight) return type;
    draw -= weight;
  }
  return "write";
}

/** An op as it arrives; `done` is set when it completes. */
function arriving(
  random: Prng,
  index: number,
  where: { node: string; disk: string },
  sectors: number,
  phase: string,
): OpRecord {
  const op = pickType(random);
  if (op === "flush") return opRecord({ index, ...where, op, offset: 0, length: 0, phase });
  const offset = random.below(sectors) * 512;
  // Mostly whole sectors, sometimes not (a torn write keeps whole sectors of it).
  const length = random.chance(0.8) ? (1 + random.below(8)) * 512 : 1 + random.below(4000);
  const record = opRecord({ index, ...where, op, offset, length, phase });
  if (op === "write" || op === "write-zeroes") {
    if (random.chance(0.15)) record.fua = true;
  }
  if (op === "write") record.data = random.bytes(length);
  const fate = random.float();
  if (fate < 0.06) record.result = "eio";
  else if (op === "write" && fate < 0.1) {
    record.fault = { kind: "lost-write", rule: "lost-write", stored: 0 };
  } else if (op === "write" && fate < 0.14 && length > 512) {
    const keepBytes = random.below(Math.ceil(length / 512)) * 512;
    record.fault = {
      kind: "torn-write",
      rule: "torn-write",
      detail: { keepBytes },
      stored: keepBytes,
    };
    record.data = record.data!.subarray(0, keepBytes);
  }
  return record;
}

/**
 * A random trace's op records, in completion order.
 *
 * @example
 * ```ts
 * const records = randomTrace(seed, { ops: 60, disks: [{ node: "a", disk: "x" }, { node: "a", disk: "y" }] });
 * ```
 */
export function randomTrace(seed: number, options: RandomTraceOptions): OpRecord[] {
  const random = prng(seed);
  const disks = options.disks ?? [{ node: "app", disk: "data" }];
  const maxInFlight = options.maxInFlight ?? 4;
  const sectors = options.sectors ?? 16;
  const records: OpRecord[] = [];
  const inFlight: OpRecord[] = [];
  let arrived = 0;
  let clock = 0;
  while (arrived < options.ops || inFlight.length > 0) {
    clock++;
    const mayArrive = arrived < options.ops && inFlight.length < maxInFlight;
    if (mayArrive && (inFlight.length === 0 || random.chance(0.5))) {
      const op = arriving(random, arrived++, random.pick(disks), sectors, "run");
      op.start = clock;
      inFlight.push(op);
    } else {
      const [op] = inFlight.splice(random.below(inFlight.length), 1);
      op.done = arrived;
      op.end = clock;
      records.push(op);
    }
  }
  for (let i = 0; i < (options.checkOps ?? 0); i++) {
    const op = arriving(random, arrived++, random.pick(disks), sectors, "check");
    op.start = ++clock;
    op.done = arrived;
    op.end = ++clock;
    records.push(op);
  }
  return records;
}
