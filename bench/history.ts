/**
 * How fast `history check` decides, on histories generated from seeds
 * (tests/support/random_history.ts: a linearizable register or map simulated, each op
 * taking effect at one moment between its invocation and completion, 10% of ops failed,
 * at most 5 indeterminate; the invalid twin has the ok read nearest the middle return a
 * value nobody wrote):
 *
 * - kv, 10,000 ops, 10 processes, 100 keys;
 * - kv, 100,000 ops, 10 processes, 50 keys;
 * - register, 1,000 ops, 5 processes;
 *
 * each valid and invalid. It times parsing the EDN text and checking the parsed ops
 * (median of the rounds, with min and max) and fails (exit 1) when an answer is not the
 * one the history was made to have. The budget: each check under 1 s.
 *
 * Run: `deno task bench --only history [--quick] [--json]`, or
 * `deno run -A bench/history.ts [--rounds N] [--quick] [--json]`.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { checkHistory, type HistoryCheckResult } from "../src/history/check.ts";
import { parseHistory } from "../src/history/parse.ts";
import { generateHistory, type HistoryShape } from "../tests/support/random_history.ts";

/** One history of the benchmark. */
interface Case {
  name: string;
  shape: HistoryShape;
}

const CASES: readonly Case[] = [
  { name: "kv 10k ops, 10 processes, 100 keys", shape: kv(10_000, 10, 100) },
  { name: "kv 100k ops, 10 processes, 50 keys", shape: kv(100_000, 10, 50) },
  {
    name: "register 1k ops, 5 processes",
    shape: { model: "register", seed: 3, ops: 1_000, processes: 5, values: 5, ...few(1_000) },
  },
];

function kv(ops: number, processes: number, keys: number): HistoryShape {
  return { model: "kv", seed: 1, ops, processes, keys, ...few(ops) };
}

/** About 5 indeterminate ops spread over the history, never more. */
function few(ops: number): Pick<HistoryShape, "infoRate" | "maxIndeterminate" | "failRate"> {
  return { infoRate: 5 / ops, maxIndeterminate: 5, failRate: 0.1 };
}

/** What one history measured. */
interface Measured {
  history: string;
  expected: boolean;
  valid: HistoryCheckResult["valid"];
  ops: number;
  events: number;
  indeterminate: number;
  parseMs: number[];
  checkMs: number[];
  /** CPU milliseconds of each check (user and system): less sensitive to a busy machine. */
  checkCpuMs: number[];
  steps: number;
  configurations: number;
}

function measure(testCase: Case, corrupt: boolean, rounds: number): Measured {
  const generated = generateHistory({ ...testCase.shape, corruptMiddle: corrupt });
  const parseMs: number[] = [];
  const checkMs: number[] = [];
  const checkCpuMs: number[] = [];
  let result: HistoryCheckResult | null = null;
  let events = 0;
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    const ops = parseHistory(generated.text, { format: "edn" });
    parseMs.push(performance.now() - started);
    events = ops.length;
    started = performance.now();
    const cpu = cpuUsage();
    result = checkHistory(ops, { model: testCase.shape.model });
    const used = cpuUsage(cpu);
    checkMs.push(performance.now() - started);
    checkCpuMs.push((used.user + used.system) / 1000);
  }
  return {
    history: `${testCase.name}, ${corrupt ? "invalid" : "valid"}`,
    expected: !corrupt,
    valid: result!.valid,
    ops: generated.ops.length,
    events,
    indeterminate: generated.ops.filter((op) => op.status === "info").length,
    parseMs,
    checkMs,
    checkCpuMs,
    steps: result!.search?.steps ?? 0,
    configurations: result!.search?.configurations ?? 0,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function spread(values: readonly number[]): string {
  const ms = (v: number) => v.toFixed(v < 10 ? 1 : 0);
  return `${ms(median(values))} (${ms(Math.min(...values))}-${ms(Math.max(...values))})`;
}

function print(results: readonly Measured[]): void {
  const rows = [[
    "history",
    "ops",
    "events",
    "info",
    "answer",
    "parse ms",
    "check ms",
    "check CPU ms",
    "steps",
    "configurations",
  ]];
  for (const r of results) {
    rows.push([
      r.history,
      String(r.ops),
      String(r.events),
      String(r.indeterminate),
      String(r.valid),
      spread(r.parseMs),
      spread(r.checkMs),
      spread(r.checkCpuMs),
      String(r.steps),
      String(r.configurations),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) {
    console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  }
}

/** Runs the benchmark with command-line `args`; resolves with the exit code. */
export function main(args: string[]): Promise<number> {
  const quick = args.includes("--quick");
  const at = args.indexOf("--rounds");
  const rounds = at >= 0 ? Number(args[at + 1]) : quick ? 1 : 5;
  const results: Measured[] = [];
  for (const testCase of CASES) {
    for (const corrupt of [false, true]) results.push(measure(testCase, corrupt, rounds));
  }
  const load = Deno.loadavg()[0];
  if (args.includes("--json")) console.log(JSON.stringify({ rounds, load, results }));
  else {
    console.log(
      `history check, ${rounds} round${rounds === 1 ? "" : "s"}, median (min-max); load average ${
        load.toFixed(1)
      } on ${navigator.hardwareConcurrency} cores:`,
    );
    print(results);
  }
  const wrong = results.filter((r) => r.valid !== r.expected);
  for (const r of wrong) {
    console.error(`${r.history}: answered ${r.valid}, made to be ${r.expected}`);
  }
  return Promise.resolve(wrong.length > 0 ? 1 : 0);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
