/**
 * One op of a history, as jepsen.history has it: an invocation or a completion (`ok`,
 * `fail`, `info`) by one process, with its function, its value and optionally its key,
 * time, index and error. Both input formats (EDN, JSON lines) read each line into an op
 * map, and `opFromMap` checks that map once, here.
 *
 * @module
 */

import { HistoryError } from "./errors.ts";
import { formatValue, Keyword, nameOf, type Value, type ValueMap } from "./value.ts";

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
  const fields = fieldsOf(map);
  const fail = (message: string): never => {
    throw new HistoryError(message, { file: place.file, line: place.line });
  };
  const type = nameOf(fields.type);
  if (type === null || !OP_TYPE_SET.has(type)) {
    fail(`expected :type :invoke, :ok, :fail or :info, found ${shown(fields.type)}`);
  }
  const processValue = fields.process;
  const process = typeof processValue === "number" && Number.isSafeInteger(processValue)
    ? processValue
    : nameOf(processValue);
  if (process === null) {
    fail(`expected :process, a client's number or a name, found ${shown(processValue)}`);
  }
  const f = nameOf(fields.f);
  if (f === null) fail(`expected :f, the op's function as a keyword, found ${shown(fields.f)}`);
  const time = fields.time ?? undefined;
  if (time !== undefined && typeof time !== "number") {
    fail(`expected :time, a number, found ${shown(time)}`);
  }
  const index = fields.index ?? undefined;
  if (
    index !== undefined && (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0)
  ) {
    fail(`expected :index, a whole number, found ${shown(index)}`);
  }
  // Every op has every field (undefined when absent): one shape, which V8 handles fastest.
  return {
    index: (index as number | undefined) ?? place.position,
    type: type as HistoryOpType,
    process: process!,
    f: f!,
    key: fields.key,
    value: fields.value ?? null,
    time: time as number | undefined,
    error: fields.error,
    line: place.line,
  };
}

const OP_TYPE_SET: ReadonlySet<string> = new Set(HISTORY_OP_TYPES);

/** The fields of an op map that an op reads. */
interface OpFields {
  type?: Value;
  process?: Value;
  f?: Value;
  key?: Value;
  value?: Value;
  time?: Value;
  index?: Value;
  error?: Value;
}

/** The names of the fields an op reads. */
const FIELD_NAMES: ReadonlySet<string> = new Set([
  "type",
  "process",
  "f",
  "key",
  "value",
  "time",
  "index",
  "error",
]);

/** The op's fields, in one pass over the map (a history has a map a line). */
function fieldsOf(map: ValueMap): OpFields {
  const fields: OpFields = {};
  const items = map.items;
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = items[i];
    const name = key instanceof Keyword ? key.name : key;
    if (typeof name === "string" && FIELD_NAMES.has(name)) {
      fields[name as keyof OpFields] = items[i + 1];
    }
  }
  return fields;
}

function shown(value: Value | undefined): string {
  if (value === undefined) return "nothing";
  const text = formatValue(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
