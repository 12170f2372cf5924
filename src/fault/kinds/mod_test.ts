import assert from "node:assert/strict";
import { join } from "node:path";
import { FAULT_HELP } from "../../cli/fault_help.ts";
import { TraceReader } from "../../trace/reader.ts";
import { TraceWriter } from "../../trace/writer.ts";
import { PLAN_VERSION } from "../plan_version.ts";
import { liveStateArguments, parseLiveState } from "../live.ts";
import { formatFaultSpec, parseFaultSpec } from "../spec.ts";
import type { FaultKind } from "./kind.ts";
import { DOC_SECTIONS, withKindSections } from "./docs.ts";
import { FAULT_KINDS, kindOf, kindsNamed, takesFrames } from "./mod.ts";

const docs = await Deno.readTextFile(new URL("../../../docs/fault-spec.md", import.meta.url));

/** The parts a kind must declare for its family, by name (one of each inner list). */
const FAMILY_PARTS: Record<FaultKind["family"], (keyof FaultKind)[][]> = {
  block: [["block"]],
  machine: [["block"], ["fromTrace"]],
  link: [["link"], ["nodes"]],
  // A node kind acts at a moment (node) or shapes the node's boots (boot).
  node: [["node", "boot"], ["nodes"]],
};

/** The kinds' rows of the tables of docs/fault-spec.md: the names in the first cell. */
function documentedNames(): Set<string> {
  const names = new Set<string>();
  for (const line of docs.split("\n")) {
    const cell = /^\| (`[^|]+`) \|/.exec(line)?.[1];
    if (!cell) continue;
    for (const name of cell.matchAll(/`([a-z0-9-]+)`/g)) names.add(name[1]);
  }
  return names;
}

Deno.test("every registered kind declares every part, parses its documented examples, describes itself", () => {
  const seen = new Set<string>();
  for (const kind of FAULT_KINDS as readonly FaultKind[]) {
    const where = `kind ${kind.kind}`;
    assert.ok(!seen.has(kind.kind), `${where} is registered twice`);
    seen.add(kind.kind);
    assert.ok(kind.names.length > 0, `${where}: no name`);
    assert.ok(kind.summary.trim().length > 0, `${where}: no summary`);
    assert.ok(kind.examples.length > 0, `${where}: no example`);
    for (const parts of FAMILY_PARTS[kind.family]) {
      assert.equal(
        parts.filter((part) => kind[part] !== undefined).length,
        1,
        `${where}: a ${kind.family} kind declares one of ${parts.join(", ")}`,
      );
    }
    for (const example of kind.examples) {
      assert.ok(
        docs.includes(example),
        `${where}: example ${example} is not in docs/fault-spec.md`,
      );
      const rule = parseFaultSpec(example);
      assert.equal(kindOf(rule.effect), kind, `${example} parses to kind ${kind.kind}`);
      assert.deepEqual(parseFaultSpec(formatFaultSpec(rule)), rule, `${example} round-trips`);
      const line = kind.describe(rule.effect);
      assert.ok(line.length > 0 && !line.includes("\n"), `${example}: describe gives one line`);
    }
  }
});

Deno.test("a fault may be put at a frame unless it is a block kind's or set at boot: links, nodes, and a crash state at any moment", () => {
  for (const kind of FAULT_KINDS as readonly FaultKind[]) {
    for (const example of kind.examples) {
      const { effect } = parseFaultSpec(example);
      assert.equal(
        takesFrames(effect),
        kind.family !== "block" && !kind.boot,
        `${example} (${kind.family})`,
      );
    }
  }
});

Deno.test("every kind is in docs/fault-spec.md's tables and in --help; every documented kind is registered", () => {
  const documented = documentedNames();
  for (const kind of FAULT_KINDS) {
    for (const name of kind.names) {
      assert.ok(documented.has(name), `${name} has no row in docs/fault-spec.md`);
      assert.ok(FAULT_HELP.includes(name), `${name} is not in --help`);
    }
  }
  for (const name of documented) {
    if (kindsNamed(name).length > 0) continue;
    // The other first cells of docs/fault-spec.md's tables: crash-state modes.
    assert.ok(
      ["drop", "subset", "torn", "each"].includes(name) || /^(orders|all|state)/.test(name),
      `docs/fault-spec.md has a row for ${name}, which is no registered kind`,
    );
  }
});

Deno.test("every kind's examples round-trip through a trace's saved plan", async () => {
  const dir = await Deno.makeTempDir({ prefix: "faultline-kinds-" });
  try {
    const path = join(dir, "plan.trace");
    const rules = FAULT_KINDS.flatMap((kind) => kind.examples.map(parseFaultSpec));
    const writer = await TraceWriter.create(path, {
      createdAt: new Date(0).toISOString(),
      tool: { name: "faultline", version: "test" },
      command: "test",
      recordsData: false,
      dataHash: "xxh64",
      seed: 1,
      planVersion: PLAN_VERSION,
      faults: rules.map((rule) => rule.spec),
      disks: [],
    });
    await writer.close({ duration: 0, endedAt: new Date(0).toISOString() });
    const reader = await TraceReader.open(path);
    try {
      assert.deepEqual(reader.header.faults.map(parseFaultSpec), rules);
    } finally {
      reader.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a kind that can be set live reads back its own arguments", () => {
  for (const kind of FAULT_KINDS) {
    if (!kind.live) continue;
    for (const example of kind.examples) {
      const { effect } = parseFaultSpec(example);
      let args: Record<string, unknown>;
      try {
        args = liveStateArguments(effect);
      } catch {
        continue; // an effect the control socket cannot carry (a limp's distribution)
      }
      const family = kind.family === "link" ? "link" : "block";
      const fixed = family === "block" ? ["id"] : [];
      const back = parseLiveState(
        family === "block" ? { id: "vda", ...args } : args,
        family,
        fixed,
      );
      assert.deepEqual(back.effect, effect, `${example} set live`);
    }
  }
});

Deno.test("docs/fault-spec.md's kind tables and examples are the table's (deno task docs)", () => {
  assert.equal(withKindSections(docs), docs, "run deno task docs");
  for (const name of Object.keys(DOC_SECTIONS)) {
    assert.ok(docs.includes(`<!-- kinds:${name} -->`), `docs/fault-spec.md has kinds:${name}`);
  }
});
