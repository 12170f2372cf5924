/**
 * The QEMU command line of a node, built from its description as an argument
 * array: QEMU is always started without a shell, so nothing from a scenario
 * is ever interpreted by one.
 *
 * @module
 */

import { ROOT_DISK_NAME } from "../scenario/guest_rules.ts";
import type { AccelChoice } from "./accel.ts";
import { CONTROL_PORT_NAME } from "./control.ts";
import { accelOption, type GuestClock, HOST_CLOCK, icountArgs } from "./guest_clock.ts";

/** A disk as QEMU attaches it: an NBD URI, and the name the guest finds it by (the virtio serial). */
export interface VmDisk {
  /** The disk's name; the guest sees it as the virtio-blk serial and /dev/disk/NAME. */
  name: string;
  /** `nbd+unix:///EXPORT?socket=PATH`, or `null:SIZE` for a disk that holds no data (a saved state's placeholder). */
  uri: string;
  /**
   * The disk's geometry, given so that QEMU does not read its first sector to guess it
   * (a guest resumed from a saved state must see only its own ops): {@link guessedGeometry}.
   */
  geometry?: { cyls: number; heads: number; secs: number };
}

/**
 * The geometry QEMU guesses for a disk without an MBR partition table
 * (`hw/block/hd-geometry.c`, guess_chs_for_size): 16 heads, 63 sectors, the cylinders
 * the size gives (2 to 16383).
 *
 * @example
 * ```ts
 * guessedGeometry(32 * 1024 * 1024); // { cyls: 65, heads: 16, secs: 63 }
 * ```
 */
export function guessedGeometry(sizeBytes: number): { cyls: number; heads: number; secs: number } {
  const cyls = Math.floor(Math.floor(sizeBytes / 512) / (16 * 63));
  return { cyls: Math.min(16383, Math.max(2, cyls)), heads: 16, secs: 63 };
}

/** Everything that makes one boot of a node. */
export interface VmSpec {
  kernel: string;
  initrd: string;
  /** The accelerator and the CPU model (src/vm/accel.ts). */
  accel: Pick<AccelChoice, "accel" | "cpu">;
  /** The guest phase to run (`run`, `check`): `faultline.phase=` on the kernel command line. */
  phase: string;
  memoryBytes: number;
  disks: readonly VmDisk[];
  /** The results channel disk (attached last, serial `faultline-results`). */
  results: VmDisk;
  /** Unix socket for QEMU's own QMP. */
  qmpSocket: string;
  /** Fixed guest clock start, for determinism (ISO date, `2026-01-01T00:00:00`). */
  rtcBase: string;
  /** How the guest's time runs (src/vm/guest_clock.ts); the host's pace when absent. */
  clock?: GuestClock;
  /**
   * The seed of QEMU's random source (`-seed`), which a virtio-rng device (`rng-builtin`)
   * hands to the guest: its bytes repeat from boot to boot. Absent: no seed, no device.
   */
  seed?: number;
  /** The node's port on faultline's switch, when the node is one of a cluster. */
  network?: VmNetwork;
  /**
   * The unix socket of the node's control channel (src/vm/control.ts), which faultline
   * listens on before QEMU starts: a virtio-serial port named `faultline.control`.
   */
  control?: string;
  /** `faultline.hold=NAME` on the kernel command line: `/init` waits there (src/vm/snapshot.ts). */
  hold?: "disks" | "phase";
  /** The guest's memory in a file (src/vm/snapshot.ts): shared while saving, copy-on-write when resumed. */
  memoryFile?: { path: string; share: boolean };
  /** Wait for a saved state (QMP `migrate-incoming`, src/vm/snapshot.ts) instead of booting. */
  incoming?: boolean;
  /**
   * A package root's image (src/vm/package_root.ts), attached read-only with serial
   * `faultline-root` straight from the file: not through the fault layer, never written.
   */
  rootImage?: string;
}

/** A node's network: its switch port (a unix socket that listens already) and its MAC. */
export interface VmNetwork {
  /** The switch's socket for this node (src/net/switch.ts `socketPath`). */
  socket: string;
  /** The node's MAC, such as `02:66:6c:29:2c:00`. */
  mac: string;
}

/**
 * The argument array for `qemu-system-x86_64`. Disks go through QEMU's NBD
 * client with `cache=none` (the guest sees a volatile write cache and sends
 * flushes) and `werror=report,rerror=report` (QEMU's default pauses the guest
 * on ENOSPC). One vCPU and a fixed RTC base make runs repeat, and so may a seed and
 * a clock of counted instructions; the console is the QEMU process's stdout.
 *
 * `-nic none`: never a default NIC (no user-mode NAT). With a network, one
 * virtio-net device joins the switch through `-netdev stream` as a client of the
 * switch's unix socket (QEMU 7.2 connects once, at start, and does not retry:
 * the switch must listen before QEMU starts). With a control channel, one
 * virtio-serial port joins faultline's socket the same way.
 *
 * @example
 * ```ts
 * new Deno.Command("qemu-system-x86_64", { args: qemuArgs(spec) });
 * ```
 */
export function qemuArgs(spec: VmSpec): string[] {
  return [
    ...machineArgs(spec),
    ...acceleratorArgs(spec),
    ...memoryFileArgs(spec),
    ...networkArgs(spec),
    ...rootImageArgs(spec),
    ...[...spec.disks, spec.results].flatMap((disk) => diskArgs(disk)),
    ...controlArgs(spec),
    ...seedArgs(spec),
    ...icountArgs(spec.clock ?? HOST_CLOCK),
    ...savedStateArgs(spec),
  ];
}

/** QEMU's option syntax escapes a comma in a value by doubling it. */
function optionValue(text: string): string {
  return text.replaceAll(",", ",,");
}

/** The machine, its memory, the kernel and its command line, the console, QMP, no NIC. */
function machineArgs(spec: VmSpec): string[] {
  return [
    "-machine",
    spec.memoryFile ? "q35,memory-backend=ram" : "q35",
    "-smp",
    "1",
    "-m",
    `${megabytesOf(spec)}M`,
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-rtc",
    `base=${spec.rtcBase},clock=vm`,
    "-kernel",
    spec.kernel,
    "-initrd",
    spec.initrd,
    "-append",
    // no_timer_check: a TCG guest on a loaded host can miss the kernel's IO-APIC timer check
    // as it boots and panic ("IO-APIC + timer doesn't work!"); the check proves nothing here.
    `console=ttyS0 panic=-1 quiet no_timer_check faultline.phase=${spec.phase}${
      spec.hold ? ` faultline.hold=${spec.hold}` : ""
    }`,
    "-chardev",
    "stdio,id=console,signal=off",
    "-serial",
    "chardev:console",
    "-qmp",
    `unix:${spec.qmpSocket},server=on,wait=off`,
    "-nic",
    "none",
  ];
}

function megabytesOf(spec: VmSpec): number {
  return Math.ceil(spec.memoryBytes / (1024 * 1024));
}

/**
 * The accelerator and the CPU model: `-accel kvm` or `-accel tcg`, and a model both run
 * (src/vm/accel.ts); under an icount clock, TCG on one thread (src/vm/guest_clock.ts).
 *
 * @throws {VmError} (usage) for an icount clock under KVM, which counts no instructions:
 *   a run settles its clock first (src/run/pinning.ts `settleClock`), so this is a caller's bug.
 */
function acceleratorArgs(spec: VmSpec): string[] {
  const clock = spec.clock ?? HOST_CLOCK;
  return ["-accel", accelOption(spec.accel.accel, clock), "-cpu", spec.accel.cpu];
}

/** The guest's memory in a file, when it is saved or resumed. */
function memoryFileArgs(spec: VmSpec): string[] {
  if (!spec.memoryFile) return [];
  return [
    "-object",
    `memory-backend-file,id=ram,size=${megabytesOf(spec)}M,mem-path=${
      optionValue(spec.memoryFile.path)
    },share=${spec.memoryFile.share ? "on" : "off"}`,
  ];
}

/** A node of a cluster: one virtio-net device, a stream client of its switch port. */
function networkArgs(spec: VmSpec): string[] {
  if (!spec.network) return [];
  return [
    "-netdev",
    `stream,id=net0,server=off,addr.type=unix,addr.path=${optionValue(spec.network.socket)}`,
    "-device",
    `virtio-net-pci,netdev=net0,mac=${spec.network.mac}`,
  ];
}

/** The package root's image: read-only, straight from its file. */
function rootImageArgs(spec: VmSpec): string[] {
  if (!spec.rootImage) return [];
  return [
    "-drive",
    `file=${optionValue(spec.rootImage)},format=raw,if=none,id=${ROOT_DISK_NAME},readonly=on`,
    "-device",
    `virtio-blk-pci,drive=${ROOT_DISK_NAME},serial=${ROOT_DISK_NAME}`,
  ];
}

/**
 * One disk: its drive (an NBD URI, or a null placeholder of its size) and its virtio-blk
 * device. The drive id is the disk's name, so QEMU's query-block shows the names the
 * scenario uses.
 */
function diskArgs(disk: VmDisk): string[] {
  const id = disk.name;
  const placeholder = /^null:(\d+)$/.exec(disk.uri);
  const file = placeholder ? `file.driver=null-co,file.size=${placeholder[1]}` : `file=${disk.uri}`;
  return [
    "-drive",
    `${file},format=raw,if=none,id=${id},cache=none,werror=report,rerror=report`,
    "-device",
    `virtio-blk-pci,drive=${id},serial=${disk.name}${
      disk.geometry
        ? `,cyls=${disk.geometry.cyls},heads=${disk.geometry.heads},secs=${disk.geometry.secs}`
        : ""
    }`,
  ];
}

/**
 * The control channel: a virtio-serial device with one port, its chardev a client of
 * faultline's socket. Last, so that every device before it keeps its PCI slot.
 */
function controlArgs(spec: VmSpec): string[] {
  if (!spec.control) return [];
  return [
    "-chardev",
    `socket,id=control,path=${optionValue(spec.control)},server=off`,
    "-device",
    "virtio-serial-pci,id=control-serial",
    "-device",
    `virtserialport,bus=control-serial.0,chardev=control,name=${CONTROL_PORT_NAME}`,
  ];
}

/**
 * A seeded guest: QEMU's random source seeded (`-seed`: glib's Mersenne Twister instead of
 * the host's randomness, util/guest-random.c) and a virtio-rng device whose builtin backend
 * draws from it (backends/rng-builtin.c). After the control channel, so that every device
 * before it keeps its PCI slot.
 */
function seedArgs(spec: VmSpec): string[] {
  if (spec.seed === undefined) return [];
  return [
    "-seed",
    String(spec.seed),
    "-object",
    "rng-builtin,id=rng",
    "-device",
    "virtio-rng-pci,rng=rng",
  ];
}

/** A guest that holds to be saved, or that waits for a saved state to load. */
function savedStateArgs(spec: VmSpec): string[] {
  const args: string[] = [];
  if (spec.hold) {
    // A guest that holds may be saved while paused: without the run state in the saved
    // state, QEMU starts the guest once it has loaded it (no QMP `cont` needed).
    args.push("-global", "migration.store-global-state=off");
  }
  // The saved state's capabilities must be set before it loads: QMP, then migrate-incoming.
  if (spec.incoming) args.push("-incoming", "defer");
  return args;
}
