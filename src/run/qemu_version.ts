/**
 * The version of the QEMU that runs the guests, for trace headers.
 *
 * @module
 */

import { hostCommand } from "../util/host_command.ts";
import { QEMU } from "../vm/launcher.ts";

let cached: Promise<string> | null = null;

/**
 * The first line of `qemu-system-x86_64 --version`, or `unknown` when it cannot run.
 *
 * @example
 * ```ts
 * await qemuVersion(); // "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
 * ```
 */
export function qemuVersion(): Promise<string> {
  cached ??= hostCommand(QEMU, { args: ["--version"], stdout: "piped", stderr: "null" })
    .output()
    .then((out) => new TextDecoder().decode(out.stdout).split("\n")[0].trim() || "unknown")
    .catch(() => "unknown");
  return cached;
}
