/**
 * `lost-write`: a write (or trim, write-zeroes) is acknowledged and never stored.
 *
 * @module
 */

import { isWriteLike } from "../../block/backend.ts";
import { defineKind } from "./kind.ts";

/** A write is acknowledged and never stored. */
export interface LostWriteEffect {
  kind: "lost-write";
}

/** The kind. */
export const lostWrite = defineKind<LostWriteEffect>({
  kind: "lost-write",
  names: ["lost-write"],
  family: "block",
  summary: "a write (or trim, write-zeroes) is acknowledged and never stored",
  params: "",
  examples: ["lost-write@59", "lost-write@any#2"],
  persistent: false,
  standing: false,
  parse: () => ({ kind: "lost-write" }),
  format: () => [],
  describe: () => "the write is acknowledged and never stored",
  block: {
    appliesTo: (_e, type) => isWriteLike(type),
    appliesToText: () => "writes, trims and write-zeroes",
    act: () => ({ action: { do: "skip" } }),
  },
  live: { params: [], parse: () => ({ kind: "lost-write" }), args: () => ({}) },
  explore: { ranges: "no parameters", draw: () => ({ kind: "lost-write" }) },
});
