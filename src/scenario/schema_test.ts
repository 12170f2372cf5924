import assert from "node:assert/strict";
import type { z } from "zod";
import type { ScenarioInput, scenarioInputSchema } from "./schema.ts";

/** True when two types are the same. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

Deno.test("ScenarioInput documents exactly what the schema accepts", () => {
  // Type-checked: this line does not compile when the interfaces and the schema drift apart.
  const same: Same<ScenarioInput, z.input<typeof scenarioInputSchema>> = true;
  assert.equal(same, true);
});
