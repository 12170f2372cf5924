/**
 * The version of the fault plan as a trace saves it: canonical fault spec strings
 * (docs/fault-spec.md), in the header's `faults`, `replay.faults` and the scenario's
 * declared faults. A trace names the version its specs were written in (the header's
 * `planVersion`), so a reader never takes a spec's text to mean what it did not.
 *
 * @module
 */

/**
 * The plan version this code writes and reads: raised when a fault spec's canonical text
 * changes meaning (a kind, a parameter or a trigger read differently), not when a new kind
 * or parameter comes in that older specs never wrote. Version 1 is the grammar of every
 * trace of version 1; version 2, the grammar as of trace version 2: the fault-kind table
 * (./kinds/mod.ts) and the one trigger engine (./trigger.ts), where `@N` of a link or node
 * fault is arrival N (in version 1, the first frame or op at or after N).
 *
 * @example
 * ```ts
 * if (header.planVersion > PLAN_VERSION) throw new Error("recorded by a newer faultline");
 * ```
 */
export const PLAN_VERSION = 2;
