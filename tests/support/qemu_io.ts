/**
 * qemu-io, a real NBD client, driven without a shell.
 *
 * @module
 */

import { type Ran, run } from "./process.ts";

/**
 * Runs qemu-io commands against an NBD URI (or an image file).
 *
 * @example
 * ```ts
 * const result = await qemuIo(served.uri(), ["write -P 0x61 0 4096", "read -P 0x61 0 4096"]);
 * ```
 */
export function qemuIo(uri: string, commands: string[], extra: string[] = []): Promise<Ran> {
  return run("qemu-io", ["-f", "raw", ...extra, uri, ...commands.flatMap((c) => ["-c", c])]);
}

/**
 * True when qemu-io printed an error for any of its commands.
 *
 * @example
 * ```ts
 * assert.equal(qemuIoFailed(result), false, result.text);
 * ```
 */
export function qemuIoFailed(result: Ran): boolean {
  return result.code !== 0 || /failed|error/i.test(result.text);
}
