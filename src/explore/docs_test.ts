import assert from "node:assert/strict";
import { FAULT_KINDS } from "../fault/kinds/mod.ts";

Deno.test("docs/explore.md's table of ranges is the kinds' own", async () => {
  const text = await Deno.readTextFile(new URL("../../docs/explore.md", import.meta.url));
  for (const kind of FAULT_KINDS) {
    const ranges = kind.explore?.ranges ??
      "never drawn: set at boot, it has no moment to be put at";
    assert.ok(text.includes(`| \`${kind.kind}\` | ${ranges} |`), `${kind.kind}: ${ranges}`);
  }
});
