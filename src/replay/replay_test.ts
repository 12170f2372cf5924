import assert from "node:assert/strict";
import { join } from "node:path";
import { Packr } from "msgpackr";
import { FaultSpecError } from "../fault/errors.ts";
import { PLAN_VERSION } from "../fault/plan_version.ts";
import { SCENARIO_VERSION } from "../scenario/schema.ts";
import { TRACE_FORMAT, TRACE_VERSION } from "../trace/schema.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { ReplayError } from "./errors.ts";
import { readParent, replayPlan, reproduceCommand } from "./replay.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { runOk } from "../../tests/support/process.ts";
import { prng } from "../../tests/support/random.ts";
import { fakeParentTrace, traceHeader } from "../../tests/support/traces.ts";

/** A recording: app/data writes at 0 (three times) and 4096, flushes, one op on node db. */
const parent = fakeParentTrace({
  path: "/traces/log.trace",
  header: { seed: 1234 },
  records: [
    opRecord({ index: 0, offset: 0 }),
    opRecord({ index: 1, op: "flush" }),
    opRecord({ index: 2, offset: 0 }),
    opRecord({ index: 3, offset: 4096 }),
    opRecord({ index: 4, node: "db", disk: "wal", offset: 0 }),
    opRecord({ index: 5, offset: 0 }),
    opRecord({ index: 6, op: "flush" }),
  ],
});

Deno.test("replayPlan: --fault-at N becomes the signature and occurrence of recorded op N", () => {
  const plan = replayPlan(parent, { faults: ["eio"], faultAt: "5" });
  assert.equal(plan.seed, 1234, "the parent's seed");
  assert.deepEqual(plan.rules, [{
    effect: { kind: "error", errno: "eio" },
    trigger: {
      kind: "match",
      node: "app",
      disk: "data",
      type: "write",
      exact: { offset: 0, length: 512 },
      occurrence: 3,
    },
    spec: "eio@app/data/write:0+512#3",
  }]);
  assert.equal(
    replayPlan(parent, { faults: ["power-loss"], faultAt: "6" }).rules[0].spec,
    "power-loss@app/data/flush:0+0#2",
  );
  assert.equal(
    replayPlan(parent, { faults: ["eio"], faultAt: "4" }).rules[0].spec,
    "eio@db/wal/write:0+512#1",
  );
});

Deno.test("replayPlan: every fault without a trigger takes --fault-at; one with its own keeps it (an index made a signature)", () => {
  const plan = replayPlan(parent, {
    faults: ["delay:200ms", "lost-write@3", "eio@data/write#2", "power-loss:torn"],
    faultAt: "2",
    seed: 7,
  });
  assert.equal(plan.seed, 7);
  assert.deepEqual(plan.rules.map((rule) => rule.spec), [
    "delay:200ms@app/data/write:0+512#2",
    "lost-write@app/data/write:4096+512#1",
    "eio@data/write#2",
    "power-loss:torn@app/data/write:0+512#2",
  ]);
  assert.deepEqual(replayPlan(parent, { faults: [] }), { seed: 1234, rules: [] });
});

Deno.test("replayPlan: a fault of one op needs --fault-at or a trigger; one that stands holds the run phase; --with never takes --fault-at", () => {
  assert.throws(
    () => replayPlan(parent, { faults: ["eio"], seed: 0 }),
    /fault "eio" hits one op and has no trigger: add --fault-at N or @TRIGGER/,
  );
  assert.deepEqual(replayPlan(parent, { faults: ["limp:5ms"], seed: 0 }).rules[0].trigger, {
    kind: "always",
  });
  const plan = replayPlan(parent, { faults: ["eio"], faultAt: "3", with: ["lie-flush"] });
  assert.deepEqual(plan.rules.map((rule) => rule.spec), [
    "eio@app/data/write:4096+512#1",
    "lie-flush",
  ]);
  assert.throws(
    () => replayPlan(parent, { faults: ["eio"], faultAt: "3", with: ["delay:5ms"] }),
    /fault "delay:5ms" hits one op and has no trigger: add @TRIGGER/,
  );
});

Deno.test("replayPlan: --fault-at as a signature or a time is taken as written", () => {
  const signature = replayPlan(parent, { faults: ["eio"], faultAt: "data/write:0+512#2" });
  assert.deepEqual(signature.rules[0].trigger, {
    kind: "match",
    disk: "data",
    type: "write",
    exact: { offset: 0, length: 512 },
    occurrence: 2,
  });
  assert.equal(signature.rules[0].spec, "eio@data/write:0+512#2");
  const time = replayPlan(parent, { faults: ["hang"], faultAt: "+2s" });
  assert.deepEqual(time.rules[0].trigger, { kind: "time", afterMs: 2000 });
});

Deno.test("replayPlan refuses --fault-at without --fault, an op the trace lacks and a bad spec", () => {
  assert.throws(
    () => replayPlan(parent, { faults: [], faultAt: "3" }),
    (e: unknown) => e instanceof ReplayError && /give a --fault too/.test(e.message),
  );
  assert.throws(
    () => replayPlan(parent, { faults: ["eio"], faultAt: "7" }),
    (e: unknown) =>
      e instanceof ReplayError &&
      /the trace has no op 7 \(its ops are numbered 0 to 6\)/.test(e.message),
  );
  assert.throws(
    () => replayPlan(parent, { faults: ["eio@70"] }),
    (e: unknown) => e instanceof ReplayError && /no op 70/.test(e.message),
    "an index in the spec names a recorded op too",
  );
  assert.throws(() => replayPlan(parent, { faults: ["melt"] }), FaultSpecError);
  assert.throws(
    () => replayPlan(parent, { faults: ["eio"], faultAt: "data/melt:1+2" }),
    FaultSpecError,
  );
});

Deno.test("replayPlan: at a frame's index a crash state, a link or a node fault keeps the index; a block fault needs an op", () => {
  const fake = fakeParentTrace({
    records: [opRecord({ index: 0, node: "n1" }), opRecord({ index: 1, node: "n1", op: "flush" })],
  });
  const cluster = {
    ...fake,
    scenario: { ...fake.scenario, nodes: [{ name: "n1" }, { name: "n2" }] },
  } as typeof fake;
  const spec = (fault: string) =>
    replayPlan(cluster, { faults: [fault], faultAt: "2" }).rules[0].spec;
  assert.equal(spec("power-loss"), "power-loss@2");
  assert.equal(spec("crash:n2"), "crash:n2@2");
  assert.equal(spec("partition:n1|n2"), "partition:n1|n2@2");
  assert.throws(() => spec("eio"), /the trace has no op 2/);
});

Deno.test("replayPlan: a clock fault names a node of the scenario and needs two nodes; a clock skew takes no --fault-at", () => {
  const fake = fakeParentTrace({
    records: [opRecord({ index: 0, node: "n1" }), opRecord({ index: 1, node: "n1", op: "flush" })],
  });
  const withNodes = (...names: string[]) =>
    ({
      ...fake,
      scenario: { ...fake.scenario, nodes: names.map((name) => ({ name })) },
    }) as typeof fake;
  const cluster = withNodes("n1", "n2");
  const plan = replayPlan(cluster, {
    faults: ["clock-jump:n2,-30s"],
    faultAt: "1",
    with: ["clock-skew:n2,+5s"],
  });
  assert.deepEqual(plan.rules.map((rule) => rule.spec), [
    "clock-jump:n2,-30s@n1/data/flush:0+0#1",
    "clock-skew:n2,+5s",
  ]);
  assert.throws(
    () => replayPlan(cluster, { faults: ["clock-jump:n9,-30s@+1s"] }),
    /no node n9 \(nodes: n1, n2\)/,
  );
  assert.throws(
    () => replayPlan(withNodes("n1"), { faults: ["clock-skew:n1,+5s"] }),
    /is a clock fault, and the scenario has one node \(n1\): clock faults need two nodes or more/,
  );
  assert.throws(
    () => replayPlan(cluster, { faults: ["clock-skew:n2,+5s"], faultAt: "1" }),
    /clock-skew is set when its node boots and takes no trigger but @any/,
  );
});

Deno.test("reproduceCommand: the replay's options as flags, in a fixed order", () => {
  assert.equal(reproduceCommand("run.trace", { faults: [] }), "faultline replay run.trace");
  assert.equal(
    reproduceCommand("/t/run.trace", {
      faults: ["eio", "delay:200ms@write#3"],
      faultAt: "42",
      live: true,
      strictOrder: true,
      seed: 0,
    }),
    "faultline replay /t/run.trace --fault eio --fault 'delay:200ms@write#3' --fault-at 42 --live --strict-order --seed 0",
  );
  assert.equal(
    reproduceCommand("a b.trace", {
      faults: ["power-loss"],
      faultAt: "data/write:0+512#2",
      live: false,
    }),
    "faultline replay 'a b.trace' --fault power-loss --fault-at 'data/write:0+512#2'",
  );
  assert.equal(reproduceCommand("it's.trace", { faults: [] }), `faultline replay 'it'\\''s.trace'`);
});

Deno.test("reproduceCommand: a POSIX shell reads back exactly the words, whatever they hold", async () => {
  const random = prng(21);
  const alphabet = [..."ab/._-:=@%+,#~*?[]{}()<>|&;$`\\\"' \t\n!^", "é", "😀"];
  const word = () =>
    Array.from({ length: 1 + random.below(12) }, () => random.pick(alphabet)).join("");
  const cases = Array.from({ length: 150 }, () => ({
    parent: word(),
    faults: Array.from({ length: random.below(3) }, word),
    faultAt: random.chance(0.5) ? word() : undefined,
  }));
  // Each command's words, printed by the shell NUL-separated, one command per record (0x1e).
  const script = cases.map((c) =>
    `${reproduceCommand(c.parent, c).replace(/^faultline /, "printf '%s\\0' ")}; printf '\\036'`
  ).join("\n");
  const records = (await runOk("sh", ["-c", script])).split("\u001e").slice(0, -1);
  assert.equal(records.length, cases.length);
  records.forEach((record, i) => {
    const c = cases[i];
    const expected = ["replay", c.parent, ...c.faults.flatMap((f) => ["--fault", f])];
    if (c.faultAt !== undefined) expected.push("--fault-at", c.faultAt);
    assert.deepEqual(record.split("\0").slice(0, -1), expected, JSON.stringify(c));
  });
});

Deno.test("readParent: scenarios of version 1 to the current one replay; a trace of version 1, or with fault specs or a scenario of a newer version, is refused in one line", async () => {
  await using dir = await makePrivateDir();
  const packr = new Packr({ useRecords: false, moreTypes: false });
  const header = {
    record: "header",
    format: TRACE_FORMAT,
    ...traceHeader({ scenario: { name: "s", nodes: [] } }),
  };
  // Version 1 headers had no plan or scenario version.
  const { planVersion: _, ...version1 } = { ...header, version: 1 };
  const cases: [string, Record<string, unknown>, RegExp | null][] = [
    ["current", { ...header, version: TRACE_VERSION, scenarioVersion: SCENARIO_VERSION }, null],
    // Scenarios of version 3 (expect.history), 2 (recovery) and 1 (neither) still replay.
    ["scenario-v3", { ...header, version: TRACE_VERSION, scenarioVersion: 3 }, null],
    ["scenario-v2", { ...header, version: TRACE_VERSION, scenarioVersion: 2 }, null],
    ["scenario-v1", { ...header, version: TRACE_VERSION, scenarioVersion: 1 }, null],
    [
      "v1",
      version1,
      /is a trace of version 1; this faultline \(\S+\) replays traces of version 2 or later, .*: record it again$/,
    ],
    [
      "newer-plan",
      { ...header, version: TRACE_VERSION, planVersion: PLAN_VERSION + 1, scenarioVersion: 1 },
      new RegExp(
        `holds fault specs of version ${
          PLAN_VERSION + 1
        } .*reads fault specs of version ${PLAN_VERSION} and older: replay it with a newer faultline$`,
      ),
    ],
    [
      "newer-scenario",
      { ...header, version: TRACE_VERSION, scenarioVersion: SCENARIO_VERSION + 1 },
      new RegExp(
        `holds a scenario of version ${
          SCENARIO_VERSION + 1
        } .*reads a scenario of version ${SCENARIO_VERSION} and older`,
      ),
    ],
  ];
  for (const [name, fields, refused] of cases) {
    const path = join(dir.path, `${name}.trace`);
    await Deno.writeFile(path, packr.pack(fields));
    if (refused === null) {
      assert.equal((await readParent(path)).scenario.name, "s");
      continue;
    }
    await assert.rejects(readParent(path), (error: unknown) => {
      assert.ok(error instanceof ReplayError, name);
      assert.equal(error.kind, "usage", `${name}: exit code 2`);
      assert.ok(error.message.startsWith(path), name);
      assert.match(error.message, refused, name);
      assert.ok(!error.message.includes("\n"), `${name}: one line`);
      return true;
    });
  }
});
