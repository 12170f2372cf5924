/**
 * Runs host tools (apt-get, dpkg, xz) for the guest image builder: never through a shell,
 * always with an argument array, a C locale, and errors that name the tool and the fix.
 *
 * @module
 */

import { GuestImageError } from "./guest_image_error.ts";

/** How to get each tool that the builder may run, for the "not found" message. */
const INSTALL_HINTS: Record<string, string> = {
  "apt-get": "faultline fetches the guest kernel with Debian's apt: run it on Debian or Ubuntu",
  "apt-cache": "faultline fetches the guest kernel with Debian's apt: run it on Debian or Ubuntu",
  "dpkg": "install dpkg (`apt-get install dpkg` as root)",
  "dpkg-deb": "install dpkg (`apt-get install dpkg` as root)",
  "xz": "install xz-utils (`apt-get install xz-utils` as root)",
  "zstd": "install zstd (`apt-get install zstd` as root)",
};

/** Options of {@linkcode runTool}. */
export interface RunToolOptions {
  cwd?: string;
  signal?: AbortSignal;
  /** Added to the environment (which also gets `LC_ALL=C`). */
  env?: Record<string, string>;
  /** Appended to the error message when the tool fails (not when it is missing). */
  failureHint?: string | ((stderr: string) => string | undefined);
}

/** What a tool printed. */
export interface ToolOutput {
  stdout: Uint8Array;
  stderr: string;
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").filter((line) => line.trim() !== "").slice(-count).join(" | ");
}

/**
 * Runs `tool args...` and returns its output, or throws a {@linkcode GuestImageError} that
 * says which tool is missing and how to install it, or how the command failed.
 */
export async function runTool(
  tool: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolOutput> {
  const command = [tool, ...args];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(tool, {
      args: [...args],
      cwd: options.cwd,
      env: { LC_ALL: "C", ...options.env },
      signal: options.signal,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new GuestImageError(`\`${tool}\` was not found on PATH`, {
        hint: INSTALL_HINTS[tool],
        command,
        cause: error,
      });
    }
    throw new GuestImageError(`could not run \`${command.join(" ")}\`: ${error}`, {
      command,
      cause: error,
    });
  }
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) {
    options.signal?.throwIfAborted();
    const hint = typeof options.failureHint === "function"
      ? options.failureHint(stderr)
      : options.failureHint;
    const said = lastLines(stderr, 3);
    throw new GuestImageError(
      `\`${command.join(" ")}\` failed (exit ${output.code})${said ? `: ${said}` : ""}`,
      { hint, command, stderr: lastLines(stderr, 20) },
    );
  }
  return { stdout: output.stdout, stderr };
}

/** Runs a tool and returns its stdout as text. */
export async function runToolText(
  tool: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<string> {
  return new TextDecoder().decode((await runTool(tool, args, options)).stdout);
}
