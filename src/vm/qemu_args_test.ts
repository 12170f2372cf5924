import assert from "node:assert/strict";
import { qemuArgs, type VmSpec } from "./qemu_args.ts";
import { VmError } from "./launcher.ts";

const SPEC: VmSpec = {
  kernel: "/k",
  accel: { accel: "tcg", cpu: "qemu64" },
  initrd: "/i",
  phase: "run",
  memoryBytes: 256 * 1024 * 1024,
  disks: [],
  results: { name: "faultline-results", uri: "nbd+unix:///r?socket=/s" },
  qmpSocket: "/q",
  rtcBase: "2026-01-01T00:00:00",
};

Deno.test("qemu args: never a default NIC; a node of a cluster joins the switch as a stream client", () => {
  const plain = qemuArgs(SPEC);
  assert.deepEqual(plain.slice(plain.indexOf("-nic"), plain.indexOf("-nic") + 2), ["-nic", "none"]);
  assert.equal(plain.includes("-netdev"), false);
  const args = qemuArgs({
    ...SPEC,
    network: { socket: "/tmp/faultline-net-x/n1.sock", mac: "02:66:6c:29:2c:00" },
  });
  const at = args.indexOf("-netdev");
  assert.deepEqual(args.slice(at, at + 4), [
    "-netdev",
    "stream,id=net0,server=off,addr.type=unix,addr.path=/tmp/faultline-net-x/n1.sock",
    "-device",
    "virtio-net-pci,netdev=net0,mac=02:66:6c:29:2c:00",
  ]);
  const comma = qemuArgs({
    ...SPEC,
    network: { socket: "/tmp/a,b/n1.sock", mac: "02:00:00:00:00:01" },
  });
  assert.ok(comma.includes("stream,id=net0,server=off,addr.type=unix,addr.path=/tmp/a,,b/n1.sock"));
});

Deno.test("qemu args: a package root is a read-only drive from its file, with serial faultline-root, before the results disk", () => {
  assert.equal(qemuArgs(SPEC).some((arg) => arg.includes("faultline-root")), false);
  const args = qemuArgs({ ...SPEC, rootImage: "/cache/roots/a,b.ext4" });
  const at = args.indexOf(
    "file=/cache/roots/a,,b.ext4,format=raw,if=none,id=faultline-root,readonly=on",
  );
  assert.ok(at > 0, args.join(" "));
  assert.equal(args[at + 2], "virtio-blk-pci,drive=faultline-root,serial=faultline-root");
  assert.ok(at < args.findIndex((arg) => arg.includes("serial=faultline-results")));
});

Deno.test("qemu args: a control channel is a virtio-serial port named faultline.control, a client of faultline's socket, after every disk", () => {
  assert.equal(qemuArgs(SPEC).some((arg) => arg.includes("virtserialport")), false);
  const args = qemuArgs({ ...SPEC, control: "/tmp/run,x/n2-run-0.control" });
  const at = args.indexOf("socket,id=control,path=/tmp/run,,x/n2-run-0.control,server=off");
  assert.ok(at > 0, args.join(" "));
  assert.deepEqual(args.slice(at + 1, at + 5), [
    "-device",
    "virtio-serial-pci,id=control-serial",
    "-device",
    "virtserialport,bus=control-serial.0,chardev=control,name=faultline.control",
  ]);
  assert.ok(at > args.findIndex((arg) => arg.includes("serial=faultline-results")));
});

Deno.test("qemu args: a seeded guest gets -seed and a virtio-rng fed by QEMU's builtin backend, last of the devices; none unseeded", () => {
  const plain = qemuArgs(SPEC);
  assert.equal(plain.includes("-seed"), false);
  assert.equal(plain.some((arg) => arg.startsWith("virtio-rng")), false);
  const args = qemuArgs({ ...SPEC, seed: 3_000_000_000, control: "/c" });
  const at = args.indexOf("-seed");
  assert.deepEqual(args.slice(at, at + 6), [
    "-seed",
    "3000000000",
    "-object",
    "rng-builtin,id=rng",
    "-device",
    "virtio-rng-pci,rng=rng",
  ]);
  assert.ok(at > args.indexOf("virtio-serial-pci,id=control-serial"), "after the control channel");
});

Deno.test("qemu args: an icount clock runs on one TCG thread, one -accel still; the host's clock adds nothing; icount under KVM is refused", () => {
  assert.deepEqual(qemuArgs({ ...SPEC, clock: { mode: "host" } }), qemuArgs(SPEC));
  assert.equal(qemuArgs(SPEC).includes("-icount"), false);
  const icount = { mode: "icount", shift: 3, sleep: true, align: true } as const;
  const args = qemuArgs({ ...SPEC, clock: icount });
  assert.equal(args.filter((arg) => arg === "-accel").length, 1);
  assert.deepEqual(args.slice(args.indexOf("-accel"), args.indexOf("-accel") + 2), [
    "-accel",
    "tcg,thread=single",
  ]);
  assert.deepEqual(args.slice(args.indexOf("-icount"), args.indexOf("-icount") + 2), [
    "-icount",
    "shift=3,sleep=on,align=on",
  ]);
  assert.throws(
    () => qemuArgs({ ...SPEC, accel: { accel: "kvm", cpu: "qemu64" }, clock: icount }),
    (error) => error instanceof VmError && /KVM has no icount/.test(error.message),
  );
});

Deno.test("qemu args: the accelerator and the CPU model, once each: -accel kvm or tcg, -cpu qemu64", () => {
  for (const accel of ["kvm", "tcg"] as const) {
    const args = qemuArgs({ ...SPEC, accel: { accel, cpu: "qemu64" } });
    assert.deepEqual(args.filter((arg) => arg === "-accel" || arg === "-cpu").length, 2);
    assert.deepEqual(args.slice(args.indexOf("-accel"), args.indexOf("-accel") + 2), [
      "-accel",
      accel,
    ]);
    assert.deepEqual(args.slice(args.indexOf("-cpu"), args.indexOf("-cpu") + 2), [
      "-cpu",
      "qemu64",
    ]);
  }
});
