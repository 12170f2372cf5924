/**
 * What a run pins of its guests besides their images: each node's seed (QEMU's `-seed`
 * and the virtio-rng it feeds, src/vm/qemu_args.ts), drawn from the plan's seed and the
 * node's name, and the guests' clock (src/vm/guest_clock.ts). A recording's are in its
 * trace's header (`clock`, and `seed` in each node's `guests` entry); a replay boots with
 * the recording's, whatever its own `--seed`, so that its guests start as the recording's
 * did. docs/determinism.md says what they were measured to change.
 *
 * @module
 */

import { seededStream } from "../fault/random.ts";
import type { Scenario } from "../scenario/schema.ts";
import type { HeaderRecord } from "../trace/schema.ts";
import type { AccelChoice } from "../vm/accel.ts";
import { formatGuestClock, type GuestClock, guestClockOf, HOST_CLOCK } from "../vm/guest_clock.ts";
import { RunError } from "./errors.ts";

/** How a run's guests boot besides their images. */
export interface GuestPinning {
  /** Every guest's clock. */
  clock: GuestClock;
  /**
   * The seed of each node's random source, by node name; a node without one boots unseeded
   * (a replay of a trace recorded before guests had seeds).
   */
  seeds: Readonly<Record<string, number>>;
}

/** The key of guest seeds among the streams drawn from a plan's seed (a fault rule's is its number). */
const GUEST_SEED_KEY = 0x67756573;

/**
 * A node's guest seed: drawn from the plan's seed and the node's name, so that every run
 * with that seed seeds the node alike, and the nodes of a cluster differently.
 *
 * @example
 * ```ts
 * guestSeed(0, "e1") === guestSeed(0, "e1"); // true
 * guestSeed(0, "e1") === guestSeed(0, "e2"); // false
 * ```
 */
export function guestSeed(seed: number, node: string): number {
  return seededStream(seed, GUEST_SEED_KEY, ...[...node].map((c) => c.codePointAt(0)!))();
}

/**
 * The pinning of a run of a scenario with a plan's seed: every node seeded from it.
 *
 * @example
 * ```ts
 * pinGuests(scenario, plan.seed); // { clock: { mode: "host" }, seeds: { e1: ..., e2: ..., e3: ... } }
 * ```
 */
export function pinGuests(
  scenario: Scenario,
  seed: number,
  clock: GuestClock = HOST_CLOCK,
): GuestPinning {
  return {
    clock,
    seeds: Object.fromEntries(
      scenario.nodes.map((node) => [node.name, guestSeed(seed, node.name)]),
    ),
  };
}

/**
 * What one boot of a node takes of a pinning: the guests' clock, and the node's seed if it
 * has one.
 *
 * @example
 * ```ts
 * const spec = { ...guestImages(guest), rtcBase, ...pinnedBoot(pinning, "e1") };
 * ```
 */
export function pinnedBoot(
  pinning: GuestPinning,
  node: string,
): { clock: GuestClock; seed?: number } {
  const seed = pinning.seeds[node];
  return { clock: pinning.clock, ...(seed !== undefined ? { seed } : {}) };
}

/**
 * The pinning a trace was recorded with, from its header: its `clock` (the host's when it
 * has none) and each node's `guests` seed (none when it has none).
 *
 * @throws {RunError} (a usage error) for a clock or a seed the header holds that is not one.
 * @example
 * ```ts
 * const pinning = pinningOfTrace(parent.header); // what the replay's guests boot with
 * ```
 */
export function pinningOfTrace(header: HeaderRecord): GuestPinning {
  const clock = header.clock === undefined ? HOST_CLOCK : guestClockOf(header.clock);
  if (clock === null) {
    throw new RunError(
      `the trace's header has a guest clock faultline does not know: ${
        JSON.stringify(header.clock)
      }`,
      { kind: "usage" },
    );
  }
  const seeds: Record<string, number> = {};
  const guests = (header.guests ?? {}) as Record<string, { seed?: unknown }>;
  for (const [node, guest] of Object.entries(guests)) {
    if (guest.seed === undefined) continue;
    if (!Number.isInteger(guest.seed) || (guest.seed as number) < 0) {
      throw new RunError(
        `the trace's header has a seed for node ${node} that is not one: ${
          JSON.stringify(guest.seed)
        }`,
        { kind: "usage" },
      );
    }
    seeds[node] = guest.seed as number;
  }
  return { clock, seeds };
}

/**
 * A pinning's clock on the run's accelerator. icount counts TCG's instructions and KVM has
 * none: a run that asked for KVM itself (`--accel kvm`, a scenario's `accel: "kvm"`) is
 * refused; one that got KVM from `auto` runs on the host's clock, and its choice says
 * icount is off (`icount: false`, in the trace's header). Under TCG, icount stays
 * (`icount: true`). A pinning on the host's clock changes nothing.
 *
 * @throws {RunError} (a usage error) for an icount clock on an asked-for KVM.
 * @example
 * ```ts
 * settleClock(pinning, accel); // { pinning, accel }: what every boot of the run gets
 * ```
 */
export function settleClock(
  pinning: GuestPinning,
  accel: AccelChoice,
): { pinning: GuestPinning; accel: AccelChoice } {
  if (pinning.clock.mode === "host") return { pinning, accel };
  if (accel.accel === "tcg") return { pinning, accel: { ...accel, icount: true } };
  if (accel.requested === "kvm") {
    throw new RunError(
      `${accel.why}: the guests' clock is ${
        formatGuestClock(pinning.clock)
      }, which counts TCG's instructions, and KVM has no icount: run with --accel tcg`,
      { kind: "usage" },
    );
  }
  return { pinning: { ...pinning, clock: HOST_CLOCK }, accel: { ...accel, icount: false } };
}
