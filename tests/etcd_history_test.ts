/**
 * A real etcd's client history: scenarios/etcd-register-serializable.ts (three members of
 * etcd 3.4, process 0 reading through e1 with serializable reads, processes 1 and 2 reading,
 * writing and cas'ing through e2). Recorded with no fault, the history the host stamped is
 * linearizable. Replayed with the partition the scenario declares (the leader e1 cut off from
 * e2 and e3, then healed), e1 goes on answering process 0 from its own state, and the verdict
 * names a stale read; `trace history` prints the replay's history with the partition among
 * the nemesis's ops, and `history check` finds the read that cannot be linearized in it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseHistory } from "../src/history/parse.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { PARTITION } from "../scenarios/etcd-register.ts";
import { faultline } from "./support/mod.ts";

Deno.test("etcd history: linearizable with no fault; a stale serializable read under a partition of the leader", async () => {
  await using dir = await makePrivateDir("faultline-etcd-history-");
  const at = (name: string) => join(dir.path, name);
  const recorded = await faultline(
    ["record", "scenarios/etcd-register-serializable.ts", "-o", at("parent.trace"), "--json"],
    { timeoutMs: 400_000 },
  );
  assert.equal(recorded.code, 0, recorded.text);
  const run = JSON.parse(recorded.stdout);
  assert.equal(run.history.valid, true, run.history.reason);
  assert.ok(run.history.checked >= 50, `only ${run.history.checked} client ops checked`);

  const replayed = await faultline([
    "replay",
    at("parent.trace"),
    "--fault",
    `${PARTITION.fault}@${PARTITION.at}`,
    "--with",
    PARTITION.with[0],
    "-o",
    at("partition.trace"),
    "--json",
  ], { timeoutMs: 400_000 });
  assert.equal(replayed.code, 1, replayed.text);
  const result = JSON.parse(replayed.stdout);
  assert.equal(result.fired, true);
  const stale = /^stale read of key k\d: process (\d+) read \S+ at [\d.]+ s/
    .exec(result.verdict.reason);
  assert.ok(stale, result.verdict.reason);
  // e1's reader is process 0, or 3, 6, ... after a timeout (scenarios/_etcd.ts).
  assert.equal(Number(stale[1]) % 3, 0, `process ${stale[1]} does not read through e1`);

  const edn = await faultline(["trace", "history", at("partition.trace")]);
  assert.equal(edn.code, 0, edn.stderr);
  const ops = parseHistory(edn.stdout, { format: "edn" });
  const nemesis = ops.filter((op) => op.process === "nemesis").map((op) => String(op.f));
  assert.ok(nemesis.includes("partition"), `the nemesis's ops: ${nemesis.join(", ")}`);
  await Deno.writeTextFile(at("partition.edn"), edn.stdout);
  const checked = await faultline(["history", "check", at("partition.edn"), "--model", "register"]);
  assert.equal(checked.code, 1, checked.text);
  assert.match(
    checked.stdout,
    new RegExp(`process ${stale[1]}'s read -> \\S+ \\(lines \\d+-\\d+\\) cannot be linearized`),
  );
});
