import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import { treeUsage, usedInodes } from "./_ext4_image.ts";

Deno.test("ext4 image: the used inodes are each group's range without its free ones, from the first on", () => {
  const dumpe2fs = [
    "Inode count:              24",
    "Free inodes:              9",
    "Inodes per group:         8",
    "First inode:              11",
    "",
    "Group 0: (Blocks 0-32767) csum 0x8a65 [ITABLE_ZEROED]",
    "  Free inodes: ",
    "Group 1: (Blocks 32768-65535) csum 0xb5a2",
    "  Free inodes: 14-16",
    "Group 2: (Blocks 65536-98303) csum 0x07b9 [INODE_UNINIT]",
    "  Free inodes: 17-18, 20-24",
  ].join("\n");
  assert.deepEqual(usedInodes(dumpe2fs, 11), [2, 11, 12, 13, 19]);
  assert.throws(
    () => usedInodes("Inode count: 24\nInodes per group: 8\n", 11),
    /3 groups|0 groups/,
  );
});

Deno.test("ext4 image: a tree's blocks and inodes", async () => {
  await using dir = await makePrivateDir("faultline-tree-");
  await Deno.mkdir(join(dir.path, "a"));
  await Deno.writeFile(join(dir.path, "a", "f"), new Uint8Array(4097));
  await Deno.symlink("x".repeat(80), join(dir.path, "long"));
  await Deno.symlink("short", join(dir.path, "short"));
  // Files: 2 blocks; a long link: 1; directories (root and a): 1 each.
  assert.deepEqual(await treeUsage(dir.path), { blocks: 5, inodes: 5 });
});
