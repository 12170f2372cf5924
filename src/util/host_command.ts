/**
 * The one place that starts a program on the host (QEMU, mkfs, apt-get, ...). A program that
 * is not installed becomes a {@link ToolMissingError} naming it and the Debian package that
 * provides it, instead of Deno's "Failed to spawn".
 *
 * @module
 */

import { FaultlineError } from "./errors.ts";

const APT_NOTE =
  "faultline fetches the guest's kernel and packages with Debian's apt: run it on Debian or Ubuntu";

/**
 * The Debian package of each program faultline (or its tests) runs on the host, and what
 * to know beyond the package where that helps.
 */
export const TOOL_PACKAGES: Readonly<Record<string, { debian: string; note?: string }>> = {
  "qemu-system-x86_64": { debian: "qemu-system-x86" },
  "qemu-img": { debian: "qemu-utils" },
  "qemu-io": { debian: "qemu-utils" },
  "qemu-nbd": { debian: "qemu-utils" },
  "mke2fs": { debian: "e2fsprogs" },
  "mkfs.ext2": { debian: "e2fsprogs" },
  "mkfs.ext3": { debian: "e2fsprogs" },
  "mkfs.ext4": { debian: "e2fsprogs" },
  "e2fsck": { debian: "e2fsprogs" },
  "debugfs": { debian: "e2fsprogs" },
  "mkfs.xfs": { debian: "xfsprogs" },
  "xfs_db": { debian: "xfsprogs" },
  "xfs_repair": { debian: "xfsprogs" },
  "apt-get": { debian: "apt", note: APT_NOTE },
  "apt-cache": { debian: "apt", note: APT_NOTE },
  "dpkg": { debian: "dpkg" },
  "dpkg-deb": { debian: "dpkg" },
  "dpkg-query": { debian: "dpkg" },
  "xz": { debian: "xz-utils" },
  "zstd": { debian: "zstd" },
  "nbdkit": { debian: "nbdkit" },
  "nbdinfo": { debian: "libnbd-bin" },
  "nbdcopy": { debian: "libnbd-bin" },
  "tshark": { debian: "tshark" },
  "sqlite3": { debian: "sqlite3" },
  "chromium": { debian: "chromium" },
  "cp": { debian: "coreutils" },
};

/** A program faultline needs is not installed (or cannot be run). */
export class ToolMissingError extends FaultlineError {
  /** The program, as faultline ran it. */
  readonly tool: string;
  /** The Debian package that provides it, when faultline knows one. */
  readonly debianPackage: string | null;

  /** Makes the error for `tool`; `problem` is why it could not run, when it exists but would not. */
  constructor(tool: string, options: { problem?: string; cause?: unknown } = {}) {
    const known = TOOL_PACKAGES[tool.replace(/^.*\//, "")];
    const what = options.problem
      ? `cannot run ${tool}: ${options.problem}`
      : `${tool} is not installed (not found on PATH)`;
    const how = known
      ? `; it comes in the Debian package ${known.debian}: install it with \`apt-get install ${known.debian}\` as root`
      : "";
    super(`${what}${how}${known?.note ? `; ${known.note}` : ""}`, { cause: options.cause });
    this.tool = tool;
    this.debianPackage = known?.debian ?? null;
  }
}

/**
 * Maps Deno's failure to start a program to a {@link ToolMissingError}; anything else (an
 * abort, a bad argument) is returned as it was.
 */
function startError(tool: string, error: unknown): unknown {
  if (error instanceof Deno.errors.NotFound) return new ToolMissingError(tool, { cause: error });
  if (error instanceof Deno.errors.PermissionDenied) {
    return new ToolMissingError(tool, { problem: (error as Error).message, cause: error });
  }
  return error;
}

/** A host program to run, as `Deno.Command` is, but whose failure to start is a named error. */
export interface HostCommand {
  /** Runs it to the end and collects its output. */
  output(): Promise<Deno.CommandOutput>;
  /** Starts it. */
  spawn(): Deno.ChildProcess;
}

/**
 * `new Deno.Command(tool, options)`, with a missing program named with its Debian package.
 *
 * @throws {ToolMissingError} from `output` and `spawn`, when the program is not installed.
 * @example
 * ```ts
 * const output = await hostCommand("qemu-img", { args: ["info", "disk.raw"], stdout: "piped" })
 *   .output();
 * // qemu-img missing: "qemu-img is not installed (not found on PATH); it comes in the Debian package qemu-utils: ..."
 * ```
 */
export function hostCommand(tool: string, options: Deno.CommandOptions = {}): HostCommand {
  const command = new Deno.Command(tool, options);
  return {
    async output() {
      try {
        // Deno throws at once when the program is missing, and rejects on other failures.
        return await command.output();
      } catch (error) {
        throw startError(tool, error);
      }
    },
    spawn() {
      try {
        return command.spawn();
      } catch (error) {
        throw startError(tool, error);
      }
    },
  };
}
