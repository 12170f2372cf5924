/**
 * Debian packages for the guest image, fetched and unpacked without root: `apt-get
 * download` into a private temporary directory, then `dpkg -x` into the cache, keyed by
 * package name, version and architecture. Only apt's package lists must be there (`apt-get
 * update`, as root, once); nothing is installed on the host.
 *
 * The version used is whatever apt's candidate is today; callers record it (and the
 * `.deb`'s hash) rather than pinning Debian revisions, which security updates replace.
 *
 * @module
 */

import { join } from "node:path";
import { cacheDir } from "../util/cache_dir.ts";
import { cacheKey } from "../util/cache_key.ts";
import { sha256File } from "../util/hash.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { aptStateFingerprint } from "./_apt_state.ts";
import { runToolText } from "./_command.ts";
import { GuestImageError } from "./guest_image_error.ts";

export { GuestImageError } from "./guest_image_error.ts";

const UPDATE_HINT = "run `apt-get update` as root, then try again";

/** A Debian package unpacked in the cache. */
export interface DebianPackage {
  /** Package name, such as `linux-image-6.1.0-56-cloud-amd64`. */
  readonly name: string;
  /** Debian version, such as `6.1.192-2`. */
  readonly version: string;
  /** Debian architecture, such as `amd64`. */
  readonly architecture: string;
  /** Directory holding the unpacked file tree (`dpkg -x`). */
  readonly root: string;
  /** SHA-256 of the `.deb` that was unpacked. */
  readonly debSha256: string;
}

/** Where packages are kept and how long to wait. */
export interface DebianOptions {
  /** The cache root; `cacheDir()` by default. Packages go to `<root>/debian/`. */
  cacheRoot?: string;
  signal?: AbortSignal;
}

/** One version of one package. */
export interface DebianPackageRef {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
}

/** The candidate (the version apt would install) of a package, from `apt-cache show`. */
export interface DebianCandidate extends DebianPackageRef {
  /** All control fields of the candidate's stanza, such as `Depends`. */
  readonly fields: ReadonlyMap<string, string>;
}

/**
 * Parses one stanza of Debian control data (RFC 822 style, with continuation lines) into
 * a map from field name to value; continuation lines are joined with `\n`.
 *
 * @example
 * ```ts
 * parseControlStanza("Package: a\nDepends: b (>= 1),\n c\n").get("Depends"); // "b (>= 1),\nc"
 * ```
 */
export function parseControlStanza(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (fields.size > 0) break; // the end of the first stanza
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (current !== undefined) fields.set(current, `${fields.get(current)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    current = line.slice(0, colon);
    fields.set(current, line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Parses a `Depends`-style field into groups of alternatives, keeping only package names
 * (versions and architecture qualifiers dropped).
 *
 * @example
 * ```ts
 * parseDepends("a (= 1), b | c:any"); // [["a"], ["b", "c"]]
 * ```
 */
export function parseDepends(value: string): string[][] {
  return value
    .split(",")
    .map((group) =>
      group
        .split("|")
        .map((alternative) => alternative.trim().split(/[\s(:[]/)[0])
        .filter((name) => name !== "")
    )
    .filter((group) => group.length > 0);
}

const candidates = new Map<string, Promise<DebianCandidate>>();

/**
 * Asks apt for the candidate version of a package (`apt-cache show --no-all-versions`).
 * Fails with a {@linkcode GuestImageError} that says to run `apt-get update` when apt does
 * not know the package. Answers are kept for the life of the process, and in the cache
 * under the state of apt's lists (`_apt_state.ts`) until they change: apt-cache can take
 * seconds where apt keeps no binary cache, as in Debian's container images.
 *
 * @example
 * ```ts
 * const { version } = await debianCandidate("busybox-static"); // "1:1.35.0-4+deb12u1+b1"
 * ```
 */
export async function debianCandidate(
  name: string,
  options: DebianOptions = {},
): Promise<DebianCandidate> {
  checkPackageName(name);
  let candidate = candidates.get(name);
  if (!candidate) {
    candidate = askCandidate(name, options);
    candidates.set(name, candidate);
    candidate.catch(() => candidates.delete(name));
  }
  return await candidate;
}

async function askCandidate(name: string, options: DebianOptions): Promise<DebianCandidate> {
  const key = cacheKey("apt-candidate", { name, apt: await aptStateFingerprint() });
  const kept = join(options.cacheRoot ?? cacheDir(), "apt-candidates", `${key}.json`);
  try {
    const { fields } = JSON.parse(await Deno.readTextFile(kept)) as { fields: [string, string][] };
    return candidateOf(name, new Map(fields));
  } catch {
    // Not asked since apt's lists last changed.
  }
  const candidate = await askApt(name, options);
  await Deno.mkdir(join(kept, ".."), { recursive: true });
  await Deno.writeTextFile(
    `${kept}.tmp-${Deno.pid}`,
    JSON.stringify({ fields: [...candidate.fields] }),
  );
  await Deno.rename(`${kept}.tmp-${Deno.pid}`, kept);
  return candidate;
}

async function askApt(name: string, options: DebianOptions): Promise<DebianCandidate> {
  const text = await runToolText("apt-cache", ["show", "--no-all-versions", name], {
    signal: options.signal,
    failureHint: UPDATE_HINT,
  }).catch((error) => {
    if (error instanceof GuestImageError && error.stderr !== undefined) {
      throw new GuestImageError(
        `apt does not know the Debian package "${name}" (\`apt-cache show ${name}\` failed)`,
        { hint: UPDATE_HINT, command: error.command, stderr: error.stderr, cause: error },
      );
    }
    throw error;
  });
  return candidateOf(name, parseControlStanza(text));
}

/** The candidate a stanza describes, or an error when it is not an installable version of `name`. */
function candidateOf(name: string, fields: Map<string, string>): DebianCandidate {
  const version = fields.get("Version");
  const architecture = fields.get("Architecture");
  if (fields.get("Package") !== name || !version || !architecture) {
    throw new GuestImageError(
      `apt has no installable version of the Debian package "${name}"`,
      { hint: UPDATE_HINT, command: ["apt-cache", "show", "--no-all-versions", name] },
    );
  }
  return { name, version, architecture, fields };
}

/**
 * Picks the package that a metapackage depends on and whose name matches `pattern`, from
 * the metapackage's candidate: how the current kernel ABI package is found from
 * `linux-image-cloud-amd64` without globbing every ABI. Its version is the one the
 * metapackage pins with `(= VERSION)`, else apt's candidate.
 *
 * @example
 * ```ts
 * await resolveMetapackage("linux-image-cloud-amd64", /^linux-image-\d.*-cloud-amd64$/);
 * // { name: "linux-image-6.1.0-56-cloud-amd64", version: "6.1.192-2", architecture: "amd64" }
 * ```
 */
export async function resolveMetapackage(
  metapackage: string,
  pattern: RegExp,
  options: DebianOptions = {},
): Promise<DebianPackageRef> {
  const candidate = await debianCandidate(metapackage, options);
  const depends = parseDepends(candidate.fields.get("Depends") ?? "").flat();
  const matches = [...new Set(depends.filter((name) => pattern.test(name)))];
  if (matches.length !== 1) {
    throw new GuestImageError(
      `expected exactly one dependency of "${metapackage}" ${candidate.version} matching ` +
        `${pattern}, found ${matches.length === 0 ? "none" : matches.join(", ")} ` +
        `(Depends: ${candidate.fields.get("Depends") ?? "none"})`,
    );
  }
  const name = matches[0];
  const escaped = name.replace(/[.+]/g, "\\$&");
  const pinned = new RegExp(
    `(?:^|[,|\\s])${escaped}(?::[a-z0-9-]+)?\\s*\\(\\s*=\\s*([^\\s)]+)\\s*\\)`,
  )
    .exec(candidate.fields.get("Depends") ?? "")?.[1];
  if (pinned) return { name, version: pinned, architecture: candidate.architecture };
  const { version, architecture } = await debianCandidate(name, options);
  return { name, version, architecture };
}

function checkPackageName(name: string): void {
  // Debian policy 5.6.1: lowercase letters, digits, + - . ; at least two characters.
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) {
    throw new GuestImageError(`"${name}" is not a Debian package name`, { usage: true });
  }
}

/** The cache directory name of a package version: safe as one path component. */
function packageDirName(name: string, version: string, architecture: string): string {
  const safe = (s: string) =>
    s.replace(/[^A-Za-z0-9+.~_-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return `${name}_${safe(version)}_${safe(architecture)}`;
}

interface PackageManifest {
  name: string;
  version: string;
  architecture: string;
  debSha256: string;
}

async function readManifest(dir: string): Promise<PackageManifest | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "package.json"))) as PackageManifest;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Makes sure a Debian package (apt's candidate version, or the version given) is
 * unpacked in the cache and returns where. The first call downloads it (`apt-get download`, no root needed) and
 * unpacks it (`dpkg -x`); later calls find it in the cache without the network, as long
 * as apt's candidate stays the same.
 *
 * @example
 * ```ts
 * const busybox = await fetchDebianPackage("busybox-static");
 * const binary = `${busybox.root}/bin/busybox`;
 * ```
 */
export async function fetchDebianPackage(
  pkg: string | DebianPackageRef,
  options: DebianOptions = {},
): Promise<DebianPackage> {
  const candidate = typeof pkg === "string" ? await debianCandidate(pkg, options) : pkg;
  const name = candidate.name;
  checkPackageName(name);
  const packagesDir = join(options.cacheRoot ?? cacheDir(), "debian");
  const dir = join(
    packagesDir,
    packageDirName(name, candidate.version, candidate.architecture),
  );
  const cached = await readManifest(dir);
  if (cached) return { ...cached, root: join(dir, "root") };

  await using download = await makePrivateDir("faultline-apt-");
  const spec = `${name}=${candidate.version}`;
  await runToolText("apt-get", ["download", spec], {
    cwd: download.path,
    signal: options.signal,
    failureHint: UPDATE_HINT,
  });
  const debs: string[] = [];
  for await (const entry of Deno.readDir(download.path)) {
    if (entry.isFile && entry.name.endsWith(".deb")) debs.push(entry.name);
  }
  if (debs.length !== 1) {
    throw new GuestImageError(
      `\`apt-get download ${spec}\` left ${debs.length} .deb files instead of one`,
      { command: ["apt-get", "download", spec] },
    );
  }
  const deb = join(download.path, debs[0]);
  const control = parseControlStanza(
    await runToolText("dpkg-deb", ["--field", deb, "Package", "Version", "Architecture"], {
      signal: options.signal,
    }),
  );
  if (control.get("Package") !== name || control.get("Version") !== candidate.version) {
    throw new GuestImageError(
      `\`apt-get download ${spec}\` gave ${control.get("Package")} ${control.get("Version")}`,
    );
  }
  const manifest: PackageManifest = {
    name,
    version: candidate.version,
    architecture: control.get("Architecture") ?? candidate.architecture,
    debSha256: await sha256File(deb),
  };

  // Unpack beside the final place, then rename: a half-unpacked package is never seen.
  await Deno.mkdir(packagesDir, { recursive: true });
  const staging = await Deno.makeTempDir({ dir: packagesDir, prefix: ".unpack-" });
  try {
    await runToolText("dpkg", ["-x", deb, join(staging, "root")], { signal: options.signal });
    await Deno.writeTextFile(join(staging, "package.json"), JSON.stringify(manifest, null, 2));
    await Deno.chmod(staging, 0o755);
    try {
      await Deno.rename(staging, dir);
    } catch (error) {
      // Another process unpacked the same version first: use theirs.
      if (!(await readManifest(dir))) throw error;
    }
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return { ...manifest, root: join(dir, "root") };
}
