import assert from "node:assert/strict";
import type { VmSpec } from "./qemu_args.ts";
import { startFromState } from "./snapshot.ts";
import { firstDifference, stateArgs, stateKey } from "./state_key.ts";
import { VmError } from "./launcher.ts";

/** A check guest as a sweep saves it: placeholder disks, the memory shared into a file. */
const SAVED: VmSpec = {
  kernel: "/k",
  initrd: "/i",
  accel: { accel: "tcg", cpu: "qemu64" },
  phase: "check",
  memoryBytes: 256 * 1024 * 1024,
  disks: [{ name: "data", uri: "null:33554432" }],
  results: { name: "faultline-results", uri: "null:8388608" },
  qmpSocket: "/tmp/save/state-0.qmp",
  rtcBase: "2026-01-01T00:00:00",
  hold: "disks",
  memoryFile: { path: "/dev/shm/x/state-0.memory", share: true },
};

/** A check started from it: the crash state's exports, its own QMP, the memory private. */
const STARTED: VmSpec = {
  ...SAVED,
  disks: [{
    name: "data",
    uri: "nbd+unix:///app-data?socket=/tmp/run/nbd.sock",
    geometry: { cyls: 65, heads: 16, secs: 63 },
  }],
  results: { name: "faultline-results", uri: "nbd+unix:///results?socket=/tmp/run/r.sock" },
  qmpSocket: "/tmp/run/app-check-1.qmp",
  memoryFile: { path: "/dev/shm/x/state-0.memory", share: false },
  incoming: true,
};

Deno.test("state key: a start that changes only what a start changes (disks' exports, sockets, memory mapping) has the save's key", () => {
  assert.equal(stateKey(STARTED), stateKey(SAVED));
  assert.match(stateKey(SAVED), /^[0-9a-f]{64}$/);
});

Deno.test("state key: the accelerator, the CPU model, and any other argument move it", () => {
  const kvm = { ...STARTED, accel: { accel: "kvm" as const, cpu: "qemu64" } };
  assert.notEqual(stateKey(kvm), stateKey(SAVED));
  assert.equal(
    firstDifference(stateArgs(SAVED), stateArgs(kvm)),
    `argument ${stateArgs(SAVED).indexOf("tcg") + 1}: "tcg" against "kvm"`,
  );
  assert.notEqual(stateKey({ ...STARTED, accel: { accel: "tcg", cpu: "max" } }), stateKey(SAVED));
  assert.notEqual(stateKey({ ...STARTED, memoryBytes: 512 * 1024 * 1024 }), stateKey(SAVED));
  assert.notEqual(stateKey({ ...STARTED, rtcBase: "2026-01-01T00:00:05" }), stateKey(SAVED));
  assert.notEqual(
    stateKey({ ...STARTED, disks: [{ name: "wal", uri: "null:33554432" }] }),
    stateKey(SAVED),
  );
  assert.equal(firstDifference(["a"], ["a"]), null);
  assert.equal(firstDifference(["a"], ["a", "b"]), 'argument 2: nothing against "b"');
});

Deno.test("state key: the guest's seed and clock are in it (a saved guest has its rng device and its clock)", () => {
  const seeded = { ...SAVED, seed: 7 };
  assert.notEqual(stateKey(seeded), stateKey(SAVED));
  assert.equal(stateKey({ ...STARTED, seed: 7 }), stateKey(seeded));
  assert.notEqual(stateKey({ ...STARTED, seed: 8 }), stateKey(seeded));
  const icount = { mode: "icount", shift: 4, sleep: true, align: false } as const;
  assert.notEqual(stateKey({ ...STARTED, clock: icount }), stateKey(SAVED));
  assert.equal(stateKey({ ...STARTED, clock: icount }), stateKey({ ...SAVED, clock: icount }));
  assert.notEqual(
    stateKey({ ...STARTED, clock: { ...icount, shift: 5 } }),
    stateKey({ ...SAVED, clock: icount }),
  );
});

Deno.test("state key: a state saved under TCG is refused by a start under KVM, before QEMU starts", async () => {
  const state = {
    hold: "disks" as const,
    phase: "check",
    memory: "/nonexistent/state.memory",
    devices: "/nonexistent/state.devices",
    id: "a".repeat(64),
    key: stateKey(SAVED),
    args: stateArgs(SAVED),
    bootMs: 0,
    saveMs: 0,
  };
  const { hold: _, memoryFile: __, ...spec } = STARTED;
  await assert.rejects(
    () =>
      startFromState({ ...spec, accel: { accel: "kvm", cpu: "qemu64" } }, state, {
        consoleLog: "/nonexistent/console",
      }),
    (error) =>
      error instanceof VmError &&
      /saved from another machine than this start's \(argument \d+: "tcg" against "kvm"\)/
        .test(error.message),
  );
});
