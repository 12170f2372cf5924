/**
 * One op of a history, as jepsen.history has it: an invocation or a completion (`ok`,
 * `fail`, `info`) by one process, with its function, its value and optionally its key,
 * time, index and error. Both input formats (EDN, JSON lines) read each line into an op
 * map, and `opFromMap` checks that map once, here.
 *
 * @module
 */

import { HistoryError } from "./errors.ts";
import { formatValue, nameOf, type Value, type ValueMap } from "./value.ts";

/** What an op is: an invocation, or how it completed. */
export const HISTORY_OP_TYPES = ["invoke", "ok", "fail", "info"] as const;

/**
 * `invoke`: a process began the op; `ok`: it took effect; `fail`: it did not; `info`:
 * nobody knows (it may take effect at any time after its invocation, or never).
 */
export type HistoryOpType = typeof HISTORY_OP_TYPES[number];

/** One op of a history (one line of the file). */
export interface HistoryOp {
  /** Its position in the history, from 0: `:index` when given, else its place in the file. */
  index: number;
  /** What it is: `invoke`, `ok`, `fail` or `info`. */
  type: HistoryOpType;
  /** Who did it: a client's number, or a name such as `nemesis` for ops that are not a client's. */
  process: number | string;
  /** The function: `read`, `write`, `cas`, `put`, `enqueue`, ... */
  f: string;
  /** The key, when the op names one with `:key`. */
  key?: Value;
  /** The value: an invocation's argument, a completion's result (nil when absent). */
  value: Value;
  /** `:time`, when given (Jepsen's: nanoseconds since the test began). */
  time?: number;
  /** `:error`, when given. */
  error?: Value;
  /** The line of the file it was read from, from 1 (0 when it was not read from text). */
  line: number;
}

/** Where an op map was read: the file, its line and its place among the file's ops. */
export interface OpPlace {
  file?: string;
  line: number;
  /** Its place among the history's ops, from 0: the index when the map gives none. */
  position: number;
}

/**
 * Checks one op map (`{:process 0, :type :invoke, :f :read, :value nil}` or its JSON) and
 * returns the op; what is missing or of the wrong kind is named with the file and line.
 *
 * @example
 * ```ts
 * opFromMap(readEdn("{:process 0, :type :invoke, :f :read}")[0].value as ValueMap, { line: 1, position: 0 });
 * // { index: 0, type: "invoke", process: 0, f: "read", value: null, line: 1 }
 * ```
 */
export function opFromMap(map: ValueMap, place: OpPlace): HistoryOp {
  const fail = (message: string): never => {
    throw new HistoryError(message, { file: place.file, line: place.line });
  };
  const type = nameOf(map.get("type"));
  if (type === null || !(HISTORY_OP_TYPES as readonly string[]).includes(type)) {
    fail(`expected :type :invoke, :ok, :fail or :info, found ${shown(map.get("type"))}`);
  }
  const processValue = map.get("process");
  const process = typeof processValue === "number" && Number.isSafeInteger(processValue)
    ? processValue
    : nameOf(processValue);
  if (process === null) {
    fail(`expected :process, a client's number or a name, found ${shown(processValue)}`);
  }
  const f = nameOf(map.get("f"));
  if (f === null) fail(`expected :f, the op's function as a keyword, found ${shown(map.get("f"))}`);
  const op: HistoryOp = {
    index: integerField(map, "index", fail) ?? place.position,
    type: type as HistoryOpType,
    process: process!,
    f: f!,
    value: map.get("value") ?? null,
    line: place.line,
  };
  const key = map.get("key");
  if (key !== undefined) op.key = key;
  const time = map.get("time");
  if (time !== undefined && time !== null) {
    if (typeof time !== "number") fail(`expected :time, a number, found ${shown(time)}`);
    op.time = time as number;
  }
  const error = map.get("error");
  if (error !== undefined) op.error = error;
  return op;
}

function integerField(
  map: ValueMap,
  name: string,
  fail: (message: string) => never,
): number | undefined {
  const value = map.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(`expected :${name}, a whole number, found ${shown(value)}`);
  }
  return value as number;
}

function shown(value: Value | undefined): string {
  if (value === undefined) return "nothing";
  const text = formatValue(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
