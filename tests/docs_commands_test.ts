/**
 * The documentation is a contract: every faultline command in a code block of
 * README.md and docs/ is accepted by the real command-line parser, and the
 * fault specs and point selections it gives parse. Nothing boots: the commands
 * that need a VM are run by the suites that boot one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCommandLine } from "../src/cli/main.ts";
import { controlCommand, faultAction } from "../src/cli/fault.ts";
import { parseFaultSpec } from "../src/fault/spec.ts";
import { parsePoints } from "../src/scenario/points.ts";
import { faultline } from "./support/mod.ts";

const PREFIXES = [/^npx -y deno@[\d.]+ run -A mod\.ts /, /^deno run -A mod\.ts /, /^faultline /];

/** The documents whose commands must run as printed. */
async function documents(): Promise<string[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir("docs")) {
    if (entry.name.endsWith(".md")) files.push(join("docs", entry.name));
  }
  return files.sort();
}

/** Shell words as a POSIX shell splits them (quotes too), `# comments` dropped, `[optional]` brackets opened. */
function words(line: string): string[] {
  const found: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = null;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== null) found.push(word);
      word = null;
    } else if (char === "#" && word === null) {
      break;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== null) found.push(word);
  return found.map((w) => w.replace(/^\[([^\]]*)\]$/, "$1")).filter((w) => w !== "" && w !== "...");
}

/** Every faultline command in the fenced code blocks of a document, with its line. */
export function commandsOf(text: string): { line: number; args: string[] }[] {
  const found: { line: number; args: string[] }[] = [];
  let fenced = false;
  for (const [i, raw] of text.split("\n").entries()) {
    if (/^\s*```/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) continue;
    const line = raw.trim().replace(/^- run: /, "").replace(/^#\s+/, "");
    const prefix = PREFIXES.find((p) => p.test(line));
    if (prefix) found.push({ line: i + 1, args: words(line.replace(prefix, "")) });
  }
  return found;
}

/** The values a flag is given in a command line. */
function flagValues(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag && i + 1 < args.length ? [args[i + 1]] : []));
}

/** What the command would refuse before doing any work, beyond the parser: specs and points. */
function checkValues(args: readonly string[]): void {
  for (const spec of flagValues(args, "--fault")) parseFaultSpec(spec);
  for (const points of flagValues(args, "--points")) parsePoints(points);
  if (args[0] === "fault") {
    const count = flagValues(args, "--count")[0];
    const rest = args.slice(3).filter((arg, i, all) =>
      arg !== "--count" && all[i - 1] !== "--count" && arg !== "--json"
    );
    controlCommand(faultAction(args[2], rest, count === undefined ? undefined : Number(count)));
  }
}

/** The CLI parses the command, and the fault specs and points it gives parse too. */
async function assertParsesAsPrinted(args: string[], where: string): Promise<void> {
  assert.equal(await parseCommandLine(args), null, where);
  try {
    checkValues(args);
  } catch (error) {
    assert.fail(`${where}: ${(error as Error).message}`);
  }
}

Deno.test("docs: every faultline command in README.md and docs/ parses as printed", async () => {
  let checked = 0;
  for (const file of await documents()) {
    for (const { line, args } of commandsOf(await Deno.readTextFile(file))) {
      const where = `${file}:${line}: faultline ${args.join(" ")}`;
      await assertParsesAsPrinted(args, where);
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} commands found: is the extraction broken?`);
});

Deno.test("docs: the check refuses what the CLI refuses", async () => {
  assert.match(
    String(await parseCommandLine(["record", "--frobnicate", "x.ts"])),
    /unknown option/,
  );
  assert.match(String(await parseCommandLine(["sweep", "run.trace"])), /--fault/);
  assert.throws(() => checkValues(["replay", "t", "--fault", "melt"]), /unknown fault kind/);
  assert.throws(
    () => checkValues(["sweep", "t", "--fault", "eio", "--points", "some"]),
    /--points/,
  );
  assert.throws(() => checkValues(["fault", "S", "set", "vda"]), /expected 2 arguments/);
  assert.deepEqual(
    commandsOf("text `faultline x`\n```sh\nfaultline trace stats run.trace [--json]  # c\n```\n"),
    [{ line: 3, args: ["trace", "stats", "run.trace", "--json"] }],
  );
});

Deno.test("docs: trace perfetto is shown in README.md and docs/, and in its --help, as it parses", async () => {
  const shown: string[] = [];
  for (const file of await documents()) {
    for (const { line, args } of commandsOf(await Deno.readTextFile(file))) {
      if (args[0] !== "trace" || args[1] !== "perfetto") continue;
      await assertParsesAsPrinted(args, `${file}:${line}`);
      shown.push(file);
    }
  }
  assert.ok(shown.includes("README.md") && shown.includes("docs/results.md"), String(shown));
  const help = await faultline(["trace", "perfetto", "--help"]);
  assert.equal(help.code, 0, help.text);
  const example = help.stdout.split("\n").find((line) => line.startsWith("  trace perfetto "));
  assert.ok(example, help.stdout);
  await assertParsesAsPrinted(words(example.trim().replace(/\s{2,}.*$/, "")), "--help");
  assert.match(String(await parseCommandLine(["trace", "perfetto", "run.trace"])), /--output/);
});

/** A `history check` command of the docs: its line, words, the exit code its comment gives, and the output shown after it. */
interface HistoryCommand {
  line: number;
  args: string[];
  exits: number | null;
  output: string | null;
}

/** Every `history check` command in the code blocks of a document, and the `text` block right after its block, when that block holds it alone. */
export function historyCommandsOf(text: string): HistoryCommand[] {
  const lines = text.split("\n");
  const found: HistoryCommand[] = [];
  for (const command of commandsOf(text)) {
    if (command.args[0] !== "history" || command.args[1] !== "check") continue;
    const exits = /#\s*exits (\d+)/.exec(lines[command.line - 1]);
    let at = command.line;
    while (at < lines.length && !/^\s*```\s*$/.test(lines[at])) at++;
    const alone = lines.slice(command.line, at).every((line) => line.trim() === "");
    let next = at + 1;
    while (next < lines.length && lines[next].trim() === "") next++;
    let output: string | null = null;
    if (alone && lines[next]?.trim() === "```text") {
      const end = lines.indexOf("```", next + 1);
      output = lines.slice(next + 1, end).join("\n") + "\n";
    }
    found.push({
      line: command.line,
      args: command.args,
      exits: exits ? Number(exits[1]) : null,
      output,
    });
  }
  return found;
}

/** Timings differ run to run: `0.8 ms)` reads `N ms)`. */
const maskTimes = (text: string) => text.replace(/\d+(\.\d+)? ms\)/g, "N ms)");

Deno.test("docs: every history check command runs as printed, exits as its comment says, prints what the docs show", async () => {
  let ran = 0;
  let compared = 0;
  for (const file of await documents()) {
    for (const command of historyCommandsOf(await Deno.readTextFile(file))) {
      const where = `${file}:${command.line}: faultline ${command.args.join(" ")}`;
      assert.notEqual(command.exits, null, `${where}: say "# exits N" after the command`);
      const result = await faultline(command.args);
      assert.equal(result.code, command.exits, `${where}\n${result.text}`);
      ran++;
      if (command.output === null) continue;
      assert.equal(maskTimes(result.stdout), maskTimes(command.output), where);
      compared++;
    }
  }
  assert.ok(
    ran >= 6 && compared >= 3,
    `only ${ran} history commands run, ${compared} outputs compared`,
  );
});

Deno.test("docs: the history check commands are found with their exit codes and output blocks", () => {
  const text =
    "```sh\nfaultline history check a.edn --model kv   # exits 1\n```\n\n```text\nout\n```\n" +
    "```sh\nfaultline history check b.edn --model kv\nfaultline trace stats t\n```\n```text\nx\n```\n";
  assert.deepEqual(historyCommandsOf(text), [
    { line: 2, args: ["history", "check", "a.edn", "--model", "kv"], exits: 1, output: "out\n" },
    { line: 9, args: ["history", "check", "b.edn", "--model", "kv"], exits: null, output: null },
  ]);
  assert.equal(maskTimes("x (kv, 8 ops, 12.5 ms)"), "x (kv, 8 ops, N ms)");
});

Deno.test("docs: the README's scenario is scenarios/fsync-log.ts as shipped", async () => {
  const readme = await Deno.readTextFile("README.md");
  const block = /```ts\n(import \{ defineScenario \}[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "the README shows a scenario");
  const file = await Deno.readTextFile("scenarios/fsync-log.ts");
  assert.equal(block.trim(), file.slice(file.indexOf("import { defineScenario }")).trim());
});

Deno.test("docs: the examples in every command's --help parse as printed", async () => {
  let checked = 0;
  for (const command of ["record", "replay", "sweep", "ci", "serve", "fault", "history check"]) {
    const help = await faultline([...command.split(" "), "--help"]);
    assert.equal(help.code, 0, help.text);
    for (const line of help.stdout.split("\n")) {
      if (!line.startsWith(`  ${command} `)) continue;
      const args = words(line.trim().replace(/\s{2,}.*$/, ""));
      const where = `${command} --help: ${line.trim()}`;
      await assertParsesAsPrinted(args, where);
      checked++;
    }
  }
  assert.ok(checked >= 10, `only ${checked} examples found`);
});
