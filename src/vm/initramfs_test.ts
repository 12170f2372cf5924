import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { GuestImageError } from "./guest_image_error.ts";
import {
  buildInitramfs,
  GUEST_MODULES,
  type InitramfsOptions,
  phaseKernelArg,
  renderInit,
  REPORT_SCRIPT,
  REPORT_STATE_DIR,
  validateInitramfsOptions,
  wantedModules,
} from "./initramfs.ts";
import { ensureBusybox, ensureKernel } from "./kernel.ts";
import { decodeResultSectors, RESULTS_DISK_SIZE } from "./results.ts";
import { run } from "../../tests/support/process.ts";

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

function rejectsUsage(options: unknown, pattern: RegExp) {
  assert.throws(
    () => validateInitramfsOptions(options as InitramfsOptions),
    (e: unknown) => e instanceof GuestImageError && e.usage && pattern.test(e.message),
    String(pattern),
  );
}

Deno.test("initramfs: options are validated with the field, the expectation and the value", () => {
  const phases = { run: "report ack 1" };
  validateInitramfsOptions({ phases });
  validateInitramfsOptions({
    phases: { run: "report ack 1", check: "", "after-crash2": "true" },
    disks: [
      { name: "data", mountpoint: "/mnt/data", fstype: "ext4", options: "barrier=0" },
      { name: "raw_1" },
    ],
    files: [{ hostPath: "/etc/hostname", guestPath: "/etc/hostname", mode: 0o600 }],
    programs: ["/usr/bin/sqlite3"],
    env: { NODE_ID: "1" },
    deviceTimeoutSeconds: 5,
  });
  rejectsUsage({}, /^initramfs option phases: expected record, found nothing$/);
  rejectsUsage(undefined, /^initramfs options: expected object, found nothing$/);
  rejectsUsage({ phases: {} }, /phases: expected at least one phase/);
  rejectsUsage(
    { phases: { Run: "" } },
    /phases\.Run: expected a phase name such as run or check .* as the name, found "Run"/,
  );
  rejectsUsage(
    { phases: { boot: "" } },
    /phases\.boot: expected a phase name other than boot or mounted/,
  );
  rejectsUsage({ phases: { mounted: "" } }, /phases\.mounted: expected a phase name other than/);
  rejectsUsage({ phases: { ["a".repeat(32)]: "" } }, /phases\.a{32}: expected a phase name such/);
  rejectsUsage({ phases: { run: 3 } }, /phases\.run: expected string, found number 3/);
  rejectsUsage(
    { phases: { run: "a\0b" } },
    /phases\.run: expected a shell script without NUL bytes/,
  );
  rejectsUsage({ phases, workload: "" }, /^initramfs options: unknown field "workload"$/);
  rejectsUsage(
    { phases, disks: [{ name: "Data", mountpoint: "/mnt" }] },
    /^initramfs option disks\[0\]\.name: expected a disk name like data or vdb .*, found "Data"$/,
  );
  rejectsUsage({ phases, disks: [{ name: "a".repeat(21) }] }, /disks\[0\]\.name/);
  rejectsUsage({ phases, disks: [{ name: "faultline-results" }] }, /the results disk/);
  rejectsUsage(
    { phases, disks: [{ name: "a" }, { name: "a" }] },
    /disks\[1\]\.name: expected a name used once/,
  );
  rejectsUsage({ phases, disks: [{ device: "/dev/vda" }] }, /disks\[0\]: unknown field "device"/);
  rejectsUsage(
    { phases, disks: [{ name: "a", fstype: "ext4" }] },
    /disks\[0\]\.fstype: expected nothing on a disk without mountpoint/,
  );
  rejectsUsage(
    { phases, disks: [{ name: "a", mountpoint: "mnt" }] },
    /disks\[0\]\.mountpoint: expected an absolute guest path/,
  );
  rejectsUsage(
    { phases, disks: [{ name: "a", mountpoint: "/proc/x" }] },
    /disks\[0\]\.mountpoint: expected a directory of its own, such as \/mnt\/data, found "\/proc\/x"/,
  );
  for (
    const mountpoint of ["/", "/bin", "/usr/local", "/lib/modules", "/run", "/init", "/faultline"]
  ) {
    rejectsUsage(
      { phases, disks: [{ name: "a", mountpoint }] },
      /disks\[0\]\.mountpoint: expected a directory of its own/,
    );
  }
  rejectsUsage(
    { phases, disks: [{ name: "a", mountpoint: "/run/faultline/x" }] },
    /disks\[0\]\.mountpoint/,
  );
  rejectsUsage(
    { phases, disks: [{ name: "a", mountpoint: "/mnt/a b" }] },
    /disks\[0\]\.mountpoint: expected an absolute guest path/,
  );
  rejectsUsage(
    { phases, disks: [{ name: "a", mountpoint: "/m" }, { name: "b", mountpoint: "/m/" }] },
    /disks\[1\]\.mountpoint: expected a mountpoint used once/,
  );
  rejectsUsage(
    { phases, disks: [{ name: "a", mountpoint: "/m", options: "a b" }] },
    /disks\[0\]\.options: expected mount options like barrier=0,data=ordered/,
  );
  rejectsUsage(
    { phases, disks: [{ name: "a", options: "ro" }] },
    /disks\[0\]\.options: expected nothing on a disk without mountpoint/,
  );
  rejectsUsage(
    { phases, disks: [{ name: "a", mountpoint: "/m", fstype: "EXT4;" }] },
    /disks\[0\]\.fstype: expected a file system type like ext4/,
  );
  rejectsUsage({ phases, disks: [{ name: "a", size: 1 }] }, /disks\[0\]: unknown field "size"/);
  rejectsUsage(
    { phases, files: [{ hostPath: "/etc/hostname", guestPath: "/init" }] },
    /files\[0\]\.guestPath: expected a path of its own \(not the image's\)/,
  );
  rejectsUsage(
    { phases, files: [{ hostPath: "/etc/hostname", guestPath: "/faultline/phase/run" }] },
    /files\[0\]\.guestPath: expected a path of its own/,
  );
  rejectsUsage(
    { phases, files: [{ hostPath: "/etc/hostname", guestPath: "/bin/../x" }] },
    /files\[0\]\.guestPath: expected an absolute guest path/,
  );
  for (const guestPath of ["/etc", "/usr", "/lib", "/run", "/proc/x", "/bin/sh", "/"]) {
    rejectsUsage(
      { phases, files: [{ hostPath: "/etc/hostname", guestPath }] },
      /files\[0\]\.guestPath: expected a path of its own/,
    );
  }
  rejectsUsage(
    {
      phases,
      files: [
        { hostPath: "/etc/hostname", guestPath: "/etc/x" },
        { hostPath: "/etc/hosts", guestPath: "/etc/x/" },
      ],
    },
    /^initramfs option files\[1\]\.guestPath: expected a guest path used once, found "\/etc\/x\/"$/,
  );
  rejectsUsage(
    { phases, files: [{ hostPath: "", guestPath: "/x" }] },
    /files\[0\]\.hostPath: expected a path on the host/,
  );
  rejectsUsage(
    { phases, files: [{ hostPath: "/etc/hostname", guestPath: "/x", mode: 0o10000 }] },
    /files\[0\]\.mode: expected permission bits such as 0o755/,
  );
  rejectsUsage({ phases, programs: ["sqlite3"] }, /programs\[0\]: expected an absolute path like/);
  rejectsUsage(
    { phases, programs: ["/bin/busybox"] },
    /programs\[0\]: expected a program of its own \(not the image's\)/,
  );
  rejectsUsage(
    { phases, env: { "A-B": "1" } },
    /env\.A-B: expected a variable name like NODE_ID as the name/,
  );
  rejectsUsage(
    { phases, env: { FAULTLINE_PHASE: "x" } },
    /env\.FAULTLINE_PHASE: expected a variable name not starting with FAULTLINE_/,
  );
  rejectsUsage({ phases, env: { A: "a\0b" } }, /env\.A: expected a string without NUL bytes/);
  rejectsUsage({ phases, modules: ["virtio blk"] }, /modules\[0\]: expected a module name/);
  rejectsUsage({ phases, deviceTimeoutSeconds: 0 }, /deviceTimeoutSeconds: expected a number > 0/);
  rejectsUsage(
    { phases, deviceTimeoutSeconds: 3601 },
    /deviceTimeoutSeconds: expected a number <= 3600/,
  );
  rejectsUsage({ phases, cacheRoot: "cache" }, /cacheRoot: expected an absolute path/);
  rejectsUsage({ phases, disk: [] }, /^initramfs options: unknown field "disk"$/);
});

Deno.test("initramfs: the phase kernel argument", () => {
  assert.equal(phaseKernelArg("check"), "faultline.phase=check");
  assert.throws(() => phaseKernelArg("a b"), /phase: expected a name/);
});

Deno.test("initramfs: /init quotes every value and is valid shell", async () => {
  const init = renderInit({
    modulePaths: ["/lib/modules/k/virtio_blk.ko"],
    phases: ["run", "check"],
    disks: [
      { name: "data", mountpoint: "/mnt/data", options: "barrier=0" },
      { name: "raw" },
    ],
    env: { B: "it's $HOME `x`", A: "1" },
    libraryDirs: ["/lib/x86_64-linux-gnu"],
    deviceTimeoutSeconds: 2,
  });
  assert.ok(init.startsWith("#!/bin/busybox sh\n"));
  assert.match(init, /^insmod '\/lib\/modules\/k\/virtio_blk\.ko' \|\| console_halt /m);
  // A saved check guest holds before the disk driver loads (faultline.hold=disks).
  assert.match(init, /^hold_here disks\ninsmod '\/lib\/modules\/k\/virtio_blk\.ko'/m);
  assert.match(init, /^ {4}'faultline-results' \| 'data' \| 'raw'\)$/m);
  assert.match(init, /^ {2}for name in 'faultline-results' 'data' 'raw'; do$/m);
  assert.match(init, /\[ "\$i" -gt 20 \]/);
  assert.match(init, /^'check' \| 'run'\) ;;$/m);
  assert.match(init, /mount -t 'ext4' -o 'barrier=0' '\/dev\/disk\/data' '\/mnt\/data'/);
  assert.ok(!init.includes("/dev/disk/raw'"), "a disk without mountpoint is not mounted");
  assert.match(init, /^export A='1'\nexport B='it'\\''s \$HOME `x`'$/m);
  assert.match(init, /^export LD_LIBRARY_PATH='\/lib\/x86_64-linux-gnu'$/m);
  const tail = init.slice(init.indexOf("report phase mounted"));
  assert.equal(
    tail.slice(tail.indexOf("export FAULTLINE_PHASE")),
    'export FAULTLINE_PHASE="$phase"\ncd /\nhold_here phase\nreport phase "$phase"\n' +
      '/bin/sh "/faultline/phase/$phase" </dev/null\ncode=$?\n' +
      'report exit "$code"\nsync\npoweroff -f\nexit 1\n',
  );
  await using dir = await makePrivateDir("faultline-init-test-");
  await Deno.writeTextFile(join(dir.path, "init"), init);
  const check = await run(busybox.path, ["sh", "-n", join(dir.path, "init")]);
  assert.equal(check.code, 0, check.stderr);
  const bare = renderInit({
    modulePaths: [],
    phases: ["run"],
    disks: [{ name: "raw" }],
    env: {},
    libraryDirs: [],
    deviceTimeoutSeconds: 10,
  });
  assert.ok(!bare.includes("report phase mounted"), "no mounts, no phase mounted");
});

/** The first `count` sectors of a results disk's image (the image is 1 GiB, sparse). */
async function firstSectors(path: string, count: number): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const bytes = new Uint8Array(count * 512);
  let got = 0;
  while (got < bytes.length) {
    const n = await file.read(bytes.subarray(got));
    if (n === null) break;
    got += n;
  }
  return bytes;
}

/** The report script with its state directory and console moved into `dir`. */
async function hostReport(dir: string): Promise<{ script: string; env: Record<string, string> }> {
  const script = join(dir, "report");
  const text = REPORT_SCRIPT
    .replace(`state=${REPORT_STATE_DIR}\n`, `state=${dir}/state\n`)
    .replace("console=/dev/console\n", `console=${dir}/console\n`);
  assert.notEqual(text, REPORT_SCRIPT);
  await Deno.writeTextFile(script, text);
  await Deno.mkdir(join(dir, "state", "lines"), { recursive: true });
  await Deno.writeTextFile(join(dir, "state", "next"), "0\n");
  const results = join(dir, "results.raw");
  const file = await Deno.open(results, { create: true, write: true });
  await file.truncate(RESULTS_DISK_SIZE);
  file.close();
  return { script, env: { FAULTLINE_RESULTS: results } };
}

Deno.test("initramfs: report writes each line as one sector, numbered from 0", async () => {
  await using dir = await makePrivateDir("faultline-report-test-");
  const { script, env } = await hostReport(dir.path);
  let r = await run(busybox.path, ["sh", script, "ack", "17"], { env });
  assert.equal(r.code, 0, r.stderr);
  r = await run(busybox.path, ["sh", script, "have", "a  b"], { env });
  assert.equal(r.code, 0, r.stderr);
  const long = "x".repeat(496); // "ack " + 496 = 500 bytes: the longest line
  r = await run(busybox.path, ["sh", script, "ack", long], { env });
  assert.equal(r.code, 0, r.stderr);
  const bytes = await firstSectors(env.FAULTLINE_RESULTS, 8);
  assert.deepEqual(decodeResultSectors(bytes, 0), [
    { sector: 0, line: "ack 17" },
    { sector: 1, line: "have a  b" },
    { sector: 2, line: `ack ${long}` },
  ]);
  const sector0 = bytes.subarray(0, 512);
  assert.deepEqual([...sector0.subarray(0, 7)], [...new TextEncoder().encode("ack 17\n")]);
  assert.ok(sector0.subarray(7).every((b) => b === 0), "padded with NUL");
  assert.equal(bytes[2 * 512 + 500], 0x0a);
  assert.equal(await Deno.readTextFile(join(dir.path, "state", "next")), "3\n");
  assert.equal(await Deno.readTextFile(join(dir.path, "console")), `faultline: ack ${long}\n`);

  for (
    const [args, pattern] of [
      [["have", "a\nb"], /must not contain a newline/],
      [["ack", "x".repeat(497)], /at most 500 bytes/],
      [["ack", "é".repeat(249)], /at most 500 bytes/], // 502 bytes, 253 characters
      [[], /usage: report KIND/],
      [["", "x"], /usage: report KIND/],
    ] as const
  ) {
    r = await run(busybox.path, ["sh", script, ...args], { env });
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  r = await run(busybox.path, ["sh", script, "ack", "1"], { env: { FAULTLINE_RESULTS: "" } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no results disk/);
  const after = decodeResultSectors(await firstSectors(env.FAULTLINE_RESULTS, 8), 0);
  assert.equal(after.length, 3, "a refused line takes no sector");
});

Deno.test("initramfs: concurrent reporters get distinct sectors with no gap", async () => {
  await using dir = await makePrivateDir("faultline-report-test-");
  const { script, env } = await hostReport(dir.path);
  const codes = await Promise.all(
    Array.from(
      { length: 40 },
      (_, k) => run(busybox.path, ["sh", script, "ack", String(k)], { env }),
    ),
  );
  assert.deepEqual(
    codes.map((c) => c.code),
    codes.map(() => 0),
    codes.map((c) => c.stderr).join(""),
  );
  const lines = decodeResultSectors(await firstSectors(env.FAULTLINE_RESULTS, 64), 0);
  assert.deepEqual(lines.map((l) => l.sector), Array.from({ length: 40 }, (_, k) => k));
  assert.deepEqual(
    lines.map((l) => Number(l.line.split(" ")[1])).sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, k) => k),
  );
});

Deno.test("initramfs: report goes past 16,384 lines, and removes claims 4096 behind its own", async () => {
  await using dir = await makePrivateDir("faultline-report-test-");
  const { script, env } = await hostReport(dir.path);
  const lines = join(dir.path, "state", "lines");
  // A boot that already wrote 20,000 lines: its hint, and the claims a reporter may still meet.
  await Deno.writeTextFile(join(dir.path, "state", "next"), "20000\n");
  for (const n of [15903, 15904, 15905]) await Deno.writeTextFile(join(lines, String(n)), "");
  const r = await run(busybox.path, ["sh", script, "invoke", "0", "read", "x", "nil"], { env });
  assert.equal(r.code, 0, r.stderr);
  using file = await Deno.open(env.FAULTLINE_RESULTS);
  await file.seek(20000 * 512, Deno.SeekMode.Start);
  const sector = new Uint8Array(512);
  assert.equal(await file.read(sector), 512);
  assert.deepEqual(decodeResultSectors(sector, 20000), [
    { sector: 20000, line: "invoke 0 read x nil" },
  ]);
  const left = [];
  for await (const entry of Deno.readDir(lines)) left.push(entry.name);
  assert.deepEqual(left.sort(), ["15903", "15905", "20000"], "claim 20000 - 4096 removed");
});

const phases = {
  run: "echo 'hello' >/mnt/data/hello.txt\nsync /mnt/data/hello.txt\nreport ack 1\n",
  check: "[ -f /mnt/data/hello.txt ] && report have 1\n",
};
const disks = [{ name: "data", mountpoint: "/mnt/data" }];

Deno.test("initramfs: building twice gives the same bytes; other inputs, other bytes", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const options: InitramfsOptions = {
    kernel,
    busybox,
    disks,
    phases,
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
  const reordered = await buildInitramfs({
    ...options,
    phases: { check: phases.check, run: phases.run },
    cacheRoot: join(dir.path, "a"),
  });
  assert.equal(reordered.sha256, first.sha256, "the order of the phases does not matter");
  const other = await buildInitramfs({
    ...options,
    phases: { ...phases, run: `${phases.run}exit 3\n` },
    cacheRoot: join(dir.path, "a"),
  });
  assert.notEqual(other.sha256, first.sha256);
  assert.deepEqual(first.modules, [...GUEST_MODULES]);
  assert.deepEqual(first.phases, ["check", "run"]);
});

Deno.test("initramfs: the archive holds busybox, modules, init, phases and the programs", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const built = await buildInitramfs({
    kernel,
    busybox,
    cacheRoot: dir.path,
    disks: [...disks, { name: "raw" }],
    phases,
    programs: ["/usr/bin/sqlite3"],
    modules: ["virtio_blk", "virtio_console"],
  });
  const archive = await Deno.readFile(built.path);
  const listing = await run(busybox.path, ["cpio", "-t"], { stdin: archive });
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
      "faultline/phase/run",
      "faultline/phase/check",
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

  await run(
    busybox.path,
    ["cpio", "-i", "-d", "init", "faultline/phase/run", "faultline/phase/check", "bin/report"],
    { cwd: dir.path, stdin: archive },
  );
  assert.equal(await Deno.readTextFile(join(dir.path, "faultline/phase/run")), phases.run);
  assert.equal(await Deno.readTextFile(join(dir.path, "faultline/phase/check")), phases.check);
  assert.equal(await Deno.readTextFile(join(dir.path, "bin/report")), REPORT_SCRIPT);
  const init = await Deno.readTextFile(join(dir.path, "init"));
  const inserts = [...init.matchAll(/^insmod '[^']*\/([a-z_]+)\.ko'/gm)].map((m) => m[1]);
  assert.deepEqual(inserts, ["virtio_ring", "virtio", "virtio_blk", "virtio_console"]);
  assert.ok(!init.includes("hello.txt"), "the phase scripts are not interpolated into /init");
});

Deno.test("initramfs: a missing host file or a non-ELF program is a usage error", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const common = { kernel, busybox, cacheRoot: dir.path, phases: { run: "" } };
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

Deno.test("initramfs: a host directory and a tarball are laid at their guest directories; their bytes are in the archive's hash", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const build = join(dir.path, "build");
  await Deno.mkdir(join(build, "bin"), { recursive: true });
  await Deno.writeTextFile(join(build, "bin/app"), "#!/bin/sh\necho app\n");
  await Deno.chmod(join(build, "bin/app"), 0o755);
  await Deno.symlink("app", join(build, "bin/app-link"));
  await Deno.writeTextFile(join(build, "app.conf"), "port=7000\n");
  const tarball = join(dir.path, "site.tgz");
  await run("tar", ["-czf", tarball, "-C", build, "."]);
  const options: InitramfsOptions = {
    kernel,
    busybox,
    disks,
    phases,
    files: [
      { hostPath: build, guestPath: "/opt/app/" },
      { hostPath: tarball, guestPath: "/srv/site/" },
      { hostPath: tarball, guestPath: "/srv/site.tgz" },
    ],
    cacheRoot: join(dir.path, "cache"),
  };
  const built = await buildInitramfs(options);
  const archive = await Deno.readFile(built.path);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  const extracted = await run(busybox.path, ["cpio", "-i", "-d"], { cwd: out, stdin: archive });
  assert.equal(extracted.code, 0, extracted.stderr);
  for (const root of ["opt/app", "srv/site"]) {
    assert.equal(await Deno.readTextFile(join(out, root, "bin/app")), "#!/bin/sh\necho app\n");
    assert.equal((await Deno.stat(join(out, root, "bin/app"))).mode! & 0o777, 0o755);
    assert.equal((await Deno.stat(join(out, root, "app.conf"))).mode! & 0o777, 0o644);
    assert.equal(await Deno.readLink(join(out, root, "bin/app-link")), "app");
  }
  // A tarball at a guest path without a trailing / is a file, copied as it is.
  assert.deepEqual(await Deno.readFile(join(out, "srv/site.tgz")), await Deno.readFile(tarball));
  assert.ok(built.hostFiles.includes("/opt/app/bin/app"), built.hostFiles.join(" "));
  await Deno.writeTextFile(join(build, "app.conf"), "port=7001\n");
  const changed = await buildInitramfs(options);
  assert.notEqual(changed.sha256, built.sha256, "another byte in the directory, another image");
});

Deno.test("initramfs: an xfs disk brings the xfs module and its dependency, loaded before the disk driver", async () => {
  await using dir = await makePrivateDir("faultline-initramfs-test-");
  const xfsDisks = [
    { name: "data", mountpoint: "/data", fstype: "xfs" },
    { name: "logs", mountpoint: "/logs", fstype: "xfs" },
    { name: "raw" },
  ];
  assert.deepEqual(wantedModules({ phases, disks: xfsDisks }), ["xfs", ...GUEST_MODULES]);
  assert.deepEqual(wantedModules({ phases, disks: [{ name: "raw" }] }), [...GUEST_MODULES]);
  const built = await buildInitramfs({
    kernel,
    busybox,
    cacheRoot: dir.path,
    disks: xfsDisks,
    phases,
  });
  assert.deepEqual(built.modules.slice(0, 2), ["libcrc32c", "xfs"]);
  const archive = await Deno.readFile(built.path);
  await run(busybox.path, ["cpio", "-i", "-d", "init"], { cwd: dir.path, stdin: archive });
  const init = await Deno.readTextFile(join(dir.path, "init"));
  const inserts = [...init.matchAll(/^insmod '[^']*\/([a-z0-9_]+)\.ko'|^hold_here disks$/gm)]
    .map((m) => m[1] ?? "hold");
  assert.deepEqual(inserts.slice(0, 2), ["libcrc32c", "xfs"]);
  assert.ok(inserts.indexOf("hold") < inserts.indexOf("virtio_blk"));
  assert.ok(inserts.indexOf("xfs") < inserts.indexOf("hold"));
  assert.match(init, /mount -t 'xfs' '\/dev\/disk\/data' '\/data'/);
});
