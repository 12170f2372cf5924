/**
 * What a crash lost, as files, on a real recording: fsync-log.ts on a disk that lies about
 * flushes loses acknowledged records at its last flush, and the failing point and its
 * replay name /data/log, the file the scenario appends to, as where the lost writes went.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readParent } from "../src/replay/replay.ts";
import { runScenario } from "../src/run/run.ts";
import { loadScenario } from "../src/scenario/load.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline } from "./support/mod.ts";

/** A write of the log's bytes: a record's text, and no jbd2 block (the journal holds no data here). */
function writesTheLog(op: OpRecord): boolean {
  if (op.op !== "write" || !op.data) return false;
  const jbd2 = new DataView(op.data.buffer, op.data.byteOffset, 4).getUint32(0) === 0xc03b3998;
  return !jbd2 &&
    new TextDecoder("latin1").decode(op.data).includes("abcdefghijklmnopqrstuvwxyz end\n");
}

Deno.test("a failing power-loss point says which files its lost writes belonged to: /data/log, the journal, metadata", async () => {
  await using dir = await makePrivateDir("faultline-lost-files-test-");
  const trace = join(dir.path, "fsync-log.trace");
  const recorded = await runScenario({
    scenario: await loadScenario("scenarios/fsync-log.ts"),
    trace: { path: trace, keepData: true },
    command: "record",
  });
  assert.equal(recorded.verdict.pass, true, recorded.verdict.reason);
  const parent = await readParent(trace);
  const run = parent.ordered.filter((op) => op.phase === "run");
  const last = run.filter((op) => op.op === "flush").at(-1)!.index;
  // The disk lied about every flush: a power loss at the last one drops every write before it.
  const dropped = run.filter((op) => op.op === "write" && op.index < last);
  const logWrites = dropped.filter(writesTheLog).length;
  assert.ok(logWrites >= 16, `${logWrites} writes of the log's records`);

  const swept = await faultline([
    "sweep",
    trace,
    "--fault",
    "power-loss",
    "--with",
    "lie-flush",
    "--points",
    `${last}..${last}`,
    "--json",
  ], { timeoutMs: 300_000 });
  assert.equal(swept.code, 1, swept.text);
  const [point] = JSON.parse(swept.stdout).points;
  assert.ok(point.oracle.lost > 0, JSON.stringify(point));
  const { lost } = point;
  assert.equal(lost.writes, dropped.length, JSON.stringify(lost));
  assert.deepEqual(lost.files[0], {
    node: "app",
    disk: "data",
    path: "/data/log",
    inode: lost.files[0].inode,
    writes: logWrites,
  });
  assert.ok(lost.journal > 0 && lost.metadata > 0, JSON.stringify(lost));
  assert.deepEqual(lost.unread, []);
  assert.match(
    lost.summary,
    new RegExp(`^${logWrites} writes to /data/log, .*\\d+ to the journal`),
  );

  // The replay of the point says it after the power loss.
  const replayed = await faultline([
    "replay",
    trace,
    "--fault",
    "power-loss",
    "--with",
    "lie-flush",
    "--fault-at",
    String(last),
    "-o",
    join(dir.path, "replay.trace"),
  ], { timeoutMs: 300_000 });
  assert.equal(replayed.code, 1, replayed.text);
  assert.match(replayed.stdout, new RegExp(`^lost: ${lost.summary.replaceAll("/", "\\/")}$`, "m"));
});
