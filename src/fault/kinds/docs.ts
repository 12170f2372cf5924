/**
 * The parts of docs/fault-spec.md that the fault-kind table writes: each family's table of
 * kinds and its examples, between `<!-- kinds:NAME -->` and `<!-- /kinds -->`. `deno task
 * docs` rewrites them; a test (./mod_test.ts) fails while the page and the table differ.
 *
 * @module
 */

import { parseFaultSpec } from "../spec.ts";
import type { Family, FaultKind } from "./kind.ts";
import { FAULT_KINDS, kindOf } from "./mod.ts";

/** The generated sections of docs/fault-spec.md, by name, and the families each lists. */
export const DOC_SECTIONS: Readonly<Record<string, readonly Family[]>> = {
  block: ["block", "machine"],
  link: ["link"],
  node: ["node"],
};

function kindsOf(families: readonly Family[]): FaultKind[] {
  return (FAULT_KINDS as readonly FaultKind[]).filter((kind) => families.includes(kind.family));
}

/** A table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replaceAll(/(?<!\\)\|/g, "\\|").replaceAll("\n", " ");
}

/** The table of the kinds of some families, and their examples, each with what it does. */
export function docSection(families: readonly Family[]): string {
  const kinds = kindsOf(families);
  const rows = kinds.map((kind) =>
    `| ${kind.names.map((name) => `\`${name}\``).join(", ")} | ${cell(kind.params)} | ${
      kind.persistent ? "yes" : ""
    } | ${kind.standing ? "stands" : "needs one"} | ${cell(kind.summary)} |`
  );
  const examples = kinds.flatMap((kind) => kind.examples);
  const width = Math.max(...examples.map((example) => example.length)) + 2;
  const lines = examples.map((example) => {
    const { effect } = parseFaultSpec(example);
    return `${example.padEnd(width)}${kindOf(effect).describe(effect)}`;
  });
  return [
    "| kind | params | persistent | without a trigger | effect |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "```",
    ...lines,
    "```",
  ].join("\n");
}

const SECTION = /<!-- kinds:([a-z]+) -->\n[\s\S]*?<!-- \/kinds -->/g;

/**
 * The page with every generated section written from the table.
 *
 * @throws {Error} for a section the page names that {@link DOC_SECTIONS} lacks.
 * @example
 * ```ts
 * const page = await Deno.readTextFile("docs/fault-spec.md");
 * await Deno.writeTextFile("docs/fault-spec.md", withKindSections(page));
 * ```
 */
export function withKindSections(page: string): string {
  return page.replace(SECTION, (_, name: string) => {
    const families = DOC_SECTIONS[name];
    if (!families) throw new Error(`docs/fault-spec.md names an unknown section kinds:${name}`);
    return `<!-- kinds:${name} -->\n${docSection(families)}\n<!-- /kinds -->`;
  });
}
