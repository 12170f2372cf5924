import assert from "node:assert/strict";
import { debugfsRequests } from "./debugfs.ts";

Deno.test("debugfsRequests: every argument once, in lines debugfs reads whole", () => {
  const blocks = Array.from({ length: 3000 }, (_, i) => String(1_000_000_000 + i));
  const lines = debugfsRequests("icheck", blocks);
  assert.ok(lines.length > 1);
  for (const line of lines) {
    assert.ok(line.length <= 4000, `${line.length} characters`);
    assert.match(line, /^icheck \d+( \d+)*$/);
  }
  assert.deepEqual(lines.flatMap((line) => line.split(" ").slice(1)), blocks);
  assert.deepEqual(debugfsRequests("testb", ["1", "9"], { each: true }), ["testb 1", "testb 9"]);
  assert.deepEqual(debugfsRequests("ncheck", []), []);
});
