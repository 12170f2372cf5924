/**
 * The Debian packages faultline needs, finding which are missing, and
 * installing them (as root) without a shell.
 *
 * @module
 */

import { FaultlineError } from "../util/errors.ts";
import { hostCommand, ToolMissingError } from "../util/host_command.ts";

/** What the project needs from Debian: QEMU, the NBD peers of the tests and the benchmark, the guest's tools, tshark. */
export const DEBIAN_PACKAGES = [
  "qemu-system-x86",
  "qemu-utils",
  "nbdkit",
  "libnbd-bin",
  "busybox-static",
  "e2fsprogs",
  // XFS disks (`filesystem: "xfs"`): mkfs.xfs, xfs_db, xfs_repair.
  "xfsprogs",
  // Kernel modules may come xz-compressed; a unit test runs it.
  "xz-utils",
  "sqlite3",
  // The sweep report's browser test.
  "chromium",
  // Reads the pcapng captures of a cluster's frames (`trace pcap`) in the network tests.
  "tshark",
  // The distributed system of the shipped etcd scenarios (its binaries go into the guests).
  "etcd-server",
  "etcd-client",
] as const;

/** A package that could not be installed, or a tool that is missing. */
export class SetupError extends FaultlineError {}

async function run(
  command: string,
  args: string[],
  env?: Record<string, string>,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const output = await hostCommand(command, { args, env, stdout: "piped", stderr: "piped" })
      .output();
    const decoder = new TextDecoder();
    return {
      ok: output.success,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } catch (error) {
    if (error instanceof ToolMissingError) throw error;
    return { ok: false, stdout: "", stderr: String(error) };
  }
}

/**
 * The installed version of each package, or null when it is not installed.
 *
 * @example
 * ```ts
 * const versions = await installedVersions(["nbdkit"]); // { nbdkit: "1.32.5-1" }
 * ```
 */
export async function installedVersions(
  packages: readonly string[],
): Promise<Record<string, string | null>> {
  const result: Record<string, string | null> = {};
  for (const name of packages) {
    const query = await run("dpkg-query", ["-W", "-f=${Status}\t${Version}", name]);
    const [status, version] = query.stdout.split("\t");
    result[name] = query.ok && status?.endsWith("installed") && !status.includes("not-installed")
      ? version ?? ""
      : null;
  }
  return result;
}

/**
 * The command a user runs to install packages.
 *
 * @example
 * ```ts
 * installCommand(["nbdkit"]); // "sudo apt-get update && sudo apt-get install -y nbdkit"
 * ```
 */
export function installCommand(packages: readonly string[]): string {
  return `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${
    packages.join(" ")
  }`;
}

/** Whether this process runs as root. */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/**
 * Installs packages with apt-get (root only).
 *
 * @throws {SetupError} with apt-get's last lines when it fails.
 */
export async function installPackages(packages: readonly string[]): Promise<void> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const update = await run("apt-get", ["update"], env);
  if (!update.ok) throw new SetupError(`apt-get update failed: ${lastLines(update.stderr)}`);
  const install = await run(
    "apt-get",
    ["install", "-y", "--no-install-recommends", ...packages],
    env,
  );
  if (!install.ok) {
    throw new SetupError(
      `apt-get install ${packages.join(" ")} failed: ${lastLines(install.stderr)}`,
    );
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" | ");
}
