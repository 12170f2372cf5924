/**
 * Published histories with known answers, written by others (tests/fixtures/history/README.md
 * says where each comes from): Porcupine's kv histories, Knossos's cas-register data, and
 * histories transcribed from Jepsen's checker tests. Each answer here is the one its source
 * expects; for Knossos's illegal histories, so is the op it names as the one that cannot be
 * linearized.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { checkHistory, type HistoryCheckResult } from "./check.ts";
import { parseHistory } from "./parse.ts";

const FIXTURES = resolve(
  dirname(new URL(import.meta.url).pathname),
  "../../tests/fixtures/history",
);

function check(path: string, model: string): HistoryCheckResult {
  const file = join(FIXTURES, path);
  return checkHistory(parseHistory(Deno.readTextFileSync(file), { file }), { model, file });
}

function files(dir: string): string[] {
  return [...Deno.readDirSync(join(FIXTURES, dir))].map((entry) => join(dir, entry.name)).sort();
}

Deno.test("published: Porcupine's kv histories (1 and 10 clients), ok and bad, as Porcupine expects", () => {
  for (const name of ["c01-ok", "c01-bad", "c10-ok", "c10-bad"]) {
    const result = check(`porcupine/${name}.txt`, "kv");
    assert.equal(result.valid, name.endsWith("-ok"), name);
  }
});

Deno.test("published: Knossos's cas-register histories: good ones valid, bad ones invalid", () => {
  const good = files("knossos/good");
  const bad = files("knossos/bad");
  assert.deepEqual([good.length, bad.length], [15, 5]);
  for (const path of good) assert.equal(check(path, "register").valid, true, path);
  for (const path of bad) assert.equal(check(path, "register").valid, false, path);
});

Deno.test("published: the op Knossos's tests name as the one that cannot be linearized is the one found", () => {
  // knossos test/knossos/wgl_test.clj: the :op of each analysis, by process and :index.
  const expected: Record<string, [number, number]> = {
    "bad-analysis": [21, 14],
    "cas-failure": [70, 491],
    "rethink-fail-minimal": [1, 4],
    "rethink-fail-smaller": [12, 217],
    "immediate-failure": [1, 3],
  };
  for (const [name, [process, index]] of Object.entries(expected)) {
    const offending = check(`knossos/bad/${name}.edn`, "register").counterexample!.offending;
    assert.deepEqual([offending.process, offending.completeIndex], [process, index], name);
  }
});

/** Jepsen's expected answer, read from the comment that heads each transcribed history. */
function jepsenExpected(
  path: string,
): { valid: boolean | "unknown"; counts: Record<string, number> } {
  const header = Deno.readTextFileSync(join(FIXTURES, path)).split("\n")[0];
  const valid = /:valid\? (true|false|:unknown)/.exec(header)![1];
  const counts: Record<string, number> = {};
  for (
    const [, name, items] of header.matchAll(
      /:(lost|stale|recovered|unexpected|duplicated) #?[[{]([^\]}]*)[\]}]/g,
    )
  ) {
    counts[name] = items.trim() === "" ? 0 : items.trim().split(/\s+/).length;
  }
  for (const [, name, n] of header.matchAll(/:(attempt|acknowledged|ok|stable)-count (\d+)/g)) {
    counts[{ attempt: "attempted", ok: "delivered" }[name] ?? name] = Number(n);
  }
  return { valid: valid === ":unknown" ? "unknown" : valid === "true", counts };
}

Deno.test("published: Jepsen's set-full and total-queue test histories: answers and counts as Jepsen's tests expect", () => {
  const paths = files("jepsen");
  assert.equal(paths.length, 16);
  for (const path of paths) {
    const expected = jepsenExpected(path);
    const result = check(path, path.includes("queue") ? "queue" : "set");
    assert.equal(result.valid, expected.valid, path);
    for (const [name, n] of Object.entries(expected.counts)) {
      assert.equal(result.anomalies!.counts[name], n, `${path}: ${name}`);
    }
  }
});
