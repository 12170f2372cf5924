/**
 * What names a scenario's declared fault as a check of `ci`, and where it is put: one
 * point, or a sweep of many.
 *
 * @module
 */

import { kindOf } from "../fault/kinds/mod.ts";
import { parseFaultSpec, parseTrigger } from "../fault/spec.ts";
import type { ParentTrace } from "../replay/replay.ts";
import { recordedOpOfTrigger } from "../replay/signature.ts";
import type { FaultExpectation } from "../scenario/schema.ts";
import { CiError } from "./errors.ts";

/**
 * A declared fault's check, as `ci` names it: `power-loss at flushes`, `eio at op 17`.
 *
 * @example
 * ```ts
 * checkName(fault); // "power-loss at flushes with lie-flush"
 * ```
 */
export function checkName(fault: FaultExpectation): string {
  const at = fault.points !== null ? `at ${fault.points}` : `at op ${fault.at}`;
  return `${fault.fault} ${at}${fault.with.length > 0 ? ` with ${fault.with.join(", ")}` : ""}`;
}

/**
 * A power loss that explores many crash states a point (`each`, `orders=K`, `all`).
 *
 * @example
 * ```ts
 * exploresStates("power-loss:each"); // true
 * ```
 */
export function exploresStates(fault: string): boolean {
  const { effect } = parseFaultSpec(fault);
  return kindOf(effect).fromTrace?.explores(effect) !== undefined;
}

/**
 * The recorded op index of a declared `at` (an op index or a signature).
 *
 * @throws {CiError} when the trace has no such op.
 * @example
 * ```ts
 * recordedAt(parent, "data/write:4096+512#2"); // 37
 * ```
 */
export function recordedAt(parent: ParentTrace, at: string): number {
  const op = /^\d+$/.test(at)
    ? parent.ordered.find((record) => record.index === Number(at))
    : recordedOpOfTrigger(parent.ordered, parseTrigger(at));
  if (!op) throw new CiError(`${parent.path} has no op ${at}`);
  return op.index;
}

/**
 * Whether a declared fault is a sweep: of many points, or of many crash states at one.
 *
 * @example
 * ```ts
 * sweeps({ ...fault, at: "40", fault: "power-loss:each" }); // true
 * ```
 */
export function sweeps(fault: FaultExpectation): boolean {
  return fault.at === null || exploresStates(fault.fault);
}
