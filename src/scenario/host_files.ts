/**
 * The host side of a node's `files`, checked once, when the scenario loads: each host path
 * is what its guest path asks for (a file; a directory or a tarball for a tree laid at a
 * guest directory), each tree reads as one (src/util/host_tree.ts), and no guest path is
 * laid twice. Each problem names its field and the host path.
 *
 * @module
 */

import { HostTreeError, laysTree, readHostTree } from "../util/host_tree.ts";
import { guestPathKey } from "./guest_rules.ts";

/** One of a node's host files, its host path resolved, with its field in the scenario file. */
export interface HostFile {
  /** The host path, absolute. */
  host: string;
  /** The guest path. */
  guest: string;
  /** Its field, for problems: `nodes.app.files[0].host`, `nodes.app.files["/opt/app/"]`. */
  field: string;
}

const WHAT = "a file, a directory or a tarball (.tar, .tar.gz, .tgz)";

/**
 * The field of a host file in a node, from its place in the list or the object form.
 *
 * @example
 * ```ts
 * fileField(["files", 0]); // "files[0].host"
 * fileField(["files", "/opt/app/"]); // 'files["/opt/app/"]'
 * ```
 */
export function fileField(at: readonly ["files", number | string]): string {
  return typeof at[1] === "number" ? `files[${at[1]}].host` : `files[${JSON.stringify(at[1])}]`;
}

/**
 * Checks a node's host files, adding a problem for each that is missing, is not what its
 * guest path asks for, cannot be read as a tree, or lays a guest path another one lays.
 *
 * @example
 * ```ts
 * const problems: string[] = [];
 * await checkHostFiles([{ host: "/src/build", guest: "/opt/app/", field: "nodes.app.files[0].host" }], problems);
 * ```
 */
export async function checkHostFiles(
  files: readonly HostFile[],
  problems: string[],
): Promise<void> {
  const laid = new GuestPaths(problems);
  for (const { host, guest, field } of files) {
    const info = await Deno.stat(host).catch(() => null);
    const found = JSON.stringify(host);
    if (!info) {
      problems.push(`${field}: expected ${WHAT}, found ${found}, which does not exist`);
      continue;
    }
    if (!info.isFile && !info.isDirectory) {
      problems.push(`${field}: expected ${WHAT}, found ${found}, which is none of them`);
      continue;
    }
    if (!(await laysTree(host, guest))) {
      if (guest.endsWith("/")) {
        problems.push(
          `${field}: expected a directory or a tarball (.tar, .tar.gz, .tgz) to lay at ${guest} (a guest path ending in / is a directory), found the file ${found}`,
        );
      } else laid.add(guestPathKey(guest), "file", field);
      continue;
    }
    try {
      const root = guestPathKey(guest);
      laid.add(root, "directory", field);
      for (const entry of await readHostTree(host)) {
        laid.add(`${root}/${entry.path}`, entry.type === "directory" ? "directory" : "file", field);
      }
    } catch (error) {
      if (!(error instanceof HostTreeError)) throw error;
      problems.push(`${field}: ${error.message}`);
    }
  }
}

/** The guest paths laid so far, each a directory or not; a path laid twice is a problem. */
class GuestPaths {
  private readonly paths = new Map<string, { directory: boolean; field: string }>();
  private readonly told = new Set<string>();

  constructor(private readonly problems: string[]) {}

  /** Lays `path` (and, as directories, its parents) for `field`. */
  add(path: string, kind: "file" | "directory", field: string): void {
    const parts = path.split("/");
    for (let i = 2; i < parts.length; i++) this.lay(parts.slice(0, i).join("/"), true, field);
    this.lay(path, kind === "directory", field);
  }

  private lay(path: string, directory: boolean, field: string): void {
    const was = this.paths.get(path);
    if (!was) {
      this.paths.set(path, { directory, field });
      return;
    }
    if (was.directory && directory) return;
    // One problem for each pair of fields that collide.
    const pair = `${was.field}\0${field}`;
    if (this.told.has(pair)) return;
    this.told.add(pair);
    this.problems.push(
      `${field}: lays ${path}, which ${
        was.field === field ? "it lays twice" : `${was.field} lays too`
      }: expected each guest path laid once`,
    );
  }
}
