/**
 * The version of the QEMU that runs the guests, for trace headers, and the identity of its
 * build, for saved guests kept between runs.
 *
 * @module
 */

import { join } from "node:path";
import { hostCommand } from "../util/host_command.ts";
import { QEMU } from "../vm/launcher.ts";

let cached: Promise<string> | null = null;
let cachedBuild: Promise<string> | null = null;

/**
 * The first line of `qemu-system-x86_64 --version`, or `unknown` when it cannot run.
 *
 * @example
 * ```ts
 * await qemuVersion(); // "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
 * ```
 */
export function qemuVersion(): Promise<string> {
  cached ??= output(["--version"]).then((text) => text.split("\n")[0].trim() || "unknown");
  return cached;
}

/**
 * What a saved guest's state depends on beyond its arguments: QEMU's version line, then the
 * size and modification time of QEMU's binary and of every file in the directories it loads
 * firmware from (`-L help`: SeaBIOS, the option ROMs). A QEMU rebuilt under the same version,
 * or a firmware package upgraded, may not load a state saved before (a ROM that changed size
 * does not), and changes this.
 *
 * @example
 * ```ts
 * await qemuBuild(); // "QEMU emulator version 7.2.22 ...\n/usr/bin/qemu-system-x86_64 ..."
 * ```
 */
export function qemuBuild(): Promise<string> {
  cachedBuild ??= (async () => {
    const dirs = (await output(["-L", "help"])).split("\n").map((line) => line.trim())
      .filter((line) => line.startsWith("/"));
    const binary = await binaryPath(QEMU);
    return [
      await qemuVersion(),
      ...(binary ? await filesIdentity([binary]) : []),
      ...await filesIdentity(await filesIn(dirs)),
    ].join("\n");
  })();
  return cachedBuild;
}

/**
 * One line per file that exists: its path, size and modification time (symbolic links
 * followed), in the order given.
 *
 * @example
 * ```ts
 * await filesIdentity(["/usr/share/seabios/bios-256k.bin"]); // ["/usr/share/seabios/bios-256k.bin 262144 1765843200000"]
 * ```
 */
export async function filesIdentity(paths: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const path of paths) {
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isFile) lines.push(`${path} ${info.size} ${info.mtime?.getTime() ?? 0}`);
  }
  return lines;
}

/** The entries directly in `dirs` (missing directories skipped), sorted within each. */
async function filesIn(dirs: readonly string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const dir of dirs) {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    } catch {
      continue;
    }
    paths.push(...names.sort().map((name) => join(dir, name)));
  }
  return paths;
}

/** Where `command` is found on PATH, or null. */
async function binaryPath(command: string): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    const path = join(dir, command);
    if ((await Deno.stat(path).catch(() => null))?.isFile) return path;
  }
  return null;
}

/** QEMU's standard output for `args`, or "" when it cannot run. */
function output(args: string[]): Promise<string> {
  return hostCommand(QEMU, { args, stdout: "piped", stderr: "null" }).output()
    .then((out) => new TextDecoder().decode(out.stdout))
    .catch(() => "");
}
