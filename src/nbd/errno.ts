/**
 * The NBD wire value of each errno name a block operation can fail with: the
 * one place where the two meet.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md#error-values
 *
 * @module
 */

import type { Errno } from "../block/errno.ts";
import * as P from "./protocol.ts";

const VALUES: Record<Errno, number> = {
  eperm: P.EPERM,
  eio: P.EIO,
  enomem: P.ENOMEM,
  einval: P.EINVAL,
  enospc: P.ENOSPC,
  eoverflow: P.EOVERFLOW,
  enotsup: P.ENOTSUP,
  eshutdown: P.ESHUTDOWN,
};

/**
 * The NBD error value of an errno name.
 *
 * @example
 * ```ts
 * nbdErrorValue("eio"); // 5
 * ```
 */
export function nbdErrorValue(errno: Errno): number {
  return VALUES[errno];
}
