/**
 * The search against a brute-force checker (tests/support/brute_force_history.ts, which
 * tries every order) on random small histories of at most 8 ops, made from seeds: the two
 * must agree on every one, and an illegal history's counterexample window must be illegal
 * on its own by brute force too, with its offending op in it. A failing seed reproduces.
 *
 * @module
 */

import assert from "node:assert/strict";
import { bruteForceLinearizable } from "../../tests/support/brute_force_history.ts";
import { prng } from "../../tests/support/random.ts";
import { type GeneratedOp, generateHistory } from "../../tests/support/random_history.ts";
import { checkHistory } from "./check.ts";
import { parseHistory } from "./parse.ts";

const SEEDS = 400;

function agreeOnRandomHistories(model: "register" | "kv"): { valid: number; invalid: number } {
  const seen = { valid: 0, invalid: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const random = prng(seed, 99);
    const generated = generateHistory({
      model,
      seed,
      ops: 3 + random.below(6),
      processes: 1 + random.below(4),
      keys: 1 + random.below(2),
      corruptRate: 0.3,
      infoRate: 0.15,
    });
    const expected = bruteForceLinearizable(generated.ops, model);
    const result = checkHistory(parseHistory(generated.text), { model });
    const where = `seed ${seed}:\n${generated.text}`;
    assert.equal(result.valid, expected, where);
    seen[expected ? "valid" : "invalid"]++;
    if (!expected) assertWindowIllegal(generated.ops, result.counterexample!, model, where);
  }
  return seen;
}

/** The window alone is illegal by brute force, and holds the offending op. */
function assertWindowIllegal(
  ops: readonly GeneratedOp[],
  example: NonNullable<ReturnType<typeof checkHistory>["counterexample"]>,
  model: "register" | "kv",
  where: string,
): void {
  // Paired ops are numbered in invocation order, failed ones left out.
  const paired = ops.filter((op) => op.status !== "fail");
  const window = example.ops.map((op) => paired[op.id]);
  assert.equal(bruteForceLinearizable(window, model), false, `window of ${where}`);
  assert.ok(example.ops.some((op) => op.offending && op.id === example.offending.id), where);
  assert.ok(example.ops.length <= example.keyOps, where);
}

Deno.test(`property: register: the search agrees with brute force on ${SEEDS} random histories of <= 8 ops`, () => {
  const seen = agreeOnRandomHistories("register");
  // Both answers must come up often, or the comparison says little.
  assert.ok(seen.valid >= SEEDS / 5 && seen.invalid >= SEEDS / 5, JSON.stringify(seen));
});

Deno.test(`property: kv: the search agrees with brute force on ${SEEDS} random histories of <= 8 ops`, () => {
  const seen = agreeOnRandomHistories("kv");
  assert.ok(seen.valid >= SEEDS / 5 && seen.invalid >= SEEDS / 5, JSON.stringify(seen));
});
