/**
 * Crash orders and lying disks against real VMs, on traces of the shipped scenarios made
 * at test time: a disk that lies about flushes loses fsync-log's acknowledged records
 * where an honest one loses none; `power-loss:each` on sqlite-delete-full names the one
 * write whose loss rolls back an acknowledged commit; failing points name their step.
 * Each sweep is kept to the few points that matter.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readParent } from "../src/replay/replay.ts";
import { runScenario } from "../src/run/run.ts";
import { loadScenario } from "../src/scenario/load.ts";
import type { OpRecord } from "../src/trace/schema.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline } from "./support/mod.ts";

async function record(scenario: string, trace: string): Promise<void> {
  const recorded = await runScenario({
    scenario: await loadScenario(scenario),
    trace: { path: trace, keepData: true },
    command: "record",
  });
  assert.equal(recorded.verdict.pass, true, recorded.verdict.reason);
}

// deno-lint-ignore no-explicit-any
async function sweepJson(args: string[]): Promise<{ code: number; json: any; text: string }> {
  const result = await faultline(["sweep", ...args, "--jobs", "2", "--json"], {
    timeoutMs: 300_000,
  });
  return {
    code: result.code,
    json: result.stdout.trim() ? JSON.parse(result.stdout) : null,
    text: result.text,
  };
}

/** The jbd2 block type of a 1 KiB block at the start of a write (0 when it is no jbd2 block). */
function jbd2Type(op: OpRecord): number {
  if (!op.data || op.data.length < 8) return 0;
  const view = new DataView(op.data.buffer, op.data.byteOffset, 8);
  return view.getUint32(0) === 0xc03b3998 ? view.getUint32(4) : 0;
}

function contains(op: OpRecord, text: string): boolean {
  return op.data !== undefined && new TextDecoder("latin1").decode(op.data).includes(text);
}

Deno.test("lie-flush on fsync-log's disk: a power loss at its last flush loses acknowledged records; without the lie none", async () => {
  await using dir = await makePrivateDir("faultline-lie-test-");
  const trace = join(dir.path, "fsync-log.trace");
  await record("scenarios/fsync-log.ts", trace);
  const parent = await readParent(trace);
  const flushes = parent.ordered.filter((op) => op.phase === "run" && op.op === "flush");
  const last = flushes.at(-1)!.index;
  const points = `${last}..${last}`;

  const honest = await sweepJson([trace, "--fault", "power-loss", "--points", points]);
  assert.equal(honest.code, 0, honest.text);
  assert.equal(honest.json.points[0].oracle.lost, 0);
  assert.equal(honest.json.points[0].oracle.acked, 16);

  const lying = await sweepJson([
    trace,
    "--fault",
    "power-loss",
    "--with",
    "lie-flush",
    "--points",
    points,
  ]);
  assert.equal(lying.code, 1, lying.text);
  const [point] = lying.json.points;
  assert.equal(point.oracle.acked, 16);
  assert.ok(point.oracle.lost > 0, JSON.stringify(point));
  // The failing point names the step it hit and the last acknowledgement before it.
  assert.equal(point.where, "power loss during step 'record 16', after ack 16");
  assert.equal(
    point.reproduce,
    `faultline replay ${trace} --fault power-loss --with lie-flush --fault-at ${last}`,
  );
  assert.deepEqual(lying.json.with, ["lie-flush"]);

  // trace show names each op's step.
  const shown = await faultline(["trace", "show", trace]);
  assert.match(shown.stdout, /^index .* step$/m);
  assert.match(shown.stdout, /flush .* record 5$/m);
});

Deno.test("power-loss:each on sqlite-delete-full names the one dropped write that rolls back an acknowledged commit", async () => {
  await using dir = await makePrivateDir("faultline-each-test-");
  const trace = join(dir.path, "sqlite-delete-full.trace");
  await record("scenarios/sqlite-delete-full.ts", trace);
  const parent = await readParent(trace);
  // Commit 6's fsync commits the ext4 journal transaction that also holds commit 5's unlink of
  // kv.db-journal: a descriptor with the directory block, a flush, the commit block, a flush.
  const step = parent.ordered.filter((op) => op.phase === "run" && op.step === "commit 6");
  const commit = step.find((op) => op.op === "write" && jbd2Type(op) === 2)!;
  assert.ok(commit, "commit 6 writes a jbd2 commit block");
  const descriptor = step.findLast((op) =>
    op.op === "write" && jbd2Type(op) === 1 && op.index < commit.index
  )!;
  assert.ok(contains(descriptor, "kv.db-journal"), "the transaction holds the directory block");
  const before = step.findLast((op) => op.op === "flush" && op.index < commit.index)!;
  const after = step.find((op) => op.op === "flush" && op.index > commit.index)!;

  const { code, json, text } = await sweepJson([
    trace,
    "--fault",
    "power-loss:each",
    "--points",
    `${before.index}..${after.index}`,
  ]);
  assert.equal(code, 1, text);
  assert.equal(json.failed, json.points.length, "every point of the range loses commit 5");
  for (const point of json.points) {
    assert.equal(point.where, "power loss during step 'commit 6', after ack 5");
    assert.match(point.verdict.reason, /1 acknowledged key lost \(5\)/);
    // At most one state per volatile write (one, none dropped, when nothing is volatile).
    assert.ok(point.states.checked <= Math.max(1, point.states.volatile));
  }
  assert.ok(json.distinctCrashStates <= json.crashStates);

  // After the flush that follows the commit block, one write is volatile: the commit block.
  // Dropped alone, it rolls commit 5 back; the printed command reproduces that state.
  const last = json.points.find((p: { at: number }) => p.at === after.index);
  assert.equal(last.states.checked, 1);
  const [state] = last.states.outcomes;
  assert.equal(state.id, String(commit.index));
  assert.equal(state.verdict.pass, false);
  assert.match(
    state.drops,
    new RegExp(
      `drops the write at op ${commit.index} alone \\(data/write \\d+\\+1024 in step 'commit 6'\\)`,
    ),
  );
  assert.equal(
    state.reproduce,
    `faultline replay ${trace} --fault power-loss:state=${commit.index} --fault-at ${after.index}`,
  );
});
