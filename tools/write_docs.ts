/**
 * Writes the parts of docs/fault-spec.md that the fault-kind table holds (each family's
 * kinds and examples): `deno task docs`. A test fails while the page is out of step.
 *
 * @module
 */

import { withKindSections } from "../src/fault/kinds/docs.ts";

const path = new URL("../docs/fault-spec.md", import.meta.url);
const page = await Deno.readTextFile(path);
const written = withKindSections(page);
if (written === page) console.log("docs/fault-spec.md is up to date");
else {
  await Deno.writeTextFile(path, written);
  console.log("docs/fault-spec.md: the kinds' tables and examples rewritten");
}
