/**
 * A PATH that lacks chosen programs: a directory of links to every program on the current
 * PATH but those, so that a test can run faultline on a machine without QEMU (say) and
 * without uninstalling it.
 *
 * @module
 */

import { join } from "node:path";

/**
 * Makes `DIR/bin` with a link to every entry of every PATH directory (the first of a name
 * wins, as the shell's lookup does) except the programs named, and returns it as a PATH.
 *
 * @example
 * ```ts
 * const path = await pathWithout(dir.path, ["qemu-system-x86_64"]);
 * await faultline(["record", "scenarios/fsync-log.ts"], { env: { PATH: path } });
 * ```
 */
export async function pathWithout(dir: string, programs: readonly string[]): Promise<string> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  const linked = new Set<string>(programs);
  for (const from of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(from)];
    } catch {
      continue; // A PATH entry that is not a readable directory.
    }
    for (const entry of entries) {
      if (linked.has(entry.name)) continue;
      linked.add(entry.name);
      await Deno.symlink(join(from, entry.name), join(bin, entry.name));
    }
  }
  return bin;
}
