/**
 * The guest's side of a package root (`package_root.ts`): what `/init` does with it and
 * what the initramfs carries for it. The root image is a read-only virtio-blk disk with
 * serial {@linkcode ROOT_DISK_NAME}, attached outside the fault layer (its reads are not
 * ops of the run). `/init` mounts it read-only on {@linkcode SYSROOT}, mounts proc, sysfs,
 * devtmpfs (with devpts and a tmpfs on `/dev/shm`) and tmpfs on `/tmp` and `/run` inside,
 * binds its own `/faultline` (the phase scripts and `report`) and `/run/faultline` (the
 * report's line counter, shared with `/init`'s own reports), and with a network its
 * `/etc/hosts`; the disks are mounted inside at their mountpoints; the phase runs chrooted,
 * by the root's `/bin/sh` (dash), with PATH {@linkcode ROOT_PATH}.
 *
 * In the root, `report` is `/faultline/bin/report`: the same script as the image's, run by
 * the image's busybox with busybox's `dd` and `wc` first on its PATH, so a report behaves
 * the same in both (GNU dd would drop O_DIRECT for the short block a report writes).
 *
 * @module
 */

import { ROOT_DISK_NAME } from "../scenario/guest_rules.ts";
import { shellQuote } from "../util/shell_quote.ts";
import type { CpioEntry } from "./cpio.ts";

export { ROOT_DISK_NAME };

/** Where `/init` mounts the package root. */
export const SYSROOT = "/sysroot";

/** PATH of the phases in a package root: Debian's, then faultline's `report`. */
export const ROOT_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/faultline/bin";

/** The busybox in the root's view (a copy in the image's `/faultline`). */
export const ROOT_BUSYBOX = "/faultline/bin/busybox";

/** The applets the report script runs as commands, linked to {@linkcode ROOT_BUSYBOX}. */
const REPORT_APPLETS = ["[", "cat", "dd", "echo", "printf", "test", "true", "wc"];

/**
 * The report script as the root runs it: `script` (the image's, which starts with
 * `#!/bin/sh`) run by the image's busybox, its applets first on PATH.
 *
 * @example
 * ```ts
 * rootReportScript("#!/bin/sh\necho hi\n"); // "#!/faultline/bin/busybox sh\nPATH=/faultline/applets:$PATH\necho hi\n"
 * ```
 */
export function rootReportScript(script: string): string {
  const shebang = "#!/bin/sh\n";
  if (!script.startsWith(shebang)) throw new Error("the report script must start with #!/bin/sh");
  return `#!${ROOT_BUSYBOX} sh\nPATH=/faultline/applets:$PATH\n${script.slice(shebang.length)}`;
}

/**
 * What the initramfs carries for a package root, under its `/faultline`: a copy of busybox,
 * `report` for the root, and the applets `report` runs.
 *
 * @example
 * ```ts
 * entries.push(...rootImageEntries(busyboxBytes, REPORT_SCRIPT));
 * ```
 */
export function rootImageEntries(busybox: Uint8Array, reportScript: string): CpioEntry[] {
  return [
    { type: "directory", path: "faultline/bin", mode: 0o755 },
    { type: "directory", path: "faultline/applets", mode: 0o755 },
    { type: "file", path: ROOT_BUSYBOX.slice(1), data: busybox, mode: 0o755 },
    {
      type: "file",
      path: "faultline/bin/report",
      data: new TextEncoder().encode(rootReportScript(reportScript)),
      mode: 0o755,
    },
    ...REPORT_APPLETS.map((name): CpioEntry => ({
      type: "symlink",
      path: `faultline/applets/${name}`,
      target: ROOT_BUSYBOX,
    })),
  ];
}

/**
 * The lines of `/init` that mount the package root and the file systems inside it (before
 * the disks are mounted inside, at `${SYSROOT}MOUNTPOINT`).
 *
 * @example
 * ```ts
 * rootMountLines({ network: false })[1]; // "mkdir -p /sysroot"
 * ```
 */
export function rootMountLines(options: { network: boolean }): string[] {
  const r = SYSROOT;
  const lines = [
    "# The package root: read-only; every phase runs chrooted into it.",
    `mkdir -p ${r}`,
    `mount -t ext4 -o ro /dev/disk/${ROOT_DISK_NAME} ${r} || fail ${
      shellQuote(`cannot mount the package root (disk ${ROOT_DISK_NAME})`)
    }`,
    `mount -t proc proc ${r}/proc && mount -t sysfs sysfs ${r}/sys && ` +
    `mount -t devtmpfs devtmpfs ${r}/dev && mount -t tmpfs -o mode=1777 tmpfs ${r}/tmp && ` +
    `mount -t tmpfs -o mode=755 tmpfs ${r}/run || ` +
    `fail 'cannot mount proc, sysfs, devtmpfs and tmpfs in the package root'`,
    `mkdir -p ${r}/dev/pts ${r}/dev/shm ${r}/run/lock ${r}/run/faultline && ` +
    `chmod 1777 ${r}/run/lock && mount -t devpts devpts ${r}/dev/pts && ` +
    `mount -t tmpfs -o mode=1777 tmpfs ${r}/dev/shm || ` +
    `fail 'cannot mount devpts and /dev/shm in the package root'`,
    "ln -sfn /proc/self/fd /dev/fd && ln -sf /proc/self/fd/0 /dev/stdin && " +
    "ln -sf /proc/self/fd/1 /dev/stdout && ln -sf /proc/self/fd/2 /dev/stderr",
    `mount -o bind /faultline ${r}/faultline && mount -o bind /run/faultline ${r}/run/faultline || ` +
    `fail 'cannot bind /faultline into the package root (is it there?)'`,
  ];
  if (options.network) {
    lines.push(
      `mount -o bind /etc/hosts ${r}/etc/hosts || fail 'cannot bind /etc/hosts into the package root'`,
    );
  }
  return lines;
}

/**
 * The line of `/init` that runs the phase in the package root.
 *
 * @example
 * ```ts
 * rootRunLine("/faultline/phase"); // "PATH='...' /bin/busybox chroot /sysroot /bin/sh \"/faultline/phase/$phase\" </dev/null"
 * ```
 */
export function rootRunLine(phaseDir: string): string {
  return `PATH=${
    shellQuote(ROOT_PATH)
  } /bin/busybox chroot ${SYSROOT} /bin/sh "${phaseDir}/$phase" </dev/null`;
}
