/**
 * What a saved guest state is keyed by: QEMU's whole argument list (src/vm/qemu_args.ts),
 * so that a state is started only by a QEMU of the machine it was saved from. A state
 * saved under TCG does not load under KVM, nor under another CPU model, and an argument
 * that comes into the list later (a guest clock, a seeded random source) is in the key by
 * itself. The values that differ between a save and its starts by design are set to
 * placeholders first, each named here with why ({@link NOT_STATE_INPUTS}); nothing else is
 * left out.
 *
 * @module
 */

import { sha256Bytes } from "../util/hash.ts";
import { qemuArgs, type VmDisk, type VmSpec } from "./qemu_args.ts";

/** The values of a {@link VmSpec} that a start of a saved state may change, with why. */
export const NOT_STATE_INPUTS = {
  qmpSocket: "each QEMU process listens on a QMP socket of its own",
  memoryFile:
    "the save maps the memory file shared to fill it, each start privately (copy-on-write)",
  incoming: "the save boots; a start waits for the state",
  "disks[].uri":
    "what a start changes: a check's disks are the crash state's exports, where the save had placeholders of the same size",
  "disks[].geometry":
    "told to a resumed run so that QEMU reads no sector of its own: the geometry it guesses at the save",
  "results.uri": "each boot has its own results channel",
  control: "each boot's control channel has its own socket",
  "network.socket": "each run's switch has its own sockets",
} as const;

/** A placeholder for a value that may differ. */
const ANY = "*";

/** A spec with {@link NOT_STATE_INPUTS} set to placeholders. */
function canonicalSpec(spec: VmSpec): VmSpec {
  const disk = (d: VmDisk): VmDisk => ({ name: d.name, uri: ANY });
  return {
    ...spec,
    qmpSocket: ANY,
    memoryFile: { path: ANY, share: false },
    incoming: true,
    disks: spec.disks.map(disk),
    results: disk(spec.results),
    ...(spec.control !== undefined ? { control: ANY } : {}),
    ...(spec.network ? { network: { ...spec.network, socket: ANY } } : {}),
  };
}

/**
 * The argument list a saved state is keyed by: QEMU's, with the values that may differ
 * between a save and a start as placeholders.
 *
 * @example
 * ```ts
 * stateArgs(spec).includes("-accel"); // true
 * ```
 */
export function stateArgs(spec: VmSpec): string[] {
  return qemuArgs(canonicalSpec(spec));
}

/**
 * The key of a saved state: the SHA-256 of {@link stateArgs}.
 *
 * @example
 * ```ts
 * stateKey(saveSpec) === stateKey(startSpec); // the start can load the state
 * ```
 */
export function stateKey(spec: VmSpec): string {
  return sha256Bytes(new TextEncoder().encode(JSON.stringify(stateArgs(spec))));
}

/**
 * Where two argument lists first differ, in words, or null when they are the same.
 *
 * @example
 * ```ts
 * firstDifference(["-accel", "tcg"], ["-accel", "kvm"]); // 'argument 2: "tcg" against "kvm"'
 * ```
 */
export function firstDifference(saved: readonly string[], now: readonly string[]): string | null {
  for (let i = 0; i < Math.max(saved.length, now.length); i++) {
    if (saved[i] !== now[i]) {
      const word = (arg: string | undefined) => arg === undefined ? "nothing" : JSON.stringify(arg);
      return `argument ${i + 1}: ${word(saved[i])} against ${word(now[i])}`;
    }
  }
  return null;
}
