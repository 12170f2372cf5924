/**
 * Asking e2fsprogs' debugfs about an image, read-only: debugfs opens an image for writing
 * only with `-w`, which is never given. Requests go on its standard input (`-f -`), one a
 * line, so one process answers many; what it prints is read by src/run/debugfs_output.ts.
 *
 * @module
 */

import { hostCommand } from "../util/host_command.ts";
import { RunError } from "./errors.ts";

/** How debugfs opens the image. */
export interface DebugfsOptions {
  /**
   * Catastrophic mode (`-c`): the bitmaps are not read and checksum errors are ignored, so a
   * damaged image opens too. `testb` needs the bitmaps: ask it without.
   */
  catastrophic: boolean;
  /** Aborting kills debugfs. */
  signal?: AbortSignal;
}

/**
 * debugfs reads a command file with lines of at most 8 KiB (glibc's BUFSIZ): a request
 * longer than that is cut. {@link debugfsRequests} keeps each under this.
 */
const MAX_REQUEST_CHARS = 4000;

/**
 * One request a line, each `command` with as many of `args` as fit in a line.
 *
 * @example
 * ```ts
 * debugfsRequests("icheck", blocks.map(String)); // ["icheck 1 2 3 ...", "icheck 901 902 ..."]
 * debugfsRequests("testb", ["259"], { each: true }); // ["testb 259"]
 * ```
 */
export function debugfsRequests(
  command: string,
  args: readonly string[],
  options: { each?: boolean } = {},
): string[] {
  if (options.each) return args.map((arg) => `${command} ${arg}`);
  const lines: string[] = [];
  let line = command;
  for (const arg of args) {
    if (line !== command && line.length + 1 + arg.length > MAX_REQUEST_CHARS) {
      lines.push(line);
      line = command;
    }
    line += ` ${arg}`;
  }
  if (line !== command) lines.push(line);
  return lines;
}

/**
 * Runs debugfs on `image` with `requests`, read-only, and returns what it printed. debugfs
 * exits 0 even when it cannot open the image: it says so on stderr, and the answers are
 * missing from stdout, which the parsers of src/run/debugfs_output.ts then do not find.
 *
 * @throws {ToolMissingError} when debugfs is not installed; {@link RunError} when it exits
 *   with another code.
 * @example
 * ```ts
 * const { stdout } = await debugfs("disk.raw", ["icheck 8705 8706"], { catastrophic: true });
 * ```
 */
export async function debugfs(
  image: string,
  requests: readonly string[],
  options: DebugfsOptions,
): Promise<{ stdout: string; stderr: string }> {
  const child = hostCommand("debugfs", {
    args: [...(options.catastrophic ? ["-c"] : []), "-f", "-", image],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.signal ? { signal: options.signal } : {}),
  }).spawn();
  // Read while writing: answers that fill the pipe before the last request is written would
  // otherwise stop both.
  const ended = child.output();
  const input = child.stdin.getWriter();
  await input.write(new TextEncoder().encode(requests.map((r) => `${r}\n`).join("")));
  await input.close();
  const output = await ended;
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new RunError(
      `debugfs ${image} failed (exit ${output.code}): ${stderr.trim().split("\n").at(-1) ?? ""}`,
    );
  }
  return { stdout, stderr };
}
