/**
 * No function in src/ is longer than {@linkcode MAX_LINES} lines, except the
 * few named in {@linkcode ALLOWED}: a long procedure reads as its phases,
 * each a function with a name. The functions are found by Deno's own parser
 * (`Deno.lint.runPlugin`), so strings, comments and templates cannot fool
 * the count. A failure names each function, its file, its first line and its
 * length.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SRC = join(ROOT, "src");

/** The longest a function may be, from its first line to its last. */
const MAX_LINES = 80;

/**
 * Functions allowed over the limit, by `file: name`, each with why: declarative data (a
 * table that reads best whole), or a function being rewritten elsewhere. Keep it short:
 * the second test fails on an entry whose function is gone or no longer long.
 */
const ALLOWED: ReadonlyMap<string, string> = new Map([]);

/** One function as the scan found it. */
interface FunctionSpan {
  /** `file: name`, the file relative to the repository. */
  key: string;
  line: number;
  lines: number;
}

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

/** The name a reader would look for: the declaration, the variable, the method or the property. */
function nameOf(node: FunctionNode): string | undefined {
  if (node.type === "FunctionDeclaration") return node.id?.name;
  const parent = node.parent;
  if (parent.type === "VariableDeclarator" && parent.id.type === "Identifier") {
    return parent.id.name;
  }
  if (parent.type === "MethodDefinition" || parent.type === "Property") {
    const key = parent.key;
    const name = key.type === "Identifier" ? key.name : undefined;
    const owner = parent.parent.parent;
    const className = owner.type === "ClassDeclaration" ? owner.id?.name : undefined;
    return className && name ? `${className}.${name}` : name;
  }
  return undefined;
}

const FUNCTION_TYPES = ["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"];

/** A function without a name of its own (a callback) is named by the function around it. */
function describeUnnamed(node: FunctionNode): string {
  // Comments are the only nodes without a parent, and a function is never in one.
  type Child = Deno.lint.Node & { parent: Deno.lint.Node };
  for (let up = node.parent; up.type !== "Program"; up = (up as Child).parent) {
    const name = FUNCTION_TYPES.includes(up.type) ? nameOf(up as FunctionNode) : undefined;
    if (name) return `a function in ${name}`;
  }
  return "a function";
}

/** Every function of one file with its length. */
function functionSpans(file: string, source: string): FunctionSpan[] {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= offset) line++;
    return line + 1;
  };
  const spans: FunctionSpan[] = [];
  const measure = (node: FunctionNode) => {
    const outer = node.parent.type === "MethodDefinition" ? node.parent : node;
    const [start, end] = outer.range;
    const line = lineOf(start);
    const name = nameOf(node) ?? describeUnnamed(node);
    spans.push({ key: `${relative(ROOT, file)}: ${name}`, line, lines: lineOf(end) - line + 1 });
  };
  const plugin: Deno.lint.Plugin = {
    name: "length",
    rules: {
      functions: {
        create: () => ({
          FunctionDeclaration: measure,
          FunctionExpression: measure,
          ArrowFunctionExpression: measure,
        }),
      },
    },
  };
  Deno.lint.runPlugin(plugin, file, source);
  return spans;
}

async function longFunctions(): Promise<FunctionSpan[]> {
  const found: FunctionSpan[] = [];
  for await (const file of sourceFiles(SRC)) {
    const spans = functionSpans(file, await Deno.readTextFile(file));
    found.push(...spans.filter((span) => span.lines > MAX_LINES));
  }
  return found.sort((a, b) => b.lines - a.lines);
}

const describe = (span: FunctionSpan) => `${span.key} (line ${span.line}): ${span.lines} lines`;

Deno.test(`no function in src/ is over ${MAX_LINES} lines but the allowed ones`, async () => {
  const over = (await longFunctions()).filter((span) => !ALLOWED.has(span.key));
  assert.deepEqual(over.map(describe), []);
});

Deno.test("every allowed long function is still there and still long", async () => {
  const long = new Set((await longFunctions()).map((span) => span.key));
  assert.deepEqual([...ALLOWED.keys()].filter((key) => !long.has(key)), []);
});
