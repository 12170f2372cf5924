/**
 * A guest root built from Debian packages, as a Dockerfile's `apt-get install` would give
 * it, without a container runtime and without a network in the guest: the packages a
 * scenario names, Debian's essential set and their dependency closure
 * (`package_resolve.ts`) are downloaded into the cache (`apt-get download`, nothing is
 * installed on the host) and unpacked in name order (`dpkg -x`, which runs no maintainer
 * script); then what those scripts would have made and a scenario can name is added: the
 * standard directories, a passwd, group and shadow holding root, nobody and the scenario's
 * users, `/etc/hosts`, `/etc/nsswitch.conf`, the loader's cache (as root), Python's bytecode
 * when the root holds Python (as root, `_python_bytecode.ts`), the scenario's
 * files, its mountpoints, and its `rootSetup` script, run by the host's busybox in the
 * tree. The tree becomes a read-only ext4 image made reproducibly (`_ext4_image.ts`): the
 * same package list gives the same bytes.
 *
 * The image is cached under a key derived from everything it is made from
 * ({@linkcode packageRootKey}): the whole spec, the resolved package list with versions,
 * the files' contents. A second build with the same key finds it without unpacking anything.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { ROOT_DISK_NAME } from "../scenario/guest_rules.ts";
import { cacheDir, storeFile } from "../util/cache_dir.ts";
import { cacheKey, contentId, uuidOfHash } from "../util/cache_key.ts";
import { sha256File } from "../util/hash.ts";
import { hostCommand } from "../util/host_command.ts";
import {
  HostTreeError,
  laysTree,
  readHostTree,
  treeDigest,
  type TreeEntry,
} from "../util/host_tree.ts";
import { alternativesIn, chooseAlternatives } from "./_alternatives.ts";
import { BYTECODE_MODE, compileBytecode, compilesBytecode } from "./_python_bytecode.ts";
import { IMAGE_EPOCH, makeExt4Image } from "./_ext4_image.ts";
import { runTool, runToolText } from "./_command.ts";
import { GuestImageError } from "./guest_image_error.ts";
import type { Busybox } from "./kernel.ts";
import { type ResolvedPackage, resolvePackages } from "./package_resolve.ts";

/** The virtio-blk serial of the root image's disk (the guest mounts it read-only). */
export const ROOT_DISK_SERIAL: string = ROOT_DISK_NAME;

/** A user of the root's passwd besides root and nobody. */
export interface RootUser {
  /** The user's name; its group has the same name. */
  name: string;
  uid: number;
  /** Its group's gid. */
  gid: number;
  /** Its home directory (not created). */
  home: string;
}

/** What a package root is built from. */
export interface PackageRootSpec {
  /** Debian package names; their dependencies and the essential set come with them. */
  packages: readonly string[];
  /** Users of its passwd and group besides root and nobody. */
  users: readonly RootUser[];
  /** Host files copied in, each at its guest path (mode 0755 if the host file is executable); a directory or a tarball given a guest directory laid there. */
  files: readonly { hostPath: string; guestPath: string }[];
  /** A script run in the unpacked tree by the host's busybox, its directory the current one. */
  rootSetup: string | null;
  /** Directories to create (such as the disks' mountpoints: the image is read-only). */
  directories: readonly string[];
}

/** A root image ready to attach read-only. */
export interface PackageRoot {
  /** The image: `<cache>/roots/<sha256>.ext4`. */
  readonly path: string;
  /** SHA-256 of the image. */
  readonly sha256: string;
  /** Its size. */
  readonly sizeBytes: number;
  /** The cache key it was found or built under. */
  readonly key: string;
  /** Every package in it, as `name=version`, sorted. */
  readonly packages: readonly string[];
  /** True when it was built now, false when found in the cache. */
  readonly built: boolean;
}

/** Options of {@linkcode ensurePackageRoot}. */
export interface PackageRootOptions {
  /** The static busybox that runs `rootSetup` on the host. */
  busybox: Busybox;
  /** The cache root; `cacheDir()` by default. */
  cacheRoot?: string;
  /** Build even when the cache has the image (to check that the build is reproducible). */
  rebuild?: boolean;
  signal?: AbortSignal;
}

interface RootIndex {
  sha256: string;
  sizeBytes: number;
  packages: string[];
}

/** A package as `name=version`. */
function pinned(pkg: ResolvedPackage): string {
  return `${pkg.name}=${pkg.version}`;
}

/**
 * The package root of a spec: found in the cache by its key, or built (downloading what
 * the cache lacks). An unknown package or a conflict is a usage error naming the package
 * (exit code 2); a download that fails names the package (exit code 3).
 *
 * @example
 * ```ts
 * const root = await ensurePackageRoot(
 *   { packages: ["postgresql-15"], users: [{ name: "postgres", uid: 1000, gid: 1000, home: "/nonexistent" }],
 *     files: [], rootSetup: null, directories: ["/data"] },
 *   { busybox: await ensureBusybox() },
 * );
 * // qemu-system-x86_64 ... -drive file=${root.path},format=raw,readonly=on,if=none,id=r
 * //   -device virtio-blk-pci,drive=r,serial=faultline-root
 * ```
 */
export async function ensurePackageRoot(
  spec: PackageRootSpec,
  options: PackageRootOptions,
): Promise<PackageRoot> {
  const cache = options.cacheRoot ?? cacheDir();
  const resolved = await resolvePackages(spec.packages, { cacheRoot: cache, ...signalOf(options) });
  const materials = await rootMaterials(spec, resolved, options.busybox);
  const key = packageRootKey(spec, materials);
  const indexPath = join(cache, "package-roots", `${key}.json`);
  if (!options.rebuild) {
    const index = await readIndex(indexPath);
    const path = index && join(cache, "roots", `${index.sha256}.ext4`);
    if (index && path && await Deno.stat(path).then(() => true, () => false)) {
      return {
        path,
        sha256: index.sha256,
        sizeBytes: index.sizeBytes,
        key,
        packages: index.packages,
        built: false,
      };
    }
  }
  const debs = await fetchDebs(resolved, cache, options.signal);
  await Deno.mkdir(join(cache, "build"), { recursive: true });
  const work = await Deno.makeTempDir({ dir: join(cache, "build"), prefix: "root-" });
  try {
    const tree = join(work, "tree");
    await Deno.mkdir(tree, { mode: 0o755 });
    for (const deb of debs) await runTool("dpkg", ["-x", deb, tree], signalOf(options));
    await addAlternatives(tree, debs, options.signal);
    await addLayout(tree, spec);
    await addFiles(tree, spec);
    if (spec.rootSetup !== null) await runRootSetup(tree, work, spec.rootSetup, options);
    if (Deno.uid() === 0) await loaderCache(tree, options.signal);
    if (materials.bytecode) {
      await compileBytecode(tree, { busybox: options.busybox.path, ...signalOf(options) });
    }
    for (const dir of spec.directories) await Deno.mkdir(inTree(tree, dir), { recursive: true });
    const image = join(work, "root.ext4");
    const sizeBytes = await makeExt4Image(tree, image, {
      uuid: rootUuid(spec, materials),
      label: ROOT_DISK_SERIAL,
      rootOwned: Deno.uid() !== 0,
      ...signalOf(options),
    });
    await Deno.remove(tree, { recursive: true });
    const stored = await storeFile(image, {
      kind: "roots",
      extension: ".ext4",
      root: cache,
      move: true,
    });
    await Deno.chmod(stored.path, 0o444);
    const index: RootIndex = { sha256: stored.sha256, sizeBytes, packages: resolved.map(pinned) };
    await Deno.mkdir(dirname(indexPath), { recursive: true });
    await Deno.writeTextFile(`${indexPath}.tmp-${Deno.pid}`, JSON.stringify(index, null, 1));
    await Deno.rename(`${indexPath}.tmp-${Deno.pid}`, indexPath);
    return {
      path: stored.path,
      sha256: stored.sha256,
      sizeBytes,
      key,
      packages: index.packages,
      built: true,
    };
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

function signalOf(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

async function readIndex(path: string): Promise<RootIndex | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as RootIndex;
  } catch {
    return null;
  }
}

/** What goes into a package root besides its spec, as found on this host. */
export interface RootMaterials {
  /**
   * The content of each of the spec's files, in its order: SHA-256 and whether executable;
   * for a tree laid at a guest directory, the digest of the whole tree (src/util/host_tree.ts).
   */
  files: readonly ({ sha256: string; executable: boolean } | { tree: string })[];
  /** Every package, resolved with its version and architecture. */
  packages: readonly ResolvedPackage[];
  /** The SHA-256 of the busybox that runs `rootSetup`; null without one. */
  busybox: string | null;
  /** Built as root (the loader's cache is made, files keep their owners). */
  builtAsRoot: boolean;
  /**
   * Python's modules compiled into the root (`_python_bytecode.ts`), how they are validated;
   * absent when the root has no Python or is not built as root.
   */
  bytecode?: string;
}

/** Everything a package root is made from: its whole spec and its materials. */
function rootContent(spec: PackageRootSpec, materials: RootMaterials): unknown {
  // The directories are made with mkdir -p: their order and repeats make the same tree.
  return { spec: { ...spec, directories: [...new Set(spec.directories)].sort() }, ...materials };
}

/**
 * The cache key of a package root: derived from everything it is made from (its whole spec,
 * the content of its files, the resolved packages, the busybox that runs `rootSetup`, how it
 * is built) and the cache schema version (src/util/cache_key.ts).
 *
 * @example
 * ```ts
 * const key = packageRootKey(spec, { files: [], packages: resolved, busybox: null, builtAsRoot: false });
 * ```
 */
export function packageRootKey(spec: PackageRootSpec, materials: RootMaterials): string {
  return cacheKey("package-root", rootContent(spec, materials));
}

/**
 * The image's UUID: from what it is made of, not from the cache schema, so that an image
 * made again after the schema changed has the same bytes.
 */
function rootUuid(spec: PackageRootSpec, materials: RootMaterials): string {
  return uuidOfHash(contentId(rootContent(spec, materials)));
}

/** The materials of a spec's root on this host: its files read and hashed. */
async function rootMaterials(
  spec: PackageRootSpec,
  packages: readonly ResolvedPackage[],
  busybox: Busybox,
): Promise<RootMaterials> {
  return {
    files: await rootFileMaterials(spec),
    packages,
    busybox: spec.rootSetup === null ? null : busybox.sha256,
    builtAsRoot: Deno.uid() === 0,
    ...(compilesBytecode(packages, Deno.uid() === 0) ? { bytecode: BYTECODE_MODE } : {}),
  };
}

/**
 * The content of a spec's files as its key holds it ({@link RootMaterials}`.files`): each
 * file's SHA-256 and mode, each tree's digest, read from the host now.
 *
 * @throws {GuestImageError} (usage) for a host file that is gone or a tree that cannot be read.
 * @example
 * ```ts
 * const files = await rootFileMaterials(spec); // [{ tree: "9c1f..." }]
 * ```
 */
export async function rootFileMaterials(spec: PackageRootSpec): Promise<RootMaterials["files"]> {
  const files: RootMaterials["files"][number][] = [];
  for (const file of spec.files) {
    if (await laysTree(file.hostPath, file.guestPath)) {
      files.push({ tree: treeDigest(await hostTree(file)) });
      continue;
    }
    const info = await Deno.stat(file.hostPath).catch(() => null);
    if (!info?.isFile) {
      throw new GuestImageError(`${file.hostPath} is not a file (for ${file.guestPath})`, {
        usage: true,
      });
    }
    files.push({
      sha256: await sha256File(file.hostPath),
      executable: ((info.mode ?? 0) & 0o111) !== 0,
    });
  }
  return files;
}

/** The name apt-get download gives a package's file. */
function debFileName(pkg: ResolvedPackage): string {
  return `${pkg.name}_${pkg.version.replaceAll(":", "%3a")}_${pkg.architecture}.deb`;
}

/**
 * The `.deb` of every package, in name order, from `<cache>/debs/` (downloading with one
 * `apt-get download` those it lacks).
 */
async function fetchDebs(
  packages: readonly ResolvedPackage[],
  cache: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const dir = join(cache, "debs");
  await Deno.mkdir(dir, { recursive: true });
  const paths = packages.map((pkg) => join(dir, debFileName(pkg)));
  const missing: ResolvedPackage[] = [];
  for (const [i, path] of paths.entries()) {
    if (!(await Deno.stat(path).then((info) => info.isFile, () => false))) {
      missing.push(packages[i]);
    }
  }
  if (missing.length === 0) return paths;
  const download = await Deno.makeTempDir({ dir, prefix: ".download-" });
  try {
    const output = await hostCommand("apt-get", {
      args: ["download", "--quiet", "--", ...missing.map(pinned)],
      cwd: download,
      env: { LC_ALL: "C" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(signal ? { signal } : {}),
    }).output();
    if (!output.success) {
      signal?.throwIfAborted();
      throw downloadError(new TextDecoder().decode(output.stderr), missing);
    }
    for (const pkg of missing) {
      const name = debFileName(pkg);
      try {
        await Deno.rename(join(download, name), join(dir, name));
      } catch (error) {
        throw new GuestImageError(
          `\`apt-get download ${pinned(pkg)}\` left no ${name}: ${(error as Error).message}`,
        );
      }
    }
  } finally {
    await Deno.remove(download, { recursive: true }).catch(() => {});
  }
  return paths;
}

/** One line naming the package apt could not download, and why. */
function downloadError(stderr: string, missing: readonly ResolvedPackage[]): GuestImageError {
  const failed = /^E: Failed to fetch \S*\/([^/_\s]+)_([^_\s]+)_\S+\.deb\s+(.*)$/m.exec(stderr);
  const noSource = /^E: Can't find a source to download version '([^']+)' of '([^':]+)/m
    .exec(stderr);
  const [name, why] = failed
    ? [failed[1], failed[3].trim()]
    : noSource
    ? [noSource[2], `no source has version ${noSource[1]}`]
    : [missing[0].name, stderr.trim().split("\n").filter((l) => l.startsWith("E:")).join(" | ")];
  const pkg = missing.find((p) => p.name === name);
  return new GuestImageError(
    `cannot download the Debian package ${name}${pkg ? ` ${pkg.version}` : ""}: ${
      why || "apt-get download failed"
    }`,
    { hint: "is the package archive reachable? (`apt-get update` as root, then try again)" },
  );
}

/** A guest path inside the tree. */
function inTree(tree: string, path: string): string {
  return join(tree, path.replace(/^\/+/, ""));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/**
 * The alternatives the packages' maintainer scripts would have installed (`_alternatives.ts`),
 * each link made where the tree has neither it nor a link of its own, and its target is there.
 */
async function addAlternatives(
  tree: string,
  debs: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const all = [];
  for (const deb of debs) {
    const postinst = await runToolText("dpkg-deb", ["--info", deb, "postinst"], {
      ...(signal ? { signal } : {}),
    }).catch(() => "");
    all.push(...alternativesIn(postinst));
  }
  for (const alternative of chooseAlternatives(all)) {
    const link = inTree(tree, alternative.link);
    if (await exists(link) || !(await exists(inTree(tree, alternative.path)))) continue;
    await Deno.mkdir(dirname(link), { recursive: true });
    await Deno.symlink(alternative.path, link);
  }
}

/** What the essential packages' maintainer scripts and the base system would have made. */
async function addLayout(tree: string, spec: PackageRootSpec): Promise<void> {
  const dirs: [string, number][] = [
    ["dev", 0o755],
    ["proc", 0o555],
    ["sys", 0o555],
    ["run", 0o755],
    ["tmp", 0o1777],
    ["root", 0o700],
    ["home", 0o755],
    ["mnt", 0o755],
    ["etc", 0o755],
    ["var", 0o755],
    ["var/tmp", 0o1777],
    ["faultline", 0o755],
  ];
  for (const [dir, mode] of dirs) {
    const path = inTree(tree, dir);
    await Deno.mkdir(path, { recursive: true });
    await Deno.chmod(path, mode);
  }
  for (const [link, target] of [["var/run", "/run"], ["var/lock", "/run/lock"]]) {
    if (!(await exists(inTree(tree, link)))) await Deno.symlink(target, inTree(tree, link));
  }
  const users = [...spec.users].sort((a, b) => a.uid - b.uid);
  const write = async (path: string, lines: string[], mode: number) => {
    await Deno.writeTextFile(inTree(tree, path), lines.map((line) => `${line}\n`).join(""));
    await Deno.chmod(inTree(tree, path), mode);
  };
  await write("etc/passwd", [
    "root:x:0:0:root:/root:/bin/sh",
    ...users.map((u) => `${u.name}:x:${u.uid}:${u.gid}::${u.home}:/bin/sh`),
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  ], 0o644);
  await write("etc/group", [
    "root:x:0:",
    ...users.map((u) => `${u.name}:x:${u.gid}:`),
    "nogroup:x:65534:",
  ], 0o644);
  // 19675: the days from 1970 to IMAGE_EPOCH; `*`: no password, as for Debian's system users.
  const day = Math.floor(IMAGE_EPOCH / 86400);
  await write("etc/shadow", [
    `root:*:${day}:0:99999:7:::`,
    ...users.map((u) => `${u.name}:*:${day}:0:99999:7:::`),
    `nobody:*:${day}:0:99999:7:::`,
  ], 0o600);
  if (!(await exists(inTree(tree, "etc/hosts")))) {
    await write("etc/hosts", ["127.0.0.1 localhost", "::1 localhost"], 0o644);
  }
  const nsswitch = inTree(tree, "usr/share/base-files/nsswitch.conf");
  if (!(await exists(inTree(tree, "etc/nsswitch.conf"))) && await exists(nsswitch)) {
    await Deno.copyFile(nsswitch, inTree(tree, "etc/nsswitch.conf"));
  }
}

/** A host tree of the spec, read; one that cannot be read is the user's mistake, named. */
async function hostTree(file: { hostPath: string; guestPath: string }): Promise<TreeEntry[]> {
  try {
    return await readHostTree(file.hostPath);
  } catch (error) {
    if (!(error instanceof HostTreeError)) throw error;
    throw new GuestImageError(`${error.message} (for ${file.guestPath})`, { usage: true });
  }
}

/** A host tree's entries under its guest directory in the root's tree. */
async function addTree(
  tree: string,
  file: { hostPath: string; guestPath: string },
): Promise<void> {
  const root = inTree(tree, file.guestPath);
  await Deno.mkdir(root, { recursive: true });
  for (const entry of await hostTree(file)) {
    const target = join(root, entry.path);
    if (entry.type === "directory") {
      await Deno.mkdir(target, { recursive: true });
      continue;
    }
    await Deno.remove(target).catch(() => {});
    if (entry.type === "symlink") await Deno.symlink(entry.target, target);
    else {
      await Deno.writeFile(target, entry.data);
      await Deno.chmod(target, entry.executable ? 0o755 : 0o644);
    }
  }
}

/** The scenario's host files, each at its guest path; a tree laid at its guest directory. */
async function addFiles(tree: string, spec: PackageRootSpec): Promise<void> {
  for (const file of spec.files) {
    if (await laysTree(file.hostPath, file.guestPath)) {
      await addTree(tree, file);
      continue;
    }
    const target = inTree(tree, file.guestPath);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.remove(target).catch(() => {});
    await Deno.copyFile(file.hostPath, target);
    const info = await Deno.stat(file.hostPath);
    await Deno.chmod(target, ((info.mode ?? 0) & 0o111) !== 0 ? 0o755 : 0o644);
  }
}

/**
 * Runs `rootSetup` with the host's busybox (`busybox sh`, never the host's shell) in the
 * tree: the current directory and `$ROOT` are the tree, PATH holds only busybox's applets.
 */
async function runRootSetup(
  tree: string,
  work: string,
  script: string,
  options: PackageRootOptions,
): Promise<void> {
  const applets = join(work, "applets");
  await Deno.mkdir(applets);
  await runTool(options.busybox.path, ["--install", "-s", applets], signalOf(options));
  const file = join(work, "root-setup.sh");
  await Deno.writeTextFile(file, script);
  const output = await hostCommand(options.busybox.path, {
    args: ["sh", file],
    cwd: tree,
    clearEnv: true,
    env: { PATH: applets, ROOT: tree, HOME: tree, LC_ALL: "C" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...signalOf(options),
  }).output();
  if (!output.success) {
    const said = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new GuestImageError(
      `rootSetup failed (exit ${output.code})${said ? `: ${said}` : ""}`,
      { usage: true },
    );
  }
}

/**
 * The loader's cache (`/etc/ld.so.cache`), made by the tree's own static ldconfig, chrooted
 * (so only as root). Its auxiliary cache, which records inode numbers and times of the
 * build, is removed: the image would differ from build to build.
 */
async function loaderCache(tree: string, signal?: AbortSignal): Promise<void> {
  for (const ldconfig of ["sbin/ldconfig", "usr/sbin/ldconfig"]) {
    if (await exists(join(tree, ldconfig))) {
      await runTool(join(tree, ldconfig), ["-r", tree], signal ? { signal } : {});
      await Deno.remove(join(tree, "var/cache/ldconfig/aux-cache")).catch(() => {});
      return;
    }
  }
}
