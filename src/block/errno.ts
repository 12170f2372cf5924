/**
 * The errors a block operation can end with, named as errno names, and their
 * NBD wire values: the one place where the two meet.
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md#error-values
 *
 * @module
 */

import * as P from "../nbd/protocol.ts";

/** The errors NBD can carry, by their errno names. */
export const ERRNOS = {
  eperm: P.EPERM,
  eio: P.EIO,
  enomem: P.ENOMEM,
  einval: P.EINVAL,
  enospc: P.ENOSPC,
  eoverflow: P.EOVERFLOW,
  enotsup: P.ENOTSUP,
  eshutdown: P.ESHUTDOWN,
} as const;

/** An errno name that NBD can carry: `"eio"`, `"enospc"`, ... */
export type Errno = keyof typeof ERRNOS;

/**
 * Tells whether a string names an errno that NBD can carry.
 *
 * @example
 * ```ts
 * isErrno("enospc"); // true
 * isErrno("eagain"); // false
 * ```
 */
export function isErrno(name: string): name is Errno {
  return Object.hasOwn(ERRNOS, name);
}

/**
 * The NBD error value of an errno name.
 *
 * @example
 * ```ts
 * nbdErrorValue("eio"); // 5
 * ```
 */
export function nbdErrorValue(errno: Errno): number {
  return ERRNOS[errno];
}

/**
 * Maps a host error (from the file system) to the errno NBD should report:
 * ENOSPC for a full disk or quota (as the spec asks), EPERM for a permission
 * error, EIO for everything else.
 *
 * @example
 * ```ts
 * errnoOfHostError(new Deno.errors.PermissionDenied()); // "eperm"
 * ```
 */
export function errnoOfHostError(error: unknown): Errno {
  const code = (error as { code?: string })?.code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG") return "enospc";
  if (error instanceof Deno.errors.PermissionDenied || code === "EPERM" || code === "EACCES") {
    return "eperm";
  }
  return "eio";
}
