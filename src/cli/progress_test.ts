import assert from "node:assert/strict";
import type { CiProgress } from "../ci/ci.ts";
import type { SweepProgress } from "../sweep/result.ts";
import { ciProgressEvent, ciProgressLine } from "./ci.ts";
import {
  pacedProgress,
  type Progress,
  progressLine,
  ProgressPace,
  roughDuration,
} from "./progress.ts";
import { runsProgress } from "./replay.ts";
import { sweepLine } from "./sweep.ts";

/** A clock the test steps by hand. */
function clock(): { now: () => number; at: (ms: number) => void } {
  let t = 0;
  return { now: () => t, at: (ms) => t = ms };
}

const sweeping = (done: number, failed: number, etaMs: number | null): Progress => ({
  work: "sweep",
  done,
  total: 40,
  unit: "points",
  findings: failed,
  etaMs,
});

Deno.test("progress pace: the first line at once, then one every 10 s, never sooner", () => {
  const { now, at } = clock();
  const pace = new ProgressPace(10_000, now);
  assert.equal(pace.wait(), 0);
  assert.equal(pace.take(), true);
  at(9_999);
  assert.equal(pace.take(), false);
  assert.equal(pace.wait(), 1);
  at(10_000);
  assert.equal(pace.take(), true);
  at(12_000);
  pace.mark();
  assert.equal(pace.wait(), 10_000);
  at(21_999);
  assert.equal(pace.take(), false);
});

Deno.test("paced progress: a line at least every 10 s while nothing finishes, the time left counted down", () => {
  const { now, at } = clock();
  const lines: string[] = [];
  const paced = pacedProgress<Progress>({
    print: (line) => lines.push(line),
    format: progressLine,
    now,
    timers: false,
  });
  paced.show(sweeping(0, 0, null));
  assert.deepEqual(lines, [
    "sweep: 0/40 points, 0 failing so far, 0 s in, time left not known yet",
  ]);
  // A point ends 3 s in: not a line yet (one every 10 s at most).
  at(3_000);
  paced.show(sweeping(1, 1, 390_000));
  assert.equal(lines.length, 1);
  at(9_999);
  paced.tick();
  assert.equal(lines.length, 1);
  // 10 s in: the latest progress, measured 7 s ago, its time left 7 s shorter.
  at(10_000);
  paced.tick();
  assert.equal(lines[1], "sweep: 1/40 points, 1 failing so far, 10 s in, about 6 min 23 s left");
  // Nothing new for a minute (a cluster's replay): still a line every 10 s.
  for (let t = 15_000; t <= 70_000; t += 5_000) {
    at(t);
    paced.tick();
  }
  assert.equal(lines.length, 8);
  assert.match(lines.at(-1)!, /, 1 min 10 s in, about 5 min 23 s left$/);
  paced.stop();
  at(200_000);
  paced.tick();
  paced.show(sweeping(2, 1, 1000));
  assert.equal(lines.length, 8, "nothing after stop");
});

Deno.test("paced progress, eager (JSON lines): every report printed, and the pace between them", () => {
  const { now, at } = clock();
  const lines: string[] = [];
  const paced = pacedProgress<Progress>({
    print: (line) => lines.push(line),
    format: (p, times) => JSON.stringify({ done: p.done, sinceMs: times.sinceMs }),
    eager: true,
    now,
    timers: false,
  });
  paced.show(sweeping(0, 0, null));
  at(1_000);
  paced.show(sweeping(1, 0, null));
  at(2_000);
  paced.show(sweeping(2, 0, null));
  at(11_999);
  paced.tick();
  at(12_000);
  paced.tick();
  assert.deepEqual(lines.map((line) => JSON.parse(line)), [
    { done: 0, sinceMs: 0 },
    { done: 1, sinceMs: 0 },
    { done: 2, sinceMs: 0 },
    { done: 2, sinceMs: 10_000 },
  ]);
});

Deno.test("paced progress: the real timer prints while the work is silent (lower bound only)", async () => {
  const lines: string[] = [];
  const paced = pacedProgress<Progress>({
    print: (line) => lines.push(line),
    format: progressLine,
    everyMs: 20,
  });
  paced.show(sweeping(0, 0, null));
  await new Promise((resolve) => setTimeout(resolve, 120));
  paced.stop();
  assert.ok(lines.length >= 2, `a line at once and at least one from the timer: ${lines}`);
});

Deno.test("progress lines: preparing, done, the time left never below 1 s", () => {
  const times = { elapsedMs: 5_000, sinceMs: 0 };
  assert.equal(progressLine(sweepLine(null), times), "sweep: preparing, 5 s in");
  assert.equal(
    progressLine(sweeping(40, 2, 0), times),
    "sweep: 40/40 points, 2 failing so far, 5 s in, done",
  );
  assert.match(
    progressLine(sweeping(39, 2, 500), { elapsedMs: 5_000, sinceMs: 9_000 }),
    /about 1 s left$/,
  );
  assert.equal(roughDuration(44_100), "45 s");
  assert.equal(roughDuration(185_000), "3 min 5 s");
  const sweep: SweepProgress = {
    done: 3,
    total: 10,
    points: { done: 7, total: 30 },
    failed: 1,
    perMinute: 4,
    etaMs: 105_000,
  };
  assert.deepEqual(sweepLine(sweep), {
    work: "sweep",
    done: 7,
    total: 30,
    unit: "points",
    findings: 1,
    etaMs: 105_000,
  });
});

Deno.test("ci progress: the check running, its sweep's points, failing points, time left and failed checks", () => {
  const times = { elapsedMs: 60_000, sinceMs: 5_000 };
  const progress: CiProgress = {
    checks: { done: 2, total: 7 },
    failed: 1,
    current: {
      scenario: "scenarios/fsync-log.ts",
      name: "power-loss at flushes",
      sweep: {
        done: 3,
        total: 10,
        points: { done: 12, total: 40 },
        failed: 1,
        perMinute: 4,
        etaMs: 50_000,
      },
    },
  };
  assert.equal(
    ciProgressLine(progress, times),
    "ci: check 3 of 7 (scenarios/fsync-log.ts: power-loss at flushes): 12/40 points, 1 failing so far, 1 min 0 s in, about 45 s left; 1 of 2 checks failed so far",
  );
  const recording = { ...progress, current: { scenario: "scenarios/etcd-put.ts", name: "record" } };
  assert.equal(
    ciProgressLine(recording, times),
    "ci: check 3 of 7 (scenarios/etcd-put.ts: record), 1 min 0 s in; 1 of 2 checks failed so far",
  );
  assert.equal(
    ciProgressLine({ ...progress, current: null }, times),
    "ci: 2/7 checks, 1 failing so far, 1 min 0 s in, time left not known yet",
  );
  assert.deepEqual(JSON.parse(ciProgressEvent(progress, 5_000)), {
    event: "progress",
    checks: 2,
    checksTotal: 7,
    checksFailed: 1,
    check: { scenario: "scenarios/fsync-log.ts", name: "power-loss at flushes" },
    points: 12,
    pointsTotal: 40,
    replays: 3,
    replaysTotal: 10,
    failed: 1,
    perMinute: 4,
    etaMs: 45_000,
  });
});

Deno.test("replay --runs progress: runs done, failing runs, the time left at the runs' mean", () => {
  const pass = { verdict: { pass: true, reason: "" } };
  const fail = { verdict: { pass: false, reason: "lost" } };
  assert.deepEqual(runsProgress({ done: [], took: [], runs: 5 }), {
    work: "replay",
    done: 0,
    total: 5,
    unit: "runs",
    findings: 0,
    etaMs: null,
  });
  const two = runsProgress({ done: [pass, fail], took: [61_000, 59_000], runs: 5 });
  assert.equal(two.findings, 1);
  assert.equal(two.etaMs, 180_000);
  assert.equal(
    progressLine(two, { elapsedMs: 120_000, sinceMs: 0 }),
    "replay: 2/5 runs, 1 failing so far, 2 min 0 s in, about 3 min 0 s left",
  );
});
