import assert from "node:assert/strict";
import { join } from "node:path";
import { FILESYSTEMS } from "../scenario/filesystems.ts";
import { hostCommand } from "../util/host_command.ts";
import { sha256File } from "../util/hash.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { makeFilesystem } from "./base_disks.ts";

const UUID = "3f1c0000-1111-4222-8333-444455556666";
const MIB = 1024 * 1024;

async function blank(path: string, bytes: number): Promise<void> {
  const file = await Deno.open(path, { create: true, write: true });
  await file.truncate(bytes);
  file.close();
}

async function tool(name: string, args: string[]): Promise<{ code: number; text: string }> {
  const output = await hostCommand(name, {
    args,
    env: { LC_ALL: "C" },
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    text: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

Deno.test("xfs: the same disk made twice is the same bytes, clean, its inodes' times fixed", async () => {
  await using dir = await makePrivateDir("faultline-xfs-");
  const images = [join(dir.path, "a.raw"), join(dir.path, "b.raw")];
  for (const image of images) {
    await blank(image, 300 * MIB);
    await makeFilesystem(FILESYSTEMS.xfs, { uuid: UUID, image, extra: [] });
  }
  assert.equal(await sha256File(images[0]), await sha256File(images[1]));
  const clean = FILESYSTEMS.xfs.clean(images[0]);
  const checked = await tool(clean.tool, clean.args);
  assert.equal(checked.code, 0, checked.text);
  const shown = await tool("xfs_db", [
    "-r",
    "-c",
    "sb 0",
    "-c",
    "p uuid",
    "-c",
    "inode 128",
    "-c",
    "p core.mtime.sec v3.crtime.sec",
    images[0],
  ]);
  assert.match(shown.text, new RegExp(`^uuid = ${UUID}$`, "m"));
  assert.match(shown.text, /^core\.mtime\.sec = Tue Nov 14 22:13:20 2023$/m);
  assert.match(shown.text, /^v3\.crtime\.sec = Tue Nov 14 22:13:20 2023$/m);
});

Deno.test("xfs: xfs_repair -n, the setup's clean check, fails on a damaged free space header", async () => {
  await using dir = await makePrivateDir("faultline-xfs-");
  const image = join(dir.path, "disk.raw");
  await blank(image, 300 * MIB);
  await makeFilesystem(FILESYSTEMS.xfs, { uuid: UUID, image, extra: [] });
  // The free space header (AGF) of allocation group 0, in its second sector: zeroed.
  const file = await Deno.open(image, { write: true });
  await file.seek(512, Deno.SeekMode.Start);
  await file.write(new Uint8Array(512));
  file.close();
  const clean = FILESYSTEMS.xfs.clean(image);
  const checked = await tool(clean.tool, clean.args);
  assert.notEqual(checked.code, 0, checked.text);
});
