import assert from "node:assert/strict";
import { FILESYSTEM_NAMES, filesystemOf, FILESYSTEMS, MKFS_EPOCH } from "./filesystems.ts";

Deno.test("file systems: one entry per name a disk takes, each with a fixed UUID in its mkfs", () => {
  assert.deepEqual(Object.keys(FILESYSTEMS).sort(), [...FILESYSTEM_NAMES].sort());
  for (const fs of Object.values(FILESYSTEMS)) {
    const call = fs.mkfs({ uuid: "u-u-i-d", image: "/x.raw", extra: ["-L", "l"] });
    assert.ok(call.args.some((arg) => arg.includes("u-u-i-d")), fs.name);
    assert.deepEqual(call.args.slice(-3), ["-L", "l", "/x.raw"], fs.name);
    assert.equal(fs.clean("/x.raw").args.at(-1), "/x.raw", fs.name);
  }
  assert.deepEqual(FILESYSTEMS.ext4.mkfs({ uuid: "u", image: "/x", extra: [] }).env, {
    E2FSPROGS_FAKE_TIME: String(MKFS_EPOCH),
  });
});

Deno.test("file systems: xfs is a module in Debian's cloud kernel and takes 300M; ext4 is built in", () => {
  assert.deepEqual(filesystemOf("xfs")?.guestModules, ["xfs"]);
  assert.equal(filesystemOf("xfs")?.minSizeBytes, 300 * 1024 * 1024);
  assert.equal(filesystemOf("xfs")?.readsFiles, false);
  assert.deepEqual(filesystemOf("ext4")?.guestModules, []);
  assert.equal(filesystemOf("btrfs"), undefined);
  assert.equal(filesystemOf("toString"), undefined);
});
