import assert from "node:assert/strict";
import { ElfError, readElfDynamic, readModinfo } from "./_elf.ts";

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch {
    return undefined;
  }
}

const sh = await readIfPresent("/bin/sh");

Deno.test({
  name: "elf: a dynamic host program names its loader and libc",
  ignore: sh === undefined,
  fn() {
    const info = readElfDynamic(sh!);
    assert.equal(info.isStatic, false);
    assert.match(info.interpreter ?? "", /^\/lib.*\/ld-linux-x86-64\.so\.2$/);
    assert.ok(info.needed.includes("libc.so.6"), info.needed.join(","));
  },
});

Deno.test("elf: refuses what is not a 64-bit little-endian ELF file", () => {
  assert.throws(() => readElfDynamic(new TextEncoder().encode("#!/bin/sh\n".padEnd(80))), ElfError);
  const elf32 = new Uint8Array(80);
  elf32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1]);
  assert.throws(() => readElfDynamic(elf32), /64-bit little-endian/);
});

/** A minimal relocatable ELF64 with a .modinfo section, built by hand. */
function fakeModule(modinfo: string): Uint8Array {
  const enc = new TextEncoder();
  const info = enc.encode(modinfo);
  const names = enc.encode("\0.modinfo\0.shstrtab\0");
  const infoAt = 64;
  const namesAt = infoAt + info.length;
  const shoff = (namesAt + names.length + 7) & ~7;
  const bytes = new Uint8Array(shoff + 3 * 64);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setUint16(16, 1, true); // ET_REL
  view.setUint16(18, 62, true); // EM_X86_64
  view.setBigUint64(40, BigInt(shoff), true);
  view.setUint16(58, 64, true);
  view.setUint16(60, 3, true);
  view.setUint16(62, 2, true);
  bytes.set(info, infoAt);
  bytes.set(names, namesAt);
  const section = (i: number, name: number, type: number, offset: number, size: number) => {
    const at = shoff + i * 64;
    view.setUint32(at, name, true);
    view.setUint32(at + 4, type, true);
    view.setBigUint64(at + 24, BigInt(offset), true);
    view.setBigUint64(at + 32, BigInt(size), true);
  };
  section(1, 1, 1, infoAt, info.length);
  section(2, 10, 3, namesAt, names.length);
  return bytes;
}

Deno.test("elf: .modinfo is read as key=value strings", () => {
  const info = readModinfo(
    fakeModule("license=GPL\0depends=virtio,virtio_ring\0alias=a\0alias=b\0"),
  );
  assert.deepEqual(info.get("depends"), ["virtio,virtio_ring"]);
  assert.deepEqual(info.get("alias"), ["a", "b"]);
  assert.deepEqual(info.get("license"), ["GPL"]);
  assert.throws(() => readModinfo(fakeModule("").subarray(0, 64)), ElfError);
});
