import assert from "node:assert/strict";
import { ScenarioError } from "./errors.ts";
import { normalizeScenario } from "./load.ts";

/** The one problem a scenario has, as the user reads it. */
async function problem(input: unknown): Promise<string> {
  const error = await normalizeScenario(input, { source: "s.json", baseDir: "/" }).then(
    () => assert.fail("the scenario was accepted"),
    (e) => e,
  );
  assert.ok(error instanceof ScenarioError, String(error));
  return error.message;
}

const node = (extra: Record<string, unknown>) => ({
  name: "x",
  nodes: { app: { disks: {}, workload: "true", ...extra } },
});
const disk = (data: Record<string, unknown>) => node({ disks: { data } });

Deno.test("issues: a disk's problem names the disk's own field, what was expected and found", async () => {
  assert.equal(
    await problem(disk({ size: "lots" })),
    's.json: nodes.app.disks.data.size: expected a size like 64M, found "lots"',
  );
  assert.equal(
    await problem(disk({ size: "1M", filesystem: "zfs" })),
    's.json: nodes.app.disks.data.filesystem: expected one of "ext4", "ext3", "ext2", "xfs", "none", found "zfs"',
  );
  assert.equal(
    await problem(disk({ image: 3 })),
    "s.json: nodes.app.disks.data.image: expected string, found number 3",
  );
  assert.equal(
    await problem(disk({ size: "1M", colour: "red" })),
    's.json: nodes.app.disks.data: unknown field "colour"',
  );
});

Deno.test("issues: bounds read as bounds", async () => {
  assert.equal(
    await problem(node({ memory: -5 })),
    "s.json: nodes.app.memory: expected a number > 0, found number -5",
  );
  assert.equal(
    await problem({ ...node({}), expect: { workload: { exit: 300 } } }),
    "s.json: expect.workload.exit: expected a number <= 255, found number 300",
  );
});

Deno.test("issues: a bad name of a node names the node and the rule", async () => {
  const message = await problem({ name: "x", nodes: { App: { disks: {}, workload: "true" } } });
  assert.match(
    message,
    /^s\.json: nodes\.App: expected a node name like app or db1 as the name, found "App"$/,
  );
});
