/**
 * A history as JSON lines: one op a line, an object with jepsen.history's field names
 * (`index`, `type`, `process`, `f`, `key`, `value`, `time`, `error`). Pure.
 *
 * @module
 */

import { HistoryError } from "./errors.ts";
import { type HistoryOp, opFromMap } from "./op.ts";
import { type Value, ValueMap } from "./value.ts";

const SHAPE = 'a JSON object such as {"process": 0, "type": "invoke", "f": "read", "value": null}';

/**
 * Reads the ops of a JSON-lines history; blank lines are skipped.
 *
 * @example
 * ```ts
 * parseJsonHistory('{"process": 0, "type": "invoke", "f": "read", "value": null}\n')[0].f; // "read"
 * ```
 */
export function parseJsonHistory(text: string, options: { file?: string } = {}): HistoryOp[] {
  const ops: HistoryOp[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const place = { file: options.file, line: i + 1 };
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new HistoryError(`expected ${SHAPE}: ${(error as Error).message}`, place);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new HistoryError(`expected ${SHAPE}, found ${line.slice(0, 60)}`, place);
    }
    const map = valueOf(parsed, i + 1) as ValueMap;
    ops.push(opFromMap(map, { ...place, position: ops.length }));
  }
  return ops;
}

/** A parsed JSON value as a history value: objects become maps with string keys. */
function valueOf(json: unknown, line: number): Value {
  if (Array.isArray(json)) return json.map((item) => valueOf(item, line));
  if (typeof json === "object" && json !== null) {
    return new ValueMap(Object.entries(json).flatMap(([k, v]) => [k, valueOf(v, line)]), line);
  }
  return json as Value;
}
