import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../util/cache_dir.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { GuestImageError } from "./guest_image_error.ts";
import {
  buildInitramfs,
  GUEST_MODULES,
  type InitramfsOptions,
  renderInit,
  REPORT_SCRIPT,
  validateInitramfsOptions,
} from "./initramfs.ts";
import { ensureBusybox, ensureKernel } from "./kernel.ts";

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; input?: Uint8Array; env?: Record<string, string> } = {},
) {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.input) {
    const writer = child.stdin.getWriter();
    await writer.write(options.input);
    await writer.close();
  }
  const output = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

function rejectsUsage(options: unknown, pattern: RegExp) {
  assert.throws(
    () => validateInitramfsOptions(options as InitramfsOptions),
    (e: unknown) => e instanceof GuestImageError && e.usage && pattern.test(e.message),
    String(pattern),
  );
}

Deno.test("initramfs: options are validated with the field, the expectation and the value", () => {
  validateInitramfsOptions({});
  validateInitramfsOptions({
    disks: [{ device: "/dev/vda", mountpoint: "/mnt/data", fstype: "ext4", options: "barrier=0" }],
    files: [{ hostPath: "/etc/hostname", guestPath: "/etc/hostname", mode: 0o600 }],
    programs: ["/usr/bin/sqlite3"],
    env: { NODE_ID: "1" },
    workload: "report ack 1",
    deviceTimeoutSeconds: 5,
  });
  rejectsUsage(
    { disks: [{ device: "vda", mountpoint: "/mnt" }] },
    /disks\[0\]\.device: expected a device path under \/dev\/, found "vda"/,
  );
  rejectsUsage(
    { disks: [{ device: "/dev/vda", mountpoint: "mnt" }] },
    /disks\[0\]\.mountpoint: expected an absolute guest path/,
  );
  rejectsUsage(
    { disks: [{ device: "/dev/vda", mountpoint: "/proc/x" }] },
    /disks\[0\]\.mountpoint/,
  );
  rejectsUsage({ disks: [{ device: "/dev/vda", mountpoint: "/mnt/a b" }] }, /without spaces/);
  rejectsUsage(
    {
      disks: [{ device: "/dev/vda", mountpoint: "/m" }, { device: "/dev/vdb", mountpoint: "/m/" }],
    },
    /disks\[1\]\.mountpoint: expected a mountpoint used once/,
  );
  rejectsUsage(
    { disks: [{ device: "/dev/vda", mountpoint: "/m", options: "a b" }] },
    /disks\[0\]\.options/,
  );
  rejectsUsage({ disks: [{ device: "/dev/vda", mountpoint: "/m", fstype: "EXT4;" }] }, /fstype/);
  rejectsUsage({ disks: [{ device: "/dev/vda", mountpoint: "/m", size: 1 }] }, /disks\[0\]\.size/);
  rejectsUsage(
    { files: [{ hostPath: "/etc/hostname", guestPath: "/init" }] },
    /files\[0\]\.guestPath/,
  );
  rejectsUsage(
    { files: [{ hostPath: "/etc/hostname", guestPath: "/bin/../x" }] },
    /files\[0\]\.guestPath/,
  );
  rejectsUsage({ programs: ["sqlite3"] }, /programs\[0\]: expected an absolute guest path/);
  rejectsUsage({ env: { "A-B": "1" } }, /env: expected variable names/);
  rejectsUsage({ workload: 3 }, /workload: expected a shell script/);
  rejectsUsage({ modules: ["virtio blk"] }, /modules\[0\]/);
  rejectsUsage({ deviceTimeoutSeconds: 0 }, /deviceTimeoutSeconds/);
  rejectsUsage({ disk: [] }, /initramfs option disk: expected one of/);
});

Deno.test("initramfs: /init quotes every value and is valid shell", async () => {
  const init = renderInit({
    modulePaths: ["/lib/modules/k/virtio_blk.ko"],
    disks: [{ device: "/dev/vda", mountpoint: "/mnt/data", options: "barrier=0" }],
    env: { B: "it's $HOME `x`", A: "1" },
    libraryDirs: ["/lib/x86_64-linux-gnu"],
    deviceTimeoutSeconds: 2,
  });
  assert.ok(init.startsWith("#!/bin/busybox sh\n"));
  assert.match(init, /^insmod '\/lib\/modules\/k\/virtio_blk\.ko' \|\| fail /m);
  assert.match(init, /mount -t 'ext4' -o 'barrier=0' '\/dev\/vda' '\/mnt\/data'/);
  assert.match(init, /\[ "\$i" -gt 20 \]/);
  assert.match(init, /^export A='1'\nexport B='it'\\''s \$HOME `x`'$/m);
  assert.match(init, /^export LD_LIBRARY_PATH='\/lib\/x86_64-linux-gnu'$/m);
  const tail = init.slice(init.indexOf("report phase workload"));
  assert.equal(
    tail,
    "report phase workload\n/bin/sh /faultline/workload </dev/null\ncode=$?\n" +
      'report exit "$code"\nsync\npoweroff -f\nexit 1\n',
  );
  await using dir = await makePrivateDir("faultline-init-test-");
  await Deno.writeTextFile(join(dir.path, "init"), init);
  const check = await run(busybox.path, ["sh", "-n", join(dir.path, "init")]);
  assert.equal(check.code, 0, check.stderr);
});

Deno.test("initramfs: report writes one line to the results channel", async () => {
  await using dir = await makePrivateDir("faultline-report-test-");
  const script = join(dir.path, "report");
  const results = join(dir.path, "results");
  await Deno.writeTextFile(script, REPORT_SCRIPT);
  const env = { FAULTLINE_RESULTS: results };
  let r = await run(busybox.path, ["sh", script, "ack", "17"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(results), "ack 17\n");
  r = await run(busybox.path, ["sh", script, "have", "a\nb"], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /must not contain a newline/);
  r = await run(busybox.path, ["sh", script], { env });
  assert.equal(r.code, 2);
});

const workload = "echo 'hello' >/mnt/data/hello.txt\nsync /mnt/data/hello.txt\nreport ack 1\n";

Deno.test("initramfs: building twice gives the same bytes; other inputs, other bytes", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const options: InitramfsOptions = {
    kernel,
    busybox,
    disks: [{ device: "/dev/vda", mountpoint: "/mnt/data" }],
    workload,
    programs: ["/usr/bin/sqlite3"],
    files: [{ hostPath: "/etc/os-release", guestPath: "/etc/os-release" }],
  };
  const first = await buildInitramfs({ ...options, cacheRoot: join(dir.path, "a") });
  const second = await buildInitramfs({ ...options, cacheRoot: join(dir.path, "b") });
  assert.equal(first.sha256, second.sha256);
  assert.equal(first.path, join(dir.path, "a", "initramfs", `${first.sha256}.cpio`));
  assert.equal(await sha256File(first.path), first.sha256);
  assert.deepEqual(await Deno.readFile(first.path), await Deno.readFile(second.path));
  const again = await buildInitramfs({ ...options, cacheRoot: join(dir.path, "a") });
  assert.deepEqual(again, first);
  const other = await buildInitramfs({
    ...options,
    workload: `${workload}exit 3\n`,
    cacheRoot: join(dir.path, "a"),
  });
  assert.notEqual(other.sha256, first.sha256);
  assert.deepEqual(first.modules, [...GUEST_MODULES]);
});

Deno.test("initramfs: the archive holds busybox, modules, init, workload and the programs", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const built = await buildInitramfs({
    kernel,
    busybox,
    cacheRoot: dir.path,
    disks: [{ device: "/dev/vda", mountpoint: "/mnt/data" }],
    workload,
    programs: ["/usr/bin/sqlite3"],
    modules: ["virtio_blk", "virtio_console"],
  });
  const archive = await Deno.readFile(built.path);
  const listing = await run(busybox.path, ["cpio", "-t"], { input: archive });
  assert.equal(listing.code, 0, listing.stderr);
  const names = listing.stdout.trim().split("\n");
  assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  for (
    const name of [
      "bin/busybox",
      "bin/sh",
      "bin/report",
      "dev/console",
      "init",
      "faultline/workload",
      "mnt/data",
      "proc",
      "sys",
      `lib/modules/${kernel.version}/virtio_blk.ko`,
      `lib/modules/${kernel.version}/virtio_console.ko`,
      "usr/bin/sqlite3",
      "lib64/ld-linux-x86-64.so.2",
      "lib/x86_64-linux-gnu/libc.so.6",
      "lib/x86_64-linux-gnu/libsqlite3.so.0",
    ]
  ) assert.ok(names.includes(name), `${name} in ${names.join(" ")}`);
  assert.deepEqual(built.modules, ["virtio_ring", "virtio", "virtio_blk", "virtio_console"]);
  assert.ok(built.hostFiles.includes("/usr/bin/sqlite3"));

  await run(busybox.path, ["cpio", "-i", "-d", "init", "faultline/workload", "bin/report"], {
    cwd: dir.path,
    input: archive,
  });
  assert.equal(await Deno.readTextFile(join(dir.path, "faultline/workload")), workload);
  assert.equal(await Deno.readTextFile(join(dir.path, "bin/report")), REPORT_SCRIPT);
  const init = await Deno.readTextFile(join(dir.path, "init"));
  const inserts = [...init.matchAll(/^insmod '[^']*\/([a-z_]+)\.ko'/gm)].map((m) => m[1]);
  assert.deepEqual(inserts, ["virtio_ring", "virtio", "virtio_blk", "virtio_console"]);
  assert.ok(!init.includes("hello.txt"), "the workload is not interpolated into /init");
});

Deno.test("initramfs: a missing host file or a non-ELF program is a usage error", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const common = { kernel, busybox, cacheRoot: dir.path };
  await assert.rejects(
    buildInitramfs({ ...common, files: [{ hostPath: join(dir.path, "nope"), guestPath: "/x" }] }),
    (e: GuestImageError) =>
      e.usage && /files\[0\]\.hostPath: .*nope does not exist/.test(e.message),
  );
  await Deno.writeTextFile(join(dir.path, "script"), "#!/bin/sh\n");
  await assert.rejects(
    buildInitramfs({ ...common, programs: [join(dir.path, "script")] }),
    (e: GuestImageError) =>
      e.usage && /programs\[0\]: .* is not a 64-bit ELF program/.test(e.message),
  );
});
