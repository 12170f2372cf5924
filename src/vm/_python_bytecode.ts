/**
 * Python bytecode in a package root, as Debian's maintainer scripts would have made it.
 * `dpkg -x` runs no `py3compile`, so a root built from Python packages holds no `.pyc`,
 * and its image is read-only: every Python process in the guest then compiles every module
 * it imports, every time (measured under TCG: `python3 -c pass` 4.9 s, importing Swift's
 * object server 105 s on a loaded machine). The tree's own python3 compiles the standard
 * library and `/usr/lib/python3` once, chrooted into the tree by busybox's `chroot` (so only
 * as root, like the loader's cache), before the image is made.
 *
 * The `.pyc` files are hash-based and unchecked (PEP 552): the image gives every inode the
 * same time, so a timestamp-based `.pyc` would never match its source, and a read-only
 * root's sources never change, so checking them would only cost reads. With
 * `PYTHONHASHSEED=0` the same tree gives the same bytes.
 *
 * @module
 */

import { join } from "node:path";
import { hostCommand } from "../util/host_command.ts";
import { GuestImageError } from "./guest_image_error.ts";
import type { ResolvedPackage } from "./package_resolve.ts";

/** How the `.pyc` files are validated, as `compileall --invalidation-mode` takes it. */
export const BYTECODE_MODE = "unchecked-hash";

/**
 * Whether a root of these packages gets bytecode: it holds Python 3 (`python3-minimal`)
 * and faultline builds as root (chroot).
 *
 * @example
 * ```ts
 * compilesBytecode([{ name: "python3-minimal", version: "3.11.2-1+b1", architecture: "amd64" }], true); // true
 * ```
 */
export function compilesBytecode(packages: readonly ResolvedPackage[], asRoot: boolean): boolean {
  return asRoot && packages.some((pkg) => pkg.name === "python3-minimal");
}

/**
 * The directories of the tree whose modules are compiled, as guest paths: the standard
 * library (`/usr/lib/python3.11`) and the packages' modules (`/usr/lib/python3`).
 *
 * @example
 * ```ts
 * bytecodeDirs(["python3", "python3.11", "x86_64-linux-gnu"]); // ["/usr/lib/python3", "/usr/lib/python3.11"]
 * ```
 */
export function bytecodeDirs(usrLib: readonly string[]): string[] {
  return usrLib.filter((name) => /^python3(\.\d+)?$/.test(name)).sort()
    .map((name) => `/usr/lib/${name}`);
}

/**
 * Compiles the tree's Python modules with its own python3, chrooted into it. A module that
 * does not compile (Python 2 syntax in an example) stays source only, as with py3compile.
 *
 * @throws {GuestImageError} when python3 cannot run at all (not when a module fails).
 * @example
 * ```ts
 * await compileBytecode("/cache/build/root-x/tree", { busybox: "/cache/debian/busybox" });
 * ```
 */
export async function compileBytecode(
  tree: string,
  options: { busybox: string; signal?: AbortSignal },
): Promise<void> {
  const { busybox, signal } = options;
  const usrLib: string[] = [];
  for await (const entry of Deno.readDir(join(tree, "usr", "lib"))) usrLib.push(entry.name);
  const dirs = bytecodeDirs(usrLib);
  if (dirs.length === 0) return;
  const args = ["chroot", tree, "/usr/bin/python3", "-m", "compileall", "-q", "-q"];
  args.push("--invalidation-mode", BYTECODE_MODE, ...dirs);
  const output = await hostCommand(busybox, {
    args,
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", LC_ALL: "C", PYTHONHASHSEED: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(signal ? { signal } : {}),
  }).output();
  // compileall exits 1 when some module did not compile; anything else is python3 failing.
  if (output.code !== 0 && output.code !== 1) {
    signal?.throwIfAborted();
    const said = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new GuestImageError(
      `compiling the root's Python modules failed (busybox chroot ... python3 -m compileall, exit ${output.code})${
        said ? `: ${said}` : ""
      }`,
    );
  }
}
