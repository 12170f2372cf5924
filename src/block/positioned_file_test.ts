import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../util/tempdir.ts";
import { libc } from "../util/libc.ts";
import { PositionedFile } from "./positioned_file.ts";

/** Positioned reads and writes, a read past the end, truncate and length, on one file. */
function exercise(dir: string): void {
  const path = join(dir, "f.raw");
  const file = PositionedFile.open(path, { write: true, create: true, truncate: true });
  try {
    file.truncate(10_000);
    assert.equal(file.length(), 10_000);
    file.write(4000, new Uint8Array([1, 2, 3, 4, 5]));
    const into = new Uint8Array(12).fill(9);
    file.readInto(3998, into, 2, 8);
    assert.deepEqual([...into], [9, 9, 0, 0, 1, 2, 3, 4, 5, 0, 9, 9]);
    // Past the end reads as zeroes.
    assert.deepEqual([...file.read(9998, 4)], [0, 0, 0, 0]);
    file.syncData();
  } finally {
    file.close();
  }
  assert.throws(
    () => PositionedFile.open(join(dir, "missing"), { write: false }),
    Deno.errors.NotFound,
  );
}

Deno.test("positioned I/O through FFI (pread, pwrite) reads and writes as Deno's would", async () => {
  assert.ok(libc, "the tests run with FFI allowed");
  await using dir = await makePrivateDir();
  exercise(dir.path);
});

Deno.test("without FFI, positioned I/O falls back to Deno's seek and read, with the same results", async () => {
  await using dir = await makePrivateDir();
  const script = join(dir.path, "no_ffi.ts");
  await Deno.writeTextFile(
    script,
    `import { libc } from "${new URL("../util/libc.ts", import.meta.url)}";
import { OverlayStore } from "${new URL("./overlay_store.ts", import.meta.url)}";
if (libc !== null) throw new Error("FFI was not to be allowed");
const base = Deno.args[0] + "/base.raw";
await Deno.writeFile(base, new Uint8Array(256 * 1024).fill(7));
const store = OverlayStore.open({ base, scratchDir: Deno.args[0], name: "vda" });
const op = (type, offset, length, data) => ({ index: 0, disk: "vda", type, offset, length, fua: false, noHole: false, arrivedAt: 0, data });
// A small write to memory, a large one to the scratch file, both over the base.
await store.execute(op("write", 100, 50, new Uint8Array(50).fill(3)));
await store.execute(op("write", 8192, 131072, new Uint8Array(131072).fill(4)));
const back = await store.execute(op("read", 0, 256 * 1024));
const expected = new Uint8Array(256 * 1024).fill(7);
expected.fill(3, 100, 150);
expected.fill(4, 8192, 8192 + 131072);
if (back.some((b, i) => b !== expected[i])) throw new Error("wrong bytes");
await store.close();
console.log("ok");
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", "--allow-read", "--allow-write", "--allow-env", script, dir.path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /^ok$/m);
});

Deno.test("data ranges: a sparse file's data lies within them, and the bytes outside read as zeroes", async () => {
  await using dir = await makePrivateDir();
  const path = join(dir.path, "sparse.raw");
  const size = 4 * 1024 * 1024;
  const file = PositionedFile.open(path, { write: true, create: true, truncate: true });
  try {
    file.truncate(size);
    file.write(0, new Uint8Array(8192).fill(1));
    file.write(1024 * 1024 + 100, new Uint8Array(10).fill(2));
    file.write(size - 4096, new Uint8Array(4096).fill(3));
    const ranges = file.dataRanges();
    assert.ok(ranges, "ext4 and tmpfs know SEEK_DATA");
    const covered = (at: number) => ranges.some(([start, end]) => start <= at && at < end);
    for (const at of [0, 8191, 1024 * 1024 + 100, 1024 * 1024 + 109, size - 1]) {
      assert.ok(covered(at), `byte ${at} was written: it lies in a data range`);
    }
    for (let i = 1; i < ranges.length; i++) {
      assert.ok(ranges[i - 1][1] < ranges[i][0], "sorted, apart");
    }
    const bytes = file.read(0, size);
    const outside = bytes.filter((byte, at) => byte !== 0 && !covered(at));
    assert.equal(outside.length, 0, "every byte outside the ranges is zero");
    assert.ok(!covered(2 * 1024 * 1024), "the middle of the file is a hole");
    assert.equal(file.dataRanges(1), null, "more ranges than asked for: null, read it all");
  } finally {
    file.close();
  }
});
