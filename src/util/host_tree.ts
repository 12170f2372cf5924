/**
 * A host tree: a directory or a tarball (`.tar`, `.tar.gz`, `.tgz`) that a scenario lays
 * over a guest directory (a user's build output), read as its entries: directories,
 * regular files with their bytes, symbolic links. Symbolic links are kept as links, never
 * followed; hard links in a tarball become copies; anything else (a device, a fifo) is
 * refused. Tarballs are read with tar-stream (ustar, pax and GNU long names), loaded when a
 * tarball is read: an npm package in the graph of mod.ts, which scenario files import while
 * others do, made concurrent imports of scenarios see their modules before they ran.
 *
 * @module
 */

import { join } from "node:path";
import type { Header } from "tar-stream";
import { FaultlineError } from "./errors.ts";
import { sha256Bytes } from "./hash.ts";

/** A host tree that cannot be read as one: missing, of a kind it cannot hold, not a tarball. */
export class HostTreeError extends FaultlineError {
  static override readonly kind = "usage" as const;
}

/** One entry of a host tree. */
export type TreeEntry =
  | { type: "directory"; path: string }
  | { type: "file"; path: string; data: Uint8Array; executable: boolean }
  | { type: "symlink"; path: string; target: string };

/** The names a tarball goes by. */
const TARBALL = /\.(tar|tar\.gz|tgz)$/;

/**
 * Whether a host path names a tarball, by its name.
 *
 * @example
 * ```ts
 * isTarball("build/app.tar.gz"); // true
 * ```
 */
export function isTarball(path: string): boolean {
  return TARBALL.test(path);
}

/**
 * Whether a scenario's host file lays a tree over the guest: a directory, or a tarball
 * given a guest directory (a guest path ending in `/`). Any other file is copied as it is,
 * a tarball too when its guest path is a file's.
 *
 * @example
 * ```ts
 * await laysTree("build/app.tgz", "/opt/app/"); // true
 * await laysTree("build/app.tgz", "/opt/app.tgz"); // false: copied as a file
 * ```
 */
export async function laysTree(host: string, guest: string): Promise<boolean> {
  const info = await Deno.stat(host).catch(() => null);
  return info?.isDirectory === true || (guest.endsWith("/") && isTarball(host));
}

/**
 * Reads a directory or a tarball as its entries, sorted by path; each path relative to the
 * tree's root, `/`-separated, without `.` or `..` names.
 *
 * @throws {HostTreeError} naming the path, and the entry, that cannot be read as a tree.
 * @example
 * ```ts
 * const entries = await readHostTree("./build");
 * entries.map((e) => e.path); // ["bin", "bin/app", "lib", "lib/app.so"]
 * ```
 */
export async function readHostTree(path: string): Promise<TreeEntry[]> {
  const info = await Deno.stat(path).catch(() => null);
  if (!info) throw new HostTreeError(`${path} does not exist`);
  const entries = info.isDirectory
    ? await readDirectory(path, "")
    : await readTarball(path, await Deno.readFile(path));
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function readDirectory(root: string, prefix: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  for await (const item of Deno.readDir(join(root, prefix))) {
    const path = prefix === "" ? item.name : `${prefix}/${item.name}`;
    const host = join(root, path);
    const info = await Deno.lstat(host);
    if (info.isSymlink) {
      entries.push({ type: "symlink", path, target: await Deno.readLink(host) });
    } else if (info.isDirectory) {
      entries.push({ type: "directory", path }, ...await readDirectory(root, path));
    } else if (info.isFile) {
      const executable = ((info.mode ?? 0) & 0o111) !== 0;
      entries.push({ type: "file", path, data: await Deno.readFile(host), executable });
    } else {
      throw new HostTreeError(`${host} is neither a file, a directory nor a symbolic link`);
    }
  }
  return entries;
}

/** A tarball's member name as a tree path; null for the root (`./`). */
function memberPath(tarball: string, name: string): string | null {
  const path = name.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  if (path === "" || path === ".") return null;
  const parts = path.split("/");
  if (name.startsWith("/") || path.includes("\0") || parts.some((p) => p === "" || p === "..")) {
    throw new HostTreeError(
      `${tarball}: member "${name}" is not a plain relative path (no leading /, no .. names)`,
    );
  }
  return parts.filter((part) => part !== ".").join("/");
}

async function readTarball(path: string, bytes: Uint8Array): Promise<TreeEntry[]> {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let archive: Uint8Array;
  try {
    archive = gzipped ? await gunzip(bytes) : bytes;
  } catch (error) {
    throw new HostTreeError(`${path}: not a gzip file: ${(error as Error).message}`);
  }
  const { default: tar } = await import("tar-stream");
  const entries = new Map<string, TreeEntry>();
  const extract = tar.extract();
  const reading = (async () => {
    for await (const member of extract) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of member) chunks.push(chunk as Uint8Array);
      const entry = treeEntry(path, member.header, concat(chunks), entries);
      if (entry) entries.set(entry.path, entry);
    }
  })();
  extract.end(archive);
  try {
    await reading;
  } catch (error) {
    if (error instanceof HostTreeError) throw error;
    throw new HostTreeError(`${path}: not a tarball: ${(error as Error).message}`);
  }
  return [...entries.values()];
}

/** The entry a tarball member is (a later member of the same path replaces it, as tar does). */
function treeEntry(
  tarball: string,
  header: Header,
  data: Uint8Array,
  earlier: ReadonlyMap<string, TreeEntry>,
): TreeEntry | null {
  const path = memberPath(tarball, header.name);
  if (path === null) return null;
  const executable = ((header.mode ?? 0) & 0o111) !== 0;
  switch (header.type) {
    case "file":
    case "contiguous-file":
      return { type: "file", path, data, executable };
    case "directory":
      return { type: "directory", path };
    case "symlink":
      return { type: "symlink", path, target: header.linkname ?? "" };
    case "link": {
      const target = memberPath(tarball, header.linkname ?? "");
      const linked = target === null ? undefined : earlier.get(target);
      if (linked?.type !== "file") {
        throw new HostTreeError(
          `${tarball}: member "${header.name}" is a hard link to "${header.linkname}", which is no file before it`,
        );
      }
      return { ...linked, path };
    }
    default:
      throw new HostTreeError(
        `${tarball}: member "${header.name}" is a ${header.type}; a tree holds files, directories and symbolic links`,
      );
  }
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * What a tree is, in one digest: every entry's path, type, and content (a file's SHA-256
 * and whether it is executable, a link's target). Equal digests lay the same tree; a cache
 * key made from a tree holds its digest.
 *
 * @example
 * ```ts
 * treeDigest(await readHostTree("./build")); // 64 hex digits
 * ```
 */
export function treeDigest(entries: readonly TreeEntry[]): string {
  const lines = entries.map((entry) => {
    switch (entry.type) {
      case "directory":
        return JSON.stringify([entry.path, "d"]);
      case "symlink":
        return JSON.stringify([entry.path, "l", entry.target]);
      case "file":
        return JSON.stringify([entry.path, entry.executable ? "x" : "f", sha256Bytes(entry.data)]);
    }
  });
  return sha256Bytes(new TextEncoder().encode(lines.join("\n")));
}
