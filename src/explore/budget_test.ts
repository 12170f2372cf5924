import assert from "node:assert/strict";
import { parseBudget } from "./budget.ts";

Deno.test("a budget is a number of schedules or a time", () => {
  assert.deepEqual(parseBudget("30m"), { kind: "time", ms: 1_800_000 });
  assert.deepEqual(parseBudget("90s"), { kind: "time", ms: 90_000 });
  assert.deepEqual(parseBudget("12"), { kind: "schedules", count: 12 });
});

Deno.test("a budget of nothing, or of something else, is refused with one sentence", () => {
  assert.throws(() => parseBudget("0"), {
    name: "ExploreError",
    message: "--budget 0 explores nothing: give 1 schedule or more, or a time like 30m",
  });
  assert.throws(() => parseBudget("0s"), /explores nothing/);
  assert.throws(() => parseBudget("soon"), /neither a number of schedules/);
});
