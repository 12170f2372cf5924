/**
 * Faults written without a trigger. A kind that stands (`limp:10ms`, `lie-flush`,
 * `drop:0.3`) is in force on every op or frame of the run phase and ends where the check
 * begins; a kind that hits one op or fires once (`eio`, `delay:200ms`, `crash:n2`) needs a
 * trigger, and is refused without one. A fault with a trigger, `@any` included, keeps to
 * its trigger in every phase, so a point in the check still fires.
 *
 * @module
 */

import { FaultSpecError } from "./errors.ts";
import { kindOf, specNameOf } from "./kinds/mod.ts";
import type { FaultRule } from "./types.ts";

/**
 * Whether a rule stands: written without a trigger, it holds for the run phase only.
 *
 * @example
 * ```ts
 * isStanding(parseFaultSpec("limp:10ms")); // true
 * isStanding(parseFaultSpec("limp:10ms@any")); // false: it keeps to its trigger
 * ```
 */
export function isStanding(rule: Pick<FaultRule, "trigger">): boolean {
  return rule.trigger.kind === "always";
}

/**
 * Refuses a rule without a trigger whose kind does not stand. `place` says how the command
 * gives a trigger (`--fault-at N or @TRIGGER`).
 *
 * @throws {FaultSpecError} naming the fault and what to add.
 * @example
 * ```ts
 * checkStanding(parseFaultSpec("eio"), "--fault-at N or @TRIGGER");
 * // throws: fault "eio" hits one op and has no trigger: add --fault-at N or @TRIGGER ...
 * ```
 */
export function checkStanding(rule: FaultRule, place: string): void {
  const kind = kindOf(rule.effect);
  if (!isStanding(rule) || kind.standing) return;
  const name = specNameOf(rule.effect);
  const what = kind.block ? "hits one op" : "fires once";
  const every = kind.block ? `, or ${name}@any for every op` : "";
  throw new FaultSpecError(
    `fault "${rule.spec}" ${what} and has no trigger: add ${place} (as ${name}@17 or ${name}@+2s${every})`,
  );
}
