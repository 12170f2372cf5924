import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import { GuestImageError } from "./guest_image_error.ts";
import {
  buildInitramfs,
  renderInit,
  REPORT_SCRIPT,
  validateInitramfsOptions,
} from "./initramfs.ts";
import { ensureBusybox, ensureKernel } from "./kernel.ts";
import { ROOT_PATH, rootReportScript } from "./root_init.ts";
import { run } from "../../tests/support/process.ts";

const [kernel, busybox] = await Promise.all([ensureKernel(), ensureBusybox()]);

Deno.test("package root: /init waits for the root disk, mounts it read-only with the disks inside, runs the phase chrooted", async () => {
  const init = renderInit({
    modulePaths: [],
    phases: ["run"],
    disks: [{ name: "data", mountpoint: "/data", options: "barrier=0" }, { name: "raw" }],
    env: {},
    libraryDirs: [],
    deviceTimeoutSeconds: 10,
    packageRoot: true,
    network: {
      node: "db",
      mac: "02:66:6c:00:00:00",
      prefixLength: 24,
      hosts: [{ name: "db", ip: "192.0.2.10" }],
    },
  });
  assert.match(init, /^ {2}for name in 'faultline-results' 'faultline-root' 'data' 'raw'; do$/m);
  assert.match(init, /^mount -t ext4 -o ro \/dev\/disk\/faultline-root \/sysroot \|\| fail /m);
  const at = (text: string) => {
    const index = init.indexOf(text);
    assert.ok(index >= 0, text);
    return index;
  };
  // The root first, proc and the rest inside it, then the disks, then the phase, chrooted.
  assert.ok(at("/dev/disk/faultline-root /sysroot") < at("mount -t proc proc /sysroot/proc"));
  assert.ok(at("mount -o bind /run/faultline /sysroot/run/faultline") < at("'/sysroot/data'"));
  assert.match(init, /mount -t 'ext4' -o 'barrier=0' '\/dev\/disk\/data' '\/sysroot\/data'/);
  assert.match(init, /^mount -o bind \/etc\/hosts \/sysroot\/etc\/hosts /m);
  assert.ok(
    init.includes(
      `PATH='${ROOT_PATH}' /bin/busybox chroot /sysroot /bin/sh "/faultline/phase/$phase" </dev/null\ncode=$?\nreport exit "$code"`,
    ),
  );
  await using dir = await makePrivateDir("faultline-root-init-");
  await Deno.writeTextFile(join(dir.path, "init"), init);
  const check = await run(busybox.path, ["sh", "-n", join(dir.path, "init")]);
  assert.equal(check.code, 0, check.stderr);
});

Deno.test("package root: report in the root is the image's script, run by the image's busybox with its applets first", () => {
  const script = rootReportScript(REPORT_SCRIPT);
  const [shebang, path, ...rest] = script.split("\n");
  assert.equal(shebang, "#!/faultline/bin/busybox sh");
  assert.equal(path, "PATH=/faultline/applets:$PATH");
  assert.equal(rest.join("\n"), REPORT_SCRIPT.slice(REPORT_SCRIPT.indexOf("\n") + 1));
  assert.throws(() => rootReportScript("#!/bin/bash\n"), /#!\/bin\/sh/);
});

Deno.test("package root: the initramfs carries busybox, report and its applets under /faultline; no programs or files", async () => {
  await using dir = await makePrivateDir("faultline-root-initramfs-");
  const built = await buildInitramfs({
    kernel,
    busybox,
    cacheRoot: dir.path,
    disks: [{ name: "data", mountpoint: "/data" }],
    phases: { run: "report ack 1" },
    packageRoot: true,
  });
  const archive = await Deno.readFile(built.path);
  const listing = await run(busybox.path, ["cpio", "-t", "-v"], { stdin: archive });
  assert.equal(listing.code, 0, listing.stderr);
  assert.match(listing.stdout, /^-rwxr-xr-x .* faultline\/bin\/busybox$/m);
  assert.match(listing.stdout, /^-rwxr-xr-x .* faultline\/bin\/report$/m);
  assert.match(
    listing.stdout,
    /^lrwxrwxrwx .* faultline\/applets\/dd -> \/faultline\/bin\/busybox$/m,
  );
  for (const field of ["programs", "files"]) {
    assert.throws(
      () =>
        validateInitramfsOptions({
          phases: { run: "" },
          packageRoot: true,
          ...(field === "programs"
            ? { programs: ["/usr/bin/sqlite3"] }
            : { files: [{ hostPath: "/etc/hostname", guestPath: "/etc/x" }] }),
        }),
      (e: unknown) =>
        e instanceof GuestImageError && e.usage &&
        new RegExp(`initramfs option ${field}: expected none with packageRoot`).test(e.message),
    );
  }
});
