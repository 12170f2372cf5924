import assert from "node:assert/strict";
import { FaultSpecError } from "../errors.ts";
import { checkClusterFaults } from "../link.ts";
import { formatFaultSpec, parseFaultSpec } from "../spec.ts";
import { checkStanding, isStanding } from "../standing.ts";
import type { FaultRule } from "../types.ts";
import { kindOf, takesFrames } from "./mod.ts";

Deno.test("clock-skew and clock-jump parse a node and a signed move in whole seconds, and write it back", () => {
  assert.deepEqual(parseFaultSpec("clock-skew:n2,+5s"), {
    spec: "clock-skew:n2,+5s",
    effect: { kind: "clock-skew", node: "n2", offsetMs: 5000 },
    trigger: { kind: "always" },
  });
  assert.deepEqual(parseFaultSpec("clock-skew:-2m,node=db").effect, {
    kind: "clock-skew",
    node: "db",
    offsetMs: -120_000,
  });
  assert.equal(parseFaultSpec("clock-skew:n3,by=1h").spec, "clock-skew:n3,+3600s");
  assert.deepEqual(parseFaultSpec("clock-jump:n2,-30s@+10s"), {
    spec: "clock-jump:n2,-30s@+10000ms",
    effect: { kind: "clock-jump", node: "n2", byMs: -30_000 },
    trigger: { kind: "time", afterMs: 10_000 },
  });
  const rule = parseFaultSpec("clock-jump:n1,+1h@n1/data/write#20");
  assert.deepEqual(parseFaultSpec(formatFaultSpec(rule)), rule);
  assert.deepEqual(kindOf(rule.effect).node?.act(rule.effect), { do: "jump-clock", ms: 3_600_000 });
  const skew = parseFaultSpec("clock-skew:n2,-5s").effect;
  assert.deepEqual(kindOf(skew).boot?.act(skew), { do: "offset-clock", ms: -5000 });
});

Deno.test("a clock moves by whole seconds, not zero, at most 50 years; it names a node", () => {
  for (
    const [spec, pattern] of [
      ["clock-skew:n2,+500ms", /whole seconds/],
      ["clock-jump:n2,+1.5s@+1s", /whole seconds/],
      ["clock-skew:n2,0s", /not zero/],
      ["clock-jump:n2,+500000h@+1s", /at most 50 years/],
      ["clock-skew:n2", /needs how far, as in clock-skew:n2,\+5s/],
      ["clock-jump:n2@+1s", /needs how far/],
      ["clock-skew:+5s", /needs a node/],
      ["clock-skew:n2,+5s,+6s", /does not take "\+6s"/],
    ] as const
  ) {
    assert.throws(() => parseFaultSpec(spec), (error: Error) => {
      assert.ok(error instanceof FaultSpecError, spec);
      assert.match(error.message, pattern, spec);
      return true;
    });
  }
});

Deno.test("a clock skew is set at boot: no trigger (the run phase's boots) or @any (every boot), no other; it has no point", () => {
  assert.equal(isStanding(parseFaultSpec("clock-skew:n2,+5s")), true);
  assert.equal(isStanding(parseFaultSpec("clock-skew:n2,+5s@any")), false);
  for (const trigger of ["17", "+2s", "write#3", "check:any", "n2/data/any", "net:n1->n2#1"]) {
    assert.throws(
      () => parseFaultSpec(`clock-skew:n2,+5s@${trigger}`),
      /clock-skew is set when its node boots and takes no trigger but @any/,
      trigger,
    );
  }
  // A trigger given apart from the spec (replay's --fault-at) is refused the same way.
  const placed: FaultRule = {
    ...parseFaultSpec("clock-skew:n2,+5s"),
    trigger: { kind: "index", index: 4 },
  };
  placed.spec = formatFaultSpec(placed);
  assert.throws(
    () => checkStanding(placed, "--fault-at N"),
    /fault "clock-skew:n2,\+5s@4": clock-skew is set when its node boots/,
  );
  assert.equal(takesFrames(parseFaultSpec("clock-skew:n2,+5s").effect), false);
  assert.equal(takesFrames(parseFaultSpec("clock-jump:n2,+5s@3").effect), true);
  // A jump fires once, at a moment: it needs a trigger.
  assert.throws(
    () => checkStanding(parseFaultSpec("clock-jump:n2,-30s"), "@TRIGGER"),
    /fires once and has no trigger/,
  );
});

Deno.test("a clock fault names a node of the scenario, and a scenario of one node takes none", () => {
  const nodes = ["n1", "n2"];
  checkClusterFaults(
    ["clock-skew:n2,+5s", "clock-jump:n1,-30s@+1s"].map(parseFaultSpec),
    nodes,
  );
  assert.throws(
    () => checkClusterFaults([parseFaultSpec("clock-skew:n9,+5s")], nodes),
    { message: /^fault "clock-skew:n9,\+5s": no node n9 \(nodes: n1, n2\)$/ },
  );
  assert.throws(
    () => checkClusterFaults([parseFaultSpec("clock-jump:app,-30s@+1s")], ["app"]),
    {
      message:
        /^fault "clock-jump:app,-30s@\+1000ms" is a clock fault, and the scenario has one node \(app\): clock faults need two nodes or more$/,
    },
  );
  // Other node faults take a scenario of one node, as before.
  checkClusterFaults([parseFaultSpec("crash:app@+1s")], ["app"]);
});
