/**
 * LostFiles against real file systems: an ext4 image made by mkfs.ext4 from a directory
 * (no VM), whose blocks are found by their bytes, not by asking debugfs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { ScenarioDisk } from "../scenario/schema.ts";
import type { OpRecord } from "../trace/schema.ts";
import { hostCommand } from "../util/host_command.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { addFile, changedBlocks, mkfsExt4 } from "../../tests/support/ext4.ts";
import { opRecord } from "../../tests/support/ops.ts";
import { selectCrashWrites } from "./crash_state.ts";
import { LostFiles, NOT_READ } from "./lost_files.ts";

const BLOCK = 4096;
const WAL = "/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal";

/** An 8 MiB ext4 image of 4 KiB blocks holding a WAL of 3 blocks, each filled with a marker. */
async function walImage(dir: string): Promise<{ image: string; bytes: Uint8Array }> {
  const root = join(dir, "root");
  await Deno.mkdir(join(root, "var/lib/etcd/member/wal"), { recursive: true });
  const wal = new Uint8Array(3 * BLOCK);
  for (let block = 0; block < 3; block++) {
    wal.fill(0x41 + block, block * BLOCK, (block + 1) * BLOCK);
  }
  await Deno.writeFile(join(root, WAL), wal);
  await Deno.writeTextFile(join(root, "other"), "another file\n");
  const image = join(dir, "base.raw");
  const file = await Deno.open(image, { create: true, write: true });
  await file.truncate(8 << 20);
  file.close();
  const made = await hostCommand("mkfs.ext4", {
    args: ["-q", "-F", "-b", String(BLOCK), "-d", root, image],
    env: { E2FSPROGS_FAKE_TIME: "1700000000" },
    stderr: "piped",
  }).output();
  assert.ok(made.success, new TextDecoder().decode(made.stderr));
  return { image, bytes: await Deno.readFile(image) };
}

/** The first block whose bytes all equal `value`, or whose first word is `magic` (big-endian). */
function findBlock(bytes: Uint8Array, match: (block: Uint8Array) => boolean): number {
  for (let block = 0; block * BLOCK < bytes.length; block++) {
    if (match(bytes.subarray(block * BLOCK, (block + 1) * BLOCK))) return block;
  }
  throw new Error("no such block");
}

const filled = (value: number) => (block: Uint8Array) => block.every((b) => b === value);
const JBD2_MAGIC = 0xc03b3998;
const jbd2Superblock = (block: Uint8Array) =>
  new DataView(block.buffer, block.byteOffset, 4).getUint32(0) === JBD2_MAGIC;

/** A write of the base's own bytes (the file system stays as it was) at `offset`. */
function rewrite(bytes: Uint8Array, index: number, offset: number, length: number): OpRecord {
  return opRecord({ index, offset, data: bytes.slice(offset, offset + length), phase: "run" });
}

const dataDisk: ScenarioDisk = {
  name: "data",
  kind: "filesystem",
  sizeBytes: 8 << 20,
  filesystem: "ext4",
  mkfsOptions: [],
  mount: "/srv",
  mountOptions: null,
};

Deno.test("LostFiles: dropped writes name the file, the journal, metadata and free blocks they were written to", async () => {
  await using dir = await makePrivateDir("faultline-lost-files-test-");
  const { image, bytes } = await walImage(dir.path);
  const wal = findBlock(bytes, filled(0x42)); // the WAL's second block
  const journal = findBlock(bytes, jbd2Superblock);
  const free = bytes.length / BLOCK - 1; // the last block: after every file mkfs laid down
  assert.ok(filled(0)(bytes.subarray(free * BLOCK)), "the last block is empty");
  const records = [
    // Two writes to the WAL, one across its second and third blocks; one to the journal; one
    // to the superblock; one to a free block. Nothing is flushed: a cut drops them all.
    rewrite(bytes, 0, wal * BLOCK, 512),
    rewrite(bytes, 1, wal * BLOCK + BLOCK - 512, 1024),
    rewrite(bytes, 2, journal * BLOCK, BLOCK),
    rewrite(bytes, 3, 1024, 1024),
    rewrite(bytes, 4, free * BLOCK, BLOCK),
  ];
  const scenario = { nodes: [{ name: "app", disks: [dataDisk] }] };
  await using lostFiles = new LostFiles({
    records,
    scenario,
    bases: new Map([["app/data", image]]),
  });
  const lost = await lostFiles.of(selectCrashWrites(records, 5, { kind: "drop" }));
  assert.equal(lost.writes, 5);
  assert.deepEqual(lost.files.map(({ path, writes }) => ({ path, writes })), [
    { path: `/srv${WAL}`, writes: 2 },
  ]);
  assert.deepEqual(
    { journal: lost.journal, metadata: lost.metadata, free: lost.free, unread: lost.unread },
    { journal: 1, metadata: 1, free: 1, unread: [] },
  );
  assert.equal(
    lost.summary,
    `2 writes to /srv${WAL}, 1 to the journal, 1 to file system metadata, 1 to blocks free at the run's end`,
  );
  // One write dropped alone, across the WAL's second and third blocks: counted once.
  const one = selectCrashWrites(records, 5, { kind: "state", dropped: [1] });
  assert.equal((await lostFiles.of(one)).summary, `1 write to /srv${WAL}`);
  // Nothing dropped, but that write torn: its tail, in the WAL's third block, is lost.
  const none = selectCrashWrites(records, 5, { kind: "state", dropped: [] });
  assert.equal((await lostFiles.of(none)).summary, "no write");
  const torn = {
    ...none,
    writes: none.writes.map((w) => w.record.index === 1 ? { ...w, keepBytes: 512 } : w),
  };
  assert.equal((await lostFiles.of(torn)).summary, `1 write to /srv${WAL}`);
});

Deno.test("LostFiles: a disk that is not ext2/3/4 is named as not read, with its writes", async () => {
  await using dir = await makePrivateDir("faultline-lost-files-test-");
  const blank = join(dir.path, "blank.raw");
  await Deno.writeFile(blank, new Uint8Array(1 << 20));
  const records = [
    opRecord({ index: 0, disk: "raw", offset: 0, data: new Uint8Array(512), phase: "run" }),
    opRecord({ index: 1, disk: "xfs", offset: 0, data: new Uint8Array(512), phase: "run" }),
    opRecord({ index: 2, disk: "xfs", offset: 4096, data: new Uint8Array(512), phase: "run" }),
    opRecord({ index: 3, disk: "liar", offset: 0, data: new Uint8Array(512), phase: "run" }),
  ];
  const image = (name: string, fstype: string): ScenarioDisk => ({
    name,
    kind: "image",
    image: blank,
    fstype,
    mount: "/data",
    mountOptions: null,
  });
  const scenario = {
    nodes: [{
      name: "app",
      disks: [
        { ...dataDisk, name: "raw", filesystem: "none" as const, mount: null },
        image("xfs", "xfs"),
        // Said to be ext4, and all zeroes: debugfs finds no file system on it.
        image("liar", "ext4"),
      ],
    }],
  };
  await using lostFiles = new LostFiles({
    records,
    scenario,
    bases: new Map(["raw", "xfs", "liar"].map((disk) => [`app/${disk}`, blank])),
  });
  const lost = await lostFiles.of(selectCrashWrites(records, 4, { kind: "drop" }));
  assert.deepEqual(lost.unread.map(({ disk, writes }) => ({ disk, writes })), [
    { disk: "raw", writes: 1 },
    { disk: "xfs", writes: 2 },
    { disk: "liar", writes: 1 },
  ]);
  assert.equal(lost.unread[0].reason, NOT_READ);
  assert.equal(lost.unread[1].reason, NOT_READ);
  assert.equal(lost.unread[2].reason, `${NOT_READ} (debugfs: Bad magic number in super-block)`);
  assert.match(
    lost.summary,
    /^1 write to app\/raw, not a file system faultline reads, 2 to app\/xfs/,
  );
});

/** One write a block, of each block `after` holds other bytes in than `before`, on `node`'s disk. */
async function writesOfChanges(
  node: string,
  images: { before: string; after: string },
): Promise<OpRecord[]> {
  const before = await Deno.readFile(images.before);
  const after = await Deno.readFile(images.after);
  return changedBlocks(before, after).map((block) =>
    opRecord({
      node,
      offset: block * BLOCK,
      data: after.slice(block * BLOCK, (block + 1) * BLOCK),
      phase: "run",
    })
  );
}

Deno.test("LostFiles: in a cluster, a node the run left unsynced names its files too: its journal is replayed", async () => {
  await using dir = await makePrivateDir("faultline-lost-files-test-");
  // One base for both nodes' `data` disks. n1 synced at the end of its run: its new file's
  // metadata is at home. n2 was cut off: its file's data is at home, the metadata that names
  // it in the journal only, as a node that never unmounted leaves ext4.
  const base = await mkfsExt4(join(dir.path, "base.raw"), { sizeBytes: 8 << 20 });
  const bytes = new Uint8Array(3 * BLOCK).map((_, i) => 0x41 + Math.floor(i / BLOCK));
  const { synced, journaled, dataBlocks } = await addFile(base, {
    dir: dir.path,
    name: "wal",
    bytes,
  });
  // n2 wrote first: files of as many writes are listed by node.
  const records = [
    ...await writesOfChanges("n2", { before: base, after: journaled }),
    ...await writesOfChanges("n1", { before: base, after: synced }),
  ].map((record, index) => ({ ...record, index, done: index + 1, start: index, end: index + 0.5 }));
  await using lostFiles = new LostFiles({
    records,
    scenario: { nodes: ["n1", "n2"].map((name) => ({ name, disks: [dataDisk] })) },
    bases: new Map([["n1/data", base], ["n2/data", base]]),
  });
  // Nothing was flushed: the cut drops every write.
  const lost = await lostFiles.of(selectCrashWrites(records, records.length, { kind: "drop" }));
  assert.equal(lost.writes, records.length);
  assert.deepEqual(
    lost.files.filter((f) => f.path === "/srv/wal").map(({ node, writes }) => ({ node, writes })),
    [{ node: "n1", writes: dataBlocks.length }, { node: "n2", writes: dataBlocks.length }],
  );
  assert.equal(lost.free, 0);
  assert.deepEqual(lost.unread, []);
  assert.match(lost.summary, /^3 writes to n1:\/srv\/wal, 3 to n2:\/srv\/wal, /);
});
