/**
 * The errors a block operation can end with, by their errno names: the set
 * that NBD can carry (its wire values are in src/nbd/errno.ts).
 *
 * Spec: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md#error-values
 *
 * @module
 */

/** The errno names a block operation can fail with, in the order of their values. */
export const ERRNOS = [
  "eperm",
  "eio",
  "enomem",
  "einval",
  "enospc",
  "eoverflow",
  "enotsup",
  "eshutdown",
] as const;

/** An errno name that NBD can carry: `"eio"`, `"enospc"`, ... */
export type Errno = typeof ERRNOS[number];

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
  return (ERRNOS as readonly string[]).includes(name);
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
