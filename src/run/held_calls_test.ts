import assert from "node:assert/strict";
import { HeldCalls } from "./held_calls.ts";

Deno.test("HeldCalls: calls before the target exists run on it in order once it does, later ones at once", () => {
  const heard: string[] = [];
  const toTarget = new HeldCalls<{ name: string }>();
  toTarget.call((t) => heard.push(`${t.name} 1`));
  assert.equal(toTarget.ask((t) => heard.push(`${t.name} 2`) > 0, false), false);
  assert.equal(heard.length, 0);
  assert.equal(toTarget.target, null);
  toTarget.release({ name: "run" });
  assert.deepEqual(heard, ["run 1", "run 2"]);
  toTarget.call((t) => heard.push(`${t.name} 3`));
  assert.equal(toTarget.ask((t) => t.name, "none"), "run");
  assert.deepEqual(heard, ["run 1", "run 2", "run 3"]);
});

Deno.test("HeldCalls: a held call that calls again is held behind the calls before it", () => {
  const heard: number[] = [];
  const toTarget = new HeldCalls<number[]>();
  toTarget.call((t) => {
    t.push(1);
    toTarget.call((u) => u.push(3));
  });
  toTarget.call((t) => t.push(2));
  toTarget.release(heard);
  assert.deepEqual(heard, [1, 2, 3]);
});
