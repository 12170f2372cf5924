/**
 * A history in Jepsen's EDN form: op maps, one a line as Jepsen's `history.edn` has them,
 * or one collection of op maps (as Knossos's test data has them). Pure.
 *
 * @module
 */

import { ednForms } from "./edn.ts";
import { HistoryError } from "./errors.ts";
import { type HistoryOp, opFromMap } from "./op.ts";
import { formatValue, type Value, ValueMap } from "./value.ts";

/** What a line must be, said in every error about one that is not. */
export const OP_MAP_SHAPE = "an op map such as {:process 0, :type :invoke, :f :read, :value nil}";

/**
 * Reads the ops of an EDN history.
 *
 * @example
 * ```ts
 * parseEdnHistory("{:process 0, :type :invoke, :f :write, :value 1}\n").length; // 1
 * ```
 */
export function parseEdnHistory(text: string, options: { file?: string } = {}): HistoryOp[] {
  const ops: HistoryOp[] = [];
  const add = (value: Value, line: number) => {
    if (!(value instanceof ValueMap)) {
      throw new HistoryError(`expected ${OP_MAP_SHAPE}, found ${preview(value)}`, {
        file: options.file,
        line,
      });
    }
    ops.push(opFromMap(value, { file: options.file, line, position: ops.length }));
  };
  for (const form of ednForms(text, options)) {
    if (Array.isArray(form.value)) {
      for (const item of form.value as Value[]) {
        add(item, item instanceof ValueMap ? item.line : form.line);
      }
    } else add(form.value, form.line);
  }
  return ops;
}

function preview(value: Value): string {
  const text = formatValue(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
