/**
 * A history's text, in either format, read into ops: the one entry point for both.
 *
 * @module
 */

import type { HistoryOp } from "./op.ts";
import { parseEdnHistory } from "./parse_edn.ts";
import { parseJsonHistory } from "./parse_json.ts";

/** The formats a history can be in. */
export const HISTORY_FORMATS = ["edn", "json"] as const;

/** `edn`: Jepsen's op maps; `json`: JSON lines with jepsen.history's field names. */
export type HistoryFormat = typeof HISTORY_FORMATS[number];

/** Options of {@link parseHistory}. */
export interface ParseHistoryOptions {
  /** The file the text came from: named in errors, and its extension picks the format. */
  file?: string;
  /** The format; by default `.edn` is EDN, `.json` and `.jsonl` JSON lines, else the text decides. */
  format?: HistoryFormat;
}

/**
 * Reads a history in Jepsen's EDN form or as JSON lines into its ops, in the file's order.
 * A line that is not an op map throws a {@link HistoryError} naming the file and line.
 *
 * @example
 * ```ts
 * const ops = parseHistory(
 *   '{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n',
 *   { file: "register.edn" },
 * );
 * ops.map((op) => op.type); // ["invoke", "ok"]
 * ```
 */
export function parseHistory(text: string, options: ParseHistoryOptions = {}): HistoryOp[] {
  const format = options.format ?? formatOf(text, options.file);
  return format === "json" ? parseJsonHistory(text, options) : parseEdnHistory(text, options);
}

/** The format a file's name or its first op says; EDN unless the text starts as JSON does. */
function formatOf(text: string, file: string | undefined): HistoryFormat {
  if (file && /\.edn$/i.test(file)) return "edn";
  if (file && /\.jsonl?$/i.test(file)) return "json";
  return /^\s*\{\s*"/.test(text) ? "json" : "edn";
}
