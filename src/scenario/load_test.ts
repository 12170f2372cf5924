import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import { ScenarioError } from "./errors.ts";
import { loadScenario, normalizeScenario } from "./load.ts";

const good = {
  name: "demo",
  nodes: {
    app: {
      disks: { data: { size: "32M", mount: "/data", mountOptions: "barrier=0" } },
      workload: "report ack 1",
      check: "report have 1",
    },
  },
  expect: { noLostAcks: true, output: [{ phase: "check", pattern: /have/ }] },
  timeouts: { run: "30s" },
};

async function rejects(input: unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(
    normalizeScenario(input, { source: "s.json", baseDir: "/" }),
    (e: unknown) => {
      assert.ok(e instanceof ScenarioError, String(e));
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith("s.json: "), e.message);
      return true;
    },
  );
}

Deno.test("a scenario normalizes to plain data with defaults", async () => {
  const scenario = await normalizeScenario(good, { source: "s.json", baseDir: "/" });
  assert.deepEqual(scenario.nodes[0].disks[0], {
    name: "data",
    kind: "filesystem",
    sizeBytes: 32 * 1024 * 1024,
    filesystem: "ext4",
    mkfsOptions: [],
    mount: "/data",
    mountOptions: "barrier=0",
  });
  assert.equal(scenario.nodes[0].memoryBytes, 256 * 1024 * 1024);
  assert.deepEqual(scenario.expect.workloadExit, [0]);
  assert.deepEqual(scenario.expect.output, [{
    phase: "check",
    pattern: "have",
    flags: "",
    absent: false,
  }]);
  assert.equal(scenario.timeouts.runMs, 30_000);
  assert.deepEqual(JSON.parse(JSON.stringify(scenario)), scenario, "plain data");
});

Deno.test("every scenario error names the field, what was expected and what was found", async () => {
  await rejects({ ...good, colour: "red" }, /\(top level\): unknown field "colour"/);
  await rejects({ ...good, name: 7 }, /name: expected string, found number 7/);
  await rejects(
    { ...good, nodes: { app: { ...good.nodes.app, disks: { data: { size: "64 apples" } } } } },
    /nodes\.app\.disks\.data(\.size)?: expected .*size.*, found "64 apples"|nodes\.app\.disks\.data: expected a disk with size/,
  );
  await rejects(
    { ...good, nodes: { app: { ...good.nodes.app, disks: { data: { size: "1K" } } } } },
    /nodes\.app\.disks\.data\.size: expected at least 1M/,
  );
  await rejects(
    { ...good, nodes: { app: { ...good.nodes.app, workload: undefined } } },
    /nodes\.app\.workload: expected string, found nothing/,
  );
  await rejects(
    { ...good, nodes: { app: { ...good.nodes.app, programs: ["/no/such/program"] } } },
    /nodes\.app\.programs\[0\]: expected a program on this machine, found "\/no\/such\/program", which does not exist/,
  );
  await rejects(
    { ...good, nodes: { app: { ...good.nodes.app, disks: { data: { image: "missing.raw" } } } } },
    /nodes\.app\.disks\.data\.image: expected an image file, found "\/missing\.raw", which does not exist/,
  );
  await rejects(
    { ...good, timeouts: { run: "soon" } },
    /timeouts\.run: expected a duration like 30s, found "soon"/,
  );
  await rejects({ ...good, nodes: {} }, /nodes: expected at least one node/);
  await rejects({ ...good, expect: { workload: { exit: 300 } } }, /expect\.workload\.exit/);
});

Deno.test("a declared fault's points are a list as --points takes it; one that reads two ways is refused", async () => {
  const points = "255,300..310,flushes:app/data,1400..1600,every:2";
  const scenario = await normalizeScenario(
    { ...good, faults: [{ fault: "power-loss", points }] },
    { source: "s.json", baseDir: "/" },
  );
  assert.equal(scenario.faults[0].points, points);
  await rejects(
    { ...good, faults: [{ fault: "power-loss", points: "flushes,255" }] },
    /faults\[0\]\.points: --points flushes,255: 255 after flushes would read two ways/,
  );
});

Deno.test("a declared clock fault names a node of two or more; a clock skew has no points and goes in with", async () => {
  const cluster = {
    ...good,
    nodes: { n1: good.nodes.app, n2: good.nodes.app },
  };
  const scenario = await normalizeScenario(
    {
      ...cluster,
      faults: [{ fault: "clock-jump:n2,-30s", points: "all", with: ["clock-skew:n1,+5s"] }],
    },
    { source: "s.json", baseDir: "/" },
  );
  assert.deepEqual(scenario.faults[0].with, ["clock-skew:n1,+5s"]);
  await rejects(
    { ...cluster, faults: [{ fault: "clock-jump:n9,-30s", points: "all" }] },
    /faults\[0\]\.fault: fault "clock-jump:n9,-30s": no node n9 \(nodes: n1, n2\)/,
  );
  await rejects(
    { ...cluster, faults: [{ fault: "clock-skew:n2,+5s", points: "all" }] },
    /faults\[0\]\.fault: clock-skew:n2,\+5s is set when its node boots and has no points: give it in with/,
  );
  await rejects(
    { ...good, faults: [{ fault: "clock-jump:app,+5s", points: "all" }] },
    /faults\[0\]\.fault: fault "clock-jump:app,\+5s" is a clock fault, and the scenario has one node \(app\)/,
  );
});

Deno.test("files: a host directory or a tarball is laid at a guest directory, in the list or the object form", async () => {
  await using dir = await makePrivateDir();
  await Deno.mkdir(join(dir.path, "build/bin"), { recursive: true });
  await Deno.writeTextFile(join(dir.path, "build/bin/app"), "app");
  await Deno.writeTextFile(join(dir.path, "app.conf"), "port=7000");
  const tarball = join(dir.path, "site.tar");
  const made = await new Deno.Command("tar", {
    args: ["-cf", tarball, "-C", join(dir.path, "build"), "."],
  }).output();
  assert.ok(made.success);
  const withFiles = (files: unknown) => ({
    ...good,
    nodes: { app: { ...good.nodes.app, files } },
  });
  const options = { source: "s.json", baseDir: dir.path };
  const listed = await normalizeScenario(
    withFiles([
      { host: "./build/", guest: "/opt/app/" },
      { host: "site.tar", guest: "/srv/site/" },
      { host: "app.conf", guest: "/etc/app.conf" },
    ]),
    options,
  );
  assert.deepEqual(listed.nodes[0].files, [
    { host: join(dir.path, "build"), guest: "/opt/app/" },
    { host: tarball, guest: "/srv/site/" },
    { host: join(dir.path, "app.conf"), guest: "/etc/app.conf" },
  ]);
  const object = await normalizeScenario(
    withFiles({ "/opt/app/": "./build/", "/srv/site/": "site.tar", "/etc/app.conf": "app.conf" }),
    options,
  );
  assert.deepEqual(object.nodes[0].files, listed.nodes[0].files);
});

Deno.test("files: a missing host path, a file where a tree goes, a tree that lays a path twice are named with their field", async () => {
  await using dir = await makePrivateDir();
  await Deno.mkdir(join(dir.path, "build/etc"), { recursive: true });
  await Deno.writeTextFile(join(dir.path, "build/etc/app.conf"), "x");
  await Deno.writeTextFile(join(dir.path, "notes.txt"), "x");
  const refuses = async (files: unknown, pattern: RegExp) => {
    const input = { ...good, nodes: { app: { ...good.nodes.app, files } } };
    await assert.rejects(
      normalizeScenario(input, { source: "s.json", baseDir: dir.path }),
      (e: unknown) => e instanceof ScenarioError && e.kind === "usage" && pattern.test(e.message),
    );
  };
  await refuses(
    { "/opt/app/": "./missing/" },
    new RegExp(
      `nodes\\.app\\.files\\["/opt/app/"\\]: expected a file, a directory or a tarball \\(\\.tar, \\.tar\\.gz, \\.tgz\\), found "${dir.path}/missing", which does not exist`,
    ),
  );
  await refuses(
    [{ host: "missing.tgz", guest: "/opt/app/" }],
    /nodes\.app\.files\[0\]\.host: expected a file, a directory or a tarball .*missing\.tgz", which does not exist/,
  );
  await refuses(
    [{ host: "notes.txt", guest: "/opt/notes/" }],
    /files\[0\]\.host: expected a directory or a tarball .* to lay at \/opt\/notes\/ .*found the file/,
  );
  await refuses(
    [{ host: "build", guest: "/opt/app" }, { host: "notes.txt", guest: "/opt/app/etc/app.conf" }],
    /files\[1\]\.host: lays \/opt\/app\/etc\/app\.conf, which nodes\.app\.files\[0\]\.host lays too/,
  );
});

Deno.test("loading names the file: a missing file, bad JSON, a module without a default export", async () => {
  await using dir = await makePrivateDir();
  await assert.rejects(loadScenario(join(dir.path, "none.ts")), /none\.ts: no such scenario file/);
  await Deno.writeTextFile(join(dir.path, "bad.json"), "{ name: ");
  await assert.rejects(loadScenario(join(dir.path, "bad.json")), /bad\.json: not valid JSON/);
  await Deno.writeTextFile(join(dir.path, "nodefault.ts"), "export const x = 1;\n");
  await assert.rejects(loadScenario(join(dir.path, "nodefault.ts")), /expected a default export/);
  await Deno.writeTextFile(
    join(dir.path, "ok.json"),
    JSON.stringify({ ...good, expect: { noLostAcks: true } }),
  );
  const scenario = await loadScenario(join(dir.path, "ok.json"));
  assert.equal(scenario.name, "demo");
});

Deno.test("the shipped scenarios load", async () => {
  for (const path of ["scenarios/fsync-log.ts", "scenarios/sqlite-commit.ts"]) {
    const scenario = await loadScenario(path);
    assert.equal(scenario.nodes.length, 1);
    assert.ok(scenario.expect.noLostAcks);
  }
});

Deno.test("every shipped scenario loads, its declared faults valid, its serving members ready", async () => {
  const names = [...Deno.readDirSync("scenarios")]
    .filter((entry) => entry.isFile && /^[^_].*\.(ts|json)$/.test(entry.name))
    .map((entry) => entry.name).sort();
  assert.ok(names.includes("etcd-put.ts") && names.includes("nats-jetstream.ts"), names.join(" "));
  for (const name of names) {
    const scenario = await loadScenario(join("scenarios", name));
    assert.ok(scenario.faults.length > 0, `${name} declares its faults`);
    if (scenario.client === null) continue;
    // A cluster: every node but the client serves it and says when it is ready.
    for (const node of scenario.nodes.filter((n) => n.name !== scenario.client)) {
      assert.ok(node.restart, `${name}: ${node.name} has a restart script`);
      assert.equal(node.ready, true, `${name}: ${node.name} says when it is ready`);
    }
  }
});

Deno.test("the NATS scenario: three servers from Debian's nats-server, the client on n3, a detection", async () => {
  const scenario = await loadScenario("scenarios/nats-jetstream.ts");
  assert.deepEqual(scenario.nodes.map((n) => n.name), ["n1", "n2", "n3"]);
  assert.equal(scenario.client, "n3");
  for (const node of scenario.nodes) {
    assert.deepEqual(node.root?.packages, ["nats-server", "python3"]);
    assert.equal(node.ready, true);
    assert.deepEqual(node.files.map((f) => f.guest), ["/opt/faultline/jsclient.py"]);
    assert.match(node.restart!, /report ready/);
  }
  assert.match(scenario.nodes[2].check!, /jsclient\.py read/);
  assert.deepEqual(scenario.faults.map((f) => [f.fault, f.outcome]), [["power-loss", "detect"]]);
});

Deno.test("a declared fault without at or points names the field and shows the declaration written right", async () => {
  const withFault = (fault: Record<string, unknown>) => ({ ...good, faults: [fault] });
  // A trigger in the spec: what at takes is that op.
  await rejects(
    withFault({ fault: "eio@5" }),
    /faults\[0\]: expected at \(one op\) or points \(a sweep\), found neither; "eio@5" carries its trigger, which a declared fault gives as at: \{ fault: "eio", at: 5 \}$/,
  );
  await rejects(
    withFault({ fault: "lost-write@app/data/write#3" }),
    /gives as at: \{ fault: "lost-write", at: "app\/data\/write#3" \}$/,
  );
  await rejects(withFault({ fault: "hang@+2s" }), /at: \{ fault: "hang", at: 17 \}$/);
  await rejects(
    withFault({ fault: "eio" }),
    /faults\[0\]: expected at \(one op\) or points \(a sweep\), found neither: write \{ fault: "eio", at: 17 \} or \{ fault: "eio", points: "all" \}$/,
  );
  await rejects(
    withFault({ fault: "eio", at: 3, points: "all" }),
    /found both \(at: 3, points: "all"\)/,
  );
  // With at or points, a trigger in the spec is still refused, as before.
  await rejects(
    withFault({ fault: "eio@5", at: 5 }),
    /faults\[0\]\.fault: expected a fault without @trigger/,
  );
});

Deno.test("an xfs disk takes at least 300M (mkfs.xfs makes none smaller); its size is named", async () => {
  const withDisk = (size: string) => ({
    ...good,
    nodes: {
      app: { ...good.nodes.app, disks: { data: { size, filesystem: "xfs", mount: "/data" } } },
    },
  });
  await rejects(
    withDisk("64M"),
    /nodes\.app\.disks\.data\.size: expected at least 300 MiB for xfs \(mkfs\.xfs refuses a smaller file system\), found 64 MiB/,
  );
  const scenario = await normalizeScenario(withDisk("300M"), { source: "s.json", baseDir: "/" });
  assert.equal(
    scenario.nodes[0].disks[0].kind === "filesystem" && scenario.nodes[0].disks[0].filesystem,
    "xfs",
  );
  await rejects(
    {
      ...good,
      nodes: { app: { ...good.nodes.app, disks: { data: { size: "1G", filesystem: "zfs" } } } },
    },
    /nodes\.app\.disks\.data\.filesystem: expected one of .*"xfs".*found "zfs"/,
  );
});

Deno.test("a scenario's accel and budget: kept when given, absent otherwise; a bad value names its field", async () => {
  const plain = await normalizeScenario(good, { source: "s.json", baseDir: "/" });
  assert.equal("accel" in plain, false);
  assert.equal("budgetMs" in plain, false);
  const pinned = await normalizeScenario({ ...good, accel: "tcg", budget: "5m" }, {
    source: "s.json",
    baseDir: "/",
  });
  assert.equal(pinned.accel, "tcg");
  assert.equal(pinned.budgetMs, 300_000);
  await rejects({ ...good, budget: "soon" }, /budget: expected a duration like 30s/);
  await rejects({ ...good, accel: "hvf" }, /accel: /);
});

Deno.test("expect.history: defaults filled; a mode or an initial value its model does not take, or an unknown model, is named", async () => {
  const withHistory = (history: unknown) => ({ ...good, expect: { history } });
  const scenario = await normalizeScenario(withHistory({ model: "register" }), {
    source: "s.json",
    baseDir: "/",
  });
  assert.deepEqual(scenario.expect.history, {
    model: "register",
    timeoutMs: 30_000,
    initial: null,
    mode: null,
    check: false,
  });
  const queue = await normalizeScenario(
    withHistory({ model: "queue", mode: "exactly-once", timeout: "5s", check: true }),
    { source: "s.json", baseDir: "/" },
  );
  assert.deepEqual(queue.expect.history, {
    model: "queue",
    timeoutMs: 5_000,
    initial: null,
    mode: "exactly-once",
    check: true,
  });
  await rejects(withHistory({ model: "graph" }), /expect\.history\.model: /);
  await rejects(
    withHistory({ model: "register", mode: "exactly-once" }),
    /expect\.history\.mode: expected no mode \(the register model takes none\), found "exactly-once"/,
  );
  await rejects(
    withHistory({ model: "queue", initial: "0" }),
    /expect\.history\.initial: expected none \(the queue model takes none\)/,
  );
  await rejects(
    withHistory({ model: "register", initial: "1 2" }),
    /expect\.history\.initial: expected one EDN value, such as nil or 0, found "1 2"/,
  );
});
