import assert from "node:assert/strict";
import {
  doublingsUp,
  drawLinkScope,
  drawNode,
  halvingsDown,
  logBetween,
  pick,
  probabilityBetween,
  probabilityHalvings,
  wholeBetween,
} from "./draw_params.ts";

Deno.test("draws stay in their ranges, at both ends of the stream", () => {
  for (const u of [0, 0.2, 0.5, 0.999999]) {
    const draw = () => u;
    assert.ok(["a", "b", "c"].includes(pick(draw, ["a", "b", "c"])));
    const whole = wholeBetween(draw, 1, 8);
    assert.ok(whole >= 1 && whole <= 8 && Number.isInteger(whole));
    const log = logBetween(draw, 10, 2000);
    assert.ok(log >= 10 && log <= 2000 && Number.isInteger(log));
    const p = probabilityBetween(draw, 0.1, 1);
    assert.ok(p >= 0.1 && p <= 1 && Math.abs(p * 20 - Math.round(p * 20)) < 1e-9, String(p));
  }
  assert.equal(pick(() => 0.6, ["a", "b"]), "b");
  assert.equal(wholeBetween(() => 0.99, 1, 8), 8);
  assert.equal(logBetween(() => 0.5, 10, 1000), 100);
  assert.equal(probabilityBetween(() => 0, 0.1, 1), 0.1);
});

Deno.test("nodes and link scopes are drawn among the scenario's nodes", () => {
  assert.equal(drawNode(() => 0.2, ["n1", "n2"], "n2"), "n2");
  assert.deepEqual(drawLinkScope(() => 0.1, ["n1", "n2"], "n1"), { kind: "all" });
  assert.deepEqual(drawLinkScope(() => 0.5, ["n1", "n2"], "n1"), { kind: "node", node: "n1" });
  assert.deepEqual(drawLinkScope(() => 0.9, ["n1", "n2"], "n1"), {
    kind: "link",
    from: "n1",
    to: "n2",
    both: false,
  });
  assert.deepEqual(drawLinkScope(() => 0.9, ["n1"], "n1"), { kind: "all" });
});

Deno.test("weakenings are strictly weaker, the weakest first, and none at the range's end", () => {
  assert.deepEqual(halvingsDown(800, 100), [100, 200, 400]);
  assert.deepEqual(halvingsDown(100, 100), []);
  assert.deepEqual(halvingsDown(3, 1), [1]);
  assert.deepEqual(probabilityHalvings(0.8, 0.05), [0.05, 0.1, 0.2, 0.4]);
  assert.deepEqual(probabilityHalvings(0.05, 0.05), []);
  assert.deepEqual(doublingsUp(1000, 8000), [8000, 4000, 2000]);
  assert.deepEqual(doublingsUp(8000, 8000), []);
});
