/**
 * Random histories from a seed, made by simulating a system that is linearizable: each
 * op takes effect at one moment between its invocation and its completion, on a real
 * register or map, and a read returns what is there then. Some ops fail (never take
 * effect), some are indeterminate (take effect or not, complete with `info` or never; the
 * process then goes on under a new number, as Jepsen's do). Corrupting reads afterwards
 * makes histories that may not be linearizable. The property tests check small ones
 * against a brute-force checker; the benchmark checks large ones.
 *
 * @module
 */

import { type Prng, prng } from "./random.ts";

/** An op of a generated history, as the brute-force checker reads it. */
export interface GeneratedOp {
  process: number;
  f: string;
  /** The key (kv), or undefined for a single register. */
  key?: string;
  /** The invocation's value: what is written, appended, or a cas's [from, to]. */
  value: number | string | [number, number] | null;
  /** What a read returned (ok reads only). */
  output: number | string | null;
  status: "ok" | "info" | "fail";
  /** Its invocation's and completion's places in the history; Infinity: never completed or info. */
  invokeAt: number;
  completeAt: number;
}

/** A generated history: its EDN text, and its ops in invocation order. */
export interface GeneratedHistory {
  text: string;
  ops: GeneratedOp[];
}

/** What to generate. */
export interface HistoryShape {
  model: "register" | "kv";
  seed: number;
  /** Ops to invoke. */
  ops: number;
  /** Processes at once (clients). */
  processes: number;
  /** kv: how many keys (kv only). */
  keys?: number;
  /** register: values written are below this. */
  values?: number;
  /** The chance that an op fails, and that it is indeterminate. */
  failRate?: number;
  infoRate?: number;
  /** At most this many indeterminate ops. */
  maxIndeterminate?: number;
  /** The chance that each ok read's output is replaced by a random one. */
  corruptRate?: number;
  /** Replace the output of the ok read nearest the middle with a value never written. */
  corruptMiddle?: boolean;
}

/** An op while it runs: what it will do and whether it took effect yet. */
interface Running {
  op: GeneratedOp;
  /** Takes effect before it completes (ok), maybe (info), never (fail). */
  willApply: boolean;
  applied: boolean;
  /** Completes with :info, or never completes at all. */
  silent: boolean;
}

/**
 * Generates a history.
 *
 * @example
 * ```ts
 * const { text, ops } = generateHistory({ model: "register", seed: 1, ops: 8, processes: 3 });
 * ```
 */
export function generateHistory(shape: HistoryShape): GeneratedHistory {
  const random = prng(shape.seed, shape.model === "kv" ? 2 : 1);
  const sim = new Simulation(shape, random);
  sim.run();
  if (shape.corruptMiddle) sim.corruptMiddle();
  return { text: sim.lines.map((line) => line()).join("\n") + "\n", ops: sim.ops };
}

class Simulation {
  readonly lines: (() => string)[] = [];
  readonly ops: GeneratedOp[] = [];
  readonly #state = new Map<string, number | string | null>();
  readonly #slots: (Running | null)[];
  readonly #numbers: number[];
  #nextNumber: number;
  #invoked = 0;
  #indeterminate = 0;

  constructor(readonly shape: HistoryShape, readonly random: Prng) {
    this.#slots = new Array(shape.processes).fill(null);
    this.#numbers = this.#slots.map((_, i) => i);
    this.#nextNumber = shape.processes;
  }

  run(): void {
    for (;;) {
      const slot = this.#pickSlot();
      if (slot < 0) return;
      const running = this.#slots[slot];
      if (!running) this.#invoke(slot);
      else if (running.willApply && !running.applied && this.random.chance(0.5)) {
        this.#apply(running);
      } else this.#complete(slot, running);
    }
  }

  #pickSlot(): number {
    const able = this.#slots.flatMap((
      running,
      i,
    ) => (running || this.#invoked < this.shape.ops ? [i] : []));
    return able.length === 0 ? -1 : this.random.pick(able);
  }

  #invoke(slot: number): void {
    const random = this.random;
    const fail = random.chance(this.shape.failRate ?? 0.1);
    const info = !fail && this.#indeterminate < (this.shape.maxIndeterminate ?? Infinity) &&
      random.chance(this.shape.infoRate ?? 0.1);
    if (info) this.#indeterminate++;
    const op: GeneratedOp = {
      process: this.#numbers[slot],
      ...this.#draw(),
      output: null,
      status: fail ? "fail" : info ? "info" : "ok",
      invokeAt: this.lines.length,
      completeAt: Infinity,
    };
    this.#invoked++;
    this.ops.push(op);
    this.#slots[slot] = {
      op,
      willApply: !fail && (!info || random.chance(0.5)),
      applied: false,
      silent: info && random.chance(0.5),
    };
    this.lines.push(() => this.#line(op, "invoke"));
  }

  #draw(): Pick<GeneratedOp, "f" | "key" | "value"> {
    const random = this.random;
    if (this.shape.model === "register") {
      const values = this.shape.values ?? 3;
      const f = random.pick(["read", "read", "write", "cas"]);
      if (f === "read") return { f, value: null };
      if (f === "write") return { f, value: random.below(values) };
      const current = this.#state.get("") ?? null;
      const from = typeof current === "number" && random.chance(0.5)
        ? current
        : random.below(values);
      return { f, value: [from, random.below(values)] };
    }
    const key = `k${random.below(this.shape.keys ?? 1)}`;
    const f = random.pick(["get", "get", "put", "append", "append"]);
    if (f === "get") return { f, key, value: null };
    return { f, key, value: `${random.pick(["a", "b", "c"])}${this.ops.length}` };
  }

  #apply(running: Running): void {
    running.applied = true;
    const op = running.op;
    const key = op.key ?? "";
    const state = this.#state.get(key) ?? (this.shape.model === "kv" ? "" : null);
    if (op.f === "read" || op.f === "get") op.output = state;
    else if (op.f === "write" || op.f === "put") this.#state.set(key, op.value as number | string);
    else if (op.f === "append") this.#state.set(key, `${state}${op.value}`);
    else {
      const [from, to] = op.value as [number, number];
      if (state === from) this.#state.set(key, to);
      else if (op.status === "ok") op.status = "fail";
    }
  }

  #complete(slot: number, running: Running): void {
    const op = running.op;
    if (running.willApply && !running.applied) this.#apply(running);
    this.#slots[slot] = null;
    if (
      op.status === "ok" && (op.f === "read" || op.f === "get") &&
      this.random.chance(this.shape.corruptRate ?? 0)
    ) {
      op.output = this.#randomOutput();
    }
    if (op.status !== "info") op.completeAt = this.lines.length;
    if (op.status === "info") this.#numbers[slot] = this.#nextNumber++;
    if (!running.silent) this.lines.push(() => this.#line(op, op.status));
  }

  #randomOutput(): number | string | null {
    if (this.shape.model === "kv") return this.random.pick(["", "a0", "b1", "a0b1"]);
    return this.random.chance(0.2) ? null : this.random.below(this.shape.values ?? 3);
  }

  /** The ok read nearest the middle of the history reads a value nobody wrote. */
  corruptMiddle(): void {
    const reads = this.ops.filter((op) =>
      op.status === "ok" && (op.f === "read" || op.f === "get")
    );
    const middle = reads[Math.floor(reads.length / 2)];
    if (middle) middle.output = this.shape.model === "kv" ? "never written" : -1;
  }

  #line(op: GeneratedOp, type: string): string {
    const value = type === "ok" && (op.f === "read" || op.f === "get") ? op.output : op.value;
    const key = op.key === undefined ? "" : `, :key ${JSON.stringify(op.key)}`;
    return `{:process ${op.process}, :type :${type}, :f :${op.f}${key}, :value ${edn(value)}}`;
  }
}

function edn(value: GeneratedOp["value"]): string {
  if (value === null) return "nil";
  if (Array.isArray(value)) return `[${value.join(" ")}]`;
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
