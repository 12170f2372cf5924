/**
 * Private temporary directories for sockets and scratch files.
 *
 * Every socket faultline creates lives in a directory of mode 0700, so no other
 * user on the machine can connect to a disk or a control socket.
 *
 * @module
 */

/** A private temporary directory that removes itself with everything in it. */
export interface PrivateDir extends AsyncDisposable {
  /** Absolute path of the directory (mode 0700). */
  readonly path: string;
  /** Removes the directory and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Creates a directory of mode 0700 under the system's temporary directory (or `parent`).
 *
 * @example
 * ```ts
 * await using dir = await makePrivateDir("faultline-serve-");
 * const socket = `${dir.path}/vda.sock`;
 * ```
 */
export async function makePrivateDir(
  prefix = "faultline-",
  options: { parent?: string } = {},
): Promise<PrivateDir> {
  const path = await Deno.makeTempDir({
    prefix,
    ...(options.parent ? { dir: options.parent } : {}),
  });
  // makeTempDir already uses 0700, but the umask must not be trusted for this.
  await Deno.chmod(path, 0o700);
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await Deno.remove(path, { recursive: true }).catch(() => {});
  };
  return { path, remove, [Symbol.asyncDispose]: remove };
}
