/**
 * The guest kernel and busybox, from Debian's packages, unpacked in the cache.
 *
 * The kernel is Debian's cloud kernel, found through the metapackage
 * `linux-image-cloud-amd64`, whose dependency names the current ABI package. Its virtio
 * drivers are modules; {@linkcode resolveModules} finds them with their dependencies (read
 * from each module's `.modinfo`) in load order, each with its bytes as the plain `.ko`
 * that busybox `insmod` loads, decompressing `.ko.xz`, `.ko.zst` or `.ko.gz` on the host:
 * the guest kernel then needs no CONFIG_MODULE_DECOMPRESS.
 *
 * @module
 */

import { basename, join } from "node:path";
import { sha256Bytes, sha256File } from "../util/hash.ts";
import { ToolMissingError } from "../util/host_command.ts";
import { readElfDynamic, readModinfo } from "./_elf.ts";
import { runTool } from "./_command.ts";
import { type DebianOptions, fetchDebianPackage, resolveMetapackage } from "./debian.ts";
import { GuestImageError } from "./guest_image_error.ts";

/** The metapackage that names the current cloud kernel. */
export const KERNEL_METAPACKAGE = "linux-image-cloud-amd64";
/** The ABI package among the metapackage's dependencies. */
export const KERNEL_PACKAGE_PATTERN = /^linux-image-\d[^\s]*-cloud-amd64$/;

/** How the modules of a kernel package are compressed. */
export type ModuleCompression = "none" | "xz" | "zstd" | "gzip";

const MODULE_SUFFIXES: ReadonlyArray<[string, ModuleCompression]> = [
  [".ko.xz", "xz"],
  [".ko.zst", "zstd"],
  [".ko.gz", "gzip"],
  [".ko", "none"],
];

/** A kernel ready to boot with QEMU's `-kernel`. */
export interface Kernel {
  /** The compressed kernel image (`-kernel`). */
  readonly vmlinuz: string;
  /** `lib/modules/<release>` of the unpacked package. */
  readonly modulesDir: string;
  /** The kernel release (`uname -r` in the guest), such as `6.1.0-56-cloud-amd64`. */
  readonly version: string;
  /** SHA-256 of `vmlinuz`. */
  readonly sha256: string;
  /** The Debian package, such as `linux-image-6.1.0-56-cloud-amd64`. */
  readonly package: string;
  /** Its Debian version, such as `6.1.192-2`. */
  readonly packageVersion: string;
  /** SHA-256 of the package's `.deb`. */
  readonly debSha256: string;
  /** The kernel's build configuration (`boot/config-<release>`). */
  readonly configPath: string;
  /** How the package's modules are compressed. */
  readonly moduleCompression: ModuleCompression;
  /** Whether the kernel could load compressed modules itself (CONFIG_MODULE_DECOMPRESS). */
  readonly kernelDecompressesModules: boolean;
}

/** Options of {@linkcode ensureKernel}. */
export interface KernelOptions extends DebianOptions {
  /** An exact kernel package; by default the one the metapackage depends on. */
  package?: string;
  /** The metapackage to resolve; {@linkcode KERNEL_METAPACKAGE} by default. */
  metapackage?: string;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function readConfig(path: string): Promise<Map<string, string>> {
  const config = new Map<string, string>();
  for (const line of (await Deno.readTextFile(path)).split("\n")) {
    const match = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (match) config.set(match[1], match[2]);
  }
  return config;
}

/**
 * Makes sure the guest kernel is unpacked in the cache and returns its files. The first
 * call downloads the package (about 27 MB); later calls only ask apt which version is
 * current.
 *
 * @example
 * ```ts
 * const kernel = await ensureKernel();
 * // kernel.vmlinuz: ".../boot/vmlinuz-6.1.0-56-cloud-amd64", kernel.version: "6.1.0-56-cloud-amd64"
 * ```
 */
export async function ensureKernel(options: KernelOptions = {}): Promise<Kernel> {
  const ref = options.package ??
    await resolveMetapackage(
      options.metapackage ?? KERNEL_METAPACKAGE,
      KERNEL_PACKAGE_PATTERN,
      options,
    );
  const pkg = await fetchDebianPackage(ref, options);
  const name = pkg.name;
  const boot = join(pkg.root, "boot");
  const images: string[] = [];
  try {
    for await (const entry of Deno.readDir(boot)) {
      if (entry.isFile && entry.name.startsWith("vmlinuz-")) images.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (images.length !== 1) {
    throw new GuestImageError(
      `the Debian package ${name} ${pkg.version} has ${images.length} boot/vmlinuz-* files, ` +
        `expected one: is it a kernel image package?`,
    );
  }
  const version = images[0].slice("vmlinuz-".length);
  let modulesDir = join(pkg.root, "lib", "modules", version);
  if (!(await isDirectory(modulesDir))) {
    modulesDir = join(pkg.root, "usr", "lib", "modules", version);
  }
  if (!(await isDirectory(modulesDir))) {
    throw new GuestImageError(`the Debian package ${name} ${pkg.version} has no modules directory`);
  }
  const configPath = join(boot, `config-${version}`);
  const config = await readConfig(configPath).catch(() => new Map<string, string>());
  const index = await moduleIndex(modulesDir);
  const virtio = index.files.get("virtio");
  return {
    vmlinuz: join(boot, images[0]),
    modulesDir,
    version,
    sha256: await sha256File(join(boot, images[0])),
    package: name,
    packageVersion: pkg.version,
    debSha256: pkg.debSha256,
    configPath,
    moduleCompression: virtio ? compressionOf(virtio) : "none",
    kernelDecompressesModules: config.get("CONFIG_MODULE_DECOMPRESS") === "y",
  };
}

/** A kernel module file on the host with the modules it needs loaded first. */
export interface KernelModule {
  /** Module name with `_`, such as `virtio_pci`. */
  readonly name: string;
  /** The file in the unpacked package (possibly compressed). */
  readonly path: string;
  /** Names of the modules it depends on (from `.modinfo`). */
  readonly depends: readonly string[];
  /** The module as a plain `.ko`, decompressed on the host if it was compressed. */
  readonly data: Uint8Array;
  /** SHA-256 of `data`. */
  readonly sha256: string;
}

interface ModuleIndex {
  files: Map<string, string>;
  builtin: Set<string>;
}

const indexes = new Map<string, Promise<ModuleIndex>>();

/** `virtio-pci` and `virtio_pci` name the same module. */
export function normalizeModuleName(name: string): string {
  return name.replaceAll("-", "_");
}

function moduleNameOf(file: string): string | undefined {
  const base = basename(file);
  const suffix = MODULE_SUFFIXES.find(([s]) => base.endsWith(s));
  return suffix ? normalizeModuleName(base.slice(0, -suffix[0].length)) : undefined;
}

function compressionOf(file: string): ModuleCompression {
  return MODULE_SUFFIXES.find(([s]) => file.endsWith(s))?.[1] ?? "none";
}

function moduleIndex(modulesDir: string): Promise<ModuleIndex> {
  let index = indexes.get(modulesDir);
  if (!index) {
    index = buildIndex(modulesDir);
    indexes.set(modulesDir, index);
    index.catch(() => indexes.delete(modulesDir));
  }
  return index;
}

async function buildIndex(modulesDir: string): Promise<ModuleIndex> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) {
        const name = moduleNameOf(entry.name);
        if (name && !files.has(name)) files.set(name, path);
      }
    }
  };
  await walk(join(modulesDir, "kernel"));
  const builtin = new Set<string>();
  try {
    for (const line of (await Deno.readTextFile(join(modulesDir, "modules.builtin"))).split("\n")) {
      const name = moduleNameOf(line.trim());
      if (name) builtin.add(name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return { files, builtin };
}

async function decompress(path: string, signal?: AbortSignal): Promise<Uint8Array> {
  switch (compressionOf(path)) {
    case "none":
      return await Deno.readFile(path);
    case "xz":
      return (await runTool("xz", ["--decompress", "--stdout", path], { signal })).stdout;
    case "zstd":
      return (await runTool("zstd", ["--decompress", "--stdout", "--quiet", path], { signal }))
        .stdout;
    case "gzip": {
      const stream = new Blob([await Deno.readFile(path)]).stream()
        .pipeThrough(new DecompressionStream("gzip"));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    }
  }
}

/**
 * Finds kernel modules and everything they depend on, in an order in which `insmod` can
 * load them (each after its dependencies; otherwise in the order asked). Modules that are
 * built into the kernel are left out. A name the kernel knows neither as a module nor as
 * built in is a {@linkcode GuestImageError}.
 *
 * @example
 * ```ts
 * const modules = await resolveModules(kernel, ["virtio_blk", "virtio_pci"]);
 * modules.map((m) => m.name);
 * // ["virtio_ring", "virtio", "virtio_blk", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
 * //  "virtio_pci"]
 * ```
 */
export async function resolveModules(
  kernel: Pick<Kernel, "modulesDir" | "version">,
  names: readonly string[],
  options: { signal?: AbortSignal } = {},
): Promise<KernelModule[]> {
  const index = await moduleIndex(kernel.modulesDir);
  const ordered: KernelModule[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = async (raw: string, chain: string[]) => {
    const name = normalizeModuleName(raw);
    if (done.has(name) || index.builtin.has(name)) return;
    if (visiting.has(name)) {
      throw new GuestImageError(
        `kernel modules depend on each other: ${[...chain, name].join(" -> ")}`,
      );
    }
    const path = index.files.get(name);
    if (!path) {
      throw new GuestImageError(
        `kernel ${kernel.version} has no module "${raw}"` +
          (chain.length ? ` (needed by ${chain.join(" -> ")})` : "") +
          " and does not have it built in",
        { usage: chain.length === 0 },
      );
    }
    visiting.add(name);
    const data = await decompress(path, options.signal);
    const depends = (readModinfo(data).get("depends")?.[0] ?? "")
      .split(",")
      .filter((d) => d !== "")
      .map(normalizeModuleName);
    for (const dependency of depends) await visit(dependency, [...chain, name]);
    visiting.delete(name);
    done.add(name);
    ordered.push({ name, path, depends, data, sha256: sha256Bytes(data) });
  };
  for (const name of names) await visit(name, []);
  return ordered;
}

/** A static busybox binary for the guest. */
export interface Busybox {
  /** The binary on the host. */
  readonly path: string;
  /** SHA-256 of the binary. */
  readonly sha256: string;
  /** The version string it carries, such as `1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)`. */
  readonly version: string;
  /** `debian`: from the busybox-static package in the cache; `host`: the host's own. */
  readonly source: "debian" | "host";
}

/** Where a static busybox may be found on the host when the package cannot be fetched. */
const HOST_BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"];

async function staticBusybox(
  path: string,
  source: Busybox["source"],
): Promise<Busybox | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    if (!readElfDynamic(bytes).isStatic) return undefined;
  } catch {
    return undefined;
  }
  const text = new TextDecoder("latin1").decode(bytes);
  const version = /BusyBox v([0-9][^\s]*(?: \([^)\n]*\))?)/.exec(text)?.[1] ?? "unknown";
  return { path, sha256: sha256Bytes(bytes), version, source };
}

/**
 * Makes sure a static busybox is available for the guest: the one from Debian's
 * `busybox-static` package, fetched into the cache without root; if that cannot be
 * fetched, the host's `/bin/busybox` when it is a static binary.
 *
 * @example
 * ```ts
 * const busybox = await ensureBusybox(); // { path: ".../bin/busybox", source: "debian", ... }
 * ```
 */
export async function ensureBusybox(options: DebianOptions = {}): Promise<Busybox> {
  let failure: GuestImageError | ToolMissingError;
  try {
    const pkg = await fetchDebianPackage("busybox-static", options);
    for (
      const path of [join(pkg.root, "bin", "busybox"), join(pkg.root, "usr", "bin", "busybox")]
    ) {
      const found = await staticBusybox(path, "debian");
      if (found) return found;
    }
    failure = new GuestImageError(
      `the Debian package busybox-static ${pkg.version} has no static bin/busybox`,
    );
  } catch (error) {
    // Without apt (a missing tool) or a usable package, the host's own static busybox will do.
    if (error instanceof ToolMissingError) failure = error;
    else if (!(error instanceof GuestImageError) || error.usage) throw error;
    else failure = error;
  }
  for (const path of HOST_BUSYBOX) {
    const found = await staticBusybox(path, "host");
    if (found) return found;
  }
  throw new GuestImageError(
    `no static busybox for the guest: ${failure.message}`,
    { hint: "or install one with `apt-get install busybox-static` as root", cause: failure },
  );
}
