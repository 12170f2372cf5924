/**
 * Sweeps and `faultline ci` against real VMs: the shipped scenarios give their
 * stated outcomes (correct code clears, unsafe configurations are caught), a
 * wrong expectation turns CI red with the reproduce command, and `sweep`'s
 * point selection, JSON, JUnit and report page.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { childProcesses, chromeTraceProblems, faultline, isAlive } from "./support/mod.ts";

let shared: Promise<string> | undefined;
let sharedPath: string | undefined;

/** The module's shared directory: `ci`'s traces, reused by the sweeps. */
function sharedDir(): Promise<string> {
  shared ??= makePrivateDir("faultline-ci-test-").then((dir) => sharedPath = dir.path);
  return shared;
}

// The traces outlive the tests that use them; they go when the module's tests are done.
globalThis.addEventListener("unload", () => {
  if (sharedPath) Deno.removeSync(sharedPath, { recursive: true });
});

const recordings = new Map<string, Promise<string>>();

/**
 * The trace of a shipped scenario: the one `faultline ci` left in the shared
 * directory when its test ran first, else recorded now (a test run alone with `--filter`).
 */
function traceOf(scenario: string): Promise<string> {
  let trace = recordings.get(scenario);
  if (!trace) {
    trace = (async () => {
      const path = join(await sharedDir(), "traces", `${scenario}.trace`);
      if (await Deno.stat(path).then(() => true, () => false)) return path;
      await Deno.mkdir(join(await sharedDir(), "traces"), { recursive: true });
      const recorded = await faultline(["record", `scenarios/${scenario}.ts`, "-o", path], {
        timeoutMs: 240_000,
      });
      assert.equal(recorded.code, 0, recorded.text);
      return path;
    })();
    recordings.set(scenario, trace);
  }
  return trace;
}

interface Check {
  scenario: string;
  name: string;
  pass: boolean;
  reason: string;
  reproduce: string[];
  sweep?: {
    points: number;
    passed: number;
    failed: number;
    notFired: number;
    distinctCrashStates?: number;
  };
}

/**
 * Shipped single-node scenarios, which `faultline ci scenarios/` runs with the others: a
 * correct log and the same log without barriers, and sqlite3 with synchronous=OFF. The
 * cluster and package ones run by their own tests (etcd_test.ts, ...): their sweeps boot
 * several guests per point, too slow for this suite's budget. So are two more single-node
 * ones: sqlite-commit's 66 flushes (it is recorded in tests/record_test.ts; its sweep
 * passes as fsync-log's does), and sqlite-delete-full (its declared sweeps run in
 * tests/sweep_warm_cold_test.ts and its `power-loss:each` finding in
 * tests/crash_orders_test.ts).
 */
const SINGLE_NODE = [
  "scenarios/fsync-log.ts",
  "scenarios/fsync-log-nobarrier.ts",
  "scenarios/sqlite-sync-off.ts",
];

Deno.test("faultline ci on the single-node scenarios is green: correct code clears its sweeps, unsafe configurations are caught", async () => {
  await using dir = await makePrivateDir("faultline-ci-");
  const traces = join(await sharedDir(), "traces");
  const junit = join(dir.path, "ci.xml");
  const result = await faultline([
    "ci",
    ...SINGLE_NODE,
    "--json",
    "--jobs",
    "2",
    "--trace-dir",
    traces,
    "--junit",
    junit,
  ], {
    timeoutMs: 1_200_000,
  });
  assert.equal(result.code, 0, result.text);
  const { checks } = JSON.parse(result.stdout) as { checks: Check[] };
  const find = (scenario: string, name: string) => {
    const check = checks.find((c) => c.scenario.endsWith(scenario) && c.name === name);
    assert.ok(check, `${scenario}: ${name} ran`);
    return check;
  };
  for (const check of checks) {
    assert.equal(check.pass, true, `${check.scenario}: ${check.name}: ${check.reason}`);
  }

  // fsync on ext4 with barriers: a power loss at any flush loses no acknowledged record.
  const fsync = find("fsync-log.ts", "power-loss at flushes");
  assert.equal(fsync.sweep!.failed, 0);
  assert.ok(fsync.sweep!.points >= 16, "a flush per record at least");
  // barrier=0: the sweep over writes and flushes finds lost acknowledged records.
  const nobarrier = find("fsync-log-nobarrier.ts", "power-loss at all");
  assert.ok(nobarrier.sweep!.failed > 0);
  assert.match(nobarrier.reason, /acknowledged key.* lost/);
  // sqlite3 synchronous=OFF: lost.
  const syncOff = find("sqlite-sync-off.ts", "power-loss at all");
  assert.ok(syncOff.sweep!.failed > 0);
  assert.match(syncOff.reason, /acknowledged key.* lost/);
  // Power-loss points share checks when their crash states are the same.
  assert.ok(nobarrier.sweep!.distinctCrashStates! < nobarrier.sweep!.points);

  const xml = await Deno.readTextFile(junit);
  assert.match(
    xml,
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites tests="\d+" failures="0"/,
  );
  assert.equal((xml.match(/<testcase /g) ?? []).length, checks.length);
});

Deno.test("a scenario with a wrong expectation turns ci red, and the output carries the reproduce command", async () => {
  await using work = await makePrivateDir("faultline-red-");
  const scenario = "fixtures/unsynced.json";
  const result = await faultline(["ci", scenario, "--trace-dir", join(work.path, "traces")], {
    timeoutMs: 600_000,
  });
  assert.equal(result.code, 1, result.text);
  assert.match(result.stdout, /power-loss at writes\s+FAIL/);
  // The trace as --trace-dir gave it (absolute here), not relative to the working directory.
  const trace = join(work.path, "traces", "unsynced.trace").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.match(
    result.stdout,
    new RegExp(`reproduce: faultline replay ${trace} --fault power-loss --fault-at \\d+`),
  );
  assert.match(result.stdout, /\d+ of \d+ checks passed/);
});

Deno.test("sweep: N..M includes both ends, JSON, JUnit and the report page; exit 1 when a point fails", async () => {
  await using dir = await makePrivateDir("faultline-sweep-");
  const trace = await traceOf("fsync-log-nobarrier");
  const junit = join(dir.path, "sweep.xml");
  const html = join(dir.path, "sweep.html");
  const result = await faultline([
    "sweep",
    trace,
    "--fault",
    "power-loss",
    "--points",
    "20..30",
    "--jobs",
    "2",
    "--json",
    "--junit",
    junit,
    "--html",
    html,
  ], { timeoutMs: 600_000 });
  assert.equal(result.code, 1, result.text);
  const summary = JSON.parse(result.stdout);
  assert.deepEqual(summary.points.map((p: { at: number }) => p.at), [
    20,
    21,
    22,
    23,
    24,
    25,
    26,
    27,
    28,
    29,
    30,
  ]);
  assert.equal(summary.passed + summary.failed + summary.notFired, 11);
  assert.ok(summary.failed > 0);
  for (const point of summary.points) {
    assert.match(point.reproduce, new RegExp(`--fault power-loss --fault-at ${point.at}$`));
    assert.ok("pass" in point.verdict && "reason" in point.verdict);
    assert.ok(point.oracle && "acked" in point.oracle);
  }
  // The points' traces were not kept: nothing names them (they were in a directory the sweep removed).
  assert.ok(summary.points.every((point: object) => !("trace" in point)));
  const xml = await Deno.readTextFile(junit);
  assert.match(xml, /<failure message="\d+ acknowledged key/);
  assert.equal((xml.match(/<system-out>/g) ?? []).length, 11, "every point's verdict and oracle");
  assert.doesNotMatch(xml, /trace: /);
  const page = await Deno.readTextFile(html);
  assert.match(page, /^<!DOCTYPE html>/i);
  assert.match(page, /--fault power-loss --fault-at \d+/);
  assert.doesNotMatch(page, /faultline-sweep-|replay trace:/);
  // Beside the page, the recording's timeline for ui.perfetto.dev, which the page links.
  assert.match(page, /<a id="perfetto" href="sweep\.perfetto\.json">/);
  const timeline = JSON.parse(await Deno.readTextFile(join(dir.path, "sweep.perfetto.json")));
  assert.deepEqual(chromeTraceProblems(timeline), []);

  // A failing point confirmed (--confirm 3) is rated; its traces are kept, each point naming
  // its own; the command it prints, run as printed, fails 3 of 3.
  const failing = summary.points.find((p: { verdict: { pass: boolean } }) => !p.verdict.pass);
  const kept = join(dir.path, "kept");
  const again = await faultline([
    "sweep",
    trace,
    "--fault",
    "power-loss",
    "--points",
    `${failing.at - 1}..${failing.at}`,
    "--confirm",
    "3",
    "--keep-traces",
    kept,
    "--json",
  ], { timeoutMs: 600_000 });
  assert.equal(again.code, 1, again.text);
  const confirmed = JSON.parse(again.stdout);
  assert.equal(confirmed.confirm, 3);
  for (const point of confirmed.points) {
    assert.ok(point.trace.startsWith(kept), point.trace);
    assert.ok((await Deno.stat(point.trace)).isFile, point.trace);
  }
  const point = confirmed.points.find((p: { at: number }) => p.at === failing.at);
  assert.deepEqual(point.reproduced, { failed: 3, runs: 3 }, again.stdout);
  assert.match(point.reproduce, new RegExp(`--fault-at ${failing.at} --runs 3$`));
  assert.doesNotMatch(point.reproduce, /['"]/, "words a shell splits on spaces");
  const [command, ...words] = point.reproduce.split(" ");
  assert.equal(command, "faultline");
  // In a directory of its own: the replay's traces go to the working directory.
  const reproduced = await faultline(words, { timeoutMs: 300_000, cwd: dir.path });
  assert.equal(reproduced.code, 1, reproduced.text);
  assert.match(reproduced.stdout, /failed in 3 of 3 runs \(stable 3\/3\)/);
});

Deno.test("sweep stopped by SIGINT: exit 130, the finished points' JSON, JUnit and page marked partial, nothing left running or in TMPDIR", async () => {
  await using dir = await makePrivateDir("faultline-sweep-sigint-");
  await using tmp = await makePrivateDir("faultline-sweep-sigint-tmp-");
  const trace = await traceOf("fsync-log");
  const junit = join(dir.path, "sweep.xml");
  const html = join(dir.path, "sweep.html");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "mod.ts",
      "sweep",
      trace,
      "--fault",
      "power-loss",
      "--points",
      "flushes",
      "--jobs",
      "1",
      "--json",
      "--junit",
      junit,
      "--html",
      html,
    ],
    env: { TMPDIR: tmp.path },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  // --json: progress lines on stderr; stop the sweep once a point has finished.
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  while (!/"points":[1-9]/.test(stderr)) {
    const { value, done } = await lines.read();
    assert.ok(!done, `the sweep ended before a point finished: ${stderr}`);
    stderr += value;
  }
  const children = await childProcesses(child.pid);
  child.kill("SIGINT");
  for (;;) {
    const { value, done } = await lines.read();
    if (done) break;
    stderr += value;
  }
  const status = await child.status;
  assert.equal(status.code, 130, stderr);
  assert.equal(status.signal, null, "the sweep exited by itself");
  const summary = JSON.parse(await stdout);
  const finished = summary.points.length;
  const planned = summary.partial?.pointsPlanned;
  assert.ok(finished >= 1 && finished < planned, `${finished} of ${planned} points`);
  assert.equal(
    stderr.trim().split("\n").at(-1),
    `faultline: interrupted by SIGINT: ${finished} of ${planned} points finished; their results, marked partial, are in ${junit}, ${html}, ${
      join(dir.path, "sweep.perfetto.json")
    }`,
  );
  const xml = await Deno.readTextFile(junit);
  assert.match(xml, new RegExp(`partial: ${finished} of ${planned} points, the sweep was stopped`));
  assert.equal([...xml.matchAll(/<testcase /g)].length, finished);
  assert.match(
    await Deno.readTextFile(html),
    new RegExp(`Partial: the sweep was stopped after ${finished} of ${planned} points`),
  );
  for (const pid of children) assert.equal(await isAlive(pid), false, `process ${pid} is gone`);
  assert.deepEqual([...Deno.readDirSync(tmp.path)], [], "no temporary directory stays behind");
});

Deno.test("sweep with an online fault re-runs the workload at sampled points (every:K)", async () => {
  const trace = await traceOf("fsync-log");
  const result = await faultline([
    "sweep",
    trace,
    "--fault",
    "eio",
    "--points",
    "every:40",
    "--jobs",
    "2",
    "--json",
  ], { timeoutMs: 600_000 });
  assert.equal(result.code, 0, result.text);
  const summary = JSON.parse(result.stdout);
  assert.ok(summary.points.length >= 2);
  assert.ok(
    summary.points.every((p: { at: number; fired: boolean }) => p.at % 40 === 0 && p.fired),
  );
  assert.equal(summary.failed, 0);
  assert.equal(
    summary.distinctCrashStates,
    undefined,
    "online faults run the workload at each point",
  );
  assert.equal(summary.replays, summary.points.length);
});

Deno.test("sweep refuses bad requests with exit code 2", async () => {
  const trace = await traceOf("fsync-log");
  const cases: [string[], RegExp][] = [
    [["--fault", "eio", "--points", "30..10"], /the range 30\.\.10 is empty/],
    [
      ["--fault", "eio", "--points", "sometimes"],
      /"sometimes" is no selection; expected N, N\.\.M, all, reads, writes, flushes .*every:K/,
    ],
    [["--fault", "eio@17", "--points", "all"], /write the fault without @/],
    [["--fault", "melt", "--points", "all"], /unknown fault kind "melt"/],
  ];
  for (const [args, pattern] of cases) {
    const result = await faultline(["sweep", trace, ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.text}`);
    assert.match(result.stderr, pattern);
  }
});
