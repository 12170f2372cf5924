/**
 * `eio`, `enospc`, ... and `error:ERRNO`: the op fails with that errno.
 *
 * @module
 */

import { type Errno, ERRNOS } from "../../block/errno.ts";
import { FaultSpecError } from "../errors.ts";
import { defineKind } from "./kind.ts";

/** The op fails with this errno. */
export interface ErrorEffect {
  kind: "error";
  errno: Errno;
}

/** The kind. */
export const error = defineKind<ErrorEffect>({
  kind: "error",
  names: ["error", ...ERRNOS],
  family: "block",
  summary: "the op fails with that error",
  params: "`[errno=]ERRNO` (default `eio`); or the errno as the kind: `eio`, `enospc`, ...",
  examples: ["eio@17", "error:enospc", "enospc@write#2"],
  persistent: false,
  standing: false,
  parse: (p, name) => ({ kind: "error", errno: name === "error" ? p.errno("eio") : name as Errno }),
  specName: (e) => e.errno,
  format: () => [],
  describe: (e) => `the op fails with ${e.errno.toUpperCase()}`,
  block: { act: (e) => ({ action: { do: "answer-error", errno: e.errno } }) },
  live: {
    params: ["errno"],
    parse(args, state) {
      if (state === "error") return { kind: "error", errno: args.errno() };
      if (args.args.errno !== undefined) {
        throw new FaultSpecError(`Parameter 'errno' is unexpected with state '${state}'`);
      }
      return { kind: "error", errno: state as Errno };
    },
    args: (e) => ({ errno: e.errno }),
  },
  explore: {
    ranges: "`eio` (3 in 4) or `enospc`",
    draw: (draw) => ({ kind: "error", errno: draw() < 0.75 ? "eio" : "enospc" }),
  },
});
