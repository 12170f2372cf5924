/**
 * The guest side of faultline: the default guest image (a Debian cloud kernel and a
 * busybox initramfs built deterministically and cached by content hash), the cpio writer
 * it uses, Debian package fetching, and the guest-to-host results channel (a disk of its
 * own). The guest contract (kernel arguments, disks by virtio-blk serial, environment,
 * result lines) is documented in `initramfs.ts` and `results.ts`.
 *
 * @example
 * ```ts
 * import { buildInitramfs, ensureKernel, phaseKernelArg, RESULTS_SERIAL } from "./src/vm/mod.ts";
 *
 * const kernel = await ensureKernel();
 * const initrd = await buildInitramfs({
 *   kernel,
 *   disks: [{ name: "data", mountpoint: "/mnt/data" }],
 *   phases: {
 *     run: "echo hi >/mnt/data/hi && sync /mnt/data/hi && report ack 1",
 *     check: "[ -f /mnt/data/hi ] && report have 1",
 *   },
 * });
 * // boot with -append "console=ttyS0 ${phaseKernelArg("run")}", the disk attached with
 * // serial=data, and last a 1 GiB results disk with serial=${RESULTS_SERIAL}.
 * ```
 *
 * @module
 */

export {
  CPIO_HEADER_SIZE,
  CPIO_NEWC_MAGIC,
  CPIO_TRAILER,
  type CpioCharDevice,
  type CpioDirectory,
  type CpioEntry,
  CpioError,
  type CpioFile,
  type CpioSymlink,
  encodeCpio,
  type EncodeCpioOptions,
  normalizeCpioPath,
} from "./cpio.ts";
export {
  type DebianCandidate,
  debianCandidate,
  type DebianOptions,
  type DebianPackage,
  type DebianPackageRef,
  fetchDebianPackage,
  parseControlStanza,
  parseDepends,
  resolveMetapackage,
} from "./debian.ts";
export { GuestImageError, type GuestImageErrorOptions } from "./guest_image_error.ts";
export {
  type Busybox,
  ensureBusybox,
  ensureKernel,
  type Kernel,
  KERNEL_METAPACKAGE,
  KERNEL_PACKAGE_PATTERN,
  type KernelModule,
  type KernelOptions,
  type ModuleCompression,
  normalizeModuleName,
  resolveModules,
} from "./kernel.ts";
export {
  buildInitramfs,
  DISK_NAME_PATTERN,
  GUEST_MODULES,
  type GuestDisk,
  type GuestFile,
  type GuestNetwork,
  type InitPlan,
  type Initramfs,
  type InitramfsOptions,
  NETWORK_MODULES,
  PHASE_DIR,
  PHASE_KERNEL_PARAM,
  PHASE_NAME_PATTERN,
  phaseKernelArg,
  renderInit,
  REPORT_PATH,
  REPORT_SCRIPT,
  REPORT_STATE_DIR,
  validateInitramfsOptions,
} from "./initramfs.ts";
export {
  decodeResultSectors,
  type ParsedResults,
  parseResultLine,
  parseResultLines,
  reportedExitCode,
  type ResultKind,
  type ResultLine,
  type ResultLineHandler,
  RESULTS_DISK_SIZE,
  RESULTS_LINE_MAX,
  RESULTS_SECTOR_SIZE,
  RESULTS_SERIAL,
  ResultsChannel,
  type ResultsChannelOptions,
  type ResultSector,
} from "./results.ts";
