/**
 * The user's cache directory and a content-addressed store inside it.
 *
 * Everything faultline downloads or builds (Debian packages, the guest kernel, initramfs
 * archives) is kept here, named by its SHA-256 where it is a single file, so that a trace
 * can name its inputs by hash and a second run reuses them.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { sha256Bytes, sha256File } from "./hash.ts";
import { FaultlineError } from "./errors.ts";
import { writeAll } from "./write_all.ts";

/** The cache directory cannot be found or a file cannot be stored in it. */
export class CacheDirError extends FaultlineError {}

/** Reads one environment variable; `Deno.env.get` by default. */
export type EnvLookup = (name: string) => string | undefined;

const defaultEnv: EnvLookup = (name) => Deno.env.get(name);

/**
 * The directory where faultline keeps its cache, in this order:
 * `$FAULTLINE_CACHE_DIR`, `$XDG_CACHE_HOME/faultline`, `$HOME/.cache/faultline`.
 * Relative values of the first two are ignored, as the XDG spec says. Nothing is created
 * ({@linkcode ensureCacheDir} creates it).
 *
 * @example
 * ```ts
 * cacheDir(); // "/home/ada/.cache/faultline"
 * cacheDir((name) => ({ FAULTLINE_CACHE_DIR: "/tmp/c" })[name]); // "/tmp/c"
 * ```
 */
export function cacheDir(env: EnvLookup = defaultEnv): string {
  return locateCacheDir(env).path;
}

/** The cache directory and the variable it comes from. */
function locateCacheDir(env: EnvLookup): { path: string; from: string } {
  const own = env("FAULTLINE_CACHE_DIR");
  if (own && own.startsWith("/")) return { path: own, from: "FAULTLINE_CACHE_DIR" };
  const xdg = env("XDG_CACHE_HOME");
  if (xdg && xdg.startsWith("/")) return { path: join(xdg, "faultline"), from: "XDG_CACHE_HOME" };
  const home = env("HOME");
  if (home && home.startsWith("/")) {
    return { path: join(home, ".cache", "faultline"), from: "HOME" };
  }
  throw new CacheDirError(
    "cannot find a cache directory: set FAULTLINE_CACHE_DIR (or XDG_CACHE_HOME or HOME) " +
      "to an absolute path",
  );
}

/**
 * The cache directory ({@linkcode cacheDir}), created when it is not there yet and checked
 * to take a file, so that a cache faultline cannot use is named before any work starts.
 *
 * @throws {CacheDirError} naming the directory, the variable it comes from, and why.
 * @example
 * ```ts
 * await ensureCacheDir(); // "/home/ada/.cache/faultline"
 * // XDG_CACHE_HOME=/etc/passwd: "cannot create the cache directory /etc/passwd/faultline
 * // (from XDG_CACHE_HOME): Not a directory (os error 20); set FAULTLINE_CACHE_DIR ..."
 * ```
 */
export async function ensureCacheDir(env: EnvLookup = defaultEnv): Promise<string> {
  const { path, from } = locateCacheDir(env);
  try {
    await Deno.mkdir(path, { recursive: true });
    const probe = join(path, `.probe-${Deno.pid}-${crypto.randomUUID()}`);
    await Deno.writeFile(probe, new Uint8Array(), { createNew: true });
    await Deno.remove(probe);
  } catch (error) {
    // Deno's message ends with the call and its path ("...: mkdir '/x/faultline'"); the path is said once.
    const why = (error as Error).message.replace(/: \w+ '[^']*'$/, "");
    throw new CacheDirError(
      `cannot create the cache directory ${path} (from ${from}), or write in it: ${why}; ` +
        "set FAULTLINE_CACHE_DIR to a directory faultline may create and write",
      { cause: error },
    );
  }
  return path;
}

/** A file stored under its content hash. */
export interface StoredFile {
  /** Absolute path: `<cache>/<kind>/<sha256><extension>`. */
  readonly path: string;
  /** SHA-256 of the content, lowercase hex. */
  readonly sha256: string;
}

/** Where {@linkcode storeFile} and {@linkcode storeBytes} put a file. */
export interface StoreOptions {
  /** Subdirectory of the cache, such as `initramfs`; one path component. */
  kind: string;
  /** Appended to the hash, such as `.cpio`; empty by default. */
  extension?: string;
  /** The cache root; {@linkcode cacheDir}() by default. */
  root?: string;
  /** Rename the source into the cache instead of copying it (same file system only). */
  move?: boolean;
}

function storePath(sha256: string, options: StoreOptions): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(options.kind) || options.kind.startsWith(".")) {
    throw new CacheDirError(`cache kind "${options.kind}" must be one plain path component`);
  }
  const extension = options.extension ?? "";
  if (extension.includes("/")) {
    throw new CacheDirError(`cache extension "${extension}" must not contain "/"`);
  }
  return join(options.root ?? cacheDir(), options.kind, `${sha256}${extension}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function temporarySibling(path: string): string {
  return `${path}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
}

/**
 * Stores a file in the cache under its SHA-256 (hashed as a stream) and returns where.
 * A file already stored with the same hash is kept; the new copy appears atomically
 * (written beside it, then renamed), so concurrent stores of the same content are safe.
 *
 * @example
 * ```ts
 * const { path, sha256 } = await storeFile("/tmp/build/initrd.cpio", {
 *   kind: "initramfs",
 *   extension: ".cpio",
 * });
 * ```
 */
export async function storeFile(sourcePath: string, options: StoreOptions): Promise<StoredFile> {
  const sha256 = await sha256File(sourcePath);
  const path = storePath(sha256, options);
  if (await exists(path)) {
    if (options.move) await Deno.remove(sourcePath);
    return { path, sha256 };
  }
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = temporarySibling(path);
  try {
    if (options.move) {
      try {
        await Deno.rename(sourcePath, temporary);
      } catch {
        // Another file system: copy, then remove the source.
        await Deno.copyFile(sourcePath, temporary);
        await Deno.remove(sourcePath);
      }
    } else {
      await Deno.copyFile(sourcePath, temporary);
    }
    await Deno.chmod(temporary, 0o644);
    await Deno.rename(temporary, path);
  } finally {
    await Deno.remove(temporary).catch(() => {});
  }
  return { path, sha256 };
}

/**
 * Stores bytes held in memory (one buffer or chunks, written in order) under their SHA-256.
 *
 * @example
 * ```ts
 * const stored = await storeBytes(archive, { kind: "initramfs", extension: ".cpio" });
 * ```
 */
export async function storeBytes(
  data: Uint8Array | readonly Uint8Array[],
  options: Omit<StoreOptions, "move">,
): Promise<StoredFile> {
  const chunks = data instanceof Uint8Array ? [data] : data;
  const sha256 = sha256Bytes(chunks);
  const path = storePath(sha256, options);
  if (await exists(path)) return { path, sha256 };
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = temporarySibling(path);
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true, mode: 0o644 });
    try {
      for (const chunk of chunks) await writeAll(file, chunk);
    } finally {
      file.close();
    }
    await Deno.chmod(temporary, 0o644);
    await Deno.rename(temporary, path);
  } finally {
    await Deno.remove(temporary).catch(() => {});
  }
  return { path, sha256 };
}
