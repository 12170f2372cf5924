import assert from "node:assert/strict";
import { join } from "node:path";
import { filesIdentity, qemuBuild, qemuVersion } from "./qemu_version.ts";
import { makePrivateDir } from "../util/tempdir.ts";

Deno.test("filesIdentity: a file's line changes with its size and its time; missing files and directories are left out", async () => {
  await using dir = await makePrivateDir("faultline-qemu-build-");
  const rom = join(dir.path, "bios.bin");
  await Deno.writeFile(rom, new Uint8Array(512));
  await Deno.utime(rom, 1_000, 1_000);
  const paths = [rom, join(dir.path, "missing.bin"), dir.path];
  const first = await filesIdentity(paths);
  assert.deepEqual(first, [`${rom} 512 1000000`]);
  await Deno.writeFile(rom, new Uint8Array(1024));
  await Deno.utime(rom, 1_000, 1_000);
  assert.deepEqual(await filesIdentity(paths), [`${rom} 1024 1000000`]);
  await Deno.utime(rom, 2_000, 2_000);
  assert.deepEqual(await filesIdentity(paths), [`${rom} 1024 2000000`]);
});

Deno.test("qemuBuild: QEMU's version line first, then its binary and its firmware files", async () => {
  const build = await qemuBuild();
  const [version, ...files] = build.split("\n");
  assert.equal(version, await qemuVersion());
  assert.match(files[0], /\/qemu-system-x86_64 \d+ \d+$/);
  // The BIOS every guest boots is among the firmware files (Debian: /usr/share/seabios).
  assert.ok(files.some((line) => /\/bios-256k\.bin \d+ \d+$/.test(line)), build);
});
