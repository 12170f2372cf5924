/**
 * Runs programs for tests, never through a shell, and collects their output.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The output of a finished command. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together. */
  text: string;
}

/** How long a program stopped by SIGTERM at its timeout has before SIGKILL. */
const KILL_AFTER_TERM_MS = 10_000;

/** Options of {@link run}. */
export interface RunOptions {
  /** Bytes for the program's stdin (else stdin is /dev/null). */
  stdin?: Uint8Array;
  cwd?: string;
  /** Variables added to the environment. */
  env?: Record<string, string>;
  /**
   * The program is stopped after this long (60 s by default): SIGTERM, so that faultline
   * stops its QEMUs and servers, then SIGKILL 10 s later if it is still there.
   */
  timeoutMs?: number;
}

/**
 * Runs a program and collects its output.
 *
 * @example
 * ```ts
 * const { code, stdout } = await run("qemu-img", ["info", "disk.raw"]);
 * ```
 */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<Ran> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // It ended meanwhile.
    }
  };
  let killer: ReturnType<typeof setTimeout> | undefined;
  const timer = setTimeout(() => {
    kill("SIGTERM");
    killer = setTimeout(() => kill("SIGKILL"), KILL_AFTER_TERM_MS);
  }, options.timeoutMs ?? 60_000);
  try {
    if (options.stdin) {
      const writer = child.stdin.getWriter();
      await writer.write(options.stdin);
      await writer.close();
    }
    const output = await child.output();
    const decoder = new TextDecoder();
    const stdout = decoder.decode(output.stdout);
    const stderr = decoder.decode(output.stderr);
    return { code: output.code, stdout, stderr, text: stdout + stderr };
  } finally {
    clearTimeout(timer);
    clearTimeout(killer);
  }
}

/**
 * Runs a program that must succeed and returns its stdout; otherwise throws with its stderr.
 *
 * @example
 * ```ts
 * const listing = await runOk("cpio", ["-t"], { stdin: archive });
 * ```
 */
export async function runOk(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<string> {
  const ran = await run(command, args, options);
  if (ran.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${ran.code}: ${ran.stderr}`);
  }
  return ran.stdout;
}

/**
 * Runs the faultline CLI (`deno run -A mod.ts ARGS...`) with the deno binary running the tests.
 *
 * @example
 * ```ts
 * const { code, stdout } = await faultline(["trace", "stats", path, "--json"]);
 * ```
 */
export function faultline(args: string[], options: RunOptions = {}): Promise<Ran> {
  return run(Deno.execPath(), ["run", "-A", MOD_TS, ...args], options);
}

/** The CLI's entry point, by its absolute path: a test may run it in a directory of its own. */
const MOD_TS = fileURLToPath(new URL("../../mod.ts", import.meta.url));
