/**
 * Recovery order against real QEMU guests (fixtures/cluster-recovery.json: n1 and n2 serve
 * the check, n3 runs it; n2 serves its log only when n1 answered as it started). Recorded
 * `in-order`, n2 boots only once n1 said ready; a sweep with `each-order` checks a point in
 * both orders, finds the loss in order n2,n1 alone and names it, and the command it prints
 * replays that order. Scenarios of their own: a member that never says ready, one whose
 * script ends before it is ready, and `with-checks` (the check starts beside the members).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { EventRecord } from "../src/trace/schema.ts";
import { makePrivateDir, type PrivateDir } from "../src/util/tempdir.ts";
import { faultline, readTraceRecords } from "./support/mod.ts";

const FIXTURE = "fixtures/cluster-recovery.json";

/** The time of the first event that matches. */
function timeOf(events: EventRecord[], match: (e: EventRecord) => boolean, what: string): number {
  const event = events.find(match);
  assert.ok(event, `no event: ${what}`);
  return event.time;
}

const guestLine = (node: string, line: string) => (e: EventRecord) =>
  e.event === "guest" && e.node === node && e.phase === "restart" && e.line === line;
const started = (node: string) => (e: EventRecord) =>
  e.event === "recovery-start" && e.node === node;

/** One recording of the fixture (recovery: in-order), shared by the tests of this file. */
let recorded: Promise<{ dir: PrivateDir; trace: string; text: string }> | null = null;
function recording(): Promise<{ dir: PrivateDir; trace: string; text: string }> {
  recorded ??= (async () => {
    const dir = await makePrivateDir("faultline-recovery-");
    const trace = join(dir.path, "recovery.trace");
    const result = await faultline(["record", FIXTURE, "-o", trace], { timeoutMs: 240_000 });
    assert.equal(result.code, 0, result.text);
    return { dir, trace, text: result.stdout };
  })();
  return recorded;
}
globalThis.addEventListener("unload", () => {
  recorded?.then(({ dir }) => dir.remove());
});

Deno.test("recovery in-order: the check phase starts n2 only once n1 said ready, and n3's check once n2 did", async () => {
  const { trace, text } = await recording();
  assert.match(text, /^recovery in-order: n1, then n2$/m);
  const { events } = await readTraceRecords(trace);
  const recovery = events.find((e) => e.event === "recovery");
  assert.deepEqual([recovery?.name, recovery?.order], ["in-order", ["n1", "n2"]]);
  const n1Ready = timeOf(events, guestLine("n1", "ready"), "n1 ready");
  const n2Start = timeOf(events, started("n2"), "n2 started");
  assert.ok(timeOf(events, started("n1"), "n1 started") < n1Ready);
  assert.ok(n2Start > n1Ready, `n2 started at ${n2Start} ms, n1 said ready at ${n1Ready} ms`);
  // The guest's side: n2's boot began after n1's ready line came.
  assert.ok(timeOf(events, guestLine("n2", "phase boot"), "n2 booted") > n1Ready);
  assert.deepEqual(
    events.filter((e) => e.event === "recovery-wait").map((e) => [e.node, e.how]),
    [["n1", "ready"], ["n2", "ready"]],
  );
  const n2Ready = timeOf(events, guestLine("n2", "ready"), "n2 ready");
  const n3Boot = timeOf(
    events,
    (e) => e.event === "guest" && e.node === "n3" && e.phase === "check",
    "n3's check",
  );
  assert.ok(n3Boot > n2Ready, `n3's check began at ${n3Boot} ms, n2 said ready at ${n2Ready} ms`);
});

Deno.test("recovery each-order: a sweep checks a point in both orders, names the failing one, and its command replays that order", async () => {
  const { dir, trace } = await recording();
  const { ops, events } = await readTraceRecords(trace);
  // The first flush of n2's disk after its last ack: every record acknowledged is durable,
  // and n1's file too (n2 writes its log only once n1 said its file was synced; n1's own later
  // flushes, its unmount's, can come after n2's under load, and change nothing).
  const lastAck = events.filter((e) =>
    e.event === "guest" && e.node === "n2" && String(e.line).startsWith("ack ")
  ).at(-1)!;
  const n2Flushes = ops.filter((o) => o.node === "n2" && o.op === "flush" && o.phase === "run")
    .sort((a, b) => a.index - b.index);
  const flush = n2Flushes.find((o) => o.index >= lastAck.at);
  assert.ok(
    flush,
    `no flush of n2's after its last ack (at ${lastAck.at}); n2's run flushes: ${
      n2Flushes.map((o) => o.index).join(", ")
    }`,
  );
  const swept = await faultline([
    "sweep",
    trace,
    "--fault",
    "power-loss",
    "--points",
    `${flush.index}..${flush.index}`,
    "--recovery",
    "each-order",
    "--jobs",
    "1",
    "--json",
  ], { timeoutMs: 600_000 });
  assert.equal(swept.code, 1, swept.text);
  const result = JSON.parse(swept.stdout);
  assert.deepEqual(result.recovery, { name: "each-order", orders: [["n1", "n2"], ["n2", "n1"]] });
  const [point] = result.points;
  assert.deepEqual(
    point.orders.map((o: { order: string[]; verdict: { pass: boolean } }) => [
      o.order.join(","),
      o.verdict.pass,
    ]),
    [["n1,n2", true], ["n2,n1", false]],
  );
  assert.match(
    point.verdict.reason,
    /^1 of 2 recovery orders fail; order n2,n1: 4 acknowledged keys lost/,
  );
  assert.match(point.reproduce, new RegExp(`--fault-at ${flush.index} --recovery n2,n1 --runs 3$`));
  // Confirmed as a crash state's finding is: 3 runs of that order, each a loss.
  assert.deepEqual(point.orders[1].reproduced, { failed: 3, runs: 3 });
  assert.equal(result.replays, 4);

  // The printed command, once: the check starts n2, then n1 once n2 said ready, and loses the log.
  const args = point.reproduce.replace(/^faultline /, "").replace(/ --runs 3$/, "").split(" ");
  const output = join(dir.path, "order-n2-n1.trace");
  const replayed = await faultline([...args, "-o", output], { timeoutMs: 240_000 });
  assert.equal(replayed.code, 1, replayed.text);
  assert.match(replayed.stdout, /^recovery n2,n1: n2, then n1$/m);
  assert.match(replayed.stdout, /oracle: acked 4, found 0, lost 4/);
  const replay = (await readTraceRecords(output)).events;
  const recovery = replay.find((e) => e.event === "recovery");
  assert.deepEqual([recovery?.name, recovery?.order], ["n2,n1", ["n2", "n1"]]);
  assert.ok(
    timeOf(replay, started("n1"), "n1 started") >
      timeOf(replay, guestLine("n2", "ready"), "n2 ready"),
  );
});

Deno.test("a serving member that never says ready is killed timeouts.boot + timeouts.check after it started; the checks do not start; the run is unavailable", async () => {
  await using dir = await makePrivateDir("faultline-unready-");
  const scenario = join(dir.path, "never-ready.json");
  await Deno.writeTextFile(
    scenario,
    JSON.stringify({
      name: "never-ready",
      description: "n1 serves the check and never says it is ready; n2's check must not start",
      nodes: {
        n1: { disks: {}, workload: "true", restart: "sleep 600", ready: true },
        n2: { disks: {}, workload: "true", check: "report have nothing\nexit 0" },
      },
      timeouts: { boot: "10s", run: "60s", check: "5s" },
    }),
  );
  const trace = join(dir.path, "never-ready.trace");
  const result = await faultline(["record", scenario, "-o", trace, "--json"], {
    timeoutMs: 180_000,
  });
  assert.equal(result.code, 1, result.text);
  const { verdict, phases } = JSON.parse(result.stdout);
  assert.deepEqual(verdict, {
    pass: false,
    kind: "unavailable",
    reason:
      "unavailable: n1 booted and never reported ready after the crash; the checks did not start",
  });
  const checkPhases = phases.filter((p: { phase: string }) => p.phase !== "run");
  assert.deepEqual(
    checkPhases.map((p: { node: string; phase: string; how: string }) => [p.node, p.phase, p.how]),
    [["n1", "restart", "deadline"]],
    "n2's check never booted",
  );
  assert.ok(checkPhases[0].ms >= 15_000, `n1 was killed after ${checkPhases[0].ms} ms`);
});

Deno.test("a serving member whose script ends before it is ready: the others are not waited for, the checks do not start, and the verdict says how it ended", async () => {
  await using dir = await makePrivateDir("faultline-unready-exit-");
  const scenario = join(dir.path, "died.json");
  await Deno.writeTextFile(
    scenario,
    JSON.stringify({
      name: "died",
      description: "n1's daemon dies as it restarts; n2 serves and is never ready",
      nodes: {
        n1: {
          disks: {},
          workload: "true",
          restart: "echo 'daemon exited: refused'\nexit 3",
          ready: true,
        },
        n2: { disks: {}, workload: "true", restart: "sleep 600", ready: true },
        n3: { disks: {}, workload: "true", check: "report have nothing\nexit 0" },
      },
      // n2 would be killed at the bound, 120 s: it is stopped once n1 ended instead.
      timeouts: { boot: "60s", run: "60s", check: "60s" },
    }),
  );
  const trace = join(dir.path, "died.trace");
  const result = await faultline(["record", scenario, "-o", trace, "--json"], {
    timeoutMs: 240_000,
  });
  assert.equal(result.code, 1, result.text);
  const { verdict, phases } = JSON.parse(result.stdout);
  assert.deepEqual(verdict, {
    pass: false,
    kind: "unavailable",
    reason: "unavailable: n1 booted and never reported ready after the crash (its restart " +
      'script exited 3; its last line: "daemon exited: refused"); the checks did not start',
  });
  const checkPhases = phases.filter((p: { phase: string }) => p.phase !== "run");
  assert.deepEqual(
    checkPhases.map((p: { node: string; phase: string; how: string }) => [p.node, p.phase, p.how]),
    [["n1", "restart", "exited"], ["n2", "restart", "aborted"]],
    "n2 stopped, not at its deadline; n3's check never booted",
  );
});

Deno.test("recovery with-checks: the checks start with the serving members (n1 is ready only once n3's check reached it); a member never ready still makes the run unavailable", async () => {
  await using dir = await makePrivateDir("faultline-with-checks-");
  const scenario = join(dir.path, "with-checks.json");
  await Deno.writeTextFile(
    scenario,
    JSON.stringify({
      name: "with-checks",
      description: "n1 is ready once n3's check reached it; n2 never is",
      nodes: {
        n1: {
          disks: {},
          workload: "true",
          restart: "nc -l -p 7000 >/dev/null\nreport ready\nsleep 600",
          ready: true,
        },
        n2: { disks: {}, workload: "true", restart: "sleep 600", ready: true },
        n3: {
          disks: {},
          workload: "true",
          check: "until echo hello | nc n1 7000; do sleep 0.2; done\nexit 0",
        },
      },
      recovery: "with-checks",
      timeouts: { boot: "10s", run: "60s", check: "5s" },
    }),
  );
  const trace = join(dir.path, "with-checks.trace");
  const result = await faultline(["record", scenario, "-o", trace, "--json"], {
    timeoutMs: 180_000,
  });
  assert.equal(result.code, 1, result.text);
  const { verdict, phases, recovery } = JSON.parse(result.stdout);
  assert.deepEqual(verdict, {
    pass: false,
    kind: "unavailable",
    reason: "unavailable: n2 booted and never reported ready after the crash",
  });
  assert.equal(recovery.name, "with-checks");
  const inCheck = Object.fromEntries(
    phases.filter((p: { phase: string }) => p.phase !== "run").map((
      p: { node: string; phase: string; how: string; ms: number },
    ) => [p.node, p]),
  );
  assert.deepEqual(
    [inCheck.n1?.phase, inCheck.n2?.phase, inCheck.n3?.phase],
    ["restart", "restart", "check"],
  );
  assert.equal(inCheck.n3.how, "exited", "n3's check reached n1 and ended by itself");
  assert.equal(inCheck.n2.how, "deadline");
  assert.ok(inCheck.n2.ms >= 15_000, `n2 was killed after ${inCheck.n2.ms} ms`);
  const { events } = await readTraceRecords(trace);
  assert.ok(events.some(guestLine("n1", "ready")), "n1 said ready");
});
