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
