/**
 * `kv`: a map of strings with get, put and append, as Porcupine's kv model: each key's
 * sub-history is checked alone (P-compositionality), so the cost follows the largest
 * key, not the whole history. A key never written reads as the empty string (a get of
 * nil reads it too).
 *
 * @module
 */

import type { LinearizableModel, LinearSpec, Reject } from "../model.ts";
import type { PairedOp } from "../pair.ts";
import { formatValue, type Value } from "../value.ts";
import { type Fingerprint, fingerprint, StringStates } from "./string_states.ts";

const GET = 0;
const PUT = 1;
const APPEND = 2;

/** One op as the map reads it. */
interface KvCall {
  kind: number;
  /** The state read (get) or written (put). */
  state: number;
  /** What an append appends, and its fingerprint. */
  text: string;
  print: Fingerprint | null;
  /**
   * An append's next state from each state it was stepped from, computed once: the first
   * in `from` and `to` (most appends are stepped from one state), the others in `next`.
   */
  from: number;
  to: number;
  next: Map<number, number> | null;
}

/** The longest string shown whole; longer ones are shown by their end, where appends land. */
const SHOWN = 40;

function kvSpec(): LinearSpec<KvCall> {
  const states = new StringStates();
  const state = (text: string) => states.of(text);
  const textOf = (op: PairedOp, value: Value, what: string, reject: Reject): string => {
    if (typeof value === "string") return value;
    if (value === null && op.f === "get") return "";
    return reject(
      `expected ${what}, a string, found ${formatValue(value)}`,
      op.complete ?? op.invoke,
    );
  };
  return {
    init: state(""),
    call(op: PairedOp, reject: Reject): KvCall | null {
      switch (op.f) {
        case "get":
          if (op.status !== "ok") return null;
          return {
            kind: GET,
            state: state(textOf(op, op.output, "what a get read", reject)),
            text: "",
            print: null,
            from: -1,
            to: -1,
            next: null,
          };
        case "put":
          return {
            kind: PUT,
            state: state(textOf(op, op.value, "what a put writes", reject)),
            text: "",
            print: null,
            from: -1,
            to: -1,
            next: null,
          };
        case "append": {
          const text = textOf(op, op.value, "what an append appends", reject);
          const print = fingerprint(text);
          return { kind: APPEND, state: -1, text, print, from: -1, to: -1, next: null };
        }
      }
      return reject(`expected :f :get, :put or :append (the kv model), found :${op.f}`, op.invoke);
    },
    step(current: number, call: KvCall): number {
      if (call.kind === GET) return current === call.state ? current : -1;
      if (call.kind === PUT) return call.state;
      if (call.from === current) return call.to;
      let next = call.next?.get(current);
      if (next === undefined) {
        next = states.append(current, call.text, call.print!);
        if (call.from < 0) [call.from, call.to] = [current, next];
        else (call.next ??= new Map()).set(current, next);
      }
      return next;
    },
    describeState: (id: number) => shown(states.text(id)),
  };
}

/** A string for people: whole when short, else its end and its length. */
function shown(text: string): string {
  if (text.length <= SHOWN) return JSON.stringify(text);
  return `"...${JSON.stringify(text.slice(-SHOWN)).slice(1)} (${text.length} chars)`;
}

/** The kv model. */
export const KV: LinearizableModel = {
  kind: "linearizable",
  name: "kv",
  summary: "a map of strings with get, put and append, each key checked alone",
  takesInitial: false,
  start: () => kvSpec(),
  describeOp(op: PairedOp): string {
    if (op.f === "get") {
      if (op.status !== "ok") return "get -> ?";
      return `get -> ${typeof op.output === "string" ? shown(op.output) : formatValue(op.output)}`;
    }
    return `${op.f} ${typeof op.value === "string" ? shown(op.value) : formatValue(op.value)}`;
  },
};
