/**
 * A history's ops paired: each invocation with its process's next completion, as
 * Jepsen pairs them. A `fail` did not happen and is left out; an `info`, or an invocation
 * that never completed, is indeterminate: it may take effect at any time after its
 * invocation, or never. Ops that are not a client's (a process named `nemesis`) are left
 * out. Keys come from `:key`, or from jepsen.independent's `[key value]` tuples. Pure.
 *
 * @module
 */

import { HistoryError } from "./errors.ts";
import type { HistoryOp } from "./op.ts";
import { formatValue, type Value } from "./value.ts";

/** One op from its invocation to its completion. */
export interface PairedOp {
  /** Its place among the paired ops, from 0, in invocation order. */
  id: number;
  /** The client that did it. */
  process: number;
  /** Its function: `read`, `write`, `cas`, ... */
  f: string;
  /** Its key, when the history has keys. */
  key?: Value;
  /** The invocation's value, its key taken out: what a write writes, a cas's `[from to]`. */
  value: Value;
  /** An `ok` completion's value, its key taken out: what a read read (null when not `ok`). */
  output: Value;
  /** `ok`: it took effect; `info`: indeterminate. */
  status: "ok" | "info";
  /** Its invocation. */
  invoke: HistoryOp;
  /** Its completion; null when it never came. */
  complete: HistoryOp | null;
  /** The invocation's place in the history (its op number, from 0). */
  invokeAt: number;
  /** The completion's place; Infinity for an indeterminate op, which may take effect any time after. */
  completeAt: number;
}

/** How a history names its keys. */
export type KeyForm = "none" | "key" | "tuple";

/** A paired history and what was left out of it. */
export interface PairedHistory {
  /** The client ops that did or may have happened, in invocation order. */
  ops: PairedOp[];
  /** `key`: ops name a `:key`; `tuple`: values are jepsen.independent's `[key value]`; `none`. */
  keys: KeyForm;
  /** Invocations that failed (left out: they did not happen). */
  failed: number;
  /** Ops of processes that are not clients, such as the nemesis (left out). */
  notClient: number;
  /** Invocations that never completed (indeterminate). */
  neverCompleted: number;
}

/** What a process has outstanding while the history is read. */
interface ProcessState {
  pending: PairedOp | null;
  /** The line of the `info` that ended this process, after which it must not invoke again. */
  crashedAt: number | null;
}

/**
 * Pairs a history's ops. Bad input throws a {@link HistoryError} naming the file and line:
 * a completion with no invocation before it, a process that invokes while its last op is
 * pending, a process that invokes again after an `info` (Jepsen gives such a client a new
 * number), a completion whose `:f` is not its invocation's.
 *
 * @example
 * ```ts
 * const paired = pairHistory(parseHistory("{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :read, :value 1}"));
 * paired.ops[0].output; // 1
 * ```
 */
export function pairHistory(
  history: readonly HistoryOp[],
  options: { file?: string } = {},
): PairedHistory {
  const processes = new Map<number, ProcessState>();
  // Every invocation, in order, paired as its completion comes; the failed ones go at the end.
  const invoked: PairedOp[] = [];
  const result: PairedHistory = {
    ops: [],
    keys: "none",
    failed: 0,
    notClient: 0,
    neverCompleted: 0,
  };
  const fail = (message: string, op: HistoryOp): never => {
    throw new HistoryError(message, { file: options.file, line: op.line });
  };
  for (let at = 0; at < history.length; at++) {
    const op = history[at];
    if (typeof op.process !== "number") {
      result.notClient++;
      continue;
    }
    let state = processes.get(op.process);
    if (!state) processes.set(op.process, state = { pending: null, crashedAt: null });
    if (op.type === "invoke") {
      checkInvoke(op, state, fail);
      state.pending = invocation(op, at);
      invoked.push(state.pending);
      continue;
    }
    complete(state, op, at, fail);
    if (op.type === "fail") result.failed++;
  }
  for (const state of processes.values()) if (state.pending) result.neverCompleted++;
  result.ops = invoked.filter((op) => op.id !== FAILED);
  result.ops.forEach((op, id) => op.id = id);
  result.keys = splitKeys(result.ops, fail);
  return result;
}

/** The id of an op that failed, until failed ops are left out. */
const FAILED = -1;

/** An invocation as an op that has not completed: indeterminate until its completion says otherwise. */
function invocation(invoke: HistoryOp, invokeAt: number): PairedOp {
  return {
    id: 0,
    process: invoke.process as number,
    f: invoke.f,
    key: invoke.key,
    value: invoke.value,
    output: null,
    status: "info",
    invoke,
    complete: null,
    invokeAt,
    completeAt: Infinity,
  };
}

/** Pairs a completion with its process's pending invocation. */
function complete(
  state: ProcessState,
  op: HistoryOp,
  at: number,
  fail: (message: string, op: HistoryOp) => never,
): void {
  const pending = state.pending;
  if (!pending) {
    return fail(`a completion (:${op.type}) of process ${op.process} with no invoke before it`, op);
  }
  if (pending.f !== op.f) {
    fail(
      `a completion with :f :${op.f} of an invoke with :f :${pending.f} (${where(pending.invoke)})`,
      op,
    );
  }
  state.pending = null;
  pending.complete = op;
  pending.key ??= op.key;
  if (op.type === "fail") pending.id = FAILED;
  if (op.type === "info") state.crashedAt = op.line;
  if (op.type !== "ok") return;
  pending.status = "ok";
  pending.output = op.value;
  pending.completeAt = at;
}

function checkInvoke(
  op: HistoryOp,
  state: ProcessState,
  fail: (message: string, op: HistoryOp) => never,
): void {
  if (state.pending) {
    fail(
      `process ${op.process} invokes while its invoke at ${
        where(state.pending.invoke)
      } has not completed`,
      op,
    );
  }
  if (state.crashedAt !== null) {
    fail(
      `process ${op.process} invokes again after its :info at line ${state.crashedAt} (an indeterminate op ends its process: Jepsen gives the client a new process number)`,
      op,
    );
  }
}

function where(op: HistoryOp): string {
  return op.line > 0 ? `line ${op.line}` : `index ${op.index}`;
}

/** Takes keys out of jepsen.independent's `[key value]` tuples when every op has one. */
function splitKeys(ops: PairedOp[], fail: (message: string, op: HistoryOp) => never): KeyForm {
  if (ops.some((op) => op.key !== undefined)) return "key";
  if (ops.length === 0 || !ops.every(isTuple)) return "none";
  for (const op of ops) {
    const [key, value] = op.value as readonly Value[];
    op.key = key;
    op.value = value;
    if (op.status !== "ok") continue;
    const output = op.output;
    if (
      !Array.isArray(output) || output.length !== 2 || formatValue(output[0]) !== formatValue(key)
    ) {
      fail(
        `expected [key value] with the key ${formatValue(key)} of its invoke (${
          where(op.invoke)
        }), found ${formatValue(output)}`,
        op.complete!,
      );
    }
    op.output = (output as readonly Value[])[1];
  }
  return "tuple";
}

/** An invocation's value is a `[key value]` tuple; a cas's value then is `[from to]` too. */
function isTuple(op: PairedOp): boolean {
  const value = op.value;
  if (!Array.isArray(value) || value.length !== 2) return false;
  return op.f !== "cas" || Array.isArray(value[1]);
}
