/**
 * docs/exit-codes.md is the one table of how every command ends: every code the CLI can
 * return has its row, and no row names a code it cannot; every command has its row; every
 * verdict has its row. The codes the CLI can return are read from the code: `EXIT` and the
 * error kinds (src/util/errors.ts), the signals' codes (./interrupt.ts), and the `EXIT`
 * members the commands return; a command that returned a bare number would escape the
 * table, so none may.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VERDICT_KINDS } from "../run/verdict.ts";
import { dirname, join, resolve } from "node:path";
import { EXIT, EXIT_OF_KIND } from "../util/errors.ts";
import { exitCodeOf } from "./interrupt.ts";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..", "..");
const CLI = join(ROOT, "src", "cli");

/** The document's section under `## TITLE`, up to the next section. */
async function section(title: string): Promise<string> {
  const text = await Deno.readTextFile(join(ROOT, "docs", "exit-codes.md"));
  const start = text.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `docs/exit-codes.md has a section "## ${title}"`);
  const end = text.indexOf("\n## ", start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The first cell of each row of a section's table (header and rule left out). */
function firstCells(text: string): string[] {
  return [...text.matchAll(/^\| ([^|]+?) \|/gm)].map((m) => m[1])
    .filter((cell, i, all) => !/^-+$/.test(cell) && all[i + 1] !== "---");
}

/** The CLI's source files, tests left out. */
async function cliSources(): Promise<{ name: string; text: string }[]> {
  const files = [{ name: "mod.ts", text: await Deno.readTextFile(join(ROOT, "mod.ts")) }];
  for await (const entry of Deno.readDir(CLI)) {
    if (!entry.name.endsWith(".ts") || entry.name.endsWith("_test.ts")) continue;
    files.push({
      name: `src/cli/${entry.name}`,
      text: await Deno.readTextFile(join(CLI, entry.name)),
    });
  }
  return files;
}

/** Every code the CLI can return: the EXIT members it names, the error kinds', the signals'. */
async function cliCodes(): Promise<Map<number, string>> {
  const codes = new Map<number, string>();
  for (const { name, text } of await cliSources()) {
    for (const [, member] of text.matchAll(/\bEXIT\.(\w+)/g)) {
      const code = (EXIT as Record<string, number>)[member];
      assert.ok(code !== undefined, `${name}: EXIT.${member} is not an exit code`);
      codes.set(code, `${name}: EXIT.${member}`);
    }
  }
  for (const [kind, code] of Object.entries(EXIT_OF_KIND)) {
    codes.set(code, `errors of kind ${kind}`);
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) codes.set(exitCodeOf(signal), signal);
  return codes;
}

Deno.test("exit codes: every code the CLI can return is a row of docs/exit-codes.md, and every row one it can", async () => {
  const rows = firstCells(await section("Codes")).map(Number);
  const codes = await cliCodes();
  for (const [code, from] of codes) {
    assert.ok(rows.includes(code), `exit code ${code} (${from}) has a row in docs/exit-codes.md`);
  }
  for (const row of rows) assert.ok(codes.has(row), `docs/exit-codes.md's code ${row} is returned`);
  assert.deepEqual(new Set(Object.values(EXIT)), new Set(rows), "EXIT is the table");
  // The columns of the table by command are the same codes.
  const header = (await section("By command")).split("\n").find((line) =>
    /^\| command /.test(line)
  );
  const columns = header!.split("|").slice(2, -1).flatMap((cell) => cell.split(",")).map(Number);
  assert.deepEqual(new Set(columns), new Set(rows), "a column for every code");
});

Deno.test("exit codes: no command returns or exits with a bare number, which the table would miss", async () => {
  for (const { name, text } of await cliSources()) {
    for (const match of text.matchAll(/\breturn\s+(\d+)\s*;|Deno\.exit\(\s*(\d+)\s*\)/g)) {
      assert.fail(`${name}: "${match[0]}": give the code as EXIT.* (src/util/errors.ts)`);
    }
  }
});

Deno.test("exit codes: every command of the CLI has its row in docs/exit-codes.md", async () => {
  const main = await Deno.readTextFile(join(CLI, "main.ts"));
  // `root.command("record")`; the subcommands of `trace` share its row.
  const commands = [...main.matchAll(/\broot\.command\("(\w+)"\)/g)].map((m) => m[1]);
  assert.ok(commands.length >= 10, `only ${commands.length} commands found in main.ts`);
  const rows = firstCells(await section("By command")).map((cell) => cell.replace(/`/g, ""));
  assert.deepEqual([...rows].sort(), [...commands].sort());
});

Deno.test("exit codes: every verdict has its row, unknown as history check produces it", async () => {
  const text = await section("Verdicts");
  const rows = firstCells(text);
  const produced = ["pass", "fail", "not fired", ...VERDICT_KINDS];
  assert.deepEqual(rows, [...produced, "unknown"]);
  const line = (verdict: string) => text.split("\n").find((l) => l.startsWith(`| ${verdict} |`))!;
  for (const verdict of [...produced, "unknown"]) {
    assert.doesNotMatch(line(verdict), /not produced yet/, verdict);
  }
  // unknown is history check's answer when its budget runs out, exit 3 (src/cli/history.ts).
  assert.match(line("unknown"), /`history check`/);
  assert.equal(EXIT.unknown, 3);
});
