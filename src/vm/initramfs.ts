/**
 * The default guest image: an initramfs with a static busybox, the virtio modules, a
 * generated `/init` that mounts the given disks and runs the workload, and the `report`
 * command that writes to the results channel. Built deterministically (see `cpio.ts`) and
 * stored in the cache under its SHA-256, so a trace can name it and a replay can check it.
 *
 * What `/init` does, in order: mount proc, sysfs and devtmpfs; set the results channel
 * (`/dev/ttyS1`) raw and report `phase boot`; insmod the modules; wait for each disk's
 * device and mount it, then report `phase mounted`; report `phase workload` and run the
 * workload script with `/bin/sh` (stdin from /dev/null, stdout and stderr on the console);
 * report `exit CODE`; `sync`; `poweroff -f`. When a step fails it reports `error TEXT`
 * (and no `exit` line) and powers off.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { storeBytes } from "../util/cache_dir.ts";
import { type CpioEntry, CpioError, encodeCpio, normalizeCpioPath } from "./cpio.ts";
import { readElfDynamic } from "./_elf.ts";
import { GuestImageError } from "./guest_image_error.ts";
import {
  type Busybox,
  ensureBusybox,
  ensureKernel,
  type Kernel,
  type KernelModule,
  resolveModules,
} from "./kernel.ts";
import { RESULTS_DEVICE } from "./results.ts";

/** The modules the default guest loads, in load order: virtio-blk over PCI. */
export const GUEST_MODULES: readonly string[] = [
  "virtio_ring",
  "virtio",
  "virtio_pci_modern_dev",
  "virtio_pci_legacy_dev",
  "virtio_pci",
  "virtio_blk",
];

/** A disk that `/init` mounts before the workload runs. */
export interface GuestDisk {
  /** The block device in the guest, such as `/dev/vda` (the first virtio-blk disk). */
  device: string;
  /** Where to mount it, such as `/mnt/data`; created if missing. */
  mountpoint: string;
  /** File system type for `mount -t`; `ext4` by default. */
  fstype?: string;
  /** Mount options for `mount -o`, such as `barrier=0,data=ordered`; none by default. */
  options?: string;
}

/** A host file copied into the guest. */
export interface GuestFile {
  /** The file on the host (symbolic links are followed). */
  hostPath: string;
  /** Absolute path in the guest. */
  guestPath: string;
  /** Permission bits; 0o755 if the host file is executable by anyone, else 0o644. */
  mode?: number;
}

/** What goes into the initramfs. Every field is optional. */
export interface InitramfsOptions {
  /** The kernel whose modules are used; `ensureKernel()` by default. */
  kernel?: Kernel;
  /** The busybox to use; `ensureBusybox()` by default. */
  busybox?: Busybox;
  /** Kernel modules to load (their dependencies are added); {@linkcode GUEST_MODULES} by default. */
  modules?: readonly string[];
  /** Disks to mount before the workload, in order. */
  disks?: readonly GuestDisk[];
  /**
   * The workload: a shell script run by busybox `sh` as `/faultline/workload`. It is stored
   * as a file, never interpolated into a command line. Its exit code is reported as
   * `exit CODE`. Empty by default (exit 0).
   */
  workload?: string;
  /** Environment variables for the workload. */
  env?: Readonly<Record<string, string>>;
  /** Host files to copy into the guest. */
  files?: readonly GuestFile[];
  /**
   * Host programs to copy into the guest at the same path, with their shared libraries
   * (found from the ELF DT_NEEDED entries) and dynamic loader, such as `/usr/bin/sqlite3`.
   */
  programs?: readonly string[];
  /** Seconds to wait for each disk's device to appear; 10 by default. */
  deviceTimeoutSeconds?: number;
  /** The cache root; `cacheDir()` by default. */
  cacheRoot?: string;
  signal?: AbortSignal;
}

/** A built initramfs, ready for QEMU's `-initrd`. */
export interface Initramfs {
  /** The archive in the cache: `<cache>/initramfs/<sha256>.cpio` (uncompressed newc). */
  readonly path: string;
  /** SHA-256 of the archive. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
  /** The kernel it was built for (boot it with this one: module versions must match). */
  readonly kernel: Kernel;
  /** The busybox inside. */
  readonly busybox: Busybox;
  /** Modules it loads, in load order. */
  readonly modules: readonly string[];
  /** Guest paths of the host programs, libraries and files it carries, sorted. */
  readonly hostFiles: readonly string[];
}

/** Paths that the image itself uses; files and programs may not replace them. */
const RESERVED = ["init", "bin/busybox", "bin/sh", "bin/report", "faultline", "lib/modules"];
/** Paths hidden by the mounts that `/init` makes. */
const MOUNTED = ["proc", "sys", "dev"];

/** Library directories searched after DT_RPATH/DT_RUNPATH, as glibc's loader does. */
const LIBRARY_DIRS = [
  "/lib/x86_64-linux-gnu",
  "/usr/lib/x86_64-linux-gnu",
  "/lib64",
  "/usr/lib64",
  "/lib",
  "/usr/lib",
];

function usage(message: string): GuestImageError {
  return new GuestImageError(message, { usage: true });
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

function expect(ok: boolean, field: string, expected: string, found: unknown): void {
  if (!ok) throw usage(`initramfs option ${field}: expected ${expected}, found ${describe(found)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function underAny(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}

/** A guest path as stored in the archive: no leading or trailing `/`. */
function archivePath(path: string): string {
  return normalizeCpioPath(path.replace(/(.)\/+$/, "$1"));
}

function checkGuestPath(value: unknown, field: string): string {
  expect(
    typeof value === "string" && value.startsWith("/"),
    field,
    "an absolute guest path",
    value,
  );
  let relative: string;
  try {
    relative = archivePath(value as string);
  } catch (error) {
    throw usage(`initramfs option ${field}: ${(error as Error).message}`);
  }
  expect(!/[\s'"\\$`]/.test(relative), field, "a path without spaces or quotes", value);
  return relative;
}

/**
 * Checks initramfs options and throws a {@linkcode GuestImageError} (with `usage` set)
 * that names the field, what was expected and what was found. Called by
 * {@linkcode buildInitramfs}; exported for validating a scenario early.
 *
 * @example
 * ```ts
 * validateInitramfsOptions({ disks: [{ device: "vda", mountpoint: "/mnt" }] });
 * // throws: initramfs option disks[0].device: expected a device path under /dev/, found "vda"
 * ```
 */
export function validateInitramfsOptions(options: InitramfsOptions): void {
  expect(isObject(options), "options", "an object", options);
  const o = options as Record<string, unknown>;
  const known = new Set([
    "kernel",
    "busybox",
    "modules",
    "disks",
    "workload",
    "env",
    "files",
    "programs",
    "deviceTimeoutSeconds",
    "cacheRoot",
    "signal",
  ]);
  for (const key of Object.keys(o)) {
    expect(known.has(key), key, `one of ${[...known].join(", ")}`, key);
  }
  if (o.modules !== undefined) {
    expect(Array.isArray(o.modules), "modules", "an array of module names", o.modules);
    (o.modules as unknown[]).forEach((m, i) =>
      expect(
        typeof m === "string" && /^[A-Za-z0-9_-]+$/.test(m),
        `modules[${i}]`,
        "a module name such as virtio_blk",
        m,
      )
    );
  }
  if (o.disks !== undefined) {
    expect(Array.isArray(o.disks), "disks", "an array of disks", o.disks);
    const mountpoints = new Set<string>();
    (o.disks as unknown[]).forEach((d, i) => {
      const at = `disks[${i}]`;
      expect(isObject(d), at, "an object with device and mountpoint", d);
      const disk = d as Record<string, unknown>;
      for (const key of Object.keys(disk)) {
        expect(
          ["device", "mountpoint", "fstype", "options"].includes(key),
          `${at}.${key}`,
          "one of device, mountpoint, fstype, options",
          key,
        );
      }
      expect(
        typeof disk.device === "string" &&
          /^\/dev\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(disk.device),
        `${at}.device`,
        "a device path under /dev/",
        disk.device,
      );
      const mountpoint = checkGuestPath(disk.mountpoint, `${at}.mountpoint`);
      expect(
        !underAny(mountpoint, [...MOUNTED, ...RESERVED, "bin", "sbin", "usr", "lib", "lib64"]),
        `${at}.mountpoint`,
        "a directory of its own, such as /mnt/data",
        disk.mountpoint,
      );
      expect(
        !mountpoints.has(mountpoint),
        `${at}.mountpoint`,
        "a mountpoint used once",
        disk.mountpoint,
      );
      mountpoints.add(mountpoint);
      if (disk.fstype !== undefined) {
        expect(
          typeof disk.fstype === "string" && /^[a-z0-9_.]+$/.test(disk.fstype),
          `${at}.fstype`,
          "a file system type such as ext4",
          disk.fstype,
        );
      }
      if (disk.options !== undefined) {
        expect(
          typeof disk.options === "string" && /^[A-Za-z0-9_=,.:+/@-]*$/.test(disk.options),
          `${at}.options`,
          "mount options such as barrier=0,data=journal (no spaces or quotes)",
          disk.options,
        );
      }
    });
  }
  if (o.workload !== undefined) {
    expect(
      typeof o.workload === "string" && !o.workload.includes("\0"),
      "workload",
      "a shell script (a string without NUL)",
      o.workload,
    );
  }
  if (o.env !== undefined) {
    expect(isObject(o.env), "env", "an object of variable names to strings", o.env);
    for (const [name, value] of Object.entries(o.env as Record<string, unknown>)) {
      expect(/^[A-Za-z_][A-Za-z0-9_]*$/.test(name), `env`, "variable names such as NODE_ID", name);
      expect(
        typeof value === "string" && !value.includes("\0"),
        `env.${name}`,
        "a string without NUL",
        value,
      );
    }
  }
  const guestPaths = new Set<string>();
  if (o.files !== undefined) {
    expect(Array.isArray(o.files), "files", "an array of { hostPath, guestPath }", o.files);
    (o.files as unknown[]).forEach((f, i) => {
      const at = `files[${i}]`;
      expect(isObject(f), at, "an object with hostPath and guestPath", f);
      const file = f as Record<string, unknown>;
      for (const key of Object.keys(file)) {
        expect(
          ["hostPath", "guestPath", "mode"].includes(key),
          `${at}.${key}`,
          "one of hostPath, guestPath, mode",
          key,
        );
      }
      expect(
        typeof file.hostPath === "string" && file.hostPath !== "",
        `${at}.hostPath`,
        "a path on the host",
        file.hostPath,
      );
      const guestPath = checkGuestPath(file.guestPath, `${at}.guestPath`);
      expect(
        !underAny(guestPath, [...RESERVED, ...MOUNTED]),
        `${at}.guestPath`,
        `a path outside /${[...RESERVED, ...MOUNTED].join(", /")}`,
        file.guestPath,
      );
      expect(!guestPaths.has(guestPath), `${at}.guestPath`, "a path used once", file.guestPath);
      guestPaths.add(guestPath);
      if (file.mode !== undefined) {
        expect(
          Number.isInteger(file.mode) && (file.mode as number) >= 0 &&
            (file.mode as number) <= 0o7777,
          `${at}.mode`,
          "permission bits such as 0o755",
          file.mode,
        );
      }
    });
  }
  if (o.programs !== undefined) {
    expect(Array.isArray(o.programs), "programs", "an array of absolute host paths", o.programs);
    (o.programs as unknown[]).forEach((p, i) => {
      const guestPath = checkGuestPath(p, `programs[${i}]`);
      expect(
        !underAny(guestPath, [...RESERVED, ...MOUNTED]),
        `programs[${i}]`,
        "a program outside the image's own paths",
        p,
      );
    });
  }
  if (o.deviceTimeoutSeconds !== undefined) {
    expect(
      typeof o.deviceTimeoutSeconds === "number" && o.deviceTimeoutSeconds > 0 &&
        o.deviceTimeoutSeconds <= 3600,
      "deviceTimeoutSeconds",
      "a number of seconds in (0, 3600]",
      o.deviceTimeoutSeconds,
    );
  }
  if (o.cacheRoot !== undefined) {
    expect(
      typeof o.cacheRoot === "string" && o.cacheRoot.startsWith("/"),
      "cacheRoot",
      "an absolute path",
      o.cacheRoot,
    );
  }
}

/** Quotes a string for the shell: single quotes, with `'` written as `'\''`. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** What the generated `/init` needs to know. */
export interface InitPlan {
  /** Guest paths of the modules to insmod, in order. */
  modulePaths: readonly string[];
  disks: readonly GuestDisk[];
  env: Readonly<Record<string, string>>;
  /** Library directories for LD_LIBRARY_PATH; none when no programs were added. */
  libraryDirs: readonly string[];
  deviceTimeoutSeconds: number;
}

/** Guest path of the workload script. */
export const WORKLOAD_PATH = "/faultline/workload";
/** Guest path of the `report` command. */
export const REPORT_PATH = "/bin/report";

/**
 * The `report` command of the guest: `report KIND [ARGS...]` writes one line to the
 * results channel, such as `report ack 17`. A line may not contain a newline.
 */
export const REPORT_SCRIPT = `#!/bin/sh
# report KIND [ARGS...]: writes one line to faultline's results channel, e.g. "report ack 17".
if [ $# -eq 0 ]; then
  echo "usage: report KIND [ARGS...]" >&2
  exit 2
fi
nl='
'
case "$*" in
*"$nl"*)
  echo "report: a line must not contain a newline" >&2
  exit 2
  ;;
esac
printf '%s\\n' "$*" >"\${FAULTLINE_RESULTS:-${RESULTS_DEVICE}}"
`;

/**
 * Renders the guest's `/init` shell script. Pure: the same plan gives the same text.
 * Every value from the plan is single-quoted; the workload is not part of it (it is
 * stored as {@linkcode WORKLOAD_PATH}).
 *
 * @example
 * ```ts
 * const init = renderInit({
 *   modulePaths: ["/lib/modules/6.1.0-56-cloud-amd64/virtio_blk.ko"],
 *   disks: [{ device: "/dev/vda", mountpoint: "/mnt" }],
 *   env: {},
 *   libraryDirs: [],
 *   deviceTimeoutSeconds: 10,
 * });
 * ```
 */
export function renderInit(plan: InitPlan): string {
  const lines = [
    "#!/bin/busybox sh",
    "# /init of a faultline guest, generated by src/vm/initramfs.ts.",
    "/bin/busybox --install -s",
    "export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root",
    "umask 022",
    "mount -t proc proc /proc",
    "mount -t sysfs sysfs /sys",
    "mount -t devtmpfs devtmpfs /dev",
    `export FAULTLINE_RESULTS=${RESULTS_DEVICE}`,
    'stty -F "$FAULTLINE_RESULTS" raw -echo clocal',
    "fail() {",
    '  report error "$*"',
    '  echo "faultline init: $*" >/dev/console',
    "  sync",
    "  poweroff -f",
    "  exit 1",
    "}",
    "report phase boot",
  ];
  for (const path of plan.modulePaths) {
    lines.push(`insmod ${shellQuote(path)} || fail ${shellQuote(`insmod ${path}`)}`);
  }
  if (plan.disks.length > 0) {
    const tenths = Math.ceil(plan.deviceTimeoutSeconds * 10);
    lines.push(
      "wait_for_device() {",
      "  i=0",
      '  while [ ! -b "$1" ]; do',
      `    i=$((i + 1)); [ "$i" -gt ${tenths} ] && return 1`,
      "    sleep 0.1",
      "  done",
      "}",
    );
  }
  for (const disk of plan.disks) {
    const device = shellQuote(disk.device);
    const mountpoint = shellQuote(disk.mountpoint);
    const fstype = shellQuote(disk.fstype ?? "ext4");
    const options = disk.options ? ` -o ${shellQuote(disk.options)}` : "";
    lines.push(
      `wait_for_device ${device} || fail ${
        shellQuote(`no block device ${disk.device} after ${plan.deviceTimeoutSeconds}s`)
      }`,
      `mkdir -p ${mountpoint} && mount -t ${fstype}${options} ${device} ${mountpoint} || ` +
        `fail ${shellQuote(`cannot mount ${disk.device} on ${disk.mountpoint}`)}`,
    );
  }
  if (plan.disks.length > 0) lines.push("report phase mounted");
  if (plan.libraryDirs.length > 0) {
    lines.push(`export LD_LIBRARY_PATH=${shellQuote(plan.libraryDirs.join(":"))}`);
  }
  for (const name of Object.keys(plan.env).sort()) {
    lines.push(`export ${name}=${shellQuote(plan.env[name])}`);
  }
  lines.push(
    "cd /",
    "report phase workload",
    `/bin/sh ${WORKLOAD_PATH} </dev/null`,
    "code=$?",
    'report exit "$code"',
    "sync",
    "poweroff -f",
    "exit 1",
    "",
  );
  return lines.join("\n");
}

const encoder = new TextEncoder();

async function readHostFile(
  path: string,
  field: string,
): Promise<{ data: Uint8Array; mode: number }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw usage(`${field}: ${path} does not exist`);
    throw new GuestImageError(`${field}: cannot read ${path}: ${error}`, { cause: error });
  }
  if (!info.isFile) throw usage(`${field}: ${path} is not a regular file`);
  const executable = ((info.mode ?? 0) & 0o111) !== 0;
  return { data: await Deno.readFile(path), mode: executable ? 0o755 : 0o644 };
}

async function ldSoConfDirs(): Promise<string[]> {
  const dirs: string[] = [];
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir("/etc/ld.so.conf.d")) {
      if (entry.name.endsWith(".conf")) names.push(entry.name);
    }
    for (const name of names.sort()) {
      const text = await Deno.readTextFile(join("/etc/ld.so.conf.d", name)).catch(() => "");
      for (const line of text.split("\n")) {
        const dir = line.replace(/#.*/, "").trim();
        if (dir.startsWith("/")) dirs.push(dir);
      }
    }
  } catch {
    // No ld.so.conf.d: the default directories only.
  }
  return dirs;
}

async function isElf64(path: string): Promise<boolean> {
  try {
    readElfDynamic(await Deno.readFile(path));
    return true;
  } catch {
    return false;
  }
}

/**
 * Host programs with their libraries and loader, by guest path (= host path): the content,
 * or, for a second path to the same host file (such as the loader reached both as PT_INTERP
 * and as libc's DT_NEEDED), a symbolic link to the first.
 */
async function programClosure(
  programs: readonly string[],
): Promise<Map<string, { data: Uint8Array } | { linkTo: string }>> {
  const out = new Map<string, { data: Uint8Array } | { linkTo: string }>();
  const byRealPath = new Map<string, string>();
  const byName = new Map<string, string>(); // library name -> guest path
  const confDirs = await ldSoConfDirs();
  const pending: Array<{ path: string; field: string }> = programs.map((path, i) => ({
    path,
    field: `programs[${i}]`,
  }));
  const seen = new Set<string>();
  while (pending.length > 0) {
    const { path, field } = pending.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const { data } = await readHostFile(path, field);
    const real = await Deno.realPath(path);
    const first = byRealPath.get(real);
    if (first !== undefined) {
      out.set(path, { linkTo: first });
      continue;
    }
    byRealPath.set(real, path);
    out.set(path, { data });
    let info;
    try {
      info = readElfDynamic(data);
    } catch (error) {
      throw usage(`${field}: ${path} is not a 64-bit ELF program (${(error as Error).message})`);
    }
    if (info.interpreter) pending.push({ path: info.interpreter, field: `interpreter of ${path}` });
    const origin = dirname(path);
    const expand = (dirs: string[]) => dirs.map((d) => d.replaceAll(/\$\{?ORIGIN\}?/g, origin));
    const search = [
      ...(info.runpath.length === 0 ? expand(info.rpath) : []),
      ...expand(info.runpath),
      ...confDirs,
      ...LIBRARY_DIRS,
    ];
    for (const name of info.needed) {
      let found = name.includes("/") ? name : byName.get(name);
      if (!found) {
        for (const dir of search) {
          const candidate = join(dir, name);
          if (await isElf64(candidate)) {
            found = candidate;
            break;
          }
        }
      }
      if (!found) {
        throw new GuestImageError(
          `${field}: the library ${name} that ${path} needs was not found in ${search.join(", ")}`,
        );
      }
      byName.set(name, found);
      pending.push({ path: found, field: `library of ${path}` });
    }
  }
  return out;
}

/**
 * Builds the initramfs (or finds it in the cache: the name is the content's hash) and
 * returns where it is. Building twice from the same inputs gives the same bytes.
 *
 * @example
 * ```ts
 * const kernel = await ensureKernel();
 * const initrd = await buildInitramfs({
 *   kernel,
 *   disks: [{ device: "/dev/vda", mountpoint: "/mnt/data" }],
 *   workload: "echo hello >/mnt/data/hello && sync /mnt/data/hello && report ack 1",
 * });
 * // qemu-system-x86_64 -kernel ${kernel.vmlinuz} -initrd ${initrd.path} ...
 * ```
 */
export async function buildInitramfs(options: InitramfsOptions = {}): Promise<Initramfs> {
  validateInitramfsOptions(options);
  const debian = { cacheRoot: options.cacheRoot, signal: options.signal };
  const [kernel, busybox] = await Promise.all([
    options.kernel ?? ensureKernel(debian),
    options.busybox ?? ensureBusybox(debian),
  ]);
  const modules: KernelModule[] = await resolveModules(kernel, options.modules ?? GUEST_MODULES, {
    signal: options.signal,
  });

  const entries: CpioEntry[] = [];
  for (
    const dir of ["bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "root", "etc"]
  ) {
    entries.push({ type: "directory", path: dir, mode: dir === "tmp" ? 0o1777 : 0o755 });
  }
  entries.push({ type: "char", path: "dev/console", major: 5, minor: 1, mode: 0o600 });
  entries.push({
    type: "file",
    path: "bin/busybox",
    data: await Deno.readFile(busybox.path),
    mode: 0o755,
  });
  entries.push({ type: "symlink", path: "bin/sh", target: "busybox" });
  entries.push({
    type: "file",
    path: REPORT_PATH,
    data: encoder.encode(REPORT_SCRIPT),
    mode: 0o755,
  });
  entries.push({
    type: "file",
    path: WORKLOAD_PATH,
    data: encoder.encode(options.workload ?? ""),
    mode: 0o644,
  });

  const modulePaths = modules.map((m) => `/lib/modules/${kernel.version}/${m.name}.ko`);
  modules.forEach((m, i) => entries.push({ type: "file", path: modulePaths[i], data: m.data }));

  const hostFiles: string[] = [];
  for (const [i, file] of (options.files ?? []).entries()) {
    const { data, mode } = await readHostFile(file.hostPath, `files[${i}].hostPath`);
    entries.push({
      type: "file",
      path: archivePath(file.guestPath),
      data,
      mode: file.mode ?? mode,
    });
    hostFiles.push(file.guestPath);
  }
  const libraryDirs = new Set<string>();
  const explicit = new Set((options.files ?? []).map((f) => archivePath(f.guestPath)));
  const closure = await programClosure(options.programs ?? []);
  for (const [guestPath, content] of closure) {
    if (explicit.has(archivePath(guestPath))) continue; // the caller's own copy wins
    entries.push(
      "data" in content
        ? { type: "file", path: guestPath, data: content.data, mode: 0o755 }
        : { type: "symlink", path: guestPath, target: content.linkTo },
    );
    hostFiles.push(guestPath);
    if (!(options.programs ?? []).includes(guestPath)) libraryDirs.add(dirname(guestPath));
  }
  for (const disk of options.disks ?? []) {
    if (!entries.some((e) => archivePath(e.path) === archivePath(disk.mountpoint))) {
      entries.push({ type: "directory", path: archivePath(disk.mountpoint) });
    }
  }

  const init = renderInit({
    modulePaths,
    disks: options.disks ?? [],
    env: options.env ?? {},
    libraryDirs: [...libraryDirs].sort(),
    deviceTimeoutSeconds: options.deviceTimeoutSeconds ?? 10,
  });
  entries.push({ type: "file", path: "init", data: encoder.encode(init), mode: 0o755 });

  let archive: Uint8Array;
  try {
    archive = encodeCpio(entries);
  } catch (error) {
    if (error instanceof CpioError) throw usage(`initramfs: ${error.message}`);
    throw error;
  }
  const stored = await storeBytes(archive, {
    kind: "initramfs",
    extension: ".cpio",
    root: options.cacheRoot,
  });
  return {
    path: stored.path,
    sha256: stored.sha256,
    size: archive.length,
    kernel,
    busybox,
    modules: modules.map((m) => m.name),
    hostFiles: hostFiles.sort(),
  };
}
