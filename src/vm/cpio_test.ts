import assert from "node:assert/strict";
import { CPIO_HEADER_SIZE, CpioError, encodeCpio, normalizeCpioPath } from "./cpio.ts";
import type { CpioEntry } from "./cpio.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { ascii } from "../../tests/support/bytes.ts";
import { run, runOk } from "../../tests/support/process.ts";

const decoded = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** An independent newc reader, written from cpio(5), for checking the writer. */
interface Parsed {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
  check: number;
  data: Uint8Array;
  headerOffset: number;
}

function parseNewc(archive: Uint8Array): Parsed[] {
  const out: Parsed[] = [];
  let offset = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    const header = decoded(archive.subarray(offset, offset + 110));
    assert.equal(header.slice(0, 6), "070701", `magic at ${offset}`);
    const field = (i: number) => Number.parseInt(header.slice(6 + 8 * i, 14 + 8 * i), 16);
    const namesize = field(11);
    const filesize = field(6);
    const nameStart = offset + 110;
    const nameBytes = archive.subarray(nameStart, nameStart + namesize);
    assert.equal(nameBytes[namesize - 1], 0, "name is NUL-terminated");
    const name = decoded(nameBytes.subarray(0, namesize - 1));
    const dataStart = align(nameStart + namesize);
    const entry: Parsed = {
      name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      nlink: field(4),
      mtime: field(5),
      filesize,
      devmajor: field(7),
      devminor: field(8),
      rdevmajor: field(9),
      rdevminor: field(10),
      namesize,
      check: field(12),
      data: archive.subarray(dataStart, dataStart + filesize),
      headerOffset: offset,
    };
    out.push(entry);
    offset = align(dataStart + filesize);
    if (name === "TRAILER!!!") break;
  }
  assert.equal(offset, archive.length, "nothing after the trailer's padding");
  return out;
}

const sample: CpioEntry[] = [
  { type: "file", path: "/init", data: ascii("#!/bin/sh\necho hi\n"), mode: 0o755 },
  { type: "char", path: "/dev/console", major: 5, minor: 1 },
  { type: "symlink", path: "/bin/sh", target: "busybox" },
  { type: "file", path: "bin/busybox", data: ascii("not really busybox"), mode: 0o755 },
  { type: "directory", path: "/proc" },
  { type: "file", path: "/etc/empty", data: new Uint8Array(0) },
];

Deno.test("cpio: a single file is byte-exact", () => {
  const archive = encodeCpio([{ type: "file", path: "/a", data: ascii("xyz") }]);
  const expected = "070701" + "00000001" + "000081A4" + "00000000" + "00000000" +
    "00000001" + "00000000" + "00000003" + "00000000" + "00000000" + "00000000" +
    "00000000" + "00000002" + "00000000" +
    "a\0" + // 110 + 2 = 112: already aligned
    "xyz\0" + // data 3 bytes + 1 byte padding
    "070701" + "00000000" + "00000000" + "00000000" + "00000000" + "00000001" +
    "00000000" + "00000000" + "00000000" + "00000000" + "00000000" + "00000000" +
    "0000000B" + "00000000" + "TRAILER!!!\0" + "\0\0\0"; // 110 + 11 = 121 -> 124
  assert.equal(decoded(archive), expected);
  assert.equal(archive.length, 112 + 4 + 124);
});

Deno.test("cpio: entries are sorted, numbered and padded; parents are added", () => {
  const entries = parseNewc(encodeCpio(sample));
  assert.deepEqual(entries.map((e) => e.name), [
    "bin",
    "bin/busybox",
    "bin/sh",
    "dev",
    "dev/console",
    "etc",
    "etc/empty",
    "init",
    "proc",
    "TRAILER!!!",
  ]);
  entries.slice(0, -1).forEach((e, i) => {
    assert.equal(e.ino, i + 1);
    assert.equal(e.uid, 0);
    assert.equal(e.gid, 0);
    assert.equal(e.mtime, 0);
    assert.equal(e.check, 0);
    assert.equal(e.headerOffset % 4, 0);
    assert.equal(e.data.byteOffset % 4, 0);
    assert.ok(e.data.byteOffset >= e.headerOffset + CPIO_HEADER_SIZE + e.namesize);
  });
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get("bin")!.mode, 0o040755);
  assert.equal(byName.get("bin")!.nlink, 2);
  assert.equal(byName.get("bin/sh")!.mode, 0o120777);
  assert.equal(decoded(byName.get("bin/sh")!.data), "busybox");
  assert.equal(byName.get("dev/console")!.mode, 0o020600);
  assert.equal(byName.get("dev/console")!.rdevmajor, 5);
  assert.equal(byName.get("dev/console")!.rdevminor, 1);
  assert.equal(byName.get("init")!.mode, 0o100755);
  assert.equal(decoded(byName.get("init")!.data), "#!/bin/sh\necho hi\n");
  assert.equal(byName.get("etc/empty")!.filesize, 0);
  const trailer = byName.get("TRAILER!!!")!;
  assert.deepEqual([trailer.ino, trailer.mode, trailer.nlink, trailer.filesize], [0, 0, 1, 0]);
});

Deno.test("cpio: data of every length is padded to 4 bytes", () => {
  for (let length = 0; length < 9; length++) {
    for (const name of ["a", "ab", "abc", "abcd"]) {
      const data = new Uint8Array(length).fill(0x41);
      const archive = encodeCpio([{ type: "file", path: name, data }]);
      assert.equal(archive.length % 4, 0);
      const [entry] = parseNewc(archive);
      assert.equal(entry.data.byteOffset % 4, 0);
      assert.deepEqual(entry.data, data);
    }
  }
});

Deno.test("cpio: the same entries in any order give identical bytes", () => {
  const a = encodeCpio(sample);
  const b = encodeCpio([...sample].reverse());
  assert.deepEqual(a, b);
  assert.deepEqual(encodeCpio(sample), a);
});

Deno.test("cpio: names sort as UTF-8 bytes, so directories precede their contents", () => {
  const names = parseNewc(
    encodeCpio([
      { type: "file", path: "a/b", data: ascii("1") },
      { type: "file", path: "a-b", data: ascii("2") },
      { type: "file", path: "a.b", data: ascii("3") },
      { type: "file", path: "Z", data: ascii("4") },
      { type: "file", path: "é", data: ascii("5") },
    ]),
  ).map((e) => e.name);
  assert.deepEqual(names, ["Z", "a", "a-b", "a.b", "a/b", "é", "TRAILER!!!"]);
});

Deno.test("cpio: bad entries are refused with the path in the message", () => {
  assert.throws(() => normalizeCpioPath("/"), CpioError);
  assert.throws(() => normalizeCpioPath("a//b"), CpioError);
  assert.throws(() => normalizeCpioPath("a/../b"), CpioError);
  assert.throws(() => normalizeCpioPath("./a"), CpioError);
  assert.equal(normalizeCpioPath("//a/b"), "a/b");
  assert.throws(
    () => encodeCpio([{ type: "directory", path: "/x" }, { type: "directory", path: "x" }]),
    /"x" is listed twice/,
  );
  assert.throws(
    () =>
      encodeCpio([
        { type: "file", path: "f", data: ascii("") },
        { type: "file", path: "f/g", data: ascii("") },
      ]),
    /"f" is not a directory/,
  );
  assert.throws(
    () => encodeCpio([{ type: "file", path: "d/f", data: ascii("") }], { addParents: false }),
    /its directory "d" is not listed/,
  );
  assert.throws(() => encodeCpio([{ type: "char", path: "c", major: -1, minor: 0 }]), /major/);
  assert.throws(
    () => encodeCpio([{ type: "file", path: "f", data: ascii(""), mode: 0o10000 }]),
    /mode/,
  );
  assert.throws(() => encodeCpio([{ type: "symlink", path: "l", target: "" }]), /target/);
});

/** True when the program exists (it ran, whatever it exited with). */
function found(name: string): Promise<boolean> {
  return run(name, ["--help"]).then(() => true, () => false);
}

const cpioTool = (await found("busybox"))
  ? ["busybox", "cpio"]
  : (await found("bsdcpio"))
  ? ["bsdcpio"]
  : (await found("cpio"))
  ? ["cpio"]
  : undefined;

Deno.test({
  name: `cpio: a real cpio (${cpioTool?.join(" ") ?? "none found"}) lists and extracts it`,
  ignore: cpioTool === undefined,
}, async () => {
  const [cmd, ...pre] = cpioTool!;
  const archive = encodeCpio(sample);
  const listing = await runOk(cmd, [...pre, "-t"], { stdin: archive });
  assert.deepEqual(listing.trim().split("\n"), [
    "bin",
    "bin/busybox",
    "bin/sh",
    "dev",
    "dev/console",
    "etc",
    "etc/empty",
    "init",
    "proc",
  ]);
  // Extract what an unprivileged user may create (no device node).
  const extractable = encodeCpio(sample.filter((e) => e.type !== "char"));
  await using dir = await makePrivateDir("faultline-cpio-test-");
  await runOk(cmd, [...pre, "-i", "-d", "-m"], { stdin: extractable, cwd: dir.path });
  assert.equal(await Deno.readTextFile(`${dir.path}/init`), "#!/bin/sh\necho hi\n");
  assert.equal((await Deno.stat(`${dir.path}/init`)).mode! & 0o777, 0o755);
  assert.equal(await Deno.readLink(`${dir.path}/bin/sh`), "busybox");
  assert.equal(await Deno.readTextFile(`${dir.path}/bin/busybox`), "not really busybox");
  assert.equal((await Deno.stat(`${dir.path}/etc/empty`)).size, 0);
  assert.equal((await Deno.stat(`${dir.path}/init`)).mtime!.getTime(), 0);
});
