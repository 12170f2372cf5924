import assert from "node:assert/strict";
import { join } from "node:path";
import { guestNetworkOf, nodeAddresses } from "../net/addresses.ts";
import { ScenarioError } from "../scenario/errors.ts";
import { loadScenario } from "../scenario/load.ts";
import type { ScenarioNode } from "../scenario/schema.ts";
import { exitCodeForError, FaultlineError } from "../util/errors.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { GuestImageError } from "./guest_image_error.ts";
import { initramfsOptionProblems } from "./initramfs_options.ts";
import { ensureBusybox, ensureKernel } from "./kernel.ts";
import { buildNodeInitramfs, nodeInitramfsOptions } from "./node_initramfs.ts";

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

const node: ScenarioNode = {
  name: "app",
  memoryBytes: 256 * 1024 * 1024,
  disks: [{
    name: "data",
    kind: "filesystem",
    sizeBytes: 1 << 20,
    filesystem: "ext4",
    mkfsOptions: [],
    mount: "/data",
    mountOptions: "barrier=0",
  }],
  programs: [],
  files: [],
  env: { NODE_ID: "1" },
  workload: "report ack 1",
  check: "report have 1",
  guest: null,
  restart: null,
};

Deno.test("node image: the options of every shipped scenario's nodes are ones the image takes", async () => {
  const paths = [
    ...[...Deno.readDirSync("scenarios")].filter((e) => !e.name.startsWith("_"))
      .map((e) => join("scenarios", e.name)),
    ...[...Deno.readDirSync("fixtures")].filter((e) => e.name.endsWith(".json"))
      .map((e) => join("fixtures", e.name)),
  ];
  let checked = 0;
  for (const path of paths.sort()) {
    const scenario = await loadScenario(path).catch((error) => {
      // A program this machine lacks (etcd before `faultline setup`): not this test's concern.
      if (error instanceof ScenarioError && /which does not exist/.test(error.message)) return null;
      throw error;
    });
    if (scenario === null) continue;
    checked++;
    const names = scenario.nodes.map((n) => n.name);
    const addresses = scenario.network ? nodeAddresses(names) : null;
    for (const n of scenario.nodes) {
      const network = addresses ? guestNetworkOf(addresses, n.name) : undefined;
      const options = nodeInitramfsOptions(n, { kernel, busybox, network });
      assert.deepEqual(initramfsOptionProblems(options), [], `${path}: ${n.name}`);
      assert.deepEqual(
        Object.keys(options.phases).sort(),
        [
          "run",
          ...(n.check === null ? [] : ["check"]),
          ...(n.restart === null ? [] : ["restart"]),
        ].sort(),
      );
    }
  }
  assert.ok(checked >= 3, `${checked} scenarios checked`);
});

Deno.test("node image: a node's options map its disks, files and phases", () => {
  const options = nodeInitramfsOptions(
    { ...node, files: [{ host: "/etc/hostname", guest: "/etc/name" }], restart: "true" },
    { kernel, busybox },
  );
  assert.deepEqual(options.phases, {
    run: "report ack 1",
    check: "report have 1",
    restart: "true",
  });
  assert.deepEqual(options.disks, [
    { name: "data", mountpoint: "/data", fstype: "ext4", options: "barrier=0" },
  ]);
  assert.deepEqual(options.files, [{ hostPath: "/etc/hostname", guestPath: "/etc/name" }]);
  assert.deepEqual(options.env, { NODE_ID: "1" });
});

Deno.test("node image: a node the scenario's checks let through and the image refuses is a bug, exit 3", async () => {
  const bad = { ...node, disks: [{ ...node.disks[0], mount: "/proc" }] };
  await assert.rejects(buildNodeInitramfs(bad, { kernel, busybox }), (e: unknown) => {
    assert.ok(!(e instanceof FaultlineError), "not a usage error");
    assert.equal(exitCodeForError(e), 3);
    assert.match(
      (e as Error).message,
      /refuses node app, .*a bug in faultline.*disks\[0\]\.mountpoint: expected a directory of its own/,
    );
    return true;
  });
});

Deno.test("node image: a host file that went missing is named by the scenario's field", async () => {
  await using dir = await makePrivateDir("faultline-node-image-test-");
  const gone = { ...node, files: [{ host: join(dir.path, "gone"), guest: "/etc/gone" }] };
  await assert.rejects(
    buildNodeInitramfs(gone, { kernel, busybox }),
    (e: unknown) =>
      e instanceof GuestImageError && e.usage &&
      /^nodes\.app\.files\[0\]\.host: .*gone does not exist$/.test(e.message),
  );
});
