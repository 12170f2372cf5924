/**
 * The default guest image: an initramfs with a static busybox, the virtio modules, a
 * generated `/init` that finds the disks by name, mounts them and runs one phase's script,
 * and the `report` command that writes to the results disk. Built deterministically (see
 * `cpio.ts`) and stored in the cache under its SHA-256, so a trace can name it and a replay
 * can check it. One image serves every phase of a scenario (run, check, ...): the kernel
 * command line picks the phase.
 *
 * ## The guest contract (what the VM launcher relies on)
 *
 * Kernel command line: `faultline.phase=NAME` (with `console=ttyS0` for the console), where
 * NAME is one of the image's phases ({@linkcode PHASE_NAME_PATTERN}). `/init` reads it from
 * `/proc/cmdline`.
 *
 * Disks: every disk is a virtio-blk device whose serial is its name, such as
 * `-drive file=...,format=raw,if=none,id=d0,werror=report,rerror=report
 * -device virtio-blk-pci,drive=d0,serial=data` ({@linkcode DISK_NAME_PATTERN}: at most 20
 * characters, virtio-blk's limit). After them, last, the results disk:
 * `-device virtio-blk-pci,drive=results,serial=faultline-results`, 1 GiB of zeros (see
 * `results.ts`). The order of the devices does not matter to the guest: `/init` reads each
 * disk's serial from `/sys/block/vdX/serial` (an attribute of the virtio-blk driver, present
 * in the Debian 6.1 cloud kernel) and links `/dev/disk/NAME` to its `/dev/vdX`.
 *
 * Network (only for a node of a cluster, built with the `network` option): one virtio-net
 * device with the node's MAC, joined to faultline's switch, such as
 * `-netdev stream,id=net0,server=off,addr.type=unix,addr.path=SOCK
 * -device virtio-net-pci,netdev=net0,mac=02:66:6c:..:..:00 -nic none` (see `qemu_args.ts`).
 * The image then also loads failover, net_failover and virtio_net (after the virtio
 * modules), and carries `/etc/hosts` with every node's name and address.
 *
 * Control channel (built with the `control` option; faultline gives one to every node of a
 * cluster): one virtio-serial port named `faultline.control`, such as `-chardev
 * socket,id=control,path=SOCK,server=off -device virtio-serial-pci,id=control-serial
 * -device virtserialport,bus=control-serial.0,chardev=control,name=faultline.control` (see
 * `control.ts` for what it carries). The image then also loads virtio_console.
 *
 * Random source (optional): a virtio-rng device, `-object rng-builtin,id=rng -device
 * virtio-rng-pci,rng=rng`, fed from QEMU's `-seed` (see `qemu_args.ts`). The image loads
 * virtio_rng whether or not the device is there; the kernel mixes what it reads into its
 * pool, beside its own timing.
 *
 * What `/init` does, in order: mount proc, sysfs and devtmpfs; insmod the modules (first
 * those of a file system a disk is mounted with that the kernel has not built in: `xfs`); wait
 * until the results disk and every named disk have appeared (`deviceTimeoutSeconds` in all,
 * 10 by default) and link `/dev/disk/NAME`; set `FAULTLINE_RESULTS` and report `phase boot`;
 * read the phase from the command line; with a network, bring up `lo`, find the interface
 * that has the node's MAC (waiting as for the disks), give it the node's address with
 * busybox `ip`, bring it up and set the hostname to the node's name (a missing interface is
 * reported as `error TEXT`); with a control channel, wait for its port (as for the disks; a
 * missing one is reported as `error TEXT`) and read it in the background; mount every disk that has a mountpoint (on
 * `/dev/disk/NAME`, the same mounts in every phase) and report `phase mounted` (only when it
 * mounted something); export the environment; report `phase NAME`; run
 * `/bin/sh /faultline/phase/NAME </dev/null` (stdout and stderr on the console); report
 * `exit CODE`; `sync`; `poweroff -f`. A phase that is missing or unknown, a disk that does
 * not appear and a mount that fails are reported as `error TEXT` (and no `exit` line), then
 * the guest powers off. Without a results disk (or when modules fail to load) there is no
 * channel: `/init` writes `faultline: error TEXT` on the console and powers off.
 *
 * The phase script runs in `/` with PATH=/sbin:/bin:/usr/sbin:/usr/bin, HOME=/root, the
 * scenario's environment, LD_LIBRARY_PATH when host programs were added, and:
 * - `FAULTLINE_PHASE`: the phase's name;
 * - `FAULTLINE_RESULTS`: the results disk's device, such as `/dev/vdc`;
 * - with a network, `FAULTLINE_NODE`: this node's name, and `FAULTLINE_NODES`: every node's
 *   name in the scenario's order, separated by spaces (each resolves through `/etc/hosts`).
 * Disks are at `/dev/disk/NAME` and at their mountpoints.
 *
 * A node built from Debian packages (the `packageRoot` option) has one more disk, the
 * package root's image, attached read-only from its file with serial `faultline-root` (not
 * through the fault layer). `/init` waits for it with the others, mounts it read-only on
 * `/sysroot` with proc, sysfs, devtmpfs, devpts and tmpfs (`/tmp`, `/run`, `/dev/shm`)
 * inside, binds its `/faultline` and `/run/faultline` there (and `/etc/hosts` with a
 * network), mounts the disks at `/sysroot/MOUNTPOINT`, and runs the phase with
 * `chroot /sysroot /bin/sh` (the root's dash), PATH
 * `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/faultline/bin`; `report`
 * is there as `/faultline/bin/report` (see `root_init.ts`).
 *
 * `report KIND [ARGS...]` (`/bin/report`) writes the line `KIND ARGS...` to the results
 * disk and returns once the host has acknowledged the write; see `results.ts` for the
 * format. It exits 2 when the line is empty, holds a newline or is longer than 500 bytes,
 * and 1 when the write fails. It also writes `faultline: LINE` on the console (measured
 * under TCG: under 1 ms of the about 28 ms that a report takes).
 *
 * @module
 */

import { dirname, join } from "node:path";
import {
  DISK_NAME_PATTERN,
  HOSTS_FILE,
  IMAGE_DIRECTORIES,
  IMAGE_PATHS,
} from "../scenario/guest_rules.ts";
import { describeValue } from "../scenario/issues.ts";
import { filesystemOf } from "../scenario/filesystems.ts";
import { storeBytes } from "../util/cache_dir.ts";
import { HostTreeError, laysTree, readHostTree, type TreeEntry } from "../util/host_tree.ts";
import { shellQuote } from "../util/shell_quote.ts";
import { CONTROL_MODULES, controlInitLines } from "./control.ts";
import { type CpioEntry, CpioError, encodeCpio, normalizeCpioPath } from "./cpio.ts";
import { readElfDynamic } from "./_elf.ts";
import {
  ROOT_DISK_NAME,
  rootImageEntries,
  rootMountLines,
  rootRunLine,
  SYSROOT,
} from "./root_init.ts";
import { GuestImageError } from "./guest_image_error.ts";
import { PHASE_NAME_PATTERN, validateInitramfsOptions } from "./initramfs_options.ts";
import {
  type Busybox,
  ensureBusybox,
  ensureKernel,
  type Kernel,
  type KernelModule,
  resolveModules,
} from "./kernel.ts";
import {
  RESULTS_DISK_SIZE,
  RESULTS_LINE_MAX,
  RESULTS_SECTOR_SIZE,
  RESULTS_SERIAL,
} from "./results.ts";

/**
 * The modules the default guest loads, in load order: virtio-blk over PCI, and before it
 * virtio-rng (a seeded guest's random source, `qemu_args.ts`; without the device it stays
 * idle).
 */
export const GUEST_MODULES: readonly string[] = [
  "virtio_ring",
  "virtio",
  "virtio_pci_modern_dev",
  "virtio_pci_legacy_dev",
  "virtio_pci",
  "virtio_rng",
  "virtio_blk",
];

/** The modules a node with a network loads as well, after the virtio modules: virtio-net over PCI. */
export const NETWORK_MODULES: readonly string[] = ["failover", "net_failover", "virtio_net"];

export { DISK_NAME_PATTERN, PHASE_NAME_PATTERN, validateInitramfsOptions };

/**
 * The kernel parameter that makes `/init` wait at a hold point, for a saved guest state
 * (src/vm/snapshot.ts): `faultline.hold=disks` waits before the disk driver (virtio_blk)
 * loads, so no disk has been read; `faultline.hold=phase` waits after the mounts, before the
 * phase script starts. At a hold, `/init` writes {@linkcode HOLD_MARKER} and the hold's
 * name on the console and reads one line from the console; it goes on when the line comes.
 */
export const HOLD_KERNEL_PARAM = "faultline.hold";

/** What `/init` writes on the console at a hold point, before the hold's name: `faultline: hold disks`. */
export const HOLD_MARKER = "faultline: hold";

/** The kernel parameter that names the phase to run: `faultline.phase=NAME`. */
export const PHASE_KERNEL_PARAM = "faultline.phase";

/**
 * The kernel command-line argument that selects a phase.
 *
 * @example
 * ```ts
 * phaseKernelArg("check"); // "faultline.phase=check"
 * ```
 */
export function phaseKernelArg(phase: string): string {
  if (!PHASE_NAME_PATTERN.test(phase)) {
    throw usage(`phase: expected a name such as run or check, found ${describeValue(phase)}`);
  }
  return `${PHASE_KERNEL_PARAM}=${phase}`;
}

/**
 * A disk of the guest, attached by the launcher as a virtio-blk device with
 * `serial=NAME`; `/init` links it as `/dev/disk/NAME` and mounts it when it has a
 * mountpoint.
 */
export interface GuestDisk {
  /** The disk's name and virtio-blk serial, such as `data` ({@linkcode DISK_NAME_PATTERN}). */
  name: string;
  /**
   * Where to mount it, such as `/mnt/data`; created if missing. Not mounted without one. A
   * directory of its own: not one that would hide the image's paths (src/scenario/guest_rules.ts).
   */
  mountpoint?: string;
  /** File system type for `mount -t`; `ext4` by default. Only with a mountpoint. */
  fstype?: string;
  /** Mount options for `mount -o`, such as `barrier=0,data=ordered`. Only with a mountpoint. */
  options?: string;
}

/**
 * A node's place on the cluster's network (`network` of src/net/switch.ts's
 * `guestNetwork(node)` has this shape).
 */
export interface GuestNetwork {
  /** This node's name: `FAULTLINE_NODE`, the hostname. */
  node: string;
  /** The MAC QEMU gives the node's virtio-net device: `/init` finds the interface by it. */
  mac: string;
  /** The network's prefix length, such as 24. */
  prefixLength: number;
  /** Every node's name and IPv4 address in the scenario's order, this node's included. */
  hosts: readonly { name: string; ip: string }[];
}

/** A host file copied into the guest. */
export interface GuestFile {
  /** The file on the host (symbolic links are followed). */
  hostPath: string;
  /** Absolute path in the guest, not one of the image's own (src/scenario/guest_rules.ts). */
  guestPath: string;
  /** Permission bits; 0o755 if the host file is executable by anyone, else 0o644. */
  mode?: number;
}

/** What goes into the initramfs. Every field but `phases` is optional. */
export interface InitramfsOptions {
  /**
   * The phases, by name ({@linkcode PHASE_NAME_PATTERN}; not `boot` or `mounted`): shell
   * scripts run by busybox `sh`, stored as `/faultline/phase/NAME`, never interpolated into
   * a command line. The kernel parameter `faultline.phase=NAME` picks the one to run; its
   * exit code is reported as `exit CODE`. At least one.
   */
  phases: Readonly<Record<string, string>>;
  /** The kernel whose modules are used; `ensureKernel()` by default. */
  kernel?: Kernel;
  /** The busybox to use; `ensureBusybox()` by default. */
  busybox?: Busybox;
  /** Kernel modules to load (their dependencies are added); {@linkcode GUEST_MODULES} by default. */
  modules?: readonly string[];
  /** The disks that the launcher attaches, by name; those with a mountpoint are mounted in order. */
  disks?: readonly GuestDisk[];
  /** Environment variables for the phase scripts (not `FAULTLINE_*`). */
  env?: Readonly<Record<string, string>>;
  /** Host files to copy into the guest. */
  files?: readonly GuestFile[];
  /**
   * Host programs to copy into the guest at the same path, with their shared libraries
   * (found from the ELF DT_NEEDED entries) and dynamic loader, such as `/usr/bin/sqlite3`.
   */
  programs?: readonly string[];
  /** Seconds to wait, in all, for the disks (and the network interface) to appear; 10 by default. */
  deviceTimeoutSeconds?: number;
  /** The node's network, when it is one node of a cluster; none by default. */
  network?: GuestNetwork;
  /**
   * A control channel from faultline (`control.ts`): `/init` loads virtio_console, waits for
   * the virtio-serial port `faultline.control` and reads it in the background; none by
   * default.
   */
  control?: boolean;
  /**
   * Run every phase chrooted into a package root (`package_root.ts`), attached as the
   * read-only disk with serial `faultline-root` and mounted with the disks inside it
   * (`root_init.ts`); not with `programs` or `files` (those go into the root image).
   */
  packageRoot?: boolean;
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
  /** Its phases, sorted: the values `faultline.phase=` may take. */
  readonly phases: readonly string[];
  /** Guest paths of the host programs, libraries and files it carries, sorted. */
  readonly hostFiles: readonly string[];
}

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

/** A guest path as stored in the archive: no leading or trailing `/`. */
function archivePath(path: string): string {
  return normalizeCpioPath(path.replace(/(.)\/+$/, "$1"));
}

/** The guest's `/etc/hosts`: localhost, then every node. */
function hostsFile(network: GuestNetwork): string {
  return ["127.0.0.1 localhost", ...network.hosts.map((h) => `${h.ip} ${h.name}`), ""].join("\n");
}

/** What the generated `/init` needs to know. */
export interface InitPlan {
  /** Guest paths of the modules to insmod, in order. */
  modulePaths: readonly string[];
  /** The names of the phases (the scripts are files, not part of `/init`). */
  phases: readonly string[];
  disks: readonly GuestDisk[];
  env: Readonly<Record<string, string>>;
  /** Library directories for LD_LIBRARY_PATH; none when no programs were added. */
  libraryDirs: readonly string[];
  deviceTimeoutSeconds: number;
  /** The node's network, when it has one. */
  network?: GuestNetwork;
  /** `/init` reads a control channel (`control.ts`). */
  control?: boolean;
  /** The phases run chrooted into the package root (see `root_init.ts`). */
  packageRoot?: boolean;
}

/** Guest directory of the phase scripts: `/faultline/phase/NAME`. */
export const PHASE_DIR: string = `${IMAGE_PATHS.faultline}/phase`;
/** Guest path of the `report` command. */
export const REPORT_PATH: string = IMAGE_PATHS.report;
/** Guest directory where `report` keeps its line counter (a tmpfs: the initramfs). */
export const REPORT_STATE_DIR: string = IMAGE_PATHS.reportState;

const RESULTS_SECTORS = RESULTS_DISK_SIZE / RESULTS_SECTOR_SIZE;
/**
 * Claim files `report` keeps behind the newest: a reporter starts from the hint, which lags
 * the newest claim by at most the reporters running at once, so older claims can go.
 */
const CLAIMS_KEPT = 4096;

/**
 * The `report` command of the guest: `report KIND [ARGS...]` writes one line to the
 * results disk, such as `report ack 17`, and returns once the host has acknowledged the
 * write. The line goes to sector N of `$FAULTLINE_RESULTS`, N counting the lines from 0:
 * `${REPORT_STATE_DIR}/lines/N` is created with O_EXCL (shell noclobber) to claim it, so
 * concurrent reporters get distinct sectors without a lock (busybox 1.35 has no `flock`
 * applet). The sector is written by busybox `dd` with O_DIRECT; `ibs=512 obs=4096` because
 * busybox `dd` allocates a page-aligned buffer only from 4096 bytes on, and with a
 * misaligned one the kernel refuses O_DIRECT and `dd` silently writes through the page
 * cache instead (a 4 KiB read-modify-write, sent only at the last close of the device).
 * Claims more than 4096 lines behind are removed, so a long run's claims do not fill the
 * guest's memory.
 */
export const REPORT_SCRIPT = `#!/bin/sh
# report KIND [ARGS...]: writes one line to faultline's results disk, e.g. "report ack 17".
# The line goes to sector N of $FAULTLINE_RESULTS (N counts lines from 0) as the line, "\\n"
# and NUL bytes up to ${RESULTS_SECTOR_SIZE}, written with O_DIRECT: the host has it when report returns.
# Only SIGKILL can stop a report between claiming its sector and writing it.
trap '' HUP INT TERM
state=${REPORT_STATE_DIR}
console=/dev/console
if [ $# -eq 0 ] || [ -z "$1" ]; then
  echo "usage: report KIND [ARGS...]" >&2
  exit 2
fi
line="$*"
nl='
'
case "$line" in
*"$nl"*)
  echo "report: a line must not contain a newline" >&2
  exit 2
  ;;
esac
# \${#line} counts characters (or bytes): ${
  RESULTS_LINE_MAX / 4
} characters are at most ${RESULTS_LINE_MAX} bytes.
if [ "\${#line}" -gt ${
  RESULTS_LINE_MAX / 4
} ] && [ "$(printf '%s' "$line" | wc -c)" -gt ${RESULTS_LINE_MAX} ]; then
  echo "report: a line must be at most ${RESULTS_LINE_MAX} bytes" >&2
  exit 2
fi
if [ -z "$FAULTLINE_RESULTS" ] || [ ! -d "$state/lines" ]; then
  echo "report: no results disk (/init sets up FAULTLINE_RESULTS and $state)" >&2
  exit 1
fi
# Claim sector N by creating $state/lines/N with O_EXCL (noclobber); $state/next is a hint.
n=
{ read -r n <"$state/next"; } 2>/dev/null
case "$n" in '' | *[!0-9]*) n=0 ;; esac
set -C
while ! { true >"$state/lines/$n"; } 2>/dev/null; do
  n=$((n + 1))
  [ "$n" -lt ${RESULTS_SECTORS} ] || break
done
set +C
if [ "$n" -ge ${RESULTS_SECTORS} ]; then
  echo "report: the results disk is full (${RESULTS_SECTORS} lines)" >&2
  exit 1
fi
echo "$((n + 1))" >"$state/next"
# Claims far behind the hint are never looked at again: keep the tmpfs small on long runs.
[ "$n" -lt ${CLAIMS_KEPT} ] || rm -f "$state/lines/$((n - ${CLAIMS_KEPT}))"
# ibs=512 obs=4096: busybox dd page-aligns a buffer of 4096 bytes or more, which O_DIRECT
# needs (with a misaligned one dd silently drops O_DIRECT); it still writes ${RESULTS_SECTOR_SIZE} bytes.
if ! printf '%s\\n' "$line" | dd of="$FAULTLINE_RESULTS" ibs=${RESULTS_SECTOR_SIZE} obs=4096 count=1 \\
  iflag=fullblock conv=sync,notrunc seek=$((n * ${RESULTS_SECTOR_SIZE})) oflag=seek_bytes,direct status=none; then
  echo "report: cannot write line $n to $FAULTLINE_RESULTS" >&2
  exit 1
fi
{ printf 'faultline: %s\\n' "$line" >"$console"; } 2>/dev/null
exit 0
`;

/**
 * Renders the guest's `/init` shell script (the contract is in the module documentation).
 * Pure: the same plan gives the same text. Every value from the plan is single-quoted; the
 * phase scripts are not part of it (they are files in {@linkcode PHASE_DIR}).
 *
 * @example
 * ```ts
 * const init = renderInit({
 *   modulePaths: ["/lib/modules/6.1.0-56-cloud-amd64/virtio_blk.ko"],
 *   phases: ["check", "run"],
 *   disks: [{ name: "data", mountpoint: "/mnt/data" }, { name: "raw" }],
 *   env: {},
 *   libraryDirs: [],
 *   deviceTimeoutSeconds: 10,
 * });
 * ```
 */
export function renderInit(plan: InitPlan): string {
  const timeout = `${plan.deviceTimeoutSeconds}s`;
  const tenths = Math.ceil(plan.deviceTimeoutSeconds * 10);
  return [
    ...setupLines(plan.modulePaths),
    ...diskLines(plan.disks, tenths, timeout, plan.packageRoot ?? false),
    ...phaseLines(plan.phases, timeout),
    ...(plan.network ? networkLines(plan.network, tenths, timeout) : []),
    ...(plan.control ? controlInitLines(tenths, timeout) : []),
    ...(plan.packageRoot ? rootMountLines({ network: plan.network !== undefined }) : []),
    ...mountLines(plan.disks, plan.packageRoot ? SYSROOT : ""),
    ...runLines(plan),
  ].join("\n");
}

/** The lines of `/init` that set up the guest: busybox, the file systems, `fail`, the modules. */
function setupLines(modulePaths: readonly string[]): string[] {
  const lines = [
    "#!/bin/busybox sh",
    "# /init of a faultline guest, generated by src/vm/initramfs.ts.",
    "/bin/busybox --install -s",
    "export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root",
    "umask 022",
    "mount -t proc proc /proc",
    "mount -t sysfs sysfs /sys",
    "mount -t devtmpfs devtmpfs /dev",
    `mkdir -p /dev/disk ${REPORT_STATE_DIR}/lines && echo 0 >${REPORT_STATE_DIR}/next`,
    "# Before the results disk is found, errors can only go to the console.",
    "console_halt() {",
    '  echo "faultline: error $*" >/dev/console',
    "  poweroff -f",
    "  exit 1",
    "}",
    "fail() {",
    '  report error "$*" || echo "faultline: error $*" >/dev/console',
    "  sync",
    "  poweroff -f",
    "  exit 1",
    "}",
  ];
  lines.push(
    "# faultline.hold=disks: wait before the disk driver loads; faultline.hold=phase: before the phase.",
    "hold=",
    "set -f",
    "read -r cmdline </proc/cmdline",
    "for word in $cmdline; do",
    '  case "$word" in',
    `  ${HOLD_KERNEL_PARAM}=*) hold=\${word#${HOLD_KERNEL_PARAM}=} ;;`,
    "  esac",
    "done",
    "set +f",
    "hold_here() {",
    '  [ "$hold" = "$1" ] || return 0',
    `  echo "${HOLD_MARKER} $1" >/dev/console`,
    "  read -r go </dev/console",
    "}",
  );
  for (const path of modulePaths) {
    if (/\/virtio_blk\.ko$/.test(path)) lines.push("hold_here disks");
    lines.push(`insmod ${shellQuote(path)} || console_halt ${shellQuote(`insmod ${path}`)}`);
  }
  return lines;
}

/**
 * The lines of `/init` that wait for the disks and link them as `/dev/disk/NAME`, then open
 * the results channel (a missing disk other than the results disk is reported later).
 */
function diskLines(
  disks: readonly GuestDisk[],
  tenths: number,
  timeout: string,
  packageRoot: boolean,
): string[] {
  const names = [
    RESULTS_SERIAL,
    ...(packageRoot ? [ROOT_DISK_NAME] : []),
    ...disks.map((d) => d.name),
  ].map(shellQuote);
  return [
    "# Disks are found by their virtio-blk serial and linked as /dev/disk/NAME.",
    "link_disks() {",
    "  for s in /sys/block/vd*/serial; do",
    '    [ -f "$s" ] || continue',
    "    serial=",
    '    read -r serial <"$s"',
    "    dev=${s%/serial}",
    "    dev=/dev/${dev##*/}",
    '    case "$serial" in',
    `    ${names.join(" | ")})`,
    '      [ -b "$dev" ] && [ ! -e "/dev/disk/$serial" ] && ln -s "$dev" "/dev/disk/$serial"',
    "      ;;",
    "    esac",
    "  done",
    "}",
    "i=0",
    "while :; do",
    "  link_disks",
    "  missing=",
    `  for name in ${names.join(" ")}; do`,
    '    [ -L "/dev/disk/$name" ] || missing="${missing:-$name}"',
    "  done",
    '  [ -z "$missing" ] && break',
    `  i=$((i + 1)); [ "$i" -gt ${tenths} ] && break`,
    "  sleep 0.1",
    "done",
    `[ -L /dev/disk/${RESULTS_SERIAL} ] || console_halt ${
      shellQuote(`no results disk (virtio-blk serial=${RESULTS_SERIAL}) after ${timeout}`)
    }`,
    `FAULTLINE_RESULTS=$(readlink /dev/disk/${RESULTS_SERIAL})`,
    "export FAULTLINE_RESULTS",
    'report phase boot || console_halt "cannot write to the results disk $FAULTLINE_RESULTS"',
  ];
}

/** The lines of `/init` that read the phase from the kernel command line, then fail on a missing disk. */
function phaseLines(planPhases: readonly string[], timeout: string): string[] {
  const phases = [...planPhases].sort();
  const known = `(phases: ${phases.join(" ")})`;
  return [
    "set -f",
    "read -r cmdline </proc/cmdline",
    "phase=",
    "for word in $cmdline; do",
    '  case "$word" in',
    `  ${PHASE_KERNEL_PARAM}=*) phase=\${word#${PHASE_KERNEL_PARAM}=} ;;`,
    "  esac",
    "done",
    "set +f",
    'case "$phase" in',
    `${phases.map(shellQuote).join(" | ")}) ;;`,
    `'') fail ${shellQuote(`no ${PHASE_KERNEL_PARAM}= on the kernel command line ${known}`)} ;;`,
    `*) fail "unknown phase $(printf '%.40s' "$phase") "${shellQuote(known)} ;;`,
    "esac",
    '[ -z "$missing" ] || fail "no disk $missing (virtio-blk serial=$missing) after ' +
    `${timeout}"`,
  ];
}

/**
 * The lines of `/init` that mount the disks with a mountpoint, in order, and say so; in a
 * package root, under `root`.
 */
function mountLines(disks: readonly GuestDisk[], root: string): string[] {
  const mounted = disks.filter((d) => d.mountpoint !== undefined);
  const lines = mounted.map((disk) => {
    const device = shellQuote(`/dev/disk/${disk.name}`);
    const mountpoint = shellQuote(`${root}${disk.mountpoint!}`);
    const fstype = shellQuote(disk.fstype ?? "ext4");
    const options = disk.options ? ` -o ${shellQuote(disk.options)}` : "";
    return `mkdir -p ${mountpoint} && mount -t ${fstype}${options} ${device} ${mountpoint} || ` +
      `fail ${shellQuote(`cannot mount disk ${disk.name} on ${disk.mountpoint}`)}`;
  });
  if (mounted.length > 0) lines.push("report phase mounted");
  return lines;
}

/** The lines of `/init` that export the phase's environment, run it and report its exit. */
function runLines(plan: InitPlan): string[] {
  const lines: string[] = [];
  if (plan.libraryDirs.length > 0) {
    lines.push(`export LD_LIBRARY_PATH=${shellQuote(plan.libraryDirs.join(":"))}`);
  }
  for (const name of Object.keys(plan.env).sort()) {
    lines.push(`export ${name}=${shellQuote(plan.env[name])}`);
  }
  if (plan.network) {
    lines.push(
      `export FAULTLINE_NODE=${shellQuote(plan.network.node)} FAULTLINE_NODES=${
        shellQuote(plan.network.hosts.map((h) => h.name).join(" "))
      }`,
    );
  }
  lines.push(
    'export FAULTLINE_PHASE="$phase"',
    "cd /",
    "hold_here phase",
    'report phase "$phase"',
    plan.packageRoot ? rootRunLine(PHASE_DIR) : `/bin/sh "${PHASE_DIR}/$phase" </dev/null`,
    "code=$?",
    'report exit "$code"',
    "sync",
    "poweroff -f",
    "exit 1",
    "",
  );
  return lines;
}

/** The lines of `/init` that bring up `lo` and the node's interface, found by its MAC. */
function networkLines(network: GuestNetwork, tenths: number, timeout: string): string[] {
  const self = network.hosts.find((h) => h.name === network.node)!;
  const address = `${self.ip}/${network.prefixLength}`;
  return [
    "# The network: lo, and the interface with this node's MAC (virtio-net) gets its address.",
    "ip link set lo up",
    "net_if=",
    "i=0",
    'while [ -z "$net_if" ]; do',
    "  for a in /sys/class/net/*/address; do",
    '    [ -f "$a" ] || continue',
    "    mac=",
    '    read -r mac <"$a"',
    `    [ "$mac" = ${shellQuote(network.mac)} ] && net_if=\${a%/address} && net_if=\${net_if##*/}`,
    "  done",
    `  [ -n "$net_if" ] && break`,
    `  i=$((i + 1)); [ "$i" -gt ${tenths} ] && break`,
    "  sleep 0.1",
    "done",
    `[ -n "$net_if" ] || fail ${
      shellQuote(`no network interface with MAC ${network.mac} (virtio-net) after ${timeout}`)
    }`,
    `ip addr add ${shellQuote(address)} dev "$net_if" && ip link set "$net_if" up || ` +
    `fail "cannot give $net_if the address ${address}"`,
    `hostname ${shellQuote(network.node)}`,
  ];
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
  fields: HostFileFields,
): Promise<Map<string, { data: Uint8Array } | { linkTo: string }>> {
  const out = new Map<string, { data: Uint8Array } | { linkTo: string }>();
  const byRealPath = new Map<string, string>();
  const byName = new Map<string, string>(); // library name -> guest path
  const confDirs = await ldSoConfDirs();
  const pending: Array<{ path: string; field: string }> = programs.map((path, i) => ({
    path,
    field: fields.program(i),
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

/** How the build names the host files of its options in its errors. */
export interface HostFileFields {
  /** The field of the host path of `files[index]`. */
  file(index: number): string;
  /** The field of `programs[index]`. */
  program(index: number): string;
}

/** The fields of {@linkcode InitramfsOptions}. */
const OPTION_FIELDS: HostFileFields = {
  file: (index) => `files[${index}].hostPath`,
  program: (index) => `programs[${index}]`,
};

/**
 * Builds the initramfs (or finds it in the cache: the name is the content's hash) and
 * returns where it is. Building twice from the same inputs gives the same bytes. The
 * options are checked first ({@linkcode validateInitramfsOptions}).
 *
 * @example
 * ```ts
 * const kernel = await ensureKernel();
 * const initrd = await buildInitramfs({
 *   kernel,
 *   disks: [{ name: "data", mountpoint: "/mnt/data" }],
 *   phases: {
 *     run: "echo hello >/mnt/data/hello && sync /mnt/data/hello && report ack 1",
 *     check: "[ -f /mnt/data/hello ] && report have 1",
 *   },
 * });
 * // qemu-system-x86_64 -kernel ${kernel.vmlinuz} -initrd ${initrd.path} \
 * //   -append "console=ttyS0 panic=-1 quiet faultline.phase=run" \
 * //   -drive file=data.raw,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0,serial=data \
 * //   -drive file=results.raw,format=raw,if=none,id=results,cache=none \
 * //   -device virtio-blk-pci,drive=results,serial=faultline-results
 * ```
 */
export async function buildInitramfs(options: InitramfsOptions): Promise<Initramfs> {
  validateInitramfsOptions(options);
  return await assembleInitramfs(options);
}

/**
 * The modules an image loads, in order: the file systems its disks need that the kernel
 * does not have built in (first, so that a guest held before its disk driver, as a saved
 * check guest is, has loaded them already), the virtio modules, then the network's and the
 * control channel's.
 *
 * @example
 * ```ts
 * wantedModules({ phases: { run: "true" }, disks: [{ name: "data", mountpoint: "/data", fstype: "xfs" }] });
 * // ["xfs", "virtio_ring", "virtio", ..., "virtio_blk"]
 * ```
 */
export function wantedModules(options: InitramfsOptions): string[] {
  const wanted = (options.disks ?? []).flatMap((disk) =>
    disk.mountpoint === undefined ? [] : filesystemOf(disk.fstype ?? "ext4")?.guestModules ?? []
  );
  for (const module of options.modules ?? GUEST_MODULES) {
    if (!wanted.includes(module)) wanted.push(module);
  }
  if (options.network) wanted.push(...NETWORK_MODULES.filter((m) => !wanted.includes(m)));
  if (options.control) wanted.push(...CONTROL_MODULES.filter((m) => !wanted.includes(m)));
  return [...new Set(wanted)];
}

/**
 * Builds the initramfs from options that were checked already: by
 * {@linkcode buildInitramfs}, or, for a node of a scenario, when the scenario loaded
 * (`node_initramfs.ts`). `fields` names the host files in errors (a file that does not
 * exist, a program that is not ELF).
 *
 * @example
 * ```ts
 * const initrd = await assembleInitramfs(options, {
 *   file: (i) => `nodes.app.files[${i}].host`,
 *   program: (i) => `nodes.app.programs[${i}]`,
 * });
 * ```
 */
export async function assembleInitramfs(
  options: InitramfsOptions,
  fields: HostFileFields = OPTION_FIELDS,
): Promise<Initramfs> {
  const debian = { cacheRoot: options.cacheRoot, signal: options.signal };
  const [kernel, busybox] = await Promise.all([
    options.kernel ?? ensureKernel(debian),
    options.busybox ?? ensureBusybox(debian),
  ]);
  const modules: KernelModule[] = await resolveModules(kernel, wantedModules(options), {
    signal: options.signal,
  });
  const phases = Object.keys(options.phases).sort();
  const { entries, modulePaths } = await imageEntries(options, { kernel, busybox, modules });
  const host = await hostEntries(options, fields);
  entries.push(...host.entries);
  entries.push(...placeEntries(options, entries));
  const init = renderInit({
    modulePaths,
    phases,
    disks: options.disks ?? [],
    env: options.env ?? {},
    libraryDirs: host.libraryDirs,
    deviceTimeoutSeconds: options.deviceTimeoutSeconds ?? 10,
    ...(options.network ? { network: options.network } : {}),
    ...(options.control ? { control: true } : {}),
    ...(options.packageRoot ? { packageRoot: true } : {}),
  });
  entries.push({ type: "file", path: IMAGE_PATHS.init, data: encoder.encode(init), mode: 0o755 });
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
    phases,
    hostFiles: host.hostFiles,
  };
}

/**
 * The image's own entries: its directories, the console, busybox and `sh`, `report`, the
 * phase scripts and the kernel modules (with their guest paths, in load order).
 */
async function imageEntries(
  options: InitramfsOptions,
  image: { kernel: Kernel; busybox: Busybox; modules: readonly KernelModule[] },
): Promise<{ entries: CpioEntry[]; modulePaths: string[] }> {
  const entries: CpioEntry[] = IMAGE_DIRECTORIES.map((dir) => ({
    type: "directory",
    path: archivePath(dir),
    mode: dir === "/tmp" ? 0o1777 : 0o755,
  }));
  entries.push({ type: "char", path: "dev/console", major: 5, minor: 1, mode: 0o600 });
  entries.push({
    type: "file",
    path: archivePath(IMAGE_PATHS.busybox),
    data: await Deno.readFile(image.busybox.path),
    mode: 0o755,
  });
  entries.push({
    type: "symlink",
    path: archivePath(IMAGE_PATHS.shell),
    target: "busybox", // beside it in /bin
  });
  entries.push({
    type: "file",
    path: REPORT_PATH,
    data: encoder.encode(REPORT_SCRIPT),
    mode: 0o755,
  });
  for (const name of Object.keys(options.phases).sort()) {
    entries.push({
      type: "file",
      path: archivePath(`${PHASE_DIR}/${name}`),
      data: encoder.encode(options.phases[name]),
      mode: 0o644,
    });
  }
  if (options.packageRoot) {
    entries.push(...rootImageEntries(await Deno.readFile(image.busybox.path), REPORT_SCRIPT));
  }
  const { kernel, modules } = image;
  const modulePaths = modules.map((m) => `${IMAGE_PATHS.modules}/${kernel.version}/${m.name}.ko`);
  modules.forEach((m, i) => entries.push({ type: "file", path: modulePaths[i], data: m.data }));
  return { entries, modulePaths };
}

/**
 * The host files and programs (with their libraries and loader), the guest paths of all
 * of them, sorted, and the library directories for LD_LIBRARY_PATH, sorted.
 */
async function hostEntries(
  options: InitramfsOptions,
  fields: HostFileFields,
): Promise<{ entries: CpioEntry[]; hostFiles: string[]; libraryDirs: string[] }> {
  const entries: CpioEntry[] = [];
  const hostFiles: string[] = [];
  for (const [i, file] of (options.files ?? []).entries()) {
    if (await laysTree(file.hostPath, file.guestPath)) {
      entries.push(...await treeEntries(file, fields.file(i), entries));
      continue;
    }
    const { data, mode } = await readHostFile(file.hostPath, fields.file(i));
    entries.push({
      type: "file",
      path: archivePath(file.guestPath),
      data,
      mode: file.mode ?? mode,
    });
  }
  for (const entry of entries) if (entry.type !== "directory") hostFiles.push(`/${entry.path}`);
  const libraryDirs = new Set<string>();
  const explicit = new Set(entries.map((entry) => entry.path));
  const programs = options.programs ?? [];
  for (const [guestPath, content] of await programClosure(programs, fields)) {
    if (explicit.has(archivePath(guestPath))) continue; // the caller's own copy wins
    entries.push(
      "data" in content
        ? { type: "file", path: guestPath, data: content.data, mode: 0o755 }
        : { type: "symlink", path: guestPath, target: content.linkTo },
    );
    hostFiles.push(guestPath);
    if (!programs.includes(guestPath)) libraryDirs.add(dirname(guestPath));
  }
  return { entries, hostFiles: hostFiles.sort(), libraryDirs: [...libraryDirs].sort() };
}

/**
 * A host tree's entries under its guest directory: its directories (but those an entry
 * before made already), files with their mode (0755 when executable, else 0644, as a host
 * file's) and symbolic links.
 */
async function treeEntries(
  file: { hostPath: string; guestPath: string },
  field: string,
  before: readonly CpioEntry[],
): Promise<CpioEntry[]> {
  let tree: TreeEntry[];
  try {
    tree = await readHostTree(file.hostPath);
  } catch (error) {
    if (error instanceof HostTreeError) throw usage(`${field}: ${error.message}`);
    throw error;
  }
  const root = archivePath(file.guestPath);
  const made = new Set(before.filter((e) => e.type === "directory").map((e) => e.path));
  const entries: CpioEntry[] = [];
  for (const entry of tree) {
    const path = `${root}/${entry.path}`;
    if (entry.type === "directory") {
      if (!made.has(path)) entries.push({ type: "directory", path, mode: 0o755 });
    } else if (entry.type === "symlink") {
      entries.push({ type: "symlink", path, target: entry.target });
    } else {
      entries.push({
        type: "file",
        path,
        data: entry.data,
        mode: entry.executable ? 0o755 : 0o644,
      });
    }
  }
  return entries;
}

/** A directory for each mountpoint that no entry made yet, and with a network, `/etc/hosts`. */
function placeEntries(options: InitramfsOptions, entries: readonly CpioEntry[]): CpioEntry[] {
  const placed: CpioEntry[] = [];
  const present = new Set(entries.map((e) => archivePath(e.path)));
  for (const disk of options.disks ?? []) {
    if (disk.mountpoint === undefined) continue;
    const mountpoint = archivePath(disk.mountpoint);
    if (!present.has(mountpoint)) placed.push({ type: "directory", path: mountpoint });
    present.add(mountpoint);
  }
  if (options.network) {
    placed.push({
      type: "file",
      path: archivePath(HOSTS_FILE),
      data: encoder.encode(hostsFile(options.network)),
      mode: 0o644,
    });
  }
  return placed;
}
