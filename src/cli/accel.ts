/**
 * `--accel kvm|tcg|auto`, wherever a VM boots (record, replay, sweep, ci, demo): read
 * once, the KVM device probed once, and each scenario's accelerator chosen from the flag,
 * else the scenario's own `accel`, else `auto` (src/vm/accel.ts).
 *
 * @module
 */

import type { Scenario } from "../scenario/schema.ts";
import { type AccelChoice, chooseAccel, KVM_DEVICE, parseAccel, probeKvm } from "../vm/accel.ts";

/** The variable that names another KVM device than /dev/kvm (a test's fake, a device elsewhere). */
export const KVM_DEVICE_ENV = "FAULTLINE_KVM_DEVICE";

/** What `--accel` help says. */
export const ACCEL_HELP =
  "the accelerator: kvm, tcg, or auto (KVM when /dev/kvm opens read-write; the default, unless the scenario sets accel)";

/**
 * Chooses each scenario's accelerator: the flag when given, else the scenario's `accel`,
 * else `auto`. The device is probed once, here.
 *
 * @throws {VmError} (exit 2) for an unknown accelerator, or `--accel kvm` without a
 *   usable device; (exit 3) when the device exists and fails to open.
 * @example
 * ```ts
 * const accelOf = await accelChooser(options.accel);
 * const accel = accelOf(scenario); // { accel: "kvm", why: "/dev/kvm is usable", ... }
 * ```
 */
export async function accelChooser(
  flag: string | undefined,
): Promise<(scenario: Scenario) => AccelChoice> {
  const requested = flag === undefined ? undefined : parseAccel(flag);
  const probe = await probeKvm(Deno.env.get(KVM_DEVICE_ENV) || KVM_DEVICE);
  // An explicit flag is checked at once, before anything is prepared.
  if (requested !== undefined) chooseAccel(requested, probe);
  return (scenario) => {
    if (requested !== undefined) return chooseAccel(requested, probe);
    if (scenario.accel === undefined) return chooseAccel("auto", probe);
    return chooseAccel(scenario.accel, probe, {
      by: `${scenario.source} sets accel: ${scenario.accel}`,
    });
  };
}

/**
 * The accelerator in one phrase, for a run's summary line: `kvm (/dev/kvm is usable)`.
 *
 * @example
 * ```ts
 * describeAccel({ accel: "tcg", requested: "auto", cpu: "qemu64", why: "/dev/kvm is missing" });
 * // "tcg (/dev/kvm is missing)"
 * ```
 */
export function describeAccel(choice: AccelChoice): string {
  return `${choice.accel} (${choice.why})`;
}
