/**
 * A client op as a guest reports it on the results channel: `invoke PROCESS F [KEY] [VALUE]`
 * before the client sends its request, `ok|fail|info PROCESS F [KEY] [VALUE]` once the answer
 * came (or the client gave up: `info`). What follows F is read as EDN: no form, the value
 * is nil; one form, the value; two forms, the key and the value. A value that holds spaces is
 * one EDN form (`[1 2]`, `"a b"`), so the line reads one way only; `nil` says "no value" where
 * a key is given (`invoke 0 read x nil`). Pure: the stamps (the op clock, the host's time)
 * come from whoever received the line.
 *
 * @module
 */

import { readEdn } from "./edn.ts";
import { HistoryError } from "./errors.ts";
import { HISTORY_OP_TYPES, type HistoryOp, type HistoryOpType } from "./op.ts";
import type { Value } from "./value.ts";

/** The kinds of result line that are client ops: `invoke`, `ok`, `fail`, `info`. */
export const REPORT_OP_KINDS: ReadonlySet<string> = new Set(HISTORY_OP_TYPES);

/** Where a reported op was heard, and when: its place in the history and the host's stamp. */
export interface ReportPlace {
  /** Its place in the history, from 0. */
  index: number;
  /** The host's time when the line arrived, in nanoseconds from the run's start (Jepsen's `:time`). */
  time: number;
  /** Where the line came from, for messages: `node e1, run phase, line 12`. */
  where: string;
}

const PROCESS = /^(0|[1-9]\d{0,8})$/;
const FUNCTION = /^[a-z][a-z0-9_-]{0,39}$/i;

/**
 * The op of one result line, or null when its kind is not a client op's. The line is the
 * whole text (`invoke 0 cas x [1 2]`); bad input throws a {@link HistoryError} that names
 * where the line came from and what was expected.
 *
 * @example
 * ```ts
 * reportedOp("invoke 2 cas x [1 2]", { index: 5, time: 8_200_000_000, where: "node e1" });
 * // { index: 5, type: "invoke", process: 2, f: "cas", key: EdnSymbol x, value: [1, 2], time: 8200000000, line: 6 }
 * reportedOp("ack 3", { index: 0, time: 0, where: "node e1" }); // null
 * ```
 */
export function reportedOp(line: string, place: ReportPlace): HistoryOp | null {
  const text = line.trim();
  const kind = text.split(/\s/, 1)[0];
  if (!REPORT_OP_KINDS.has(kind)) return null;
  const fail = (message: string): never => {
    throw new HistoryError(`${place.where}: "${shorten(text)}": ${message}`);
  };
  const [, process, f, rest] = /^\S+\s*(\S*)\s*(\S*)\s*([\s\S]*)$/.exec(text)!;
  if (!PROCESS.test(process)) {
    fail(`expected ${kind} PROCESS F [KEY] [VALUE], PROCESS a client's number, found "${process}"`);
  }
  if (!FUNCTION.test(f)) fail(`expected the op's function after the process, found "${f}"`);
  const forms = readForms(rest, fail);
  if (forms.length > 2) {
    fail(
      `expected at most a key and a value after "${f}", found ${forms.length} forms (a value with spaces is one EDN form: [1 2], "a b")`,
    );
  }
  return {
    index: place.index,
    type: kind as HistoryOpType,
    process: Number(process),
    f,
    key: forms.length === 2 ? forms[0] : undefined,
    value: forms.length === 0 ? null : forms[forms.length - 1],
    time: place.time,
    error: undefined,
    line: place.index + 1,
  };
}

function readForms(text: string, fail: (message: string) => never): Value[] {
  try {
    return readEdn(text).map((form) => form.value);
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    return fail(`the key and value are not EDN: ${error.message.replace(/^line \d+: /, "")}`);
  }
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
