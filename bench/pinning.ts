/**
 * Guest time and randomness, measured: for each guest clock asked (`--clock`, repeatable;
 * host and icount:shift=4 by default) and each node seeded or not, R runs of
 *
 * - `probe`: one node of faultline's guest reads 8 bytes of `/dev/hwrng` (the virtio-rng
 *   a seeded guest has), 8 of `/dev/urandom` and its boot id: how many distinct values;
 * - `boot`: scenarios/fsync-log.ts recorded: seconds from the run phase's start to the
 *   guest's `phase boot` (its kernel up, its disks found) and `phase run` (its workload
 *   starts), and the workload's own seconds;
 * - `etcd`: the workload of scenarios/etcd-put.ts, whose client also reports the cluster's
 *   first leader and its raft term once the cluster is healthy: which member won, each
 *   member's boot, the client's workload and the verdict;
 * - `point`: one point of a sweep of that cluster, replayed R times from the first etcd
 *   recording of the mode (with `--only point`, one recording of each mode, made for it): the
 *   leader's node loses power at its first flush after the client's 8th put and comes back a
 *   second later (tests/etcd_test.ts's point); how many verdicts (pass and reason, which
 *   counts the keys found) and prefixes agree, and the seconds of each.
 *
 * The modes take turns, run after run, so that the machine's load drifts over all of them
 * alike. Figures are medians with min and max, each row with the range of the 1-minute load
 * average over its runs: the machine's cores are shared. docs/determinism.md has what it
 * measured.
 *
 * Run: `deno run -A bench/pinning.ts [--runs R] [--clock host --clock icount:shift=4]
 * [--seeded yes,no] [--only probe,boot,etcd,point] [--json]`.
 *
 * @module
 */

import { join } from "node:path";
import { type ParentTrace, readParent, replay, type ReplayResult } from "../src/replay/replay.ts";
import { type GuestPinning, pinGuests } from "../src/run/pinning.ts";
import { type RunResult, runScenario } from "../src/run/run.ts";
import { loadScenario, normalizeScenario } from "../src/scenario/load.ts";
import type { Scenario } from "../src/scenario/schema.ts";
import { TraceReader } from "../src/trace/reader.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { formatGuestClock, type GuestClock, parseGuestClock } from "../src/vm/guest_clock.ts";
import {
  checkKeys,
  etcdctl,
  leaderE1,
  member,
  putKeys,
  startEtcd,
  waitHealthy,
} from "../scenarios/_etcd.ts";

const args = Deno.args;
function option(name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
}
const runs = Number(option("--runs", "5"));
const clockTexts = args.flatMap((arg, i) => arg === "--clock" ? [args[i + 1]] : []);
const clocks = (clockTexts.length ? clockTexts : ["host", "icount:shift=4"]).map(parseGuestClock);
const seededModes = option("--seeded", "yes,no").split(",").map((word) => word === "yes");
const only = new Set(option("--only", "probe,boot,etcd,point").split(","));
const json = args.includes("--json");

/** One mode: a clock, and whether the nodes are seeded. */
interface Mode {
  clock: GuestClock;
  seeded: boolean;
}

function modeName(mode: Mode): string {
  return `${formatGuestClock(mode.clock)} ${mode.seeded ? "seeded" : "unseeded"}`;
}

function pinningOf(scenario: Scenario, mode: Mode): GuestPinning {
  const pinning = pinGuests(scenario, 0, mode.clock);
  return mode.seeded ? pinning : { ...pinning, seeds: {} };
}

async function loadAverage(): Promise<number> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "0");
  return Number(text.split(" ")[0]);
}

/** Median, min and max of some seconds. */
function spread(values: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const round = (n: number) => Math.round(n * 100) / 100;
  return { median: round(middle), min: round(sorted[0]), max: round(sorted.at(-1)!) };
}

/** How often each value came: `e1 3, e2 2`. */
function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** The share of the runs that agree with the most common value. */
function repeatRate(values: readonly string[]): string {
  const most = Math.max(0, ...Object.values(tally(values)));
  return `${most}/${values.length}`;
}

/** When each node's guest said each line first, in seconds from the run phase's start. */
async function guestTimes(trace: string): Promise<Map<string, number>> {
  const reader = await TraceReader.open(trace);
  const times = new Map<string, number>();
  let runAt = 0;
  for await (const record of reader.records()) {
    if (record.record !== "event") continue;
    if (record.event === "phase" && record.name === "run") runAt = record.time;
    if (record.event !== "guest" || record.phase !== "run") continue;
    const key = `${record.node} ${String(record.line).split(" ").slice(0, 2).join(" ")}`;
    if (!times.has(key)) times.set(key, (record.time - runAt) / 1000);
  }
  return times;
}

/** A guest line's words after its kind, for a node. */
function lineOf(result: RunResult, node: string, kind: string): string | undefined {
  return result.lines.find((line) => line.node === node && line.kind === kind)?.args.join(" ");
}

const PROBE = {
  name: "pinning-probe",
  nodes: {
    app: {
      disks: {},
      workload: [
        "report hwrng $(head -c 8 /dev/hwrng 2>/dev/null | od -A n -t x1 | tr -d ' \\n')",
        "report urandom $(head -c 8 /dev/urandom | od -A n -t x1 | tr -d ' \\n')",
        "report bootid $(cat /proc/sys/kernel/random/boot_id)",
      ].join("\n"),
    },
  },
};

/** The etcd-put workload with the cluster's first leader and term reported once it is healthy. */
const ETCD = {
  name: "pinning-etcd",
  nodes: {
    e1: member(),
    e2: member(),
    e3: member({
      workload: `${startEtcd}\n${waitHealthy}
status=$(${etcdctl} endpoint status -w simple)
echo "$status" | awk -F', ' '$5 == "true" {print $1, $7}' | {
  read -r endpoint term
  endpoint=\${endpoint#http://}
  report leader "\${endpoint%:*}" "$term"
}
${leaderE1}\n${putKeys(16)}`,
      check: checkKeys,
    }),
  },
  client: "e3",
  expect: { noLostAcks: true },
  timeouts: { boot: "60s", run: "180s", check: "120s" },
};

async function scenarioOf(input: unknown, dir: string): Promise<Scenario> {
  return await normalizeScenario(input, { source: "bench/pinning.ts", baseDir: dir });
}

async function record(scenario: Scenario, mode: Mode, trace: string): Promise<RunResult> {
  return await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
    pinning: pinningOf(scenario, mode),
  });
}

interface Row {
  measure: string;
  mode: string;
  runs: number;
  [figure: string]: unknown;
}

const rows: Row[] = [];

/**
 * R samples of a measure for every mode, the modes taking turns run after run (so that the
 * machine's load drifts over all of them alike), then one row per mode with the 1-minute
 * load average's range over its samples.
 */
async function measure<T>(
  name: string,
  sample: (mode: Mode, run: number) => Promise<T>,
  summarize: (samples: T[], mode: Mode) => Record<string, unknown>,
): Promise<void> {
  const samples = modes.map(() => [] as T[]);
  const loads = modes.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    for (const [m, mode] of modes.entries()) {
      loads[m].push(await loadAverage());
      samples[m].push(await sample(mode, run));
      loads[m].push(await loadAverage());
    }
  }
  for (const [m, mode] of modes.entries()) {
    const row = {
      measure: name,
      mode: modeName(mode),
      runs,
      ...summarize(samples[m], mode),
      load: [Math.min(...loads[m]), Math.max(...loads[m])],
    };
    rows.push(row);
    if (!json) console.log(JSON.stringify(row));
  }
}

async function probe(dir: string): Promise<void> {
  const scenario = await scenarioOf(PROBE, dir);
  await measure("probe", (mode) => record(scenario, mode, join(dir, "probe.trace")), (results) => {
    const values = (kind: string) => results.map((r) => lineOf(r, "app", kind) || "(no device)");
    return {
      hwrng: tally(values("hwrng")),
      urandomDistinct: Object.keys(tally(values("urandom"))).length,
      bootidDistinct: Object.keys(tally(values("bootid"))).length,
    };
  });
}

async function boot(dir: string): Promise<void> {
  const scenario = await loadScenario("scenarios/fsync-log.ts");
  await measure("boot", async (mode) => {
    const trace = join(dir, "boot.trace");
    const result = await record(scenario, mode, trace);
    const times = await guestTimes(trace);
    return {
      boot: times.get("app phase boot")!,
      toRun: times.get("app phase run")!,
      workload: times.get("app exit 0")! - times.get("app phase run")!,
      total: result.timings.totalMs / 1000,
    };
  }, (figures) => ({
    toPhaseBoot: spread(figures.map((f) => f.boot)),
    toPhaseRun: spread(figures.map((f) => f.toRun)),
    workload: spread(figures.map((f) => f.workload)),
    total: spread(figures.map((f) => f.total)),
  }));
}

/** The etcd cluster recorded R times a mode; the first trace of each is its point's parent. */
async function etcd(dir: string): Promise<Map<Mode, string>> {
  const scenario = await scenarioOf(ETCD, dir);
  const parents = new Map<Mode, string>();
  await measure("etcd", async (mode, run) => {
    const trace = join(dir, run === 0 ? `etcd-${modes.indexOf(mode)}.trace` : "etcd-again.trace");
    if (run === 0) parents.set(mode, trace);
    const result = await record(scenario, mode, trace);
    const times = await guestTimes(trace);
    return {
      leader: lineOf(result, "e3", "leader") ?? "(none)",
      verdict: `${result.verdict.pass ? "pass" : "FAIL"}: ${result.verdict.reason}`,
      boot: Math.max(...["e1", "e2", "e3"].map((n) => times.get(`${n} phase run`) ?? NaN)),
      workload: (times.get("e3 exit 0") ?? NaN) - (times.get("e3 phase run") ?? NaN),
      run: result.timings.runMs / 1000,
    };
  }, (samples) => ({
    leaderRepeat: repeatRate(samples.map((s) => s.leader.split(" ")[0])),
    leaders: tally(samples.map((s) => s.leader)),
    verdictRepeat: repeatRate(samples.map((s) => s.verdict)),
    verdicts: tally(samples.map((s) => s.verdict)),
    lastBoot: spread(samples.map((s) => s.boot)),
    workload: spread(samples.map((s) => s.workload)),
    runPhase: spread(samples.map((s) => s.run)),
  }));
  return parents;
}

/** One recording of the etcd cluster a mode, each its point's parent. */
async function etcdParents(dir: string): Promise<Map<Mode, string>> {
  const scenario = await scenarioOf(ETCD, dir);
  const parents = new Map<Mode, string>();
  for (const [m, mode] of modes.entries()) {
    const trace = join(dir, `etcd-${m}.trace`);
    await record(scenario, mode, trace);
    parents.set(mode, trace);
  }
  return parents;
}

/** The leader's node loses power at its first flush after the client's 8th put, back after 1 s. */
async function point(parents: Map<Mode, string>, dir: string): Promise<void> {
  const at = new Map<Mode, { parent: ParentTrace; index: number }>();
  for (const [mode, path] of parents) {
    const parent = await readParent(path);
    const put8 = parent.lines.find((l) => l.kind === "step" && l.args.join(" ") === "put 8")!;
    const flush = parent.ordered.find((op) =>
      op.node === "e1" && op.op === "flush" && op.phase === "run" && op.index > put8.at
    )!;
    at.set(mode, { parent, index: flush.index });
  }
  await measure("point", (mode) =>
    replay(at.get(mode)!.parent, {
      faults: ["restart:e1,after=1s"],
      faultAt: String(at.get(mode)!.index),
      output: join(dir, "point.trace"),
      keepData: false,
    }), (results, mode) => {
    const verdicts = results.map((r) => `${r.verdict.pass ? "pass" : "FAIL"}: ${r.verdict.reason}`);
    return {
      at: at.get(mode)!.index,
      verdictRepeat: repeatRate(verdicts),
      verdicts: tally(verdicts),
      prefixes: tally(results.map((r: ReplayResult) => r.prefix.kind)),
      leaders: tally(results.map((r) => lineOf(r, "e3", "leader") ?? "(none)")),
      seconds: spread(results.map((r) => r.timings.totalMs / 1000)),
    };
  });
}

const modes: Mode[] = clocks.flatMap((clock) => seededModes.map((seeded) => ({ clock, seeded })));
await using dir = await makePrivateDir("faultline-pinning-");
if (only.has("probe")) await probe(dir.path);
if (only.has("boot")) await boot(dir.path);
if (only.has("etcd") || only.has("point")) {
  // The point alone needs one recording of each mode, not the etcd measure's R.
  const parents = only.has("etcd") ? await etcd(dir.path) : await etcdParents(dir.path);
  if (only.has("point")) await point(parents, dir.path);
}
if (json) console.log(JSON.stringify({ runs, rows }));
