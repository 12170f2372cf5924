import assert from "node:assert/strict";
import { parseFaultSpec } from "../fault/spec.ts";
import { bootRulesAt, bootRulesOf, nodeRulesOf } from "./node_faults.ts";

Deno.test("faults set at boot: a skew without a trigger holds at the run phase's boots, one with @any at the check's too; they never fire at a moment", () => {
  const plan = {
    seed: 1,
    rules: ["clock-skew:n2,+5s", "clock-skew:n3,-2s@any", "clock-jump:n2,-30s@+1s"].map(
      parseFaultSpec,
    ),
  };
  const rules = bootRulesOf(plan);
  assert.deepEqual(rules, [
    {
      spec: "clock-skew:n2,+5s",
      node: "n2",
      action: { do: "offset-clock", ms: 5000 },
      everyBoot: false,
    },
    {
      spec: "clock-skew:n3,-2s@any",
      node: "n3",
      action: { do: "offset-clock", ms: -2000 },
      everyBoot: true,
    },
  ]);
  assert.deepEqual(bootRulesAt(rules, "n2", "run").map((r) => r.spec), ["clock-skew:n2,+5s"]);
  assert.deepEqual(bootRulesAt(rules, "n2", "check"), []);
  assert.deepEqual(bootRulesAt(rules, "n3", "check").map((r) => r.spec), [
    "clock-skew:n3,-2s@any",
  ]);
  assert.deepEqual(bootRulesAt(rules, "n1", "run"), []);
  assert.deepEqual(nodeRulesOf(plan).map((rule) => [rule.spec, rule.action]), [
    ["clock-jump:n2,-30s@+1000ms", { do: "jump-clock", ms: -30000 }],
  ]);
});
