import assert from "node:assert/strict";
import { normalizeScenario } from "../scenario/load.ts";
import type { HeaderRecord } from "../trace/schema.ts";
import { RunError } from "./errors.ts";
import { chooseAccel, type KvmProbe } from "../vm/accel.ts";
import { guestSeed, pinGuests, pinnedBoot, pinningOfTrace, settleClock } from "./pinning.ts";

const ICOUNT = { mode: "icount", shift: 4, sleep: true, align: false } as const;

function header(fields: Record<string, unknown>): HeaderRecord {
  return { record: "header", seed: 0, faults: [], disks: [], ...fields } as unknown as HeaderRecord;
}

Deno.test("guest seeds: the same seed and node give the same seed; another node or plan seed another", () => {
  assert.equal(guestSeed(0, "e1"), guestSeed(0, "e1"));
  const seeds = new Set(
    [0, 1, 2 ** 32 - 1].flatMap((seed) => ["e1", "e2", "e3", "e10"].map((n) => guestSeed(seed, n))),
  );
  assert.equal(seeds.size, 12, "every (seed, node) its own");
  for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
});

Deno.test("guest pinning: every node of a scenario seeded from the plan's seed, on the host's clock by default", async () => {
  const scenario = await normalizeScenario(
    {
      name: "two",
      nodes: { a: { disks: {}, workload: "true" }, b: { disks: {}, workload: "true" } },
    },
    { source: "two.json", baseDir: "/tmp" },
  );
  const pinning = pinGuests(scenario, 7);
  assert.deepEqual(pinning, {
    clock: { mode: "host" },
    seeds: { a: guestSeed(7, "a"), b: guestSeed(7, "b") },
  });
  assert.deepEqual(pinGuests(scenario, 7, ICOUNT).clock, ICOUNT);
  assert.deepEqual(pinnedBoot(pinning, "a"), { clock: { mode: "host" }, seed: guestSeed(7, "a") });
  assert.deepEqual(pinnedBoot({ ...pinning, seeds: {} }, "a"), { clock: { mode: "host" } });
});

Deno.test("guest pinning of a trace: its header's clock and seeds; a trace without them, the host's clock and no seeds", () => {
  assert.deepEqual(
    pinningOfTrace(header({
      clock: ICOUNT,
      guests: { e1: { initramfs: "x", seed: 5 }, e2: { initramfs: "y", seed: 0 } },
    })),
    { clock: ICOUNT, seeds: { e1: 5, e2: 0 } },
  );
  assert.deepEqual(
    pinningOfTrace(header({ guests: { app: { initramfs: "x" } } })),
    { clock: { mode: "host" }, seeds: {} },
  );
});

Deno.test("guest pinning of a trace: a clock or a seed that is not one is refused as a usage error, naming it", () => {
  for (
    const [fields, words] of [
      [{ clock: { mode: "tsc" } }, /guest clock faultline does not know: \{"mode":"tsc"\}/],
      [{ guests: { e1: { seed: -1 } } }, /seed for node e1 that is not one: -1/],
      [{ guests: { e1: { seed: "5" } } }, /seed for node e1 that is not one: "5"/],
    ] as const
  ) {
    assert.throws(() => pinningOfTrace(header(fields)), (error: unknown) => {
      assert.ok(error instanceof RunError);
      assert.equal(error.kind, "usage");
      assert.match(error.message, words);
      return true;
    });
  }
});

const KVM_USABLE: KvmProbe = { usable: true, device: "/dev/kvm" };

Deno.test("settled clock: icount stays under TCG (icount: true), falls to the host's clock under an auto KVM (icount: false), and is a usage error under an asked-for KVM", () => {
  const icount = { clock: ICOUNT, seeds: { e1: 5 } };
  const tcg = settleClock(icount, chooseAccel("tcg", KVM_USABLE));
  assert.deepEqual(tcg.pinning, icount);
  assert.equal(tcg.accel.icount, true);
  const auto = settleClock(icount, chooseAccel("auto", KVM_USABLE));
  assert.deepEqual(auto.pinning, { clock: { mode: "host" }, seeds: { e1: 5 } });
  assert.equal(auto.accel.accel, "kvm");
  assert.equal(auto.accel.icount, false);
  const host = { clock: { mode: "host" } as const, seeds: {} };
  const kvm = chooseAccel("kvm", KVM_USABLE);
  assert.deepEqual(settleClock(host, kvm), { pinning: host, accel: kvm });
  assert.throws(() => settleClock(icount, kvm), (error: unknown) => {
    assert.ok(error instanceof RunError);
    assert.equal(error.kind, "usage");
    assert.equal(
      error.message,
      "--accel kvm: the guests' clock is icount:shift=4, which counts TCG's instructions, and KVM has no icount: run with --accel tcg",
    );
    return true;
  });
});
