import assert from "node:assert/strict";
import { join } from "node:path";
import type { ScenarioNode } from "../scenario/schema.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { ensureBusybox } from "../vm/kernel.ts";
import { setupWorkload } from "./setup_phase.ts";
import { run } from "../../tests/support/process.ts";

const node: ScenarioNode = {
  name: "db",
  memoryBytes: 256 * 1024 * 1024,
  disks: ["/data", "/data/wal"].map((mount, i) => ({
    name: `d${i}`,
    kind: "filesystem" as const,
    sizeBytes: 1 << 20,
    filesystem: "ext4" as const,
    mkfsOptions: [],
    mount,
    mountOptions: null,
  })),
  programs: [],
  files: [],
  env: {},
  workload: "",
  check: null,
  guest: null,
  restart: null,
};

Deno.test("setup phase: the script goes in unexpanded, runs, and the disks are unmounted deepest first", async () => {
  const script = "echo \"$HOME\" `x` 'it''s'\nexit 3";
  const workload = setupWorkload(node, script);
  assert.match(workload, /^cat >\/tmp\/faultline-setup <<'FAULTLINE_SETUP_[0-9A-F]{16}'$/m);
  assert.ok(workload.includes(`\n${script}\nFAULTLINE_SETUP_`));
  assert.ok(workload.indexOf("umount '/data/wal'") < workload.indexOf("umount '/data'"));
  assert.match(workload, /umount '\/data' \|\| \{ echo .*in use.*; exit 125; \}/);
  await using dir = await makePrivateDir("faultline-setup-test-");
  await Deno.writeTextFile(join(dir.path, "w"), workload);
  const busybox = await ensureBusybox();
  const check = await run(busybox.path, ["sh", "-n", join(dir.path, "w")]);
  assert.equal(check.code, 0, check.stderr);
});
