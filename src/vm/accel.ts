/**
 * The accelerator a guest runs on: KVM when the host's `/dev/kvm` is usable, QEMU's TCG
 * otherwise. `--accel kvm|tcg|auto` (and a scenario's `accel`) ask for one; the choice is
 * made once, at the edge, into an {@link AccelChoice} that every boot of the run carries
 * into its QEMU arguments (src/vm/qemu_args.ts) and the trace's header records.
 *
 * The CPU model is `qemu64` under both: the model QEMU 7.2 gives a q35 machine when none
 * is named, and one KVM can run on any x86-64 host, so a guest sees the same CPU features
 * whichever accelerator runs it (KVM drops those the host lacks, and QEMU warns of them).
 * A guest state saved under one accelerator is not loaded under another: saved states
 * are keyed by the whole QEMU argument list (src/vm/snapshot.ts), accelerator included.
 *
 * KVM and QEMU's `-icount` (a guest clock of counted instructions, TCG only) exclude each
 * other: a run that would use icount and gets KVM from `auto` runs on the host's clock, and
 * the choice says so ({@link AccelChoice.icount}); one that asked for KVM is refused
 * (src/run/pinning.ts `settleClock`).
 *
 * @module
 */

import { VmError } from "./launcher.ts";

/** An accelerator QEMU runs the guest on. */
export type Accelerator = "kvm" | "tcg";

/** What `--accel` (or a scenario's `accel`) asks for: one accelerator, or KVM when usable. */
export type AccelRequest = Accelerator | "auto";

/** The KVM device QEMU opens. */
export const KVM_DEVICE = "/dev/kvm";

/** The CPU model of every guest: runs under TCG and KVM alike (see the module's comment). */
export const CPU_MODEL = "qemu64";

/** The accelerators `--accel` takes. */
export const ACCEL_REQUESTS: readonly AccelRequest[] = ["auto", "kvm", "tcg"];

/**
 * Reads `--accel`'s value.
 *
 * @throws {VmError} (usage) naming the value and the accelerators there are.
 * @example
 * ```ts
 * parseAccel("kvm"); // "kvm"
 * ```
 */
export function parseAccel(text: string): AccelRequest {
  if ((ACCEL_REQUESTS as readonly string[]).includes(text)) return text as AccelRequest;
  throw new VmError(
    `--accel ${JSON.stringify(text)}: expected ${ACCEL_REQUESTS.join(", ")}`,
    { kind: "usage" },
  );
}

/** Whether the KVM device can be used, and if not, why. */
export type KvmProbe =
  | { usable: true; device: string }
  | {
    usable: false;
    device: string;
    /** `missing`: no such device; `denied`: not readable and writable by this user; `failed`: it exists but does not open. */
    problem: "missing" | "denied" | "failed";
    /** The error the open gave. */
    detail: string;
  };

/** Where the kernel lists its loaded modules. */
export const MODULES_DIR = "/sys/module";

/**
 * Opens the KVM device for reading and writing, as QEMU does, and closes it; then looks
 * at which KVM the kernel runs (`modules`, /sys/module): a kernel whose only KVM is
 * `kvm_pvm` (PVM, nested virtualization without the CPU's, as some cloud sandboxes have)
 * opens the device and creates VMs, but runs only guest kernels built for PVM: a Debian
 * kernel hangs before its first line. Such a device exists and fails. A host without
 * /sys/module is taken at the open's word.
 *
 * @example
 * ```ts
 * const probe = await probeKvm(); // { usable: true, device: "/dev/kvm" } on a KVM host
 * ```
 */
export async function probeKvm(
  device: string = KVM_DEVICE,
  options: { modules?: string } = {},
): Promise<KvmProbe> {
  try {
    const file = await Deno.open(device, { read: true, write: true });
    file.close();
  } catch (error) {
    return { usable: false, device, problem: kvmProblem(error), detail: String(error) };
  }
  const modules = options.modules ?? MODULES_DIR;
  const loaded = async (name: string) =>
    await Deno.stat(`${modules}/${name}`).then(() => true, () => false);
  const hardware = await loaded("kvm_intel") || await loaded("kvm_amd");
  if (!hardware && await loaded("kvm_pvm")) {
    return {
      usable: false,
      device,
      problem: "failed",
      detail: "its KVM is kvm_pvm, which runs only guest kernels built for PVM",
    };
  }
  return { usable: true, device };
}

/** What an error of opening the KVM device means. */
export function kvmProblem(error: unknown): "missing" | "denied" | "failed" {
  if (error instanceof Deno.errors.NotFound) return "missing";
  if (error instanceof Deno.errors.PermissionDenied) return "denied";
  return "failed";
}

/** The accelerator a run uses, what was asked, and why. */
export interface AccelChoice {
  /** The accelerator every boot of the run gets. */
  accel: Accelerator;
  /** What was asked for. */
  requested: AccelRequest;
  /** The CPU model every boot gets. */
  cpu: string;
  /** Why this one, in words: `/dev/kvm is usable`, `/dev/kvm is missing`, `--accel tcg`. */
  why: string;
  /**
   * Whether the run's guest clock may count instructions (`-icount`): false under KVM,
   * which has no icount. Absent when the run asked for no icount.
   */
  icount?: boolean;
}

/**
 * The accelerator for a request, given what the KVM probe found: `auto` takes KVM when
 * usable, TCG otherwise; `kvm` insists. `by` names who asked (`--accel kvm` by default; a
 * scenario's `accel`), in the reason and the error. Whether the run's clock may count
 * instructions is settled afterwards, from this choice (src/run/pinning.ts `settleClock`).
 *
 * @throws {VmError} when `kvm` is asked for and the device is missing or not writable
 *   (usage: what to do, in one line) or exists and fails to open (machinery).
 * @example
 * ```ts
 * chooseAccel("auto", { usable: false, device: "/dev/kvm", problem: "missing", detail: "" });
 * // { accel: "tcg", requested: "auto", cpu: "qemu64", why: "/dev/kvm is missing" }
 * ```
 */
export function chooseAccel(
  requested: AccelRequest,
  probe: KvmProbe,
  options: { by?: string } = {},
): AccelChoice {
  const by = options.by ?? `--accel ${requested}`;
  if (requested === "kvm" && !probe.usable) throw kvmUnusable(probe, by);
  const kvm = requested === "kvm" || (requested === "auto" && probe.usable);
  const why = requested !== "auto"
    ? by
    : probe.usable
    ? `${probe.device} is usable`
    : probe.problem === "failed"
    ? `${probe.device} is unusable: ${probe.detail}`
    : `${probe.device} is ${probe.problem}`;
  return {
    accel: kvm ? "kvm" : "tcg",
    requested,
    cpu: CPU_MODEL,
    why,
  };
}

/** TCG, as every boot had it before KVM: what a trace without an `accel` was recorded on. */
export const TCG: AccelChoice = {
  accel: "tcg",
  requested: "tcg",
  cpu: CPU_MODEL,
  why: "the default of faultline's library",
};

/** Why `--accel kvm` cannot be had here, with what to do. */
function kvmUnusable(probe: Extract<KvmProbe, { usable: false }>, by: string): VmError {
  const device = probe.device;
  const otherwise = "or run with --accel tcg";
  if (probe.problem === "missing") {
    return new VmError(
      `${by}: ${device} is missing: enable virtualization and load the kvm module (modprobe kvm_intel, or kvm_amd), pass the device to the container (--device ${device}), ${otherwise}`,
      { kind: "usage" },
    );
  }
  if (probe.problem === "denied") {
    return new VmError(
      `${by}: ${device} is not writable by this user: join the kvm group (sudo usermod -aG kvm $USER, then log in again), ${otherwise}`,
      { kind: "usage" },
    );
  }
  return new VmError(
    `${by}: ${device} exists but is unusable (${probe.detail}): check the kvm module (dmesg, lsmod | grep kvm), ${otherwise}`,
  );
}

/**
 * The accelerator a trace's header records (`accel`), or TCG for a trace recorded before
 * it was recorded (every boot was TCG then); null for a value that is not one.
 *
 * @example
 * ```ts
 * accelOfHeader(undefined); // TCG
 * ```
 */
export function accelOfHeader(value: unknown): AccelChoice | null {
  if (value === undefined) return { ...TCG, why: "recorded before traces named it: TCG" };
  if (typeof value !== "object" || value === null) return null;
  const choice = value as Record<string, unknown>;
  const accel = choice.accel;
  if (accel !== "kvm" && accel !== "tcg") return null;
  if (typeof choice.cpu !== "string" || typeof choice.why !== "string") return null;
  if (!(ACCEL_REQUESTS as readonly unknown[]).includes(choice.requested)) return null;
  return value as AccelChoice;
}
