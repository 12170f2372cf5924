import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { FAULT_KINDS } from "./mod.ts";

const SRC = new URL("../../", import.meta.url).pathname;

/**
 * Lines that compare a `kind` with a name a fault kind also has, in another vocabulary:
 * `file: the line's text`, each with why.
 */
const OTHER_VOCABULARIES = new Set([
  // A guest's result line of kind `error` (src/vm/results.ts), not the fault kind.
  'run/boot.ts: const errorLine = lines.find((l) => l.kind === "error");',
  // The trace's event record `clock-jump` (written by src/run/run.ts), read as a nemesis op.
  'run/history.ts: case "clock-jump":',
]);

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

Deno.test("no code outside src/fault/kinds/ dispatches on a fault kind's name", async () => {
  const names = [...new Set(FAULT_KINDS.flatMap((kind) => [kind.kind, ...kind.names]))];
  const quoted = names.map((name) => name.replaceAll("-", "\\-")).join("|");
  // `case "eio":`, `kind === "partition"`, `.kind !== "power-loss"`.
  const dispatch = new RegExp(`(case "(${quoted})":|kind [!=]== "(${quoted})")`);
  const found: string[] = [];
  let files = 0;
  for await (const path of sources(SRC)) {
    const file = relative(SRC, path);
    if (file.startsWith("fault/kinds/")) continue;
    files++;
    for (const line of (await Deno.readTextFile(path)).split("\n")) {
      const where = `${file}: ${line.trim()}`;
      if (dispatch.test(line) && !OTHER_VOCABULARIES.has(where)) found.push(where);
    }
  }
  assert.ok(files > 100, `only ${files} files read`);
  assert.deepEqual(found, [], "dispatch on a fault kind belongs in its module in src/fault/kinds/");
});
