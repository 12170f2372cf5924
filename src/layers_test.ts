/**
 * The direction of imports, checked: every import in src/ must run from a
 * folder to its own folder or to a folder of a lower layer, as the table in
 * docs/architecture.md says. A failure names both files.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SRC = join(ROOT, "src");

/** The layer of each folder, read from the table in docs/architecture.md. */
async function layers(): Promise<Map<string, number>> {
  const text = await Deno.readTextFile(join(ROOT, "docs", "architecture.md"));
  const byFolder = new Map<string, number>();
  for (const match of text.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)) {
    for (const folder of match[2].matchAll(/`([a-z_]+)`/g)) {
      byFolder.set(folder[1], Number(match[1]));
    }
  }
  return byFolder;
}

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

/** The relative modules a file imports or re-exports (static and dynamic). */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const pattern =
    /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*"(\.[^"]+)"|import\s*\(?\s*"(\.[^"]+)"/g;
  for (const match of text.matchAll(pattern)) found.push(match[1] ?? match[2]);
  return found;
}

/** The folder of a file under src/; files at the top of src/ (version.ts) count as util. */
function folderOf(path: string): string {
  const parts = relative(SRC, path).split("/");
  return parts.length > 1 ? parts[0] : "util";
}

/**
 * Every import that breaks the rule, as a sentence.
 *
 * @example
 * ```ts
 * await violations(); // ["src/block/errno.ts imports src/nbd/protocol.ts: nbd (layer 2) is above block (layer 1)"]
 * ```
 */
async function violations(byFolder: Map<string, number>): Promise<string[]> {
  const found: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    const text = await Deno.readTextFile(file);
    for (const specifier of importsOf(text)) {
      const target = resolve(dirname(file), specifier);
      if (!target.startsWith(SRC)) continue;
      const to = folderOf(target);
      if (from === to) continue;
      const [a, b] = [byFolder.get(from), byFolder.get(to)];
      const name = (p: string) => relative(ROOT, p);
      if (a === undefined || b === undefined) {
        found.push(`${name(file)} imports ${name(target)}: a folder missing from the table`);
      } else if (b > a) {
        found.push(
          `${name(file)} imports ${name(target)}: ${to} (layer ${b}) is above ${from} (layer ${a})`,
        );
      } else if (b === a) {
        found.push(`${name(file)} imports ${name(target)}: ${to} and ${from} are both layer ${a}`);
      }
    }
  }
  return found;
}

Deno.test("layers: every folder of src/ is in the table of docs/architecture.md", async () => {
  const byFolder = await layers();
  for await (const entry of Deno.readDir(SRC)) {
    if (entry.isDirectory) assert.ok(byFolder.has(entry.name), `src/${entry.name} has no layer`);
  }
});

Deno.test("layers: no import in src/ runs up a layer or across one", async () => {
  assert.deepEqual(await violations(await layers()), []);
});

Deno.test("layers: the check finds an import that runs upward", async () => {
  const byFolder = await layers();
  // Put service at the bottom: its imports of block, fault and trace must then be caught.
  const upsideDown = new Map(byFolder);
  upsideDown.set("service", 0);
  const found = await violations(upsideDown);
  assert.ok(
    found.some((line) => /^src\/service\/disk_service\.ts imports src\/block\//.test(line)),
    found.join("\n"),
  );
});

Deno.test("layers: dynamic and re-exporting imports count too", () => {
  const text = `import { a } from "./a.ts";\nexport { b } from "../b/b.ts";\n` +
    `const m = await import("../c/c.ts");\nimport type { d } from "./d.ts";\nimport "../e/e.ts";`;
  assert.deepEqual(importsOf(text).sort(), [
    "../b/b.ts",
    "../c/c.ts",
    "../e/e.ts",
    "./a.ts",
    "./d.ts",
  ]);
});
