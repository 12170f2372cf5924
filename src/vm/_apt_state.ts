/**
 * The state of apt that its answers depend on (package lists, sources, preferences), as
 * one hash: it changes when `apt-get update` (or an edit of the sources) does, so answers
 * kept in the cache under it are apt's answers of today.
 *
 * @module
 */

import { join } from "node:path";
import { sha256Bytes } from "../util/hash.ts";

/** apt's own state that a resolution depends on: its package lists, sources and preferences. */
const APT_STATE = [
  "/var/lib/apt/lists",
  "/etc/apt/sources.list",
  "/etc/apt/sources.list.d",
  "/etc/apt/preferences",
  "/etc/apt/preferences.d",
];

/**
 * A hash of apt's state: names, sizes and modification times of its package lists, sources
 * and preferences.
 *
 * @example
 * ```ts
 * const key = `${await aptStateFingerprint()}-${name}`;
 * ```
 */
export async function aptStateFingerprint(): Promise<string> {
  const lines: string[] = [];
  const note = async (path: string) => {
    const info = await Deno.stat(path).catch(() => null);
    if (!info) return;
    if (!info.isDirectory) {
      lines.push(`${path} ${info.size} ${info.mtime?.getTime() ?? 0}`);
      return;
    }
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) if (entry.isFile) names.push(entry.name);
    for (const name of names.sort()) {
      if (name === "lock") continue;
      const file = await Deno.stat(join(path, name)).catch(() => null);
      if (file) lines.push(`${path}/${name} ${file.size} ${file.mtime?.getTime() ?? 0}`);
    }
  };
  for (const path of APT_STATE) await note(path);
  return sha256Bytes(new TextEncoder().encode(lines.join("\n")));
}
