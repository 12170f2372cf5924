import assert from "node:assert/strict";
import { normalizeScenario } from "../scenario/load.ts";
import { checkBootPhase, readBeyond, warmCheckRefusal, warmRunRefusal } from "./warm.ts";

/** e1 serves the check (its restart), e2 runs it, e3 only runs its workload. */
const cluster = await normalizeScenario({
  name: "members",
  nodes: {
    e1: { disks: {}, workload: "true", restart: "report ready", ready: true },
    e2: { disks: {}, workload: "true", check: "true" },
    e3: { disks: {}, workload: "true" },
  },
}, { source: "s.json", baseDir: "/" });

Deno.test("warm checks of a cluster: each node that boots in the check phase is saved for the phase it boots into", () => {
  assert.deepEqual(cluster.nodes.map(checkBootPhase), ["restart", "check", null]);
  assert.deepEqual(cluster.nodes.map((node) => warmCheckRefusal(cluster, node)), [
    null,
    null,
    "it does not boot in the check phase",
  ]);
  const own = { ...cluster.nodes[0], guest: { kernel: "/k", initramfs: "/i" } };
  assert.equal(
    warmCheckRefusal(cluster, own),
    "it boots its own guest image, which has no hold point",
  );
  const noCheck = { ...cluster, nodes: cluster.nodes.map((node) => ({ ...node, check: null })) };
  assert.equal(warmCheckRefusal(noCheck, noCheck.nodes[0]), "the scenario has no check");
});

Deno.test("warm runs: a cluster of faultline's guests is saved; a node of its own guest boots, named", () => {
  assert.equal(warmRunRefusal(cluster), null);
  const own = {
    ...cluster,
    nodes: [cluster.nodes[0], { ...cluster.nodes[1], guest: { kernel: "/k", initramfs: "/i" } }],
  };
  assert.equal(
    warmRunRefusal(own),
    "its node e2 boots its own guest image, which has no hold point",
  );
});

Deno.test("warm runs: a boot's reads are held to the bytes the recording read, however its requests were merged", () => {
  const read = (offset: number, length: number, disk = "data") => ({
    node: "n1",
    disk,
    op: "read" as const,
    offset,
    length,
  });
  const recorded = [read(0, 4096), read(4096, 4096), read(65536, 1024)];
  assert.equal(
    readBeyond([read(2048, 2048), read(0, 8192), read(65536, 512)], recorded),
    undefined,
  );
  assert.deepEqual(readBeyond([read(0, 1024), read(8192, 512)], recorded), read(8192, 512));
  assert.deepEqual(readBeyond([read(65536, 2048)], recorded), read(65536, 2048));
  assert.deepEqual(readBeyond([read(0, 512, "log")], recorded), read(0, 512, "log"));
});
