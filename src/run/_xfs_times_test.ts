import assert from "node:assert/strict";
import { madeInodes, timeCommands } from "./_xfs_times.ts";

Deno.test("xfs times: the inodes and features read off xfs_db's output", () => {
  assert.deepEqual(
    madeInodes(
      "rootino = 128\nrbmino = 129\nrsumino = 130\n",
      "versionnum [0xb4a5+0x18a] = V5,NLINK,DIRV2,CRC,FTYPE,BIGTIME\n",
    ),
    { inodes: [128, 129, 130], bigtime: true, crc: true },
  );
  assert.deepEqual(
    madeInodes("rootino = 64\nrbmino = 65\nrsumino = 66\n", "versionnum [0xb4a4+0x8] = V4,NLINK"),
    { inodes: [64, 65, 66], bigtime: false, crc: false },
  );
});

Deno.test("xfs times: bigtime writes one raw count of nanoseconds from 1901, else seconds and nanoseconds", () => {
  assert.deepEqual(timeCommands(128, { bigtime: true, crc: true }), [
    "inode 128",
    "write core.atime.sec 3847483648000000000",
    "write core.mtime.sec 3847483648000000000",
    "write core.ctime.sec 3847483648000000000",
    "write v3.crtime.sec 3847483648000000000",
  ]);
  assert.deepEqual(timeCommands(64, { bigtime: false, crc: false }), [
    "inode 64",
    "write core.atime.sec 1700000000",
    "write core.atime.nsec 0",
    "write core.mtime.sec 1700000000",
    "write core.mtime.nsec 0",
    "write core.ctime.sec 1700000000",
    "write core.ctime.nsec 0",
  ]);
});
