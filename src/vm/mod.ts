/**
 * The guest side of faultline: the default guest image (a Debian cloud kernel and a
 * busybox initramfs built deterministically and cached by content hash), the cpio writer
 * it uses, Debian package fetching, and the guest-to-host results channel.
 *
 * @example
 * ```ts
 * import { buildInitramfs, ensureKernel } from "./src/vm/mod.ts";
 *
 * const kernel = await ensureKernel();
 * const initrd = await buildInitramfs({
 *   kernel,
 *   disks: [{ device: "/dev/vda", mountpoint: "/mnt/data" }],
 *   workload: "echo hi >/mnt/data/hi && sync /mnt/data/hi && report ack 1",
 * });
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
  GUEST_MODULES,
  type GuestDisk,
  type GuestFile,
  type InitPlan,
  type Initramfs,
  type InitramfsOptions,
  renderInit,
  REPORT_PATH,
  REPORT_SCRIPT,
  validateInitramfsOptions,
  WORKLOAD_PATH,
} from "./initramfs.ts";
export {
  exitCodeOf,
  type ParsedResults,
  parseResultLines,
  type ResultKind,
  type ResultLine,
  RESULTS_DEVICE,
} from "./results.ts";
