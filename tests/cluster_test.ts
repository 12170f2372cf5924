/**
 * Clusters against real QEMU guests: three busybox nodes joined by faultline's
 * switch (fixtures/cluster-fetch.json), their frames in the trace and in a pcapng
 * that tshark reads, a partition healed over the control socket, a node crashed and
 * restarted while the others run, a node paused, a power loss of the whole cluster
 * built from the trace and injected live, and the bad input a cluster run refuses.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { selectCrashWrites } from "../src/run/crash_state.ts";
import { loadTrace } from "../src/trace/load.ts";
import type { EventRecord } from "../src/trace/schema.ts";
import { makePrivateDir, type PrivateDir } from "../src/util/tempdir.ts";
import { faultline, readTraceRecords, run } from "./support/mod.ts";

const FIXTURE = "fixtures/cluster-fetch.json";

/** The guest lines of a trace: node, phase, and the words of the line. */
function guestLines(
  events: EventRecord[],
): { node: string; phase: string; words: string[]; at: number; time: number }[] {
  return events.filter((e) => e.event === "guest").map((e) => ({
    node: String(e.node),
    phase: String(e.phase),
    words: String(e.line).trim().split(/\s+/),
    at: e.at,
    time: e.time,
  }));
}

/** One recording of the fixture, shared by the tests of this file. */
let recorded: Promise<{ dir: PrivateDir; trace: string }> | null = null;
function recording(): Promise<{ dir: PrivateDir; trace: string }> {
  recorded ??= (async () => {
    const dir = await makePrivateDir("faultline-cluster-");
    const trace = join(dir.path, "fetch.trace");
    const result = await faultline(["record", FIXTURE, "-o", trace, "--json"], {
      timeoutMs: 240_000,
    });
    assert.equal(result.code, 0, result.text);
    return { dir, trace };
  })();
  return recorded;
}
globalThis.addEventListener("unload", () => {
  recorded?.then(({ dir }) => dir.remove());
});

Deno.test("cluster: three nodes fetch each other's files; frames between every pair; tshark reads the pcapng", async () => {
  const { dir, trace } = await recording();
  const { frames, events } = await readTraceRecords(trace);
  const lines = guestLines(events);
  // Each fetched from both peers. Not in every round: a peer still booting refuses the
  // first fetches (seen when the machine is busy), so a round may miss it.
  for (const node of ["n1", "n3"]) {
    const acks = lines.filter((l) => l.node === node && l.words[0] === "ack");
    for (const peer of ["n1", "n2", "n3"].filter((p) => p !== node)) {
      assert.ok(
        acks.some((l) => l.words[1].startsWith(`${node}-${peer}-`)),
        `${node} fetched from ${peer}: ${JSON.stringify(lines.filter((l) => l.node === node))}`,
      );
    }
  }
  for (
    const [from, to] of [["n1", "n2"], ["n1", "n3"], ["n2", "n1"], ["n2", "n3"], ["n3", "n1"], [
      "n3",
      "n2",
    ]]
  ) {
    assert.ok(
      frames.some((f) => f.from === from && f.to.includes(to) && f.proto === 6),
      `TCP frames from ${from} to ${to}`,
    );
  }
  const stats = await faultline(["trace", "stats", trace, "--json"]);
  assert.equal(stats.code, 0, stats.text);
  const pcap = join(dir.path, "fetch.pcapng");
  const written = await faultline(["trace", "pcap", trace, "-o", pcap]);
  assert.equal(written.code, 0, written.text);
  const conversations = await run("tshark", ["-r", pcap, "-q", "-z", "conv,tcp"]);
  assert.equal(conversations.code, 0, conversations.text);
  for (const a of ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) {
    for (const b of ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) {
      if (a >= b) continue;
      assert.match(
        conversations.stdout,
        new RegExp(
          `${a.replaceAll(".", "\\.")}:\\d+\\s+<->\\s+${b.replaceAll(".", "\\.")}:7000|${
            b.replaceAll(".", "\\.")
          }:\\d+\\s+<->\\s+${a.replaceAll(".", "\\.")}:7000`,
        ),
        `a TCP conversation between ${a} and ${b}`,
      );
    }
  }
  const names = await run("tshark", ["-r", pcap, "-T", "fields", "-e", "frame.interface_name"]);
  assert.deepEqual([...new Set(names.stdout.trim().split("\n"))].sort(), ["n1", "n2", "n3"]);
});

Deno.test("cluster: a partition cuts n1 off while n2 and n3 talk; heal over the control socket restores it", async () => {
  const { dir, trace } = await recording();
  const control = join(dir.path, "control.sock");
  const output = join(dir.path, "partition.trace");
  const replaying = faultline([
    "replay",
    trace,
    "--fault",
    "partition:n1|n2,n3@+0s",
    "--control",
    control,
    "-o",
    output,
    "--json",
  ], { timeoutMs: 240_000 });
  // Heal once n1 saw a fetch fail: its line is in the replay's trace (written in batches as it goes).
  let healed = false;
  for (let i = 0; i < 1200 && !healed; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const events = await readTraceRecords(output).then((t) => t.events, () => []);
    if (guestLines(events).some((l) => l.node === "n1" && l.words[0] === "missed")) {
      const heal = await faultline(["fault", control, "link", "none"]);
      assert.equal(heal.code, 0, heal.text);
      healed = true;
    }
  }
  assert.ok(healed, "n1's fetch failed under the partition, which was then healed");
  const result = await replaying;
  assert.equal(result.code, 0, result.text);
  const { frames, events } = await readTraceRecords(output);
  const lines = guestLines(events);
  const n1 = lines.filter((l) =>
    l.node === "n1" && (l.words[0] === "ack" || l.words[0] === "missed")
  );
  assert.equal(n1[0].words[0], "missed", `n1's first fetch failed: ${JSON.stringify(n1)}`);
  // After the heal n1 fetches again. Not necessarily its last fetch: a peer whose rounds
  // ended first has powered off by then.
  assert.ok(
    n1.some((l) => l.words[0] === "ack"),
    `n1 fetched after the heal: ${JSON.stringify(n1)}`,
  );
  // n2 and n3 talk throughout: no copy between them dropped (a broadcast's copy to n1 is),
  // and n3 fetched from n2 (a fetch may still miss a peer that is booting, so the frames
  // say it, not every fetch).
  const inside = frames.filter((f) =>
    (f.from === "n2" && f.to.includes("n3")) || (f.from === "n3" && f.to.includes("n2"))
  );
  assert.ok(inside.length > 0, "frames between n2 and n3");
  assert.deepEqual(
    inside.filter((f) => f.dropped?.includes(f.from === "n2" ? "n3" : "n2")).map((f) => f.index),
    [],
    "no copy between n2 and n3 dropped",
  );
  assert.ok(
    lines.some((l) => l.node === "n3" && l.words[0] === "ack" && l.words[1].startsWith("n3-n2-")),
    "n3 fetched from n2",
  );
  const across = frames.filter((f) =>
    (f.from === "n1" && f.to.some((t) => t !== "n1")) || (f.from !== "n1" && f.to.includes("n1"))
  );
  assert.ok(
    across.some((f) => f.faults?.some((fault) => fault.kind === "partition") && f.dropped),
    "frames across the partition are recorded as dropped",
  );
});

Deno.test("cluster: restart:n2 cuts n2 to its durable state and boots it again while n1 and n3 run on; 2 of 2 runs agree, and drop:0.3,link=n1->n2 drops the same frames of that link in each", async () => {
  const { dir, trace } = await recording();
  const output = join(dir.path, "restart.trace");
  const result = await faultline([
    "replay",
    trace,
    "--fault",
    "restart:n2,after=1s@n2/data/write#10",
    "--with",
    "drop:0.3,link=n1->n2",
    "--runs",
    "2",
    "-o",
    output,
    "--json",
  ], { timeoutMs: 400_000 });
  assert.equal(result.code, 0, result.text);
  const summary = JSON.parse(result.stdout);
  assert.deepEqual(summary.reproduced, { failed: 0, runs: 2 }, "the two verdicts agree");
  // The k-th frame n1 sent n2 is dropped in every run or in none, however the links interleave.
  const dropped = await Promise.all([1, 2].map((run) => droppedOnLink(run)));
  const common = Math.min(...dropped.map((d) => d.sent));
  const within = (d: { positions: number[] }) => d.positions.filter((p) => p <= common);
  assert.ok(within(dropped[0]).length > 0, "some frames of n1->n2 were dropped");
  assert.deepEqual(within(dropped[1]), within(dropped[0]));
  async function droppedOnLink(run: number): Promise<{ sent: number; positions: number[] }> {
    const { frames } = await readTraceRecords(output.replace(/\.trace$/, `-${run}.trace`));
    const onLink = frames.filter((f) => f.from === "n1" && f.to.includes("n2"));
    const positions = onLink.flatMap((f, i) => f.dropped?.includes("n2") ? [i + 1] : []);
    return { sent: onLink.length, positions };
  }
  const { events } = await readTraceRecords(output.replace(/\.trace$/, "-1.trace"));
  const crash = events.find((e) => e.event === "crash" && e.node === "n2");
  assert.ok(crash, "n2 crashed");
  const lines = guestLines(events);
  const boots = (node: string) =>
    lines.filter((l) => l.node === node && l.words.join(" ") === "phase boot");
  assert.equal(boots("n2").length, 2, "n2 booted twice");
  assert.equal(boots("n1").length, 1, "n1 never rebooted");
  assert.equal(boots("n3").length, 1, "n3 never rebooted");
  // Durable state: every record n2 acknowledged before the cut is on the disk it restarted on.
  const acked = lines.filter((l) =>
    l.node === "n2" && l.phase === "run" && l.words[0] === "ack" && l.at <= crash.at
  )
    .map((l) => l.words[1]);
  const have = new Set(
    lines.filter((l) => l.node === "n2" && l.phase === "restart" && l.words[0] === "have").map((
      l,
    ) => l.words[1]),
  );
  assert.ok(acked.length > 0);
  for (const key of acked) {
    assert.ok(have.has(key), `${key} was acknowledged before the crash and survived`);
  }
  // n1 and n3 kept running: their uptime at the end exceeds n2's since its restart by far.
  const up = (node: string, phase: string) =>
    Number(
      lines.find((l) => l.node === node && l.phase === phase && l.words[0] === "up")?.words[1],
    );
  assert.ok(
    up("n1", "run") > up("n2", "restart") + 3,
    `n1 up ${up("n1", "run")}, n2 since restart ${up("n2", "restart")}`,
  );
  assert.ok(up("n3", "run") > up("n2", "restart") + 3);
});

Deno.test("cluster: pause:n3,2s holds n3 still for 2 s: no frame from it, no op of its disk", async () => {
  const { dir, trace } = await recording();
  const output = join(dir.path, "pause.trace");
  const result = await faultline([
    "replay",
    trace,
    "--fault",
    "pause:n3,2s@net:n1->n3/tcp:7000#3",
    "-o",
    output,
    "--json",
  ], { timeoutMs: 240_000 });
  assert.equal(result.code, 0, result.text);
  const { ops, frames, events } = await readTraceRecords(output);
  const paused = events.find((e) => e.event === "node-fault" && e.kind === "pause");
  const resumed = events.find((e) => e.event === "node-resumed");
  assert.ok(paused && resumed, "the pause fired and ended");
  assert.ok(resumed.time - paused.time >= 1990, `paused for ${resumed.time - paused.time} ms`);
  const during = (time: number) => time > paused.time + 50 && time < resumed.time - 50;
  assert.deepEqual(frames.filter((f) => f.from === "n3" && during(f.time)).map((f) => f.index), []);
  assert.deepEqual(ops.filter((o) => o.node === "n3" && during(o.start)).map((o) => o.index), []);
});

Deno.test("cluster: a power loss of the whole cluster, built from the trace and injected live, cuts every node; the node of the op keeps the same writes", async () => {
  const { dir, trace } = await recording();
  const { ops } = await readTraceRecords(trace);
  // The 6th flush of n2's data disk, in the run.
  const flush = ops.filter((o) => o.node === "n2" && o.op === "flush" && o.phase === "run")
    .sort((a, b) => a.index - b.index)[5];
  assert.ok(flush);
  /** The writes a crash kept, per node, by signature and occurrence: comparable across runs. */
  const keptOf = async (live: boolean) => {
    const output = join(dir.path, `power-${live ? "live" : "trace"}.trace`);
    const result = await faultline([
      "replay",
      trace,
      "--fault",
      "power-loss",
      "--fault-at",
      String(flush.index),
      ...(live ? ["--live"] : []),
      "-o",
      output,
      "--json",
    ], { timeoutMs: 240_000 });
    assert.equal(result.code, 0, result.text);
    const crash = (await readTraceRecords(output)).events.find((e) => e.event === "crash");
    assert.ok(crash, result.text);
    // The live run's own ops, or the recording's for a crash built from it.
    const source = live ? await loadTrace(output) : await loadTrace(trace);
    const selection = selectCrashWrites(source.records, crash.at as number, { kind: "drop" });
    assert.equal(selection.key, crash.key, "the crash event names the writes its images hold");
    const seen = new Map<string, number>();
    const kept = new Map<string, string[]>();
    for (const record of source.ordered) {
      const signature = `${record.disk}/${record.op}:${record.offset}+${record.length}`;
      const occurrence = (seen.get(`${record.node}/${signature}`) ?? 0) + 1;
      seen.set(`${record.node}/${signature}`, occurrence);
      const write = selection.writes.find((w) => w.record.index === record.index);
      if (write) {
        kept.set(record.node, [
          ...kept.get(record.node) ?? [],
          `${signature}#${occurrence}:${write.keepBytes}`,
        ]);
      }
    }
    return { images: Object.keys(crash.images as object).sort(), kept };
  };
  const built = await keptOf(false);
  const live = await keptOf(true);
  assert.deepEqual(built.images, ["n1/data", "n2/data", "n3/data"]);
  assert.deepEqual(live.images, built.images);
  // How far the other nodes had got when n2 reached its 6th flush is timing; n2's own writes are not.
  assert.deepEqual(live.kept.get("n2"), built.kept.get("n2"));
});

Deno.test("cluster: power-loss points at frames (a list: frames of a link and port, in a range) are the crash states of the moments they arrived", async () => {
  const { dir, trace } = await recording();
  const { frames } = await readTraceRecords(trace);
  // n2 serving its file to n1: the first three frames of the run n2 sent n1 from port 7000.
  const served = frames.filter((f) =>
    f.from === "n2" && f.to.includes("n1") && f.srcPort === 7000 && f.phase === "run"
  ).slice(0, 3);
  assert.equal(served.length, 3);
  const range = `${served[0].index}..${served.at(-1)!.index}`;
  const swept = await faultline([
    "sweep",
    trace,
    "--fault",
    "power-loss",
    "--points",
    `frames:n2->n1/tcp:7000,${range}`,
    "--json",
  ], { timeoutMs: 240_000 });
  assert.equal(swept.code, 0, swept.text);
  const points = JSON.parse(swept.stdout).points as { at: number; op: string; reproduce: string }[];
  assert.deepEqual(points.map((p) => p.at), served.map((f) => f.index));
  for (const point of points) assert.match(point.op, /^frame n2->n1 tcp 7000>\d+/);
  // Its replay is the crash state of that moment: the writes completed before the frame came.
  const at = served[1].index;
  assert.match(points[1].reproduce, new RegExp(`--fault power-loss --fault-at ${at}$`));
  const output = join(dir.path, "power-at-frame.trace");
  const replayed = await faultline([
    "replay",
    trace,
    "--fault",
    "power-loss",
    "--fault-at",
    String(at),
    "-o",
    output,
    "--json",
  ], { timeoutMs: 240_000 });
  assert.equal(replayed.code, 0, replayed.text);
  const crash = (await readTraceRecords(output)).events.find((e) => e.event === "crash");
  assert.ok(crash, replayed.text);
  assert.equal(crash.at, at);
  assert.equal(
    crash.key,
    selectCrashWrites((await loadTrace(trace)).records, at, { kind: "drop" }).key,
  );
});

Deno.test("cluster: bad input exits 2 with one line naming the problem", async () => {
  const { trace } = await recording();
  const cases: [string[], RegExp][] = [
    [["replay", trace, "--fault", "partition:n1|n4@+1s"], /no node n4 \(nodes: n1, n2, n3\)/],
    [["replay", trace, "--fault", "partition:n1,n2|n2,n3@+1s"], /n2 is on both sides/],
    [["replay", trace, "--fault", "crash:n9@+1s"], /no node n9/],
  ];
  for (const [args, pattern] of cases) {
    const result = await faultline(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.text}`);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
  await using dir = await makePrivateDir("faultline-cluster-bad-");
  const single = join(dir.path, "single.json");
  await Deno.writeTextFile(
    single,
    JSON.stringify({
      name: "single",
      nodes: { app: { disks: {}, workload: "true" } },
      faults: [{ fault: "partition:app|other", points: "all" }],
    }),
  );
  const result = await faultline(["record", single]);
  assert.equal(result.code, 2, result.text);
  assert.match(result.stderr, /link fault.*one node \(app\)/);
});
