import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import {
  accelOfHeader,
  chooseAccel,
  type KvmProbe,
  kvmProblem,
  parseAccel,
  probeKvm,
  TCG,
} from "./accel.ts";
import { VmError } from "./launcher.ts";

const USABLE: KvmProbe = { usable: true, device: "/dev/kvm" };
const unusable = (problem: "missing" | "denied" | "failed"): KvmProbe => ({
  usable: false,
  device: "/dev/kvm",
  problem,
  detail: "Error: os error",
});

Deno.test("accel: --accel takes kvm, tcg and auto; anything else is a usage error naming it", () => {
  assert.equal(parseAccel("kvm"), "kvm");
  assert.equal(parseAccel("tcg"), "tcg");
  assert.equal(parseAccel("auto"), "auto");
  assert.throws(
    () => parseAccel("hvf"),
    (error) =>
      error instanceof VmError && error.kind === "usage" &&
      error.message === '--accel "hvf": expected auto, kvm, tcg',
  );
});

Deno.test("accel: the probe opens a fake device read-write: a file is usable, a missing path missing, a directory fails", async () => {
  await using dir = await makePrivateDir("faultline-accel-test-");
  const device = join(dir.path, "kvm");
  const missing = await probeKvm(device);
  assert.equal(!missing.usable && missing.problem, "missing");
  await Deno.writeFile(device, new Uint8Array());
  assert.deepEqual(await probeKvm(device, { modules: join(dir.path, "none") }), {
    usable: true,
    device,
  });
  const probe = await probeKvm(dir.path);
  assert.equal(probe.usable, false);
  assert.equal(!probe.usable && probe.problem, "failed");
  // Root opens a file of mode 0400 for writing: only another user sees it denied.
  if (Deno.uid() !== 0) {
    await Deno.chmod(device, 0o400);
    const denied = await probeKvm(device);
    assert.equal(!denied.usable && denied.problem, "denied");
  }
  assert.equal(kvmProblem(new Deno.errors.PermissionDenied("EACCES")), "denied");
  assert.equal(kvmProblem(new Deno.errors.NotFound("ENOENT")), "missing");
  assert.equal(kvmProblem(new Error("ENXIO")), "failed");
});

Deno.test("accel: a device whose only KVM is kvm_pvm (it runs only guests built for PVM) exists and fails; kvm_amd or kvm_intel beside it is usable", async () => {
  await using dir = await makePrivateDir("faultline-accel-test-");
  const device = join(dir.path, "kvm");
  await Deno.writeFile(device, new Uint8Array());
  const modules = join(dir.path, "module");
  await Deno.mkdir(join(modules, "kvm"), { recursive: true });
  assert.equal((await probeKvm(device, { modules })).usable, true);
  await Deno.mkdir(join(modules, "kvm_pvm"));
  const pvm = await probeKvm(device, { modules });
  assert.equal(!pvm.usable && pvm.problem, "failed");
  assert.match(
    !pvm.usable ? pvm.detail : "",
    /kvm_pvm, which runs only guest kernels built for PVM/,
  );
  assert.equal(chooseAccel("auto", pvm).accel, "tcg");
  assert.equal(
    chooseAccel("auto", pvm).why,
    `${device} is unusable: its KVM is kvm_pvm, which runs only guest kernels built for PVM`,
  );
  await Deno.mkdir(join(modules, "kvm_amd"));
  assert.deepEqual(await probeKvm(device, { modules }), { usable: true, device });
});

Deno.test("accel: auto takes KVM when the device is usable, TCG otherwise, and says why", () => {
  assert.deepEqual(chooseAccel("auto", USABLE), {
    accel: "kvm",
    requested: "auto",
    cpu: "qemu64",
    why: "/dev/kvm is usable",
  });
  assert.deepEqual(chooseAccel("auto", unusable("missing")), {
    accel: "tcg",
    requested: "auto",
    cpu: "qemu64",
    why: "/dev/kvm is missing",
  });
  assert.equal(
    chooseAccel("auto", unusable("failed")).why,
    "/dev/kvm is unusable: Error: os error",
  );
  assert.deepEqual(chooseAccel("tcg", USABLE), {
    accel: "tcg",
    requested: "tcg",
    cpu: "qemu64",
    why: "--accel tcg",
  });
  assert.equal(
    chooseAccel("tcg", USABLE, { by: "the scenario's accel" }).why,
    "the scenario's accel",
  );
  assert.equal(chooseAccel("kvm", USABLE).accel, "kvm");
});

Deno.test("accel: --accel kvm without a usable device: exit 2 saying what to do (the module, the group), 3 when the device fails", () => {
  const fails = (probe: KvmProbe, kind: string, pattern: RegExp) =>
    assert.throws(
      () => chooseAccel("kvm", probe),
      (error) =>
        error instanceof VmError && error.kind === kind && pattern.test(error.message) &&
        !error.message.includes("\n") && /--accel tcg/.test(error.message),
    );
  fails(unusable("missing"), "usage", /\/dev\/kvm is missing: .*modprobe kvm_intel, or kvm_amd/);
  fails(unusable("denied"), "usage", /not writable by this user: join the kvm group/);
  fails(unusable("failed"), "machinery", /exists but is unusable/);
  assert.throws(
    () => chooseAccel("kvm", unusable("missing"), { by: "x.ts asks for accel kvm" }),
    (error) => (error as Error).message.startsWith("x.ts asks for accel kvm: /dev/kvm is missing"),
  );
});

Deno.test("accel: a trace's header: absent is TCG (every boot was then), a bad value null", () => {
  assert.equal(accelOfHeader(undefined)?.accel, TCG.accel);
  assert.equal(accelOfHeader(undefined)?.cpu, TCG.cpu);
  const kvm = chooseAccel("auto", USABLE);
  assert.deepEqual(accelOfHeader(structuredClone(kvm)), kvm);
  assert.equal(accelOfHeader({ accel: "hvf", cpu: "qemu64", why: "", requested: "auto" }), null);
  assert.equal(accelOfHeader("kvm"), null);
});
