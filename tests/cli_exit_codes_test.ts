/**
 * Exit codes through the real CLI, one case of each kind that needs no VM: 2 for
 * the user's input, 3 for the machinery, each with one line that names the
 * problem. (Exit 1, a failed verdict, needs a run: see record_test.ts and
 * sweep_ci_test.ts; so do 130 and 143, in the same files and src/cli/interrupt_test.ts.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Packr, unpackMultiple } from "msgpackr";
import { PLAN_VERSION } from "../src/fault/plan_version.ts";
import { normalizeScenario } from "../src/scenario/load.ts";
import { SCENARIO_VERSION } from "../src/scenario/schema.ts";
import { DATA_HASH, TRACE_VERSION } from "../src/trace/schema.ts";
import { TraceWriter } from "../src/trace/writer.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { VERSION } from "../src/version.ts";
import { concat, faultline, pathWithout } from "./support/mod.ts";

/** The error is one line (progress lines of long commands aside), without a stack trace. */
function oneLine(stderr: string): void {
  // Progress lines (a run's phases, a sweep's "sweep: preparing, 1 s in") are not the error.
  const lines = stderr.trim().split("\n").filter((line) =>
    !/^\s*\d+\.\ds {2}/.test(line) && !/^(sweep|ci|replay|explore): /.test(line)
  );
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^faultline: /);
}

Deno.test("exit 2: a missing scenario file, named", async () => {
  const result = await faultline(["record", "no/such/scenario.ts"]);
  assert.equal(result.code, 2, result.text);
  assert.match(result.stderr, /no\/such\/scenario\.ts: no such scenario file/);
  oneLine(result.stderr);
});

Deno.test("exit 2: an unknown flag, with the hint to --help", async () => {
  const result = await faultline(["record", "--frobnicate", "x.ts"]);
  assert.equal(result.code, 2, result.text);
  assert.match(result.stderr, /unknown option '--frobnicate'/);
});

Deno.test("exit 2: fault on a socket that does not exist, or is not a socket", async () => {
  await using dir = await makePrivateDir("faultline-exit-");
  const missing = await faultline(["fault", join(dir.path, "control.sock"), "list"]);
  assert.equal(missing.code, 2, missing.text);
  assert.match(missing.stderr, /control\.sock is not a control socket \(no such file\)/);
  oneLine(missing.stderr);
  const file = join(dir.path, "plain");
  await Deno.writeTextFile(file, "");
  const plain = await faultline(["fault", file, "query", "vda"]);
  assert.equal(plain.code, 2, plain.text);
  assert.match(plain.stderr, /plain is not a control socket \(it is not a socket\)/);
});

Deno.test("exit 3: no cache directory to keep the guest and disks in, named", async () => {
  // Everything that locates a cache directory is unset: preparing the run cannot store anything.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", "record", "scenarios/fsync-log.ts", "-o", "/dev/null"],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      // Deno's own cache stays where it is: only faultline's has nowhere to go.
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 3, stderr);
  assert.match(stderr, /set FAULTLINE_CACHE_DIR/);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace without --debug");
});

/**
 * Runs the CLI in an environment of its own: PATH and `env` alone, so that nothing of the
 * test's environment (FAULTLINE_CACHE_DIR) decides where the cache is. Deno's own cache
 * stays where it is.
 */
async function inEnvironment(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", ...args],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

/** Runs the CLI with nowhere to keep faultline's cache. */
function withoutCache(args: string[]): Promise<{ code: number; stderr: string }> {
  return inEnvironment(args);
}

Deno.test("exit 3: a cache directory that cannot be created is named, with its variable", async () => {
  await using dir = await makePrivateDir("faultline-exit-cache-");
  // A file where the directory's parent must be: not even root can create it.
  const file = join(dir.path, "not-a-directory");
  await Deno.writeTextFile(file, "");
  const result = await inEnvironment(
    ["record", "scenarios/fsync-log.ts", "-o", join(dir.path, "run.trace")],
    { XDG_CACHE_HOME: file, HOME: Deno.env.get("HOME") ?? "/root" },
  );
  assert.equal(result.code, 3, result.stderr);
  const said =
    `faultline: cannot create the cache directory ${file}/faultline (from XDG_CACHE_HOME), ` +
    "or write in it: Not a directory (os error 20); set FAULTLINE_CACHE_DIR";
  assert.ok(result.stderr.includes(said), result.stderr);
  assert.doesNotMatch(result.stderr, /internal error/);
  oneLine(result.stderr);
});

Deno.test("exit 3: without QEMU on PATH, QEMU and its Debian package are named", async () => {
  await using dir = await makePrivateDir("faultline-exit-no-qemu-");
  // Everything else on PATH stays: the guest is prepared as ever, and nothing is installed
  // (record never installs; only `faultline setup` and `demo` do, as root).
  const path = await pathWithout(dir.path, ["qemu-system-x86_64"]);
  const result = await faultline(
    ["record", "scenarios/fsync-log.ts", "-o", join(dir.path, "run.trace")],
    { env: { PATH: path }, timeoutMs: 240_000 },
  );
  assert.equal(result.code, 3, result.text);
  assert.match(
    result.stderr,
    /faultline: qemu-system-x86_64 is not installed \(not found on PATH\); it comes in the Debian package qemu-system-x86: install it with `apt-get install qemu-system-x86` as root/,
  );
  assert.doesNotMatch(result.stderr, /internal error|Failed to spawn|installing/);
  oneLine(result.stderr);
});

/** A trace of a tiny scenario, written by hand: enough for the commands to start on it. */
async function handMadeTrace(dir: string): Promise<string> {
  const scenario = await normalizeScenario(
    { name: "tiny", nodes: { app: { disks: {}, workload: "true" } } },
    { source: "tiny.json", baseDir: dir },
  );
  const path = join(dir, "tiny.trace");
  const writer = await TraceWriter.create(path, {
    createdAt: new Date().toISOString(),
    tool: { name: "faultline", version: VERSION },
    command: "record",
    recordsData: true,
    dataHash: DATA_HASH,
    seed: 1,
    faults: [],
    planVersion: PLAN_VERSION,
    disks: [],
    scenario,
    scenarioVersion: SCENARIO_VERSION,
    guests: {},
  });
  writer.append({
    record: "op",
    index: 0,
    done: 1,
    node: "app",
    disk: "data",
    op: "flush",
    offset: 0,
    length: 0,
    start: 1,
    end: 2,
    result: "ok",
    phase: "run",
  });
  await writer.close({ duration: 0, endedAt: new Date().toISOString(), reason: "finished" });
  return path;
}

Deno.test("exit 2: a clock fault naming an unknown node, or in a scenario of one node, in one line", async () => {
  await using dir = await makePrivateDir("faultline-exit-clock-");
  const node = { disks: {}, workload: "true" };
  const write = async (name: string, scenario: unknown) => {
    const path = join(dir.path, name);
    await Deno.writeTextFile(path, JSON.stringify(scenario));
    return path;
  };
  const cases: [string, RegExp][] = [
    [
      await write("pair.json", {
        name: "pair",
        nodes: { n1: node, n2: node },
        faults: [{ fault: "clock-jump:n3,-30s", points: "all" }],
      }),
      /faults\[0\]\.fault: fault "clock-jump:n3,-30s": no node n3 \(nodes: n1, n2\)/,
    ],
    [
      await write("single.json", {
        name: "single",
        nodes: { app: node },
        faults: [{ fault: "crash:app", points: "all", with: ["clock-skew:app,+5s"] }],
      }),
      /faults\[0\]\.with\[0\]: fault "clock-skew:app,\+5s" is a clock fault, and the scenario has one node \(app\): clock faults need two nodes or more/,
    ],
    [
      await write("triggered.json", {
        name: "triggered",
        nodes: { n1: node, n2: node },
        faults: [{ fault: "crash:n1", points: "all", with: ["clock-skew:n2,+5s@+1s"] }],
      }),
      /faults\[0\]\.with\[0\]: fault "clock-skew:n2,\+5s@\+1s": clock-skew is set when its node boots and takes no trigger but @any/,
    ],
  ];
  for (const [scenario, pattern] of cases) {
    const result = await faultline(["record", scenario]);
    assert.equal(result.code, 2, `${scenario}: ${result.text}`);
    assert.match(result.stderr, pattern, scenario);
    oneLine(result.stderr);
  }
});

Deno.test("exit 2: --confirm 0 or a negative count, and a minRate outside 0..1, named", async () => {
  for (const count of ["0", "-1"]) {
    const result = await faultline([
      "sweep",
      "any.trace",
      "--fault",
      "eio",
      "--points",
      "all",
      "--confirm",
      count,
    ]);
    assert.equal(result.code, 2, result.text);
    assert.match(
      result.stderr.split("\n")[0],
      new RegExp(
        `--confirm <r>' argument '${count}' is invalid\\. expected a whole number, 1 or more`,
      ),
    );
  }
  await using dir = await makePrivateDir("faultline-exit-rate-");
  const node = { disks: {}, workload: "true" };
  for (
    const [minRate, outcome, pattern] of [
      [1.5, "detect", /faults\[0\]\.minRate: expected a number <= 1, found number 1\.5/],
      [-0.1, "detect", /faults\[0\]\.minRate: expected a number >= 0, found number -0\.1/],
      [0.5, "pass", /faults\[0\]\.minRate: applies to outcome: "detect"/],
    ] as const
  ) {
    const path = join(dir.path, "rate.json");
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        name: "rate",
        nodes: { app: node },
        faults: [{ fault: "eio", points: "all", outcome, minRate }],
      }),
    );
    const result = await faultline(["record", path]);
    assert.equal(result.code, 2, result.text);
    assert.match(result.stderr, pattern);
    oneLine(result.stderr);
  }
});

Deno.test("exit 2: an unknown recovery order, in a scenario file or given to replay and sweep, in one line naming it", async () => {
  await using dir = await makePrivateDir("faultline-exit-recovery-");
  const file = join(dir.path, "sideways.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      name: "sideways",
      nodes: { app: { disks: {}, workload: "true", check: "true" } },
      recovery: "sideways",
    }),
  );
  const trace = await handMadeTrace(dir.path);
  const cases: [string[], RegExp][] = [
    [
      ["record", file],
      /recovery: expected one of "together", "with-checks", "in-order", "each-order", found "sideways"/,
    ],
    [
      ["replay", trace, "--recovery", "sideways"],
      /--recovery sideways: expected together, with-checks, in-order, each-order or an order of the nodes serving the check \(none\); the scenario has no node sideways/,
    ],
    [
      ["replay", trace, "--recovery", "in_order"],
      /--recovery in_order: expected together, with-checks, in-order, each-order or an order/,
    ],
    [
      ["sweep", trace, "--fault", "power-loss", "--points", "all", "--recovery", "Each-Order"],
      /--recovery Each-Order: expected together, with-checks, in-order, each-order or an order/,
    ],
    // The tiny scenario has no check: there is no check phase to order.
    [
      ["sweep", trace, "--fault", "power-loss", "--points", "all", "--recovery", "each-order"],
      /--recovery each-order: no node has a check, so the check phase starts no node to order/,
    ],
    [
      ["replay", trace, "--recovery", "each-order"],
      /--recovery each-order: a replay checks one order; name it \(--recovery in-order\), or sweep with --recovery each-order/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const result = await faultline(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.text}`);
    assert.match(result.stderr, pattern, args.join(" "));
    oneLine(result.stderr);
  }
});

/** One case of every command's 2 and 3 in docs/exit-codes.md. */
Deno.test("exit codes: a case of every command's 2 and 3 in docs/exit-codes.md", async () => {
  await using dir = await makePrivateDir("faultline-exit-rows-");
  const garbage = join(dir.path, "garbage.trace");
  await Deno.writeTextFile(garbage, "this is not msgpack, nor a trace\n");
  const trace = await handMadeTrace(dir.path);
  // The same trace as a faultline of another version would have written it.
  const values = unpackMultiple(await Deno.readFile(trace)) as Record<string, unknown>[];
  const version1: Record<string, unknown> = { ...values[0], version: 1 };
  delete version1.planVersion;
  delete version1.scenarioVersion;
  const older = join(dir.path, "older.trace");
  const newer = join(dir.path, "newer.trace");
  const packr = new Packr({ useRecords: false });
  await Deno.writeFile(older, concat(...[version1, ...values.slice(1)].map((v) => packr.pack(v))));
  await Deno.writeFile(
    newer,
    concat(...[{ ...values[0], version: 99 }, ...values.slice(1)].map((v) => packr.pack(v))),
  );
  const scenario = join(dir.path, "tiny.json");
  await Deno.writeTextFile(
    scenario,
    JSON.stringify({ name: "tiny", nodes: { app: { disks: {}, workload: "true" } } }),
  );
  const broken = join(dir.path, "broken.json");
  await Deno.writeTextFile(
    broken,
    JSON.stringify({ name: "Broken", nodes: { app: { disks: {}, workload: "true" } } }),
  );
  // A register history whose search needs far more than the one slice of steps it gets
  // before a budget of 0 ms is seen to have run out: 12 writes at once, then a read of 99.
  const busy = join(dir.path, "busy.edn");
  const writers = Array.from({ length: 12 }, (_, p) => p);
  await Deno.writeTextFile(
    busy,
    [
      ...writers.map((p) => `{:process ${p}, :type :invoke, :f :write, :value ${p}}`),
      ...writers.map((p) => `{:process ${p}, :type :ok, :f :write, :value ${p}}`),
      "{:process 12, :type :invoke, :f :read, :value nil}",
      "{:process 12, :type :ok, :f :read, :value 99}",
    ].join("\n"),
  );
  // A unix socket whose peer does not speak QMP.
  const chatter = join(dir.path, "chatter.sock");
  const listener = Deno.listen({ transport: "unix", path: chatter });
  (async () => {
    for await (const conn of listener) {
      await conn.write(new TextEncoder().encode("hello, I am no QMP server\n")).catch(() => {});
      conn.close();
    }
  })();

  const cases: { row: string; code: number; args: string[]; noCache?: boolean; says: RegExp }[] = [
    { row: "record", code: 2, args: ["record", broken], says: /broken\.json: name: expected/ },
    {
      row: "record",
      code: 3,
      args: ["record", scenario],
      noCache: true,
      says: /FAULTLINE_CACHE_DIR/,
    },
    { row: "replay", code: 2, args: ["replay", garbage, "--fault", "eio"], says: /garbage\.trace/ },
    {
      row: "replay",
      code: 3,
      args: ["replay", trace, "--fault", "eio@+1s"],
      noCache: true,
      says: /FAULTLINE_CACHE_DIR/,
    },
    {
      row: "sweep",
      code: 2,
      args: ["sweep", trace, "--fault", "eio", "--points", "sometimes"],
      says: /--points sometimes/,
    },
    {
      row: "sweep",
      code: 3,
      args: ["sweep", trace, "--fault", "eio", "--points", "0..0"],
      noCache: true,
      says: /FAULTLINE_CACHE_DIR/,
    },
    {
      row: "explore",
      code: 2,
      args: ["explore", trace, "--budget", "0"],
      says: /--budget 0 explores nothing/,
    },
    {
      row: "explore",
      code: 2,
      args: ["explore", trace, "--budget", "3", "--kinds", ""],
      says: /--kinds names no kind/,
    },
    {
      row: "explore",
      code: 2,
      args: ["explore", trace, "--budget", "3", "--kinds", "partition"],
      says: /--kinds: partition is a link fault and the scenario has one node/,
    },
    {
      // A scenario is checked before it is recorded: without a cache, recording would exit 3.
      row: "explore",
      code: 2,
      args: ["explore", scenario, "--budget", "3", "--kinds", "partition"],
      noCache: true,
      says: /--kinds: partition is a link fault and the scenario has one node \(app\)/,
    },
    {
      row: "explore",
      code: 2,
      args: ["explore", scenario, "--budget", "3", "--kinds", ","],
      noCache: true,
      says: /--kinds names no kind/,
    },
    {
      row: "explore",
      code: 3,
      args: ["explore", trace, "--budget", "1", "--seed", "1", "--kinds", "error"],
      noCache: true,
      says: /FAULTLINE_CACHE_DIR/,
    },
    { row: "ci", code: 2, args: ["ci", broken], says: /broken\.json/ },
    {
      row: "ci",
      code: 3,
      args: ["ci", scenario, "--trace-dir", join(dir.path, "ci")],
      noCache: true,
      says: /FAULTLINE_CACHE_DIR/,
    },
    {
      row: "serve",
      code: 2,
      args: ["serve", "--image", join(dir.path, "missing.raw")],
      says: /missing\.raw does not exist/,
    },
    {
      row: "serve",
      code: 3,
      args: ["serve", "--image", garbage, "--socket", "/proc/faultline.sock"],
      says: /cannot listen/,
    },
    {
      row: "fault",
      code: 2,
      args: ["fault", join(dir.path, "none.sock"), "list"],
      says: /is not a control socket/,
    },
    { row: "fault", code: 3, args: ["fault", chatter, "list"], says: /QMP|greeting|JSON/ },
    { row: "trace", code: 2, args: ["trace", "stats", garbage], says: /garbage\.trace/ },
    {
      row: "trace",
      code: 2,
      args: ["trace", "stats", newer],
      says: new RegExp(
        `newer\\.trace is a trace of version 99; this faultline \\(\\S+\\) reads versions 1 to ${TRACE_VERSION}`,
      ),
    },
    {
      row: "replay",
      code: 2,
      args: ["replay", older, "--fault", "eio"],
      says: /older\.trace is a trace of version 1; .* replays traces of version 2 or later/,
    },
    { row: "merge", code: 2, args: ["merge", garbage], says: /garbage\.trace is not JSON/ },
    {
      row: "history",
      code: 2,
      args: ["history", "check", garbage, "--model", "register"],
      says: /garbage\.trace:1: expected an op map such as .*, found this/,
    },
    {
      row: "sweep",
      code: 2,
      args: ["sweep", trace, "--fault", "eio", "--points", "all", "--shard", "4/3"],
      says: /--shard: expected K\/N/,
    },
  ];
  try {
    for (const { row, code, args, noCache, says } of cases) {
      const result = noCache ? await withoutCache(args) : await faultline(args);
      assert.equal(result.code, code, `${row}: ${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, says, `${row}: ${args.join(" ")}`);
      oneLine(result.stderr);
    }
  } finally {
    listener.close();
  }
  // history's 3 is an answer, not an error: unknown, on stdout.
  const unknown = await faultline([
    "history",
    "check",
    busy,
    "--model",
    "register",
    "--timeout",
    "0ms",
  ]);
  assert.equal(unknown.code, 3, unknown.text);
  assert.match(unknown.stdout, /busy\.edn: unknown/);
  cases.push({ row: "history", code: 3, args: [], says: /unknown/ });
  // Every command row of the document has its cases here (setup's 3 needs a broken apt;
  // demo's are record's).
  const doc = await Deno.readTextFile("docs/exit-codes.md");
  const rows = [...doc.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  for (const row of rows.filter((r) => r !== "setup" && r !== "demo")) {
    assert.ok(cases.some((c) => c.row === row), `docs/exit-codes.md row ${row} has a case`);
  }
});

Deno.test("exit 2: an unknown accelerator, named, on every command that boots a VM", async () => {
  for (
    const args of [
      ["record", "scenarios/fsync-log.ts"],
      ["replay", "no.trace", "--fault", "eio", "--fault-at", "1"],
      ["sweep", "no.trace", "--fault", "eio", "--points", "1"],
      ["ci", "scenarios/fsync-log.ts"],
    ]
  ) {
    const result = await faultline([...args, "--accel", "hvf"]);
    assert.equal(result.code, 2, result.text);
    assert.match(result.stderr, /--accel "hvf": expected auto, kvm, tcg/);
    oneLine(result.stderr);
  }
});

Deno.test("exit 2: --accel kvm without the KVM device says what to do; exit 3 when it exists and does not open", async () => {
  await using dir = await makePrivateDir("faultline-accel-cli-");
  const missing = await faultline(["record", "scenarios/fsync-log.ts", "--accel", "kvm"], {
    env: { FAULTLINE_KVM_DEVICE: join(dir.path, "kvm") },
  });
  assert.equal(missing.code, 2, missing.text);
  assert.match(missing.stderr, /kvm is missing: .*modprobe kvm_intel.*--accel tcg/);
  oneLine(missing.stderr);
  // A directory exists and does not open read-write, as a device whose module fails.
  const failing = await faultline([
    "ci",
    "scenarios/fsync-log.ts",
    "--accel",
    "kvm",
    "--trace-dir",
    join(dir.path, "traces"),
  ], { env: { FAULTLINE_KVM_DEVICE: dir.path } });
  assert.equal(failing.code, 3, failing.text);
  assert.match(failing.stderr, /exists but is unusable .*lsmod \| grep kvm/);
  oneLine(failing.stderr);
});

Deno.test("exit 2: a bad --budget, a --budget with a shard, and a scenario's bad budget, each named", async () => {
  const bad = await faultline(["ci", "scenarios/fsync-log.ts", "--budget", "soon"]);
  assert.equal(bad.code, 2, bad.text);
  assert.match(bad.stderr, /--budget "soon": expected a duration such as 10m or 90s/);
  oneLine(bad.stderr);
  const sharded = await faultline(["ci", "--budget", "3m", "--shard", "1/2"]);
  assert.equal(sharded.code, 2, sharded.text);
  assert.match(sharded.stderr, /--budget samples a whole run's points: give it without --shard/);
  oneLine(sharded.stderr);
  await using dir = await makePrivateDir("faultline-budget-cli-");
  const file = join(dir.path, "late.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      name: "late",
      nodes: { app: { disks: {}, workload: "true" } },
      budget: "someday",
    }),
  );
  const scenario = await faultline(["ci", file]);
  assert.equal(scenario.code, 2, scenario.text);
  assert.match(scenario.stderr, /late\.json: budget: expected a duration like 30s/);
});
