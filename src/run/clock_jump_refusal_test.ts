import assert from "node:assert/strict";
import { join } from "node:path";
import { parseFaultSpec } from "../fault/spec.ts";
import { normalizeScenario } from "../scenario/load.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { RunError } from "./errors.ts";
import type { NodeGuest } from "./prepare.ts";
import { runScenario } from "./run.ts";

Deno.test("a run refuses a clock jump on a node whose guest reads no control channel, before anything boots", async () => {
  await using dir = await makePrivateDir("faultline-jump-refusal-");
  const scenario = await normalizeScenario(
    { name: "own", nodes: { app: { disks: {}, workload: "true" } } },
    { source: "own.json", baseDir: dir.path },
  );
  // A guest that no QEMU ever boots: the run must refuse first.
  const guest: NodeGuest = {
    kernel: { path: "/nonexistent/vmlinuz", version: "given", sha256: "0".repeat(64) },
    initramfs: { path: "/nonexistent/initrd", sha256: "0".repeat(64) },
  };
  await assert.rejects(
    runScenario({
      scenario,
      trace: { path: join(dir.path, "own.trace"), keepData: false },
      command: "replay",
      plan: { seed: 1, rules: [parseFaultSpec("clock-jump:app,-30s@+1s")] },
      prepared: { guests: new Map([["app", guest]]), bases: [] },
    }),
    (error: unknown) => {
      assert.ok(error instanceof RunError, String(error));
      assert.equal(error.kind, "usage");
      assert.match(error.message, /the guest of app reads no control channel to jump its clock by/);
      return true;
    },
  );
});
