/**
 * Cluster points, cold (every node boots) against warm (each node's check-phase guest saved
 * once; an online point resumed from the whole cluster saved at its workloads' start), in
 * one run, on the same points, each point cold then warm so that the machine's load drifts
 * alike over both:
 *
 * - fixtures/cluster-recovery.json: three busybox nodes, n3 checking what n1 and n2 serve;
 * - scenarios/etcd-put.ts: three etcd members, e3 the client and the check;
 * - scenarios/swift-put.ts, only when asked (`--scenario swift`: minutes a point): three Swift
 *   storage nodes, s1 the proxy, the client and the check.
 *
 * For each: a power loss at N flushes of the node that flushes most in its workload (its
 * crash state built from the trace, a check phase each), and an EIO at N of that node's
 * writes in the later two thirds of its workload (the workload re-run). It prints the median
 * seconds of a point cold and warm with their ratio, each node's median check-phase boot
 * (QEMU's start to its end: a boot cold, a start from the saved guest warm), the seconds the
 * saves took (once per sweep, not in the points' figures), and the 1-minute load average
 * before and after each.
 *
 * Run: `deno run -A bench/cluster.ts [--points N] [--scenario busybox|etcd|swift]
 * [--fault power-loss|eio] [--json]` (N is 5 by default; both faults unless one is named), or
 * `deno task bench --only cluster [--quick] [--json]` for the busybox and etcd clusters.
 *
 * @module
 */

import { exitCodeOf, Interrupted, withInterrupt } from "../src/cli/interrupt.ts";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { prepareForReplay, readParent, replay, type ReplayResult } from "../src/replay/replay.ts";
import { pinningOfTrace } from "../src/run/pinning.ts";
import type { Prepared } from "../src/run/prepare.ts";
import { runScenario } from "../src/run/run.ts";
import { openWarmChecks, openWarmRun, type WarmRun } from "../src/run/warm.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { type PointStatus, pointStatus } from "../src/sweep/status.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { TCG } from "../src/vm/accel.ts";

const SCENARIOS = {
  busybox: "fixtures/cluster-recovery.json",
  etcd: "scenarios/etcd-put.ts",
  swift: "scenarios/swift-put.ts",
} as const;

/** The scenarios measured when none is named (Swift's points take minutes each). */
const DEFAULT_SCENARIOS = ["busybox", "etcd"];

const FAULTS = ["power-loss", "eio"] as const;

/** One point, cold and warm. */
interface PointTimes {
  at: number;
  seconds: { cold: number; warm: number };
  /** The points' statuses, cold and warm, which should agree (a fault never fired: not-fired). */
  status: { cold: PointStatus; warm: PointStatus };
  /** The verdicts' reasons, kept where the statuses differ. */
  reasons?: { cold: string; warm: string };
  /** Whether the warm point started warm: its run resumed (online), its checks from saved guests. */
  resumed?: true | string;
  /** Each node's check-phase boots, in seconds, by mode. */
  checks: { cold: Record<string, number>; warm: Record<string, number> };
  load: [number, number];
}

/** One fault over one scenario's points. */
interface FaultFigures {
  fault: string;
  points: PointTimes[];
  median: { cold: number; warm: number };
  ratio: number;
  /** Each node's median check-phase boot, in seconds, by mode. */
  checkPerNode: { cold: Record<string, number>; warm: Record<string, number> };
  /** Seconds the saves took (the check guests; for the online fault, the run too). */
  savedSeconds: number;
  /** Nodes whose check-phase boots were cold in the warm mode, with why. */
  cold: { node: string; reason: string }[];
  /** Why the online points booted, when they did not resume. */
  notResumed?: string;
}

async function loadAverage(): Promise<number> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "0");
  return Number(text.split(" ")[0]);
}

const round = (n: number) => Math.round(n * 10) / 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** N indices spread evenly over a list (all of it when it is shorter). */
function spread<T>(list: readonly T[], n: number): T[] {
  if (list.length <= n) return [...list];
  // One point: the middle one (the formula below divides by n - 1).
  if (n === 1) return [list[Math.floor((list.length - 1) / 2)]];
  return Array.from({ length: n }, (_, i) => list[Math.floor(i * (list.length - 1) / (n - 1))]);
}

/** Each node's check-phase boots of a replay, in seconds (a node booted twice: the sum). */
function checkSeconds(result: ReplayResult): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const outcome of result.outcomes) {
    if (outcome.phase !== "check" && outcome.stage !== "check") continue;
    seconds[outcome.node] = round((seconds[outcome.node] ?? 0) + outcome.ms / 1000);
  }
  return seconds;
}

function medianPerNode(points: PointTimes[], mode: "cold" | "warm"): Record<string, number> {
  const nodes = [...new Set(points.flatMap((p) => Object.keys(p.checks[mode])))].sort();
  return Object.fromEntries(
    nodes.map((node) => [
      node,
      round(median(points.flatMap((p) => p.checks[mode][node] ?? []))),
    ]),
  );
}

/** The points of a scenario: its busiest node's flushes and later writes in its workload. */
function choosePoints(
  parent: Awaited<ReturnType<typeof readParent>>,
  n: number,
): { node: string; flushes: number[]; writes: number[] } {
  const workload = (op: OpRecord) => {
    const start = parent.lines.find((line) =>
      line.node === op.node && line.kind === "phase" && line.args[0] === "run"
    );
    return start !== undefined && op.index >= start.at;
  };
  const ops = parent.ordered.filter(workload);
  const flushesOf = (node: string) => ops.filter((op) => op.node === node && op.op === "flush");
  const node =
    parent.scenario.nodes.map((n) => n.name).sort((a, b) =>
      flushesOf(b).length - flushesOf(a).length
    )[0];
  const writes = ops.filter((op) => op.node === node && op.op === "write");
  return {
    node,
    flushes: spread(flushesOf(node), n).map((op) => op.index),
    writes: spread(writes.slice(Math.floor(writes.length / 3)), n).map((op) => op.index),
  };
}

/** Replays each point cold, then warm. */
async function measureFault(
  parent: Awaited<ReturnType<typeof readParent>>,
  prepared: Prepared,
  options: {
    fault: string;
    points: number[];
    dir: string;
    log: (line: string) => void;
    signal: AbortSignal;
  },
): Promise<FaultFigures> {
  const { fault, points, dir, log, signal } = options;
  const online = fault !== "power-loss";
  const saving = performance.now();
  const pinning = pinningOfTrace(parent.header);
  await using checks = await openWarmChecks(parent.scenario, prepared, {
    pinning,
    accel: TCG,
    // Saved here, not taken from the cache of saved guests: "saved once" is a save's time.
    cacheDir: null,
    signal,
  });
  const run: WarmRun | string | null = online
    ? await openWarmRun(parent.scenario, prepared, {
      recording: parent,
      pinning,
      accel: TCG,
      signal,
    })
    : null;
  const savedSeconds = round((performance.now() - saving) / 1000);
  try {
    const times: PointTimes[] = [];
    for (const at of points) {
      const before = await loadAverage();
      const one = async (mode: "cold" | "warm") => {
        const started = performance.now();
        const result = await replay(parent, {
          faults: [fault],
          faultAt: String(at),
          output: join(dir, `${fault}-${at}-${mode}.trace`),
          keepData: false,
          prepared,
          signal,
          ...(mode === "warm"
            ? {
              warmChecks: checks.states,
              ...(run && typeof run !== "string" ? { warmRun: run } : {}),
            }
            : {}),
        });
        await Deno.remove(result.trace).catch(() => {});
        return { result, seconds: round((performance.now() - started) / 1000) };
      };
      const cold = await one("cold");
      const warm = await one("warm");
      const status = { cold: pointStatus(cold.result), warm: pointStatus(warm.result) };
      times.push({
        at,
        seconds: { cold: cold.seconds, warm: warm.seconds },
        status,
        ...(status.cold !== status.warm
          ? { reasons: { cold: cold.result.verdict.reason, warm: warm.result.verdict.reason } }
          : {}),
        ...(warm.result.resumed !== undefined ? { resumed: warm.result.resumed } : {}),
        checks: { cold: checkSeconds(cold.result), warm: checkSeconds(warm.result) },
        load: [before, await loadAverage()],
      });
      const t = times.at(-1)!;
      log(
        `  ${fault} at ${at}: cold ${t.seconds.cold} s, warm ${t.seconds.warm} s (load ${
          t.load.join(" -> ")
        })`,
      );
    }
    const med = {
      cold: round(median(times.map((t) => t.seconds.cold))),
      warm: round(median(times.map((t) => t.seconds.warm))),
    };
    return {
      fault,
      points: times,
      median: med,
      ratio: Math.round(med.cold / med.warm * 100) / 100,
      checkPerNode: { cold: medianPerNode(times, "cold"), warm: medianPerNode(times, "warm") },
      savedSeconds,
      cold: checks.cold,
      ...(typeof run === "string" ? { notResumed: run } : {}),
    };
  } finally {
    if (run && typeof run !== "string") await run[Symbol.asyncDispose]();
  }
}

/**
 * Records each scenario and measures its points, into `results` as they finish; returns why
 * it could not go on, or null.
 */
async function measureAll(
  results: { scenario: string; node: string; faults: FaultFigures[] }[],
  options: {
    only?: string;
    fault?: string;
    n: number;
    log: (line: string) => void;
    signal: AbortSignal;
  },
): Promise<string | null> {
  const { only, n, log, signal } = options;
  await using dir = await makePrivateDir("faultline-bench-cluster-");
  for (const [name, file] of Object.entries(SCENARIOS)) {
    if (only === undefined ? !DEFAULT_SCENARIOS.includes(name) : only !== name) continue;
    const trace = join(dir.path, `${name}.trace`);
    log(`${file}: recording`);
    const recorded = await runScenario({
      scenario: await loadScenario(file),
      trace: { path: trace, keepData: true },
      command: "record",
      signal,
    });
    if (!recorded.verdict.pass) {
      return `${file}: the recording failed its own expectations: ${recorded.verdict.reason}`;
    }
    const parent = await readParent(trace);
    const prepared = await prepareForReplay(parent, signal);
    const chosen = choosePoints(parent, n);
    const faults: FaultFigures[] = [];
    for (
      const [fault, points] of [["power-loss", chosen.flushes], ["eio", chosen.writes]] as const
    ) {
      if (options.fault !== undefined && options.fault !== fault) continue;
      faults.push(
        await measureFault(parent, prepared, { fault, points, dir: dir.path, log, signal }),
      );
    }
    results.push({ scenario: file, node: chosen.node, faults });
  }
  return null;
}

const USAGE = `Usage: deno run -A bench/cluster.ts [options]

Cluster points, cold (every node boots) against warm (saved guests), on the same points.

Options:
  --points <n>         points per fault (default: 5)
  --scenario <name>    one of ${Object.keys(SCENARIOS).join(", ")} (default: busybox and etcd)
  --fault <kind>       one of ${FAULTS.join(", ")} (default: both)
  --json               print one JSON object
  -h, --help           display this help`;

/** Runs the cluster benchmark; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        points: { type: "string", default: "5" },
        scenario: { type: "string" },
        fault: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`bench/cluster.ts: ${(error as Error).message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { json, scenario: only, fault } = values;
  const n = Number(values.points);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--points takes a whole number of points, at least 1: not ${values.points}`);
    return 2;
  }
  if (only !== undefined && !(only in SCENARIOS)) {
    console.error(`--scenario takes one of ${Object.keys(SCENARIOS).join(", ")}: not ${only}`);
    return 2;
  }
  if (fault !== undefined && !(FAULTS as readonly string[]).includes(fault)) {
    console.error(`--fault takes one of ${FAULTS.join(", ")}: not ${fault}`);
    return 2;
  }
  const log = (line: string) => {
    if (!json) console.error(line);
  };
  const results: { scenario: string; node: string; faults: FaultFigures[] }[] = [];
  try {
    const failed = await withInterrupt((signal) =>
      measureAll(results, { only, fault, n, log, signal })
    );
    if (failed !== null) {
      console.error(failed);
      return 3;
    }
  } catch (error) {
    if (!(error instanceof Interrupted)) throw error;
    console.error(error.message);
    return exitCodeOf(error.signal);
  }
  if (json) {
    console.log(JSON.stringify({ cores: navigator.hardwareConcurrency, results }));
    return 0;
  }
  console.log(`\ncluster points, cold vs warm, ${navigator.hardwareConcurrency} cores`);
  for (const { scenario, node, faults } of results) {
    for (const f of faults) {
      const loads = f.points.flatMap((p) => p.load);
      const agree = f.points.filter((p) => p.status.cold === p.status.warm).length;
      const resumed = f.fault === "power-loss"
        ? ""
        : `, ${f.points.filter((p) => p.resumed === true).length} of ${f.points.length} resumed${
          f.notResumed ? ` (${f.notResumed})` : ""
        }`;
      console.log(
        `  ${scenario}, ${f.fault} at ${f.points.length} points of ${node}: median ${f.median.cold} s cold, ${f.median.warm} s warm = ${f.ratio}x (saved once in ${f.savedSeconds} s${resumed}; verdicts agree at ${agree} of ${f.points.length}; load ${
          Math.min(...loads)
        } to ${Math.max(...loads)})`,
      );
      const per = (mode: "cold" | "warm") =>
        Object.entries(f.checkPerNode[mode]).map(([n, s]) => `${n} ${s} s`).join(", ");
      console.log(
        `    check-phase boot per node, median: cold ${per("cold")}; warm ${per("warm")}`,
      );
      for (const c of f.cold) console.log(`    ${c.node} checked cold: ${c.reason}`);
      for (const p of f.points.filter((p) => p.status.cold !== p.status.warm)) {
        console.log(
          `    at ${p.at} the verdicts differ: cold ${p.status.cold} (${p.reasons?.cold}), ` +
            `warm ${p.status.warm} (${p.reasons?.warm})`,
        );
      }
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
