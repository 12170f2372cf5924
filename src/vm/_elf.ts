/**
 * The few facts about an ELF file that the guest image builder needs, read without running
 * anything: a program's interpreter and needed libraries (for copying a host program with
 * its shared libraries into the guest) and a kernel module's `.modinfo` (for its
 * dependencies). Pure; 64-bit little-endian ELF only, which is what x86-64 uses.
 *
 * Reference: the System V gABI, "Object Files" (ELF header, program and section headers,
 * dynamic section).
 *
 * @module
 */

import { FaultlineError } from "../util/errors.ts";

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

/** Not an ELF file of the kind this reader understands; the message says why. */
export class ElfError extends FaultlineError {}

/** What the dynamic loader needs to run a program or load a library. */
export interface ElfDynamicInfo {
  /** The program interpreter (PT_INTERP), such as `/lib64/ld-linux-x86-64.so.2`. */
  interpreter?: string;
  /** DT_NEEDED names in file order, such as `libc.so.6`. */
  needed: string[];
  /** DT_RUNPATH directories (`$ORIGIN` not expanded). */
  runpath: string[];
  /** DT_RPATH directories (`$ORIGIN` not expanded). */
  rpath: string[];
  /** True when the file has no PT_INTERP and no PT_DYNAMIC: a static executable. */
  isStatic: boolean;
}

interface ProgramHeader {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

interface SectionHeader {
  nameOffset: number;
  type: number;
  offset: number;
  size: number;
}

const decoder = new TextDecoder();

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (
      bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c ||
      bytes[3] !== 0x46
    ) {
      throw new ElfError("not an ELF file");
    }
    if (bytes[4] !== 2 || bytes[5] !== 1) {
      throw new ElfError("not a 64-bit little-endian ELF file");
    }
  }
  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
  u64(offset: number): number {
    const value = this.view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError("offset out of range");
    return Number(value);
  }
  i64(offset: number): bigint {
    return this.view.getBigInt64(offset, true);
  }
  slice(offset: number, size: number): Uint8Array {
    if (offset + size > this.bytes.length) throw new ElfError("truncated ELF file");
    return this.bytes.subarray(offset, offset + size);
  }
  cString(offset: number): string {
    let end = offset;
    while (end < this.bytes.length && this.bytes[end] !== 0) end++;
    return decoder.decode(this.bytes.subarray(offset, end));
  }
  programHeaders(): ProgramHeader[] {
    const phoff = this.u64(32);
    const phentsize = this.u16(54);
    const phnum = this.u16(56);
    const out: ProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      this.slice(at, 56);
      out.push({
        type: this.u32(at),
        offset: this.u64(at + 8),
        vaddr: this.u64(at + 16),
        filesz: this.u64(at + 32),
      });
    }
    return out;
  }
  sectionHeaders(): { sections: SectionHeader[]; names: number } {
    const shoff = this.u64(40);
    const shentsize = this.u16(58);
    const shnum = this.u16(60);
    const shstrndx = this.u16(62);
    const sections: SectionHeader[] = [];
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      this.slice(at, 64);
      sections.push({
        nameOffset: this.u32(at),
        type: this.u32(at + 4),
        offset: this.u64(at + 24),
        size: this.u64(at + 32),
      });
    }
    const names = sections[shstrndx]?.offset ?? 0;
    return { sections, names };
  }
}

/**
 * Reads the interpreter, needed libraries and search paths of an ELF executable or
 * shared library.
 */
export function readElfDynamic(bytes: Uint8Array): ElfDynamicInfo {
  const elf = new Reader(bytes);
  const headers = elf.programHeaders();
  const interp = headers.find((h) => h.type === PT_INTERP);
  const dynamic = headers.find((h) => h.type === PT_DYNAMIC);
  const info: ElfDynamicInfo = {
    interpreter: interp ? elf.cString(interp.offset) : undefined,
    needed: [],
    runpath: [],
    rpath: [],
    isStatic: !interp && !dynamic,
  };
  if (!dynamic) return info;
  const entries: Array<{ tag: number; value: number }> = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = Number(elf.i64(at));
    if (tag === DT_NULL) break;
    entries.push({ tag, value: elf.u64(at + 8) });
  }
  const strtabAddress = entries.find((e) => e.tag === DT_STRTAB)?.value;
  if (strtabAddress === undefined) return info;
  const load = headers.find((h) =>
    h.type === PT_LOAD && h.vaddr <= strtabAddress && strtabAddress < h.vaddr + h.filesz
  );
  if (!load) throw new ElfError("the dynamic string table is not in a loaded segment");
  const strtab = load.offset + (strtabAddress - load.vaddr);
  for (const { tag, value } of entries) {
    if (tag === DT_NEEDED) info.needed.push(elf.cString(strtab + value));
    if (tag === DT_RUNPATH) info.runpath.push(...elf.cString(strtab + value).split(":"));
    if (tag === DT_RPATH) info.rpath.push(...elf.cString(strtab + value).split(":"));
  }
  info.runpath = info.runpath.filter((p) => p !== "");
  info.rpath = info.rpath.filter((p) => p !== "");
  return info;
}

/**
 * Reads the `.modinfo` section of a kernel module (`key=value` strings) into a map from
 * key to values, in file order. `depends` is one comma-separated value, possibly empty.
 */
export function readModinfo(bytes: Uint8Array): Map<string, string[]> {
  const elf = new Reader(bytes);
  const { sections, names } = elf.sectionHeaders();
  const section = sections.find((s) => elf.cString(names + s.nameOffset) === ".modinfo");
  if (!section) throw new ElfError("no .modinfo section: not a kernel module");
  const out = new Map<string, string[]>();
  const data = elf.slice(section.offset, section.size);
  for (const text of decoder.decode(data).split("\0")) {
    const eq = text.indexOf("=");
    if (eq <= 0) continue;
    const key = text.slice(0, eq);
    const values = out.get(key) ?? [];
    values.push(text.slice(eq + 1));
    out.set(key, values);
  }
  return out;
}
