/**
 * What a crash lost, as files: the writes a crash state drops (src/run/crash_state.ts),
 * mapped to the files, the journal or the metadata of the ext2/3/4 file system they were
 * written to, with e2fsprogs' debugfs (src/run/debugfs.ts): `icheck` names the inode that
 * holds each block, `ncheck` its paths, `testb` whether a block no inode holds is in use.
 *
 * The image read is the disk as the whole run phase left it (every write of the run
 * applied), its journal replayed (src/run/journal_replay.ts), neither the crash image nor
 * the disk at the cut. ext4 writes a file's new data before the journal commit that
 * allocates its blocks, and that metadata to its home only later (writeback, or the `sync`
 * that ends every phase, src/vm/initramfs.ts). So at the cut, the blocks of the newest
 * writes, the ones a crash drops, are in no file yet: in fsync-log.ts, /data/log's block
 * 8705 is in no inode on the disk at op 93 and in inode 12 at the run's end. The crash
 * image, which lacks the dropped writes, says less still. A node whose run phase ended
 * without its `sync` (a cluster's other nodes, stopped when the client's workload ended)
 * leaves the metadata of its newest files in the journal only, which debugfs does not read:
 * replayed, it is where debugfs reads it. The cost: a block freed or reused after the cut is
 * counted where the run left it, in another file or free (`free`), as a deleted SQLite
 * rollback journal's blocks are.
 *
 * @module
 */

import type { OpRecord } from "../trace/schema.ts";
import { diskKey, storedLength } from "../trace/ops.ts";
import type { ScenarioDisk, ScenarioNode } from "../scenario/schema.ts";
import { filesystemOf } from "../scenario/filesystems.ts";
import { makePrivateDir, type PrivateDir } from "../util/tempdir.ts";
import { type CrashSelection, selectCrashWrites, writeCrashImages } from "./crash_state.ts";
import { debugfs, debugfsRequests } from "./debugfs.ts";
import { replayJournal } from "./journal_replay.ts";
import {
  type ExtGeometry,
  parseIcheck,
  parseNcheck,
  parseStats,
  parseTestb,
  ROOT_INODE,
} from "./debugfs_output.ts";

/** A file the crash lost writes of. */
export interface LostFile {
  /** The node of its disk. */
  node: string;
  /** Its disk. */
  disk: string;
  /**
   * Where the guest saw it: its disk's mount point, then its path in the file system
   * (`/data/log`); without a mount, its path in the file system. Null for an inode no
   * directory names.
   */
  path: string | null;
  /** Its inode. */
  inode: number;
  /** The lost writes to its blocks. */
  writes: number;
}

/** A disk the crash lost writes of, whose file system faultline does not read. */
export interface UnreadDisk {
  /** Its node. */
  node: string;
  /** Its name. */
  disk: string;
  /** The lost writes to it. */
  writes: number;
  /** Why: `not a file system faultline reads`, or what debugfs or e2fsck said. */
  reason: string;
}

/**
 * What a crash lost, as files. A write is counted once for each file, and once for each of
 * the journal, the metadata and free blocks, that its blocks fall in.
 */
export interface LostWrites {
  /** The writes the crash lost: dropped whole, or a torn write's tail. */
  writes: number;
  /** The files they were written to, the most first. */
  files: LostFile[];
  /** Of them, writes to a file system's journal. */
  journal: number;
  /** Writes to blocks no inode holds and the file system uses (superblock, bitmaps, inode tables). */
  metadata: number;
  /** Writes to blocks free when the run ended (freed after the write: a deleted file's). */
  free: number;
  /** The disks not read, with their writes. */
  unread: UnreadDisk[];
  /** In words: `16 writes to /data/log, 48 to the journal, 6 to file system metadata`. */
  summary: string;
}

/** What a disk's file system is read for, once a disk. */
interface DiskFs {
  /** The disk as the run left it. */
  image: string;
  geometry: ExtGeometry;
  mount: string | null;
  /** Where each block asked about so far belongs. */
  owners: Map<number, Owner>;
  /** The path of each inode asked about so far, in the file system; null when no directory names it. */
  paths: Map<number, string | null>;
  /** Settles when the questions asked so far are answered: they are asked one at a time. */
  inTurn: Promise<void>;
}

/** Where a block belongs: a file's inode, the journal, the file system's own, or nothing. */
type Owner = number | "journal" | "metadata" | "free";

/** The words for a disk whose file system faultline does not read. */
export const NOT_READ = "not a file system faultline reads";

/** Options of {@link LostFiles}. */
export interface LostFilesOptions {
  /** The run's op records, in completion order, with their data: the disks are read as they left them. */
  records: readonly OpRecord[];
  /** The scenario's nodes and their disks: what file system each holds, where it is mounted. */
  scenario: { nodes: readonly Pick<ScenarioNode, "name" | "disks">[] };
  /** Each disk's base image, by {@link diskKey}. */
  bases: ReadonlyMap<string, string>;
  /** Aborting kills debugfs. */
  signal?: AbortSignal;
}

/** A lost byte range of one write: `[start, end)` of its disk. */
interface LostRange {
  record: OpRecord;
  start: number;
  end: number;
}

/**
 * Maps the writes crash states lose to files, reading each disk as the run left it. The
 * images are made once, when a disk is first asked about, and every block's owner is asked
 * once: one object serves every crash state of a sweep. Disposing removes the images.
 *
 * @example
 * ```ts
 * await using lostFiles = new LostFiles({ records: parent.records, scenario, bases });
 * (await lostFiles.of(selection)).summary; // "16 writes to /data/log, 48 to the journal, ..."
 * ```
 */
export class LostFiles implements AsyncDisposable {
  readonly #options: LostFilesOptions;
  #dir: Promise<PrivateDir> | null = null;
  #runEnd: CrashSelection | null = null;
  readonly #disks = new Map<string, Promise<DiskFs | string>>();

  /** Reads the disks of `options.scenario` as `options.records` leave them. */
  constructor(options: LostFilesOptions) {
    this.#options = options;
  }

  /**
   * What `selection` loses, as files: its dropped writes and a torn write's tail. A disk that
   * cannot be read (not ext2/3/4, or debugfs failed) is among `unread`, with why.
   */
  async of(selection: CrashSelection): Promise<LostWrites> {
    const ranges = lostRanges(selection);
    const byDisk = Map.groupBy(ranges, (r) => diskKey(r.record.node, r.record.disk));
    const files = new Map<string, LostFile>();
    const counts = { journal: 0, metadata: 0, free: 0 };
    const unread: UnreadDisk[] = [];
    for (const [key, onDisk] of byDisk) {
      const { node, disk } = onDisk[0].record;
      const fs = await this.#disk(key);
      if (typeof fs === "string") {
        unread.push({ node, disk, writes: countWrites(onDisk), reason: fs });
        continue;
      }
      const problem = await this.#resolveInTurn(fs, onDisk);
      if (problem !== null) {
        unread.push({ node, disk, writes: countWrites(onDisk), reason: problem });
        continue;
      }
      for (const owner of ownersByWrite(fs, onDisk)) {
        if (typeof owner !== "number") {
          counts[owner]++;
          continue;
        }
        const id = `${key}#${owner}`;
        const file = files.get(id) ??
          { node, disk, path: guestPath(fs, owner), inode: owner, writes: 0 };
        file.writes++;
        files.set(id, file);
      }
    }
    const lost = {
      writes: countWrites(ranges),
      files: [...files.values()].sort(byWritesThenName),
      ...counts,
      unread,
    };
    return { ...lost, summary: summarize(lost, this.#options.scenario.nodes.length > 1) };
  }

  /** Removes the images made. */
  async [Symbol.asyncDispose](): Promise<void> {
    const dir = this.#dir;
    this.#dir = null;
    if (dir) await (await dir).remove();
  }

  /** A disk's file system, read once; or why it is not read. */
  #disk(key: string): Promise<DiskFs | string> {
    let fs = this.#disks.get(key);
    if (!fs) {
      fs = this.#open(key).catch((error: Error) => {
        if (this.#options.signal?.aborted) throw error;
        return `debugfs could not read it: ${error.message}`;
      });
      this.#disks.set(key, fs);
    }
    return fs;
  }

  async #open(key: string): Promise<DiskFs | string> {
    const disk = scenarioDisk(this.#options.scenario, key);
    const base = this.#options.bases.get(key);
    if (!disk || !readsAsExt(disk) || !base) return NOT_READ;
    const image = await this.#runEndImage(key, base);
    const stats = await debugfs(image, ["stats -h"], this.#ask(true));
    const geometry = parseStats(stats.stdout);
    if (!geometry) {
      // `debugfs: Bad magic number in super-block while trying to open PATH`, PATH being ours.
      const said = /^debugfs: (.*?)(?: while trying to open .*)?$/m.exec(stats.stderr)?.[1];
      return said ? `${NOT_READ} (debugfs: ${said})` : NOT_READ;
    }
    if (geometry.needsRecovery) {
      const failed = await replayJournal(
        image,
        this.#options.signal ? { signal: this.#options.signal } : {},
      );
      if (failed !== null) return `its journal could not be replayed (${failed})`;
    }
    return {
      image,
      geometry,
      mount: disk.mount,
      owners: new Map(),
      paths: new Map(),
      inTurn: Promise.resolve(),
    };
  }

  /** The disk with every write of the run applied, made once. */
  async #runEndImage(key: string, base: string): Promise<string> {
    this.#dir ??= makePrivateDir("faultline-lost-files-");
    const dir = await this.#dir;
    this.#runEnd ??= selectCrashWrites(this.#options.records, Infinity, {
      kind: "state",
      dropped: [],
    });
    const writes = this.#runEnd.writes.filter((w) => diskKey(w.record.node, w.record.disk) === key);
    const images = await writeCrashImages(
      { ...this.#runEnd, writes },
      new Map([[key, base]]),
      dir.path,
    );
    return images.get(key)!.path;
  }

  /**
   * Resolves the blocks of `ranges` after the disk's resolutions under way (a sweep asks for
   * many crash states at once); returns why debugfs could not, or null.
   */
  async #resolveInTurn(fs: DiskFs, ranges: readonly LostRange[]): Promise<string | null> {
    const blocks = ranges.flatMap((r) => blocksOf(r, fs.geometry.blockSize));
    const resolved = fs.inTurn.then(() => this.#resolve(fs, blocks));
    fs.inTurn = resolved.catch(() => {});
    try {
      await resolved;
      return null;
    } catch (error) {
      if (this.#options.signal?.aborted) throw error;
      return `debugfs could not read it: ${(error as Error).message}`;
    }
  }

  /** Asks debugfs where the blocks not asked about before belong, and the new inodes' paths. */
  async #resolve(fs: DiskFs, blocks: readonly number[]): Promise<void> {
    const asked = [...new Set(blocks)].filter((block) => !fs.owners.has(block));
    if (asked.length === 0) return;
    const { geometry } = fs;
    const icheck = parseIcheck(
      (await debugfs(fs.image, debugfsRequests("icheck", asked.map(String)), this.#ask(true)))
        .stdout,
    );
    const unowned: number[] = [];
    for (const block of asked) {
      const inode = icheck.get(block) ?? null;
      if (inode === null) unowned.push(block);
      else if (inode === geometry.journalInode) fs.owners.set(block, "journal");
      else if (inode < geometry.firstInode && inode !== ROOT_INODE) {
        fs.owners.set(block, "metadata");
      } else fs.owners.set(block, inode);
    }
    const inodes = [...new Set([...fs.owners.values()])]
      .filter((o): o is number => typeof o === "number" && !fs.paths.has(o));
    const [testb, ncheck] = await Promise.all([
      unowned.length === 0 ? "" : debugfs(
        fs.image,
        debugfsRequests("testb", unowned.map(String), { each: true }),
        // testb reads the bitmaps, which catastrophic mode leaves unread.
        this.#ask(false),
      ).then((out) => out.stdout),
      inodes.length === 0
        ? ""
        : debugfs(fs.image, debugfsRequests("ncheck", inodes.map(String)), this.#ask(true))
          .then((out) => out.stdout),
    ]);
    const used = parseTestb(testb);
    // A block whose bitmap debugfs could not read is counted as the file system's.
    for (const block of unowned) {
      fs.owners.set(block, used.get(block) === false ? "free" : "metadata");
    }
    const paths = parseNcheck(ncheck);
    for (const inode of inodes) {
      fs.paths.set(inode, inode === ROOT_INODE ? "/" : paths.get(inode)?.[0] ?? null);
    }
  }

  #ask(catastrophic: boolean) {
    return { catastrophic, ...(this.#options.signal ? { signal: this.#options.signal } : {}) };
  }
}

/** Files the most written first; then by path, node (a cluster's nodes hold the same paths) and inode. */
function byWritesThenName(a: LostFile, b: LostFile): number {
  return b.writes - a.writes || (a.path ?? "").localeCompare(b.path ?? "") ||
    a.node.localeCompare(b.node) || a.inode - b.inode;
}

/** The byte ranges a crash state loses: its dropped writes whole, a torn write's tail. */
function lostRanges(selection: CrashSelection): LostRange[] {
  const whole = selection.dropped.map((record) => ({
    record,
    start: record.offset,
    end: record.offset + storedLength(record),
  }));
  const tails = selection.writes
    .filter((w) => w.keepBytes < storedLength(w.record))
    .map((w) => ({
      record: w.record,
      start: w.record.offset + w.keepBytes,
      end: w.record.offset + storedLength(w.record),
    }));
  return [...whole, ...tails].filter((r) => r.end > r.start);
}

/** The writes the ranges are of. */
function countWrites(ranges: readonly LostRange[]): number {
  return new Set(ranges.map((r) => r.record.index)).size;
}

/** The file system blocks a byte range touches. */
function blocksOf(range: LostRange, blockSize: number): number[] {
  const first = Math.floor(range.start / blockSize);
  const last = Math.floor((range.end - 1) / blockSize);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** For each write, where its blocks belong, each place once. */
function* ownersByWrite(fs: DiskFs, ranges: readonly LostRange[]): Generator<Owner> {
  const byWrite = Map.groupBy(ranges, (r) => r.record.index);
  for (const writeRanges of byWrite.values()) {
    const owners = new Set<Owner>();
    for (const range of writeRanges) {
      for (const block of blocksOf(range, fs.geometry.blockSize)) {
        owners.add(fs.owners.get(block)!);
      }
    }
    yield* owners;
  }
}

/** A file's path as the guest saw it: under its disk's mount point. */
function guestPath(fs: DiskFs, inode: number): string | null {
  const path = fs.paths.get(inode) ?? null;
  if (path === null || fs.mount === null || fs.mount === "/") return path;
  return path === "/" ? fs.mount : `${fs.mount.replace(/\/+$/, "")}${path}`;
}

/** The scenario's disk of a {@link diskKey}. */
function scenarioDisk(
  scenario: LostFilesOptions["scenario"],
  key: string,
): ScenarioDisk | undefined {
  for (const node of scenario.nodes) {
    for (const disk of node.disks) if (diskKey(node.name, disk.name) === key) return disk;
  }
  return undefined;
}

/** Whether a disk holds a file system faultline reads (ext2/3/4): made by mkfs, or an image said to be one. */
function readsAsExt(disk: ScenarioDisk): boolean {
  const name = disk.kind === "filesystem" ? disk.filesystem : disk.fstype;
  return filesystemOf(name)?.readsFiles ?? false;
}

/** Files shown in a summary before `N more files`. */
const SUMMARY_FILES = 5;

/** {@link LostWrites.summary}: files first, then the journal, metadata, free blocks, disks not read. */
function summarize(lost: Omit<LostWrites, "summary">, cluster: boolean): string {
  if (lost.writes === 0) return "no write";
  const where = (file: LostFile) =>
    `${cluster ? `${file.node}:` : ""}${
      file.path ?? `inode ${file.inode} of ${file.node}/${file.disk} (no name)`
    }`;
  const parts: [number, string][] = lost.files.slice(0, SUMMARY_FILES).map((f) => [
    f.writes,
    where(f),
  ]);
  const more = lost.files.slice(SUMMARY_FILES);
  if (more.length > 0) {
    const files = `${more.length} more file${more.length === 1 ? "" : "s"}`;
    parts.push([more.reduce((sum, f) => sum + f.writes, 0), files]);
  }
  if (lost.journal > 0) parts.push([lost.journal, "the journal"]);
  if (lost.metadata > 0) parts.push([lost.metadata, "file system metadata"]);
  if (lost.free > 0) parts.push([lost.free, "blocks free at the run's end"]);
  for (const d of lost.unread) parts.push([d.writes, `${d.node}/${d.disk}, ${d.reason}`]);
  return parts.map(([count, what], i) =>
    i === 0 ? `${count} write${count === 1 ? "" : "s"} to ${what}` : `${count} to ${what}`
  ).join(", ");
}
