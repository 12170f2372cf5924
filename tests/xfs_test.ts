/**
 * XFS disks (`filesystem: "xfs"`) in a real guest: fixtures/xfs-log.json runs a setup on
 * its disk (left clean by `xfs_repair -n`'s judgement), appends and fsyncs eight records,
 * and the check reads them on a fresh boot. A power loss at the run's last flush keeps every
 * acknowledged record; with the disk lying about flushes (`lie-flush`, what `nobarrier` did
 * before Linux 4.19 removed it) the same power loss loses all eight.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readParent } from "../src/replay/replay.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline } from "./support/mod.ts";

const FIXTURE = "fixtures/xfs-log.json";

/** A replay in `cwd`, where its trace goes. */
async function replayJson(args: string[], cwd: string) {
  const ran = await faultline(["replay", ...args, "--json"], { timeoutMs: 300_000, cwd });
  return { ...ran, json: JSON.parse(ran.stdout) };
}

Deno.test("xfs: a setup and a run on an XFS disk; a power loss at the last flush keeps every ack, and loses all eight when the disk lies about flushes", async () => {
  await using dir = await makePrivateDir("faultline-xfs-test-");
  const trace = join(dir.path, "xfs.trace");
  const recorded = await faultline(["record", FIXTURE, "-o", trace, "--json"], {
    timeoutMs: 300_000,
  });
  assert.equal(recorded.code, 0, recorded.text);
  const run = JSON.parse(recorded.stdout);
  assert.deepEqual([run.oracle.acked, run.oracle.lost], [8, 0], run.verdict.reason);
  const parent = await readParent(trace);
  assert.deepEqual((parent.header.setup as { nodes: string[] }).nodes, ["app"]);

  const flushes = parent.ordered.filter((op) => op.phase === "run" && op.op === "flush");
  const last = String(flushes.at(-1)!.index);
  const honest = await replayJson([trace, "--fault", "power-loss", "--fault-at", last], dir.path);
  assert.equal(honest.code, 0, honest.text);
  assert.deepEqual([honest.json.oracle.acked, honest.json.oracle.lost], [8, 0]);

  const lying = await replayJson([
    trace,
    "--fault",
    "power-loss",
    "--with",
    "lie-flush",
    "--fault-at",
    last,
  ], dir.path);
  assert.equal(lying.code, 1, lying.text);
  assert.deepEqual([lying.json.oracle.acked, lying.json.oracle.lost], [8, 8]);
});

Deno.test("xfs: a disk under 300M exits 2 with one line naming its size", async () => {
  await using dir = await makePrivateDir("faultline-xfs-test-");
  const scenario = JSON.parse(await Deno.readTextFile(FIXTURE));
  scenario.nodes.app.disks.data.size = "64M";
  const path = join(dir.path, "small.json");
  await Deno.writeTextFile(path, JSON.stringify(scenario));
  const refused = await faultline(["record", path, "-o", join(dir.path, "x.trace")]);
  assert.equal(refused.code, 2, refused.text);
  assert.match(
    refused.stderr,
    /^faultline: .*small\.json: nodes\.app\.disks\.data\.size: expected at least 300 MiB for xfs \(mkfs\.xfs refuses a smaller file system\), found 64 MiB$/m,
  );
});
