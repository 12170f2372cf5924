/**
 * `faultline record` against real VMs: the shipped scenarios pass with every
 * acknowledged key found; scenario mistakes exit 2 with one clear error; SIGINT
 * leaves no QEMU and a readable trace; the --qmp proxy takes the original
 * proposal's sequence and the guest sees its I/O fail.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { QmpClient } from "../src/qmp/client.ts";
import { prepareScenario } from "../src/run/prepare.ts";
import { qemuVersion } from "../src/run/qemu_version.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { TraceReader } from "../src/trace/reader.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { childProcesses, faultline, isAlive, waitFor } from "./support/mod.ts";

const deno = Deno.execPath();

// deno-lint-ignore no-explicit-any
async function recordJson(scenario: string, trace: string): Promise<Record<string, any>> {
  const result = await faultline(["record", scenario, "-o", trace, "--json"], {
    timeoutMs: 240_000,
  });
  assert.equal(result.code, 0, result.text);
  return JSON.parse(result.stdout);
}

const shipped = [["scenarios/fsync-log.ts", 16], ["scenarios/sqlite-commit.ts", 8]] as const;
for (const [scenario, keys] of shipped) {
  Deno.test(`record ${scenario} --json passes, with every acknowledged key found`, async () => {
    await using dir = await makePrivateDir("faultline-record-");
    const trace = join(dir.path, "run.trace");
    const summary = await recordJson(scenario, trace);
    assert.equal(summary.trace, trace);
    assert.equal(summary.verdict.pass, true, summary.verdict.reason);
    assert.ok(
      summary.ops.read > 0 && summary.ops.write > 0 && summary.ops.flush > 0,
      JSON.stringify(summary.ops),
    );
    assert.deepEqual(
      { acked: summary.oracle.acked, found: summary.oracle.found, lost: summary.oracle.lost },
      { acked: keys, found: keys, lost: 0 },
    );
    console.log(
      `${scenario}: workload's first op at ${Math.round(summary.timings.workloadFirstOpMs)} ms, ` +
        `first op at ${Math.round(summary.timings.firstOpMs)} ms, whole run ${
          Math.round(summary.timings.totalMs)
        } ms`,
    );

    // The trace: a header with the scenario and the guest's hashes, run and check phases, guest lines, a footer.
    const reader = await TraceReader.open(trace);
    assert.equal(
      (reader.header.scenario as { name: string }).name,
      scenario.replace(/^.*\/|\.ts$/g, ""),
    );
    assert.match(
      (reader.header.guests as Record<string, { kernel: { sha256: string } }>).app.kernel.sha256,
      /^[0-9a-f]{64}$/,
    );
    assert.match(reader.header.disks[0].base.sha256, /^[0-9a-f]{64}$/);
    const phases = new Set<string>();
    let acks = 0;
    for await (const record of reader.records()) {
      if (record.record === "op" && record.phase) phases.add(record.phase);
      if (
        record.record === "event" && record.event === "guest" &&
        String(record.line).startsWith("ack ")
      ) acks++;
    }
    assert.deepEqual([...phases].sort(), ["check", "run"]);
    assert.equal(acks, keys);
    assert.equal((reader.end.footer?.verdict as { pass: boolean }).pass, true);
  });
}

Deno.test("scenario mistakes exit 2 with one clear error naming the file and the field", async () => {
  await using dir = await makePrivateDir("faultline-bad-scenario-");
  const base = {
    name: "bad",
    nodes: { app: { disks: { data: { size: "16M", mount: "/data" } }, workload: "true" } },
  };
  const cases: [string, unknown, RegExp][] = [
    [
      "unknown-field",
      { ...base, nodes: { app: { ...base.nodes.app, wrokload: "x" } } },
      /nodes\.app: unknown field "wrokload"/,
    ],
    [
      "missing-file",
      {
        ...base,
        nodes: { app: { ...base.nodes.app, files: [{ host: "nope.txt", guest: "/x" }] } },
      },
      /nodes\.app\.files\[0\]\.host: expected a file, a directory or a tarball \(\.tar, \.tar\.gz, \.tgz\), found ".*nope\.txt", which does not exist/,
    ],
    [
      "missing-build",
      {
        ...base,
        nodes: { app: { ...base.nodes.app, files: { "/opt/app/": "./build/" } } },
      },
      /nodes\.app\.files\["\/opt\/app\/"\]: expected a file, a directory or a tarball .*, found ".*\/build", which does not exist/,
    ],
    [
      "wrong-type",
      { ...base, nodes: { app: { ...base.nodes.app, workload: 42 } } },
      /nodes\.app\.workload: expected string, found number 42/,
    ],
    ["bad-size", {
      ...base,
      nodes: { app: { ...base.nodes.app, disks: { data: { size: "lots", mount: "/data" } } } },
    }, /nodes\.app\.disks\.data(\.size)?: expected/],
  ];
  for (const [name, content, pattern] of cases) {
    const path = join(dir.path, `${name}.json`);
    await Deno.writeTextFile(path, JSON.stringify(content));
    const result = await faultline(["record", path]);
    assert.equal(result.code, 2, `${name}: ${result.text}`);
    assert.match(result.stderr, pattern, name);
    assert.match(result.stderr, new RegExp(`${name}\\.json`), "the error names the file");
    assert.equal(result.stderr.trim().split("\n").length, 1, `${name}: one line: ${result.stderr}`);
  }
  const missing = await faultline(["record", join(dir.path, "absent.ts")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /absent\.ts: no such scenario file/);
});

Deno.test("a node runs its own build: a directory and a tarball laid at guest directories", async () => {
  await using dir = await makePrivateDir("faultline-own-build-");
  await Deno.mkdir(join(dir.path, "build/bin"), { recursive: true });
  await Deno.writeTextFile(join(dir.path, "build/bin/app"), '#!/bin/sh\necho "app-$1"\n');
  await Deno.chmod(join(dir.path, "build/bin/app"), 0o755);
  await Deno.symlink("app", join(dir.path, "build/bin/app-link"));
  const tarred = await new Deno.Command("tar", {
    args: ["-czf", join(dir.path, "build.tgz"), "-C", join(dir.path, "build"), "."],
  }).output();
  assert.ok(tarred.success);
  const scenario = join(dir.path, "own-build.json");
  await Deno.writeTextFile(
    scenario,
    JSON.stringify({
      name: "own-build",
      nodes: {
        app: {
          disks: { data: { size: "16M", mount: "/data" } },
          files: { "/opt/app/": "./build/", "/opt/tgz/": "./build.tgz" },
          workload:
            "for p in /opt/app/bin/app-link /opt/tgz/bin/app; do report ack $($p $(basename $(dirname $(dirname $p)))); done",
        },
      },
    }),
  );
  const trace = join(dir.path, "run.trace");
  const json = await recordJson(scenario, trace);
  assert.equal(json.verdict.pass, true, JSON.stringify(json.verdict));
  const acks: string[] = [];
  for await (const record of (await TraceReader.open(trace)).records()) {
    if (record.record === "event" && record.event === "guest") acks.push(String(record.line));
  }
  assert.deepEqual(acks.filter((line) => line.startsWith("ack ")), ["ack app-app", "ack app-tgz"]);
});

/** Op records in a trace being written (0 while it has none, or does not exist yet). */
async function opsIn(trace: string): Promise<number> {
  const reader = await TraceReader.open(trace).catch(() => null);
  if (!reader) return 0;
  let ops = 0;
  for await (const record of reader.records()) if (record.record === "op") ops++;
  return ops;
}

Deno.test("SIGINT during a run: exit 130 within 5 s, nothing left running or in TMPDIR, the trace reads, the next run works", async () => {
  await using dir = await makePrivateDir("faultline-sigint-");
  // The run's temporary directories go here, to be found if one stays behind.
  await using tmp = await makePrivateDir("faultline-sigint-tmp-");
  const trace = join(dir.path, "interrupted.trace");
  const child = new Deno.Command(deno, {
    args: ["run", "-A", "mod.ts", "record", "scenarios/fsync-log.ts", "-o", trace],
    env: { TMPDIR: tmp.path },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let qemus: number[] = [];
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    qemus = await childProcesses(child.pid, "qemu-system");
    if (qemus.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(qemus.length > 0, "QEMU started");
  // The guest has done I/O: the recorder's first batch of ops is in the trace file.
  await waitFor("ops in the trace", async () => await opsIn(trace) > 0, { timeoutMs: 60_000 });
  const children = await childProcesses(child.pid);
  const sent = performance.now();
  child.kill("SIGINT");
  const done = await output;
  const stoppedIn = performance.now() - sent;
  const stderr = new TextDecoder().decode(done.stderr);
  assert.ok(stoppedIn < 5000, `stopped in ${Math.round(stoppedIn)} ms`);
  assert.equal(done.code, 130, stderr);
  assert.equal(done.signal, null, "faultline exited by itself, it was not killed by the signal");
  assert.equal(
    stderr.trim().split("\n").at(-1),
    `faultline: interrupted by SIGINT: the trace ${trace} keeps what was recorded until then`,
  );
  for (const pid of children) assert.equal(await isAlive(pid), false, `process ${pid} is gone`);
  assert.deepEqual([...Deno.readDirSync(tmp.path)], [], "no temporary directory stays behind");

  const reader = await TraceReader.open(trace);
  let ops = 0;
  for await (const record of reader.records()) if (record.record === "op") ops++;
  assert.ok(ops > 0, "the trace keeps what was recorded");
  assert.equal(reader.end.footer?.reason, "interrupted");

  const next = await recordJson("scenarios/fsync-log.ts", join(dir.path, "next.trace"));
  assert.equal(next.verdict.pass, true, next.verdict.reason);
});

Deno.test("record --qmp serves the proposal's sequence: qmp_capabilities, query-block, set-block-fault-state; the guest's I/O fails", async () => {
  await using dir = await makePrivateDir("faultline-proxy-");
  const scenario = join(dir.path, "proxy.json");
  await Deno.writeTextFile(
    scenario,
    JSON.stringify({
      name: "proxy",
      nodes: {
        app: {
          disks: { data: { size: "16M", filesystem: "none" } },
          workload: `
            i=0
            while [ "$i" -lt 600 ]; do
              if ! dd if=/dev/zero of=/dev/disk/data bs=4096 count=1 seek="$i" oflag=direct conv=notrunc status=none; then
                echo "the write failed"
                exit 7
              fi
              i=$((i + 1))
              sleep 0.1
            done
          `,
        },
      },
      expect: { workload: { exit: 7 }, output: [{ phase: "run", pattern: "the write failed" }] },
      timeouts: { run: "90s" },
    }),
  );
  const proxyPath = join(dir.path, "qmp.sock");
  // The command line, as a user types it.
  const running = faultline(
    ["record", scenario, "--qmp", proxyPath, "-o", join(dir.path, "proxy.trace"), "--json"],
    { timeoutMs: 240_000 },
  );
  // The original proposal's sequence, against the proxy.
  let qmp: QmpClient | null = null;
  for (let i = 0; i < 600 && !qmp; i++) {
    qmp = await QmpClient.connect(proxyPath, { timeoutMs: 30_000 }).catch(() => null);
    if (!qmp) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(qmp, "the proxy answers");
  try {
    // QEMU's own greeting, passed through: the version of the QEMU installed here.
    const [, major, minor, micro] = /version (\d+)\.(\d+)\.(\d+)/.exec(await qemuVersion())!;
    assert.deepEqual(
      [
        qmp.greeting.version.qemu.major,
        qmp.greeting.version.qemu.minor,
        qmp.greeting.version.qemu.micro,
      ],
      [Number(major), Number(minor), Number(micro)],
      "the greeting is QEMU's",
    );
    const blocks = await qmp.execute("query-block") as { device: string }[];
    assert.ok(blocks.some((b) => b.device === "data"), JSON.stringify(blocks));
    // The workload is writing: QEMU counts writes to the data disk.
    await waitFor("the workload's first write", async () => {
      const stats = await qmp!.execute("query-blockstats") as {
        device: string;
        stats: { wr_operations: number };
      }[];
      return stats.some((s) => s.device === "data" && s.stats.wr_operations > 0);
    }, { timeoutMs: 60_000, intervalMs: 100 });
    assert.deepEqual(
      await qmp.execute("set-block-fault-state", { id: "data", state: "error" }),
      {},
    );
    const state = await qmp.execute("query-block-fault-state", { id: "data" }) as { state: string };
    assert.equal(state.state, "error");
  } finally {
    await qmp.close();
  }
  const result = await running;
  assert.equal(result.code, 0, result.text);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.verdict.pass, true, summary.verdict.reason);
  assert.equal(summary.phases[0].exit, 7);
  assert.ok(summary.stats.byType.write.errors > 0, "the fault layer failed writes");
});

Deno.test("a scenario may bring its own kernel and initramfs, kept to the guest contract", async () => {
  await using dir = await makePrivateDir("faultline-own-guest-");
  // An initramfs and a kernel faultline did not build for this scenario: those of fsync-log.
  const prepared = await prepareScenario(await loadScenario("scenarios/fsync-log.ts"));
  const guest = prepared.guests.get("app")!;
  const own = join(dir.path, "own.json");
  await Deno.writeTextFile(
    own,
    JSON.stringify({
      name: "own-guest",
      nodes: {
        app: {
          disks: { data: { size: "32M", mount: "/data" } },
          kernel: guest.kernel.path,
          initramfs: guest.initramfs.path,
          workload: "(the initramfs carries its own phases)",
          check: "(a check phase is booted: the initramfs has one)",
        },
      },
      expect: { noLostAcks: true },
    }),
  );
  const trace = join(dir.path, "own.trace");
  const summary = await recordJson(own, trace);
  assert.equal(summary.verdict.pass, true, summary.verdict.reason);
  assert.equal(summary.oracle.acked, 16, "fsync-log's workload ran from the given initramfs");
  const reader = await TraceReader.open(trace);
  const recorded =
    (reader.header.guests as Record<string, { kernel: { version: string }; initramfs: string }>)
      .app;
  assert.equal(recorded.kernel.version, "given");
  assert.equal(recorded.initramfs, guest.initramfs.sha256);
  reader.close();

  const lonely = join(dir.path, "lonely.json");
  await Deno.writeTextFile(
    lonely,
    JSON.stringify({
      name: "lonely-kernel",
      nodes: {
        app: { disks: { data: { size: "8M" } }, kernel: guest.kernel.path, workload: "true" },
      },
    }),
  );
  const refused = await faultline(["record", lonely]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /nodes\.app\.kernel: expected an initramfs beside it/);
});
