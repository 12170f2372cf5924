/**
 * replayJournal on real ext4 images: one whose newest file's metadata e2fsprogs' debugfs
 * committed to the journal only (tests/support/ext4.ts), and one with no file system.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { addFile, EXT4_BLOCK, mkfsExt4 } from "../../tests/support/ext4.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { debugfs } from "./debugfs.ts";
import { parseStats } from "./debugfs_output.ts";
import { replayJournal } from "./journal_replay.ts";

Deno.test("replayJournal: the metadata committed to the journal only goes home, where debugfs reads it", async () => {
  await using dir = await makePrivateDir("faultline-journal-replay-test-");
  const base = await mkfsExt4(join(dir.path, "base.raw"), { sizeBytes: 8 << 20 });
  const bytes = new Uint8Array(2 * EXT4_BLOCK).fill(0x41);
  const { journaled } = await addFile(base, { dir: dir.path, name: "wal", bytes });
  const ask = async (request: string) =>
    (await debugfs(journaled, [request], { catastrophic: true })).stdout;
  assert.equal(parseStats(await ask("stats -h"))?.needsRecovery, true);
  assert.doesNotMatch(await ask("ls /"), /\bwal\b/);
  assert.equal(await replayJournal(journaled), null);
  assert.equal(parseStats(await ask("stats -h"))?.needsRecovery, false);
  assert.match(await ask("ls /"), /\bwal\b/);
  // Nothing left to replay.
  assert.equal(await replayJournal(journaled), null);
});

Deno.test("replayJournal: says what e2fsck said when it finds no file system", async () => {
  await using dir = await makePrivateDir("faultline-journal-replay-test-");
  const blank = join(dir.path, "blank.raw");
  await Deno.writeFile(blank, new Uint8Array(1 << 20));
  assert.equal(
    await replayJournal(blank),
    "e2fsck -E journal_only exit 8: Bad magic number in super-block",
  );
});
