/**
 * `checkHistory`: a history's ops checked against a model, as one answer that says how
 * sure it is (true, false, or "unknown" when a budget ran out), what was checked, and why
 * it failed: a counterexample for a linearizable model, counted anomalies for a pass
 * model. Pure but for the clock, which can be handed in.
 *
 * @module
 */

import { type Counterexample, counterexample, type ShrinkBudget } from "./counterexample.ts";
import { HistoryError } from "./errors.ts";
import type { LinearizableModel, PassAnomalies, PassModel, Reject } from "./model.ts";
import { modelNamed } from "./models/mod.ts";
import type { HistoryOp } from "./op.ts";
import { type PairedHistory, type PairedOp, pairHistory } from "./pair.ts";
import { partitionOps, searchPartitions } from "./partition.ts";
import { formatValue, type Value } from "./value.ts";

/** Options of {@link checkHistory}. */
export interface CheckHistoryOptions {
  /** The model's name: `register`, `kv`, `set` or `queue`. */
  model: string;
  /** The file the history came from, named in errors. */
  file?: string;
  /** The search's time budget; past it the answer is "unknown". 30 s by default. */
  timeoutMs?: number;
  /** The search's budget in steps (all keys together); none by default. */
  maxSteps?: number;
  /** The most bytes the search may keep of the configurations it reached; 1 GiB by default. */
  maxMemoryBytes?: number;
  /** `register`: the value before anything is written (nil by default). */
  initial?: Value;
  /** `queue`: `at-least-once` (the default) or `exactly-once`. */
  mode?: string;
  /** The clock, in milliseconds (`performance.now` by default). */
  now?: () => number;
  /** The counterexample's shrink budgets, in search steps. */
  shrink?: ShrinkBudget;
}

/** What the search did, for a linearizable model. */
export interface SearchSummary {
  /** Steps taken by every key's search. */
  steps: number;
  /** (linearized set, state) configurations reached. */
  configurations: number;
  /** Keys still undecided when the budget ran out. */
  undecided: number;
}

/** A history's answer. */
export interface HistoryCheckResult {
  /** true: the history holds; false: it does not; "unknown": a budget ran out first. */
  valid: boolean | "unknown";
  /** The model checked against. */
  model: string;
  /** Ops in the history (each invocation and each completion is one, as jepsen.history counts). */
  ops: number;
  /** Paired client ops checked: those that took effect or may have (failed ones left out). */
  checked: number;
  /** Keys, each checked alone (1 for a history without keys). */
  keys: number;
  /** How long the check took. */
  ms: number;
  /** What a person should know about how it was checked. */
  notes: string[];
  /** Why a linearizable model's history is not linearizable. */
  counterexample?: Counterexample;
  /** What a pass model counted. */
  anomalies?: PassAnomalies;
  /** What the search did. */
  search?: SearchSummary;
}

/** The search's time budget unless one is given. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The search's memory budget unless one is given: what it may keep before it answers unknown rather than run the machine out of memory. */
const DEFAULT_MAX_MEMORY_BYTES = 2 ** 30;

/**
 * Checks a history against a model. Bad input (an unknown model, a completion with no
 * invoke, a value the model cannot read, ...) throws a {@link HistoryError} naming the
 * file, the line and what was expected.
 *
 * @example
 * ```ts
 * const result = checkHistory(parseHistory(text, { file }), { model: "register", file });
 * result.valid; // true, false or "unknown"
 * if (result.counterexample) console.log(describeCounterexample(result.counterexample));
 * ```
 */
export function checkHistory(
  history: readonly HistoryOp[],
  options: CheckHistoryOptions,
): HistoryCheckResult {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const model = modelNamed(options.model);
  checkOptions(model, options);
  const paired = pairHistory(history, options);
  const reject: Reject = (message, event) => {
    throw new HistoryError(message, { file: options.file, line: event.line });
  };
  const base = { model: model.name, ops: history.length, checked: paired.ops.length };
  const notes = pairingNotes(paired);
  const result = model.kind === "linearizable"
    ? checkLinearizable(model, paired, { ...options, now, started }, reject)
    : checkPass(model, paired.ops, options, reject);
  if (paired.ops.length === 0) notes.push("the history has no client ops: nothing to check");
  return { ...base, ...result, notes: [...notes, ...result.notes], ms: now() - started };
}

function checkOptions(model: LinearizableModel | PassModel, options: CheckHistoryOptions): void {
  if (options.initial !== undefined && (model.kind !== "linearizable" || !model.takesInitial)) {
    throw new HistoryError(`the ${model.name} model takes no initial value`);
  }
  if (options.mode === undefined) return;
  const modes = model.kind === "pass" ? model.modes : [];
  if (modes.length === 0) throw new HistoryError(`the ${model.name} model takes no mode`);
  if (!modes.includes(options.mode)) {
    throw new HistoryError(
      `unknown mode "${options.mode}" of the ${model.name} model: expected ${modes.join(" or ")}`,
    );
  }
}

function pairingNotes(paired: PairedHistory): string[] {
  const notes: string[] = [];
  const indeterminate = paired.ops.filter((op) => op.status === "info").length;
  if (indeterminate > 0) {
    const info = indeterminate - paired.neverCompleted;
    notes.push(
      `${
        count(indeterminate, "indeterminate op")
      } (${info} info, ${paired.neverCompleted} never completed): each may have taken effect or not`,
    );
  }
  if (paired.failed > 0) {
    notes.push(`${count(paired.failed, "failed op")} left out: a failed op did not happen`);
  }
  if (paired.notClient > 0) {
    notes.push(
      `${count(paired.notClient, "op")} of processes that are not clients (the nemesis) left out`,
    );
  }
  if (paired.keys === "tuple") notes.push("keys read from jepsen.independent's [key value] tuples");
  return notes;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

type Answer = Pick<
  HistoryCheckResult,
  "valid" | "keys" | "notes" | "counterexample" | "anomalies" | "search"
>;

function checkLinearizable(
  model: LinearizableModel,
  paired: PairedHistory,
  options: CheckHistoryOptions & { now: () => number; started: number },
  reject: Reject,
): Answer {
  const partitions = partitionOps(model, paired.ops, options, reject);
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const outcome = searchPartitions(partitions, {
    now: options.now,
    deadline: options.started + timeout,
    maxSteps: options.maxSteps ?? Infinity,
    maxBytes: options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES,
  });
  const search = {
    steps: outcome.steps,
    configurations: outcome.configurations,
    undecided: outcome.undecided,
  };
  const keys = partitions.length;
  if (outcome.status === "illegal") {
    const example = counterexample(model, outcome.failing!, options.shrink);
    return { valid: false, keys, notes: [], counterexample: example, search };
  }
  if (outcome.status === "unknown") {
    const spent = {
      steps: `${options.maxSteps} steps`,
      time: `${timeout} ms`,
      memory: `${options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES} bytes of memory`,
    }[outcome.spent ?? "time"];
    const note =
      `the search ran out of its budget (${spent}) with ${outcome.undecided} of ${keys} ${
        keys === 1 ? "key" : "keys"
      } undecided`;
    return { valid: "unknown", keys, notes: [note], search };
  }
  return { valid: true, keys, notes: [], search };
}

function checkPass(
  model: PassModel,
  ops: readonly PairedOp[],
  options: CheckHistoryOptions,
  reject: Reject,
): Answer {
  const byKey = new Map<string, PairedOp[]>();
  for (const op of ops) {
    const key = op.key === undefined ? "" : formatValue(op.key);
    const group = byKey.get(key);
    if (group) group.push(op);
    else byKey.set(key, [op]);
  }
  if (byKey.size === 0) byKey.set("", []);
  const anomalies: PassAnomalies = { counts: {}, examples: {} };
  const notes = new Set<string>();
  let valid: boolean | "unknown" = true;
  for (const [key, group] of byKey) {
    const verdict = model.check(group, { mode: options.mode }, reject);
    if (verdict.valid === false) valid = false;
    else if (verdict.valid === "unknown" && valid === true) valid = "unknown";
    for (const [name, count] of Object.entries(verdict.anomalies.counts)) {
      anomalies.counts[name] = (anomalies.counts[name] ?? 0) + count;
    }
    for (const [name, examples] of Object.entries(verdict.anomalies.examples)) {
      const named = key === "" ? examples : examples.map((example) => `${key}: ${example}`);
      anomalies.examples[name] = [...(anomalies.examples[name] ?? []), ...named];
    }
    for (const note of verdict.notes) notes.add(note);
  }
  return { valid, keys: byKey.size, notes: [...notes], anomalies };
}
