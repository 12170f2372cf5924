import assert from "node:assert/strict";
import { parseIcheck, parseNcheck, parseStats, parseTestb } from "./debugfs_output.ts";

// What debugfs 1.47.0 printed for `-c -f -` on the disk fsync-log.ts leaves (its requests
// echoed as `debugfs: ...`), and on an image made with `mkfs.ext4 -d` (hard links, a name
// with a space and a tab).
const STATS = `debugfs: stats -h
Filesystem volume name:   <none>
Last mounted on:          /data
Filesystem magic number:  0xEF53
Filesystem features:      has_journal ext_attr resize_inode dir_index filetype needs_recovery extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum
Inode count:              8192
Block count:              32768
First block:              1
Block size:               1024
Fragment size:            1024
Blocks per group:         8192
First inode:              11
Inode size:\t          256
Journal inode:            8
Journal backup:           inode blocks
Directories:              2
`;

Deno.test("parseStats: the block size, the journal's inode, the first inode, and whether the journal needs replaying", () => {
  assert.deepEqual(parseStats(STATS), {
    blockSize: 1024,
    journalInode: 8,
    firstInode: 11,
    needsRecovery: true,
  });
  // ext2: no journal.
  assert.deepEqual(
    parseStats("Block size:               4096\nFirst inode:              11\n"),
    { blockSize: 4096, journalInode: null, firstInode: 11, needsRecovery: false },
  );
  // Unmounted cleanly: the journal holds nothing its home lacks.
  assert.equal(parseStats(STATS.replace(" needs_recovery", ""))?.needsRecovery, false);
  // debugfs could not open the image: it said so on stderr, and printed no geometry.
  assert.equal(parseStats("stats: Filesystem not open\n"), null);
  assert.equal(parseStats(""), null);
});

Deno.test("parseIcheck: each block's inode, null for a block no inode holds", () => {
  const text = `debugfs: icheck 1 8705 16385 2314 99999999
Block\tInode number
1\t<block not found>
8705\t12
16385\t8
2314\t2
99999999\t<block not found>
debugfs: icheck 8706
Block\tInode number
8706\t12`;
  assert.deepEqual(
    parseIcheck(text),
    new Map([[1, null], [8705, 12], [16385, 8], [2314, 2], [99999999, null], [8706, 12]]),
  );
  assert.deepEqual(parseIcheck("icheck: Filesystem not open\n"), new Map());
});

Deno.test("parseNcheck: each inode's paths, the root's double slash read as one, hard links sorted", () => {
  const text = `debugfs: ncheck 12 13 14 15 16 17 18 19
Inode\tPathname
12\t//d
13\t//hard
14\t//var
13\t/d/with space\ttab
15\t/var/lib
16\t/var/lib/etcd
17\t/var/lib/etcd/member
18\t/var/lib/etcd/member/wal
19\t/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal
`;
  assert.deepEqual(
    parseNcheck(text),
    new Map([
      [12, ["/d"]],
      [13, ["/d/with space\ttab", "/hard"]],
      [14, ["/var"]],
      [15, ["/var/lib"]],
      [16, ["/var/lib/etcd"]],
      [17, ["/var/lib/etcd/member"]],
      [18, ["/var/lib/etcd/member/wal"]],
      [19, ["/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal"]],
    ]),
  );
  // The journal (8) and the root (2) are in no directory: ncheck names neither.
  assert.deepEqual(parseNcheck("Inode\tPathname\n12\t//log\n"), new Map([[12, ["/log"]]]));
});

Deno.test("parseTestb: whether each block is marked in use", () => {
  const text = `debugfs: testb 259
Block 259 marked in use
debugfs: testb 30000
Block 30000 not in use
`;
  assert.deepEqual(parseTestb(text), new Map([[259, true], [30000, false]]));
  assert.deepEqual(parseTestb("testb: Filesystem bitmaps not loaded\n"), new Map());
});
