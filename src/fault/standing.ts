/**
 * Faults written without a trigger. A kind that stands (`limp:10ms`, `lie-flush`,
 * `drop:0.3`) is in force on every op or frame of the run phase and ends where the check
 * begins; a kind that hits one op or fires once (`eio`, `delay:200ms`, `crash:n2`) needs a
 * trigger, and is refused without one. A fault with a trigger, `@any` included, keeps to
 * its trigger in every phase, so a point in the check still fires. A trigger of the run
 * phase (`hang@run:s2/data/flush#50`, and what a replay's `--fault-at N` names) holds for
 * the run phase too: what it brought into force (a hang, a limp, a partition) ends where the
 * check begins, so the check reads the disks the run left rather than a disk still silent.
 *
 * A kind set at a node's boot (`clock-skew`) fires at no moment: without a trigger it holds
 * for the run phase's boots, with `@any` for every boot, and it takes no other trigger.
 *
 * @module
 */

import { FaultSpecError } from "./errors.ts";
import { kindOf, specNameOf } from "./kinds/mod.ts";
import type { FaultKind } from "./kinds/kind.ts";
import type { FaultRule, Trigger } from "./types.ts";

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
 * Whether a rule holds for the run phase only and ends as the check begins: it stands, or
 * its trigger counts the run phase's ops only (`@run:...`).
 *
 * @example
 * ```ts
 * endsWithRun(parseFaultSpec("hang@run:s2/data/flush#50")); // true
 * endsWithRun(parseFaultSpec("hang@s2/data/flush#50")); // false: in force in the check too
 * ```
 */
export function endsWithRun(rule: Pick<FaultRule, "trigger">): boolean {
  return isStanding(rule) || (rule.trigger.kind === "match" && rule.trigger.phase === "run");
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
  const problem = bootTriggerProblem(kind, rule.trigger);
  if (problem) throw new FaultSpecError(`fault "${rule.spec}": ${problem}`);
  if (!isStanding(rule) || kind.standing) return;
  const name = specNameOf(rule.effect);
  const what = kind.block ? "hits one op" : "fires once";
  const every = kind.block ? `, or ${name}@any for every op` : "";
  throw new FaultSpecError(
    `fault "${rule.spec}" ${what} and has no trigger: add ${place} (as ${name}@17 or ${name}@+2s${every})`,
  );
}

/**
 * Why a kind set at a node's boot cannot take a trigger, or undefined when it can (or the
 * kind is not set at boot): it fires at no moment, so only no trigger (the run phase's
 * boots) and `@any` (every boot, the check's too) mean anything for it.
 *
 * @example
 * ```ts
 * bootTriggerProblem(kindOf({ kind: "clock-skew", node: "n2", offsetMs: 5000 }), { kind: "index", index: 3 });
 * // "clock-skew is set when its node boots and takes no trigger but @any (its check's boots too)"
 * ```
 */
export function bootTriggerProblem(kind: FaultKind, trigger: Trigger): string | undefined {
  if (!kind.boot || trigger.kind === "always" || everyBoot(trigger)) return undefined;
  return `${
    kind.names[0]
  } is set when its node boots and takes no trigger but @any (its check's boots too)`;
}

/**
 * Whether a rule set at boot holds for every boot of its node, the check's included (`@any`),
 * rather than for the run phase's boots only (no trigger).
 *
 * @example
 * ```ts
 * everyBoot(parseFaultSpec("clock-skew:n2,+5s@any").trigger); // true
 * ```
 */
export function everyBoot(trigger: Trigger): boolean {
  return trigger.kind === "match" && Object.keys(trigger).length === 1;
}
