/**
 * `register`: one register with read, write and cas (`[from to]`), nil before anything
 * is written: Knossos's cas-register. A key (`:key` or independent tuples) makes one
 * register per key, each checked alone.
 *
 * @module
 */

import { type LinearizableModel, type LinearSpec, type Reject, StateTable } from "../model.ts";
import type { PairedOp } from "../pair.ts";
import { formatValue, type Value } from "../value.ts";

const READ = 0;
const WRITE = 1;
const CAS = 2;

/** One op as the register reads it: `a` the value read or written, or cas's from; `b` cas's to. */
interface RegisterCall {
  kind: number;
  a: number;
  b: number;
}

/** What a cas's value must be. */
const CAS_SHAPE = "a cas's value [from to]";

function registerSpec(initial: Value): LinearSpec<RegisterCall> {
  const states = new StateTable<Value>();
  const state = (value: Value) => states.intern(formatValue(value), value);
  return {
    init: state(initial),
    call(op: PairedOp, reject: Reject): RegisterCall | null {
      switch (op.f) {
        case "read":
          // An indeterminate read tells nothing: it is left out.
          return op.status === "ok" ? { kind: READ, a: state(op.output), b: 0 } : null;
        case "write":
          return { kind: WRITE, a: state(op.value), b: 0 };
        case "cas": {
          const value = op.value;
          if (!Array.isArray(value) || value.length !== 2) {
            reject(`expected ${CAS_SHAPE}, found ${formatValue(value)}`, op.invoke);
          }
          const [from, to] = value as readonly Value[];
          return { kind: CAS, a: state(from), b: state(to) };
        }
      }
      return reject(
        `expected :f :read, :write or :cas (the register model), found :${op.f}`,
        op.invoke,
      );
    },
    step(current: number, call: RegisterCall): number {
      if (call.kind === WRITE) return call.a;
      // A cas that took effect found its from; an indeterminate one that did not is one
      // that never happened, which the search allows by leaving it out.
      if (call.kind === CAS) return current === call.a ? call.b : -1;
      return current === call.a ? current : -1;
    },
    describeState: (id: number) => formatValue(states.values[id]),
  };
}

/** The register model. */
export const REGISTER: LinearizableModel = {
  kind: "linearizable",
  name: "register",
  summary: "one register (one per key) with read, write and cas [from to], nil at first",
  takesInitial: true,
  start: (options) => registerSpec(options.initial ?? null),
  describeOp(op: PairedOp): string {
    if (op.f === "read") return `read -> ${op.status === "ok" ? formatValue(op.output) : "?"}`;
    if (op.f === "cas" && Array.isArray(op.value) && op.value.length === 2) {
      return `cas ${formatValue(op.value[0])} -> ${formatValue(op.value[1])}`;
    }
    return `${op.f} ${formatValue(op.value)}`;
  },
};
