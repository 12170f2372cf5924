/**
 * Runs host tools (apt-get, dpkg, xz) for the guest image builder: never through a shell,
 * always with an argument array, a C locale, and errors that name the tool and the fix
 * (a missing one with its Debian package, by ../util/host_command.ts).
 *
 * @module
 */

import { hostCommand, ToolMissingError } from "../util/host_command.ts";
import { GuestImageError } from "./guest_image_error.ts";

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
 * Runs `tool args...` and returns its output, or throws a {@linkcode ToolMissingError} that
 * says which tool is missing and its Debian package, or a {@linkcode GuestImageError} that
 * says how the command failed.
 */
export async function runTool(
  tool: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolOutput> {
  const command = [tool, ...args];
  let output: Deno.CommandOutput;
  try {
    output = await hostCommand(tool, {
      args: [...args],
      cwd: options.cwd,
      env: { LC_ALL: "C", ...options.env },
      signal: options.signal,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof ToolMissingError) throw error;
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
