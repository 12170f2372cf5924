/**
 * `history check` through the real CLI: one result per file, and the exit code of them
 * all (1 invalid, then 2 bad input, then 3 unknown, else 0); bad input is one line naming
 * the file, the line and what was expected.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ednHistory } from "../../tests/support/histories.ts";
import { faultline } from "../../tests/support/process.ts";
import { makePrivateDir } from "../util/tempdir.ts";

const FIXTURES = "tests/fixtures/history";

/** The error is one line, without a stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^faultline: /);
  return lines[0];
}

Deno.test("history check: valid and invalid histories, as text and as JSON lines", async () => {
  const valid = await faultline([
    "history",
    "check",
    `${FIXTURES}/register-valid.edn`,
    "--model",
    "register",
  ]);
  assert.equal(valid.code, 0, valid.text);
  assert.match(
    valid.stdout,
    /^tests\/fixtures\/history\/register-valid\.edn: valid \(register, 10 ops, [\d.]+ ms\)/,
  );
  const invalid = await faultline([
    "history",
    "check",
    `${FIXTURES}/stale-read.edn`,
    "--model",
    "register",
  ]);
  assert.equal(invalid.code, 1, invalid.text);
  assert.match(invalid.stdout, /stale-read\.edn: INVALID/);
  assert.match(invalid.stdout, /process 2's read -> 1 \(lines 10-12\) cannot be linearized/);
  const json = await faultline([
    "history",
    "check",
    `${FIXTURES}/register-valid.edn`,
    `${FIXTURES}/stale-read.edn`,
    "--model",
    "register",
    "--json",
  ]);
  assert.equal(json.code, 1, json.text);
  const lines = json.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => [line.file, line.valid, line.model, line.ops, typeof line.ms]),
    [
      [`${FIXTURES}/register-valid.edn`, true, "register", 10, "number"],
      [`${FIXTURES}/stale-read.edn`, false, "register", 12, "number"],
    ],
  );
  assert.equal(lines[1].counterexample.offending.process, 2);
});

Deno.test("history check: bad input exits 2, naming the file, the line and what was expected", async () => {
  await using dir = await makePrivateDir("faultline-history-");
  const cases: [string, string[], RegExp][] = [
    [
      "orphan.edn",
      ["0 ok write 1"],
      /orphan\.edn:1: a completion \(:ok\) of process 0 with no invoke before it/,
    ],
    [
      "twice.edn",
      ["0 invoke write 1", "0 invoke read"],
      /twice\.edn:2: process 0 invokes while its invoke at line 1 has not completed/,
    ],
    [
      "cas.edn",
      ["0 invoke cas 3", "0 ok cas 3"],
      /cas\.edn:1: expected a cas's value \[from to\], found 3/,
    ],
  ];
  for (const [name, lines, pattern] of cases) {
    const file = join(dir.path, name);
    await Deno.writeTextFile(file, ednHistory(lines));
    const result = await faultline(["history", "check", file, "--model", "register"]);
    assert.equal(result.code, 2, result.text);
    assert.match(oneLine(result.stderr), pattern);
  }
  const notAnOp = join(dir.path, "not-an-op.edn");
  await Deno.writeTextFile(notAnOp, "{:process 0, :type :invoke, :f :read}\n42\n");
  const result = await faultline(["history", "check", notAnOp, "--model", "register"]);
  assert.equal(result.code, 2, result.text);
  assert.match(
    oneLine(result.stderr),
    /not-an-op\.edn:2: expected an op map such as .*, found 42/,
  );
  const model = await faultline(["history", "check", notAnOp, "--model", "btree"]);
  assert.equal(model.code, 2, model.text);
  assert.match(oneLine(model.stderr), /unknown model "btree": expected register, kv, set or queue/);
});

Deno.test("history check: an empty history is valid with a note; a budget that runs out is unknown, exit 3", async () => {
  await using dir = await makePrivateDir("faultline-history-");
  const empty = join(dir.path, "empty.edn");
  await Deno.writeTextFile(empty, "");
  const result = await faultline(["history", "check", empty, "--model", "kv"]);
  assert.equal(result.code, 0, result.text);
  assert.match(
    result.stdout,
    /valid \(kv, 0 ops, [\d.]+ ms\)\n {2}note: the history has no client ops: nothing to check/,
  );
  // 12 writers at once, then a read of a value none wrote: about 160,000 steps of search,
  // far more than the one slice it gets before a budget of 0 ms is seen to have run out.
  const busy = join(dir.path, "busy.edn");
  const writers = Array.from({ length: 12 }, (_, p) => p);
  await Deno.writeTextFile(
    busy,
    ednHistory([
      ...writers.map((p) => `${p} invoke write ${p}`),
      ...writers.map((p) => `${p} ok write ${p}`),
      "12 invoke read",
      "12 ok read 99",
    ]),
  );
  const cut = await faultline([
    "history",
    "check",
    busy,
    empty,
    "--model",
    "register",
    "--timeout",
    "0ms",
  ]);
  assert.equal(cut.code, 3, cut.text);
  assert.match(cut.stdout, /busy\.edn: unknown \(register, 26 ops/);
  assert.match(
    cut.stdout,
    /note: the search ran out of its budget \(0 ms\) with 1 of 1 key undecided/,
  );
  // An invalid history decides the exit code before bad input, which is still named.
  const missing = join(dir.path, "missing.edn");
  const mixed = await faultline([
    "history",
    "check",
    missing,
    `${FIXTURES}/stale-read.edn`,
    "--model",
    "register",
  ]);
  assert.equal(mixed.code, 1, mixed.text);
  assert.match(oneLine(mixed.stderr), /missing\.edn: cannot read the history/);
});

Deno.test("history check --help: its examples run, on files of the repository", async () => {
  const help = await faultline(["history", "check", "--help"]);
  assert.equal(help.code, 0, help.text);
  const examples = help.stdout.split("\n").filter((line) => line.startsWith("  history check "));
  assert.equal(examples.length, 2, help.stdout);
  for (const example of examples) {
    const result = await faultline(example.trim().split(/\s+/));
    // Both examples are of invalid histories.
    assert.equal(result.code, 1, `${example}\n${result.text}`);
  }
});
