/**
 * `fail`: from the trigger on, every op of the disk fails: the disk is dead.
 *
 * @module
 */

import type { Errno } from "../../block/errno.ts";
import { defineKind } from "./kind.ts";

/** Every op fails with this errno, from the trigger on. */
export interface FailEffect {
  kind: "fail";
  errno: Errno;
}

/** The kind. */
export const fail = defineKind<FailEffect>({
  kind: "fail",
  names: ["fail"],
  family: "block",
  summary: "from the trigger on, every op of the disk fails: the disk is dead",
  params: "`[errno=]ERRNO` (default `eio`)",
  examples: ["fail@vdb/any#100", "fail:eperm"],
  persistent: true,
  standing: true,
  parse: (p) => ({ kind: "fail", errno: p.errno("eio") }),
  format: (e) => e.errno === "eio" ? [] : [e.errno],
  describe: (e) => `every op of the disk fails with ${e.errno.toUpperCase()}: the disk is dead`,
  block: { act: (e) => ({ action: { do: "answer-error", errno: e.errno } }) },
  live: {
    params: ["errno"],
    parse: (args) => ({ kind: "fail", errno: args.errno() }),
    args: (e) => ({ errno: e.errno }),
  },
  explore: { ranges: "`eio`", draw: () => ({ kind: "fail", errno: "eio" }) },
});
