/**
 * Which Debian packages a package root holds: the packages a scenario names, Debian's
 * essential set, and everything they depend on, each at one version. apt resolves them as
 * it would for `apt-get install --no-install-recommends` on an empty system (a simulation
 * against an empty dpkg status, so the host's installed packages play no part and nothing
 * is installed), reading only apt's package lists. The answer is kept in the cache under
 * the request and the state of those lists, so it changes only after `apt-get update`.
 *
 * @module
 */

import { join } from "node:path";
import { cacheDir } from "../util/cache_dir.ts";
import { cacheKey } from "../util/cache_key.ts";
import { hostCommand } from "../util/host_command.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { aptStateFingerprint } from "./_apt_state.ts";
import { GuestImageError } from "./guest_image_error.ts";

/**
 * Debian 12's essential set (the packages whose `Essential: yes` every Debian system has,
 * and which no package declares as a dependency): a package root always holds them, so
 * `/bin/sh` (dash), coreutils, `su`/`setpriv` (util-linux) and the rest are there.
 */
export const ESSENTIAL_PACKAGES: readonly string[] = [
  "base-files",
  "base-passwd",
  "bash",
  "bsdutils",
  "coreutils",
  "dash",
  "debianutils",
  "diffutils",
  "dpkg",
  "findutils",
  "grep",
  "gzip",
  "hostname",
  "init-system-helpers",
  "libc-bin",
  "login",
  "ncurses-base",
  "ncurses-bin",
  "perl-base",
  "sed",
  "sysvinit-utils",
  "tar",
  "util-linux",
];

/** One package at the version apt chose. */
export interface ResolvedPackage {
  /** The package's name, such as `postgresql-15`. */
  readonly name: string;
  /** Its Debian version, such as `15.20-0+deb12u1`. */
  readonly version: string;
  /** Its architecture, such as `amd64` or `all`. */
  readonly architecture: string;
}

/**
 * The packages apt would install, from the `Inst` lines of `apt-get --simulate install`,
 * sorted by name.
 *
 * @example
 * ```ts
 * parseSimulation("Inst dash (0.5.12-2 Debian:12.12/stable [amd64])\n");
 * // [{ name: "dash", version: "0.5.12-2", architecture: "amd64" }]
 * ```
 */
export function parseSimulation(stdout: string): ResolvedPackage[] {
  const packages: ResolvedPackage[] = [];
  for (const line of stdout.split("\n")) {
    const match = /^Inst (\S+) (?:\[\S+\] )?\((\S+) .*\[([a-z0-9-]+)\]\)/.exec(line);
    if (match) packages.push({ name: match[1], version: match[2], architecture: match[3] });
  }
  return packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Why apt could not resolve a request: the package to name, and whether it is the user's mistake. */
export interface ResolutionProblem {
  /** The package the problem is about. */
  package: string;
  /** One line: what is wrong with it. */
  message: string;
  /** True when the request is at fault (an unknown package, a conflict): exit code 2. */
  usage: boolean;
}

/**
 * Reads why `apt-get --simulate install` failed from what it printed: an unknown package,
 * one without an installable version, or dependencies apt cannot satisfy together (the
 * first package of its "unmet dependencies" list).
 *
 * @example
 * ```ts
 * resolutionProblem("", "E: Unable to locate package postgresql-99\n");
 * // { package: "postgresql-99", message: 'apt knows no Debian package "postgresql-99"', usage: true }
 * ```
 */
export function resolutionProblem(stdout: string, stderr: string): ResolutionProblem | null {
  const unknown = /^E: Unable to locate package (\S+)/m.exec(stderr);
  if (unknown) {
    return {
      package: unknown[1],
      message: `apt knows no Debian package "${unknown[1]}"`,
      usage: true,
    };
  }
  const noCandidate = /^E: Package '([^']+)' has no installation candidate/m.exec(stderr);
  if (noCandidate) {
    const providers = /is a virtual package provided by:\n((?:\s+\S+ \S+\n?)+)/.exec(stdout);
    const names = providers
      ? providers[1].trim().split("\n").map((line) => line.trim().split(" ")[0])
      : [];
    return {
      package: noCandidate[1],
      message: `the Debian package "${noCandidate[1]}" has no installable version` +
        (names.length > 0 ? ` (it is virtual: name one of ${names.join(", ")})` : ""),
      usage: true,
    };
  }
  const unmet = /unmet dependencies:\n\s*(\S+) : (.*)/.exec(stdout);
  if (unmet) {
    return {
      package: unmet[1],
      message: `apt cannot install the Debian package "${unmet[1]}" with the others: ${
        unmet[2].trim()
      }`,
      usage: true,
    };
  }
  return null;
}

/** Where resolutions are kept, and how long to wait. */
export interface ResolveOptions {
  /** The cache root; `cacheDir()` by default. Resolutions go to `<root>/package-lists/`. */
  cacheRoot?: string;
  signal?: AbortSignal;
}

/**
 * Resolves packages with apt: the names given, the essential set, and their dependency
 * closure without recommends, each at the version apt would install, sorted by name.
 * An unknown package or a conflict is a {@linkcode GuestImageError} of usage (exit code 2)
 * naming the package.
 *
 * @example
 * ```ts
 * const packages = await resolvePackages(["postgresql-15"]);
 * packages.find((p) => p.name === "dash"); // { name: "dash", version: "0.5.12-2", architecture: "amd64" }
 * ```
 */
export async function resolvePackages(
  names: readonly string[],
  options: ResolveOptions = {},
): Promise<ResolvedPackage[]> {
  const wanted = [...new Set([...names, ...ESSENTIAL_PACKAGES])].sort();
  const key = cacheKey("package-list", { wanted, apt: await aptStateFingerprint() });
  const cached = join(options.cacheRoot ?? cacheDir(), "package-lists", `${key}.json`);
  try {
    return JSON.parse(await Deno.readTextFile(cached)) as ResolvedPackage[];
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) && !(error instanceof SyntaxError)) throw error;
  }
  const packages = await simulateInstall(wanted, options.signal);
  await Deno.mkdir(join(cached, ".."), { recursive: true });
  const temporary = `${cached}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(temporary, JSON.stringify(packages, null, 1));
  await Deno.rename(temporary, cached);
  return packages;
}

/** `apt-get --simulate install` of the names on an empty system. */
async function simulateInstall(
  names: readonly string[],
  signal?: AbortSignal,
): Promise<ResolvedPackage[]> {
  await using dir = await makePrivateDir("faultline-apt-resolve-");
  const status = join(dir.path, "status");
  await Deno.writeTextFile(status, "");
  const args = [
    "--simulate",
    "--quiet",
    "-o",
    `Dir::State::status=${status}`,
    "-o",
    "APT::Install-Recommends=false",
    "-o",
    "APT::Install-Suggests=false",
    "-o",
    "Debug::NoLocking=true",
    "install",
    "--",
    ...names,
  ];
  const output = await hostCommand("apt-get", {
    args,
    env: { LC_ALL: "C" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) {
    signal?.throwIfAborted();
    const problem = resolutionProblem(stdout, stderr);
    if (problem) throw new GuestImageError(problem.message, { usage: problem.usage });
    const said = stderr.trim().split("\n").filter((l) => l.startsWith("E:")).join(" | ");
    throw new GuestImageError(
      `apt could not resolve the Debian packages ${names.join(" ")}: ${said || stderr.trim()}`,
      { hint: "run `apt-get update` as root, then try again", command: ["apt-get", ...args] },
    );
  }
  return parseSimulation(stdout);
}
