/**
 * Replaying the journal of an ext3/4 file system into its image, with e2fsprogs' e2fsck
 * (`-E journal_only`): the metadata committed to the journal and not yet written to its home
 * is written there, as the kernel does when it mounts the file system again, and nothing else
 * is checked or repaired. It writes the image: give it a copy. debugfs reads a file system
 * as it lies on the disk and never replays a journal (src/run/debugfs.ts).
 *
 * @module
 */

import { hostCommand } from "../util/host_command.ts";

/**
 * e2fsck's exit codes that say it did its work: 0, or bits 1 (it changed the file system)
 * and 2 (it did, and a mounted one must be remounted). 4 and up are failures (its man page).
 */
const DONE_BELOW = 4;

/**
 * Replays the journal of the ext3/4 file system on `image` into it, in place; returns null,
 * or what e2fsck said when it could not (a damaged journal, no such file system).
 *
 * @throws {ToolMissingError} when e2fsck is not installed; the signal's reason when it aborted.
 * @example
 * ```ts
 * await replayJournal("copy.raw"); // null: copy.raw's metadata is where the kernel would read it
 * ```
 */
export async function replayJournal(
  image: string,
  options: { signal?: AbortSignal } = {},
): Promise<string | null> {
  const output = await hostCommand("e2fsck", {
    args: ["-p", "-E", "journal_only", image],
    env: { LC_ALL: "C" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.signal ? { signal: options.signal } : {}),
  }).output();
  options.signal?.throwIfAborted();
  if (output.code < DONE_BELOW && output.signal === null) return null;
  const said = [output.stderr, output.stdout]
    .flatMap((bytes) => new TextDecoder().decode(bytes).split("\n"))
    .map((line) => line.trim()).find((line) => line !== "")
    // `/usr/sbin/e2fsck: Bad magic number in super-block while trying to open PATH`, PATH ours.
    ?.replace(/^\S*e2fsck: /, "").replace(/ while trying to open .*$/, "");
  return `e2fsck -E journal_only exit ${output.code}${said ? `: ${said}` : ""}`;
}
