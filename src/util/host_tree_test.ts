import assert from "node:assert/strict";
import { join } from "node:path";
import tar from "tar-stream";
import { HostTreeError, isTarball, readHostTree, treeDigest } from "./host_tree.ts";
import { makePrivateDir } from "./tempdir.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** A build output: a program, a library with a link to it, a config, an empty directory. */
async function build(root: string): Promise<void> {
  await Deno.mkdir(join(root, "bin"), { recursive: true });
  await Deno.mkdir(join(root, "lib"));
  await Deno.mkdir(join(root, "var/empty"), { recursive: true });
  await Deno.writeTextFile(join(root, "bin/app"), "#!/bin/sh\necho app\n");
  await Deno.chmod(join(root, "bin/app"), 0o755);
  await Deno.writeTextFile(join(root, "lib/libapp.so.1"), "not really ELF");
  await Deno.symlink("libapp.so.1", join(root, "lib/libapp.so"));
  await Deno.writeTextFile(join(root, "app.conf"), "port=7000\n");
}

async function tarOf(dir: string, out: string, flags: string[]): Promise<void> {
  const result = await new Deno.Command("tar", { args: [...flags, out, "-C", dir, "."] }).output();
  assert.ok(result.success, new TextDecoder().decode(result.stderr));
}

/** A member of {@link packed}: its header's fields that matter here, and its bytes. */
type Member = { header: Partial<tar.Header> & { name: string }; data?: string };

/** A tarball made member by member, for members a tar command would not write. */
async function packed(members: Member[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  })();
  for (const { header, data } of members) pack.entry(header as tar.Header, data ?? "");
  pack.finalize();
  await reading;
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const chunk of chunks) out.set(chunk, (at += chunk.length) - chunk.length);
  return out;
}

Deno.test("a directory reads as its entries: files with their bytes and mode, links kept as links, empty directories", async () => {
  await using dir = await makePrivateDir();
  await build(dir.path);
  const entries = await readHostTree(dir.path);
  assert.deepEqual(entries.map((e) => `${e.type} ${e.path}`), [
    "file app.conf",
    "directory bin",
    "file bin/app",
    "directory lib",
    "symlink lib/libapp.so",
    "file lib/libapp.so.1",
    "directory var",
    "directory var/empty",
  ]);
  assert.deepEqual(entries[2], {
    type: "file",
    path: "bin/app",
    data: text("#!/bin/sh\necho app\n"),
    executable: true,
  });
  assert.deepEqual(entries[4], { type: "symlink", path: "lib/libapp.so", target: "libapp.so.1" });
});

Deno.test("a tarball, plain or gzipped, reads as the directory it was made from: the same digest", async () => {
  await using dir = await makePrivateDir();
  const tree = join(dir.path, "build");
  await build(tree);
  const digest = treeDigest(await readHostTree(tree));
  for (const [name, flags] of [["b.tar", ["-cf"]], ["b.tar.gz", ["-czf"]], ["b.tgz", ["-czf"]]]) {
    const tarball = join(dir.path, name as string);
    await tarOf(tree, tarball, flags as string[]);
    assert.ok(isTarball(tarball));
    assert.equal(treeDigest(await readHostTree(tarball)), digest, name as string);
  }
  assert.ok(!isTarball(join(tree, "app.conf")));
});

Deno.test("a tree's digest changes with any file's bytes, its mode, a link's target, a new empty directory", async () => {
  await using dir = await makePrivateDir();
  await build(dir.path);
  const digests = new Set([treeDigest(await readHostTree(dir.path))]);
  const changes = [
    () => Deno.writeTextFile(join(dir.path, "app.conf"), "port=7001\n"),
    () => Deno.chmod(join(dir.path, "app.conf"), 0o755),
    async () => {
      await Deno.remove(join(dir.path, "lib/libapp.so"));
      await Deno.symlink("libapp.so.2", join(dir.path, "lib/libapp.so"));
    },
    () => Deno.mkdir(join(dir.path, "var/cache")),
  ];
  for (const change of changes) {
    await change();
    digests.add(treeDigest(await readHostTree(dir.path)));
  }
  assert.equal(digests.size, changes.length + 1);
});

Deno.test("a tarball's hard links are copies; a member outside the tree, a device or a missing path is refused, named", async () => {
  await using dir = await makePrivateDir();
  const write = async (name: string, bytes: Uint8Array) => {
    await Deno.writeFile(join(dir.path, name), bytes);
    return join(dir.path, name);
  };
  const linked = await write(
    "linked.tar",
    await packed([
      { header: { name: "./bin/app", mode: 0o755 }, data: "app" },
      { header: { name: "./bin/app2", type: "link", linkname: "./bin/app" } },
    ]),
  );
  const entries = await readHostTree(linked);
  assert.deepEqual(entries.map((e) => e.path), ["bin/app", "bin/app2"]);
  assert.deepEqual(entries[1], {
    type: "file",
    path: "bin/app2",
    data: text("app"),
    executable: true,
  });
  const refusals: [string, Member[], RegExp][] = [
    ["up.tar", [{ header: { name: "../evil" }, data: "x" }], /member "\.\.\/evil" is not a plain/],
    ["abs.tar", [{ header: { name: "/etc/passwd" }, data: "x" }], /member "\/etc\/passwd"/],
    [
      "dev.tar",
      [{ header: { name: "null", type: "character-device", devmajor: 1, devminor: 3 } }],
      /member "null" is a character-device/,
    ],
  ];
  for (const [name, members, pattern] of refusals) {
    const path = await write(name, await packed(members));
    await assert.rejects(
      readHostTree(path),
      (e: unknown) => e instanceof HostTreeError && e.kind === "usage" && pattern.test(e.message),
      name,
    );
  }
  const junk = await write("junk.tar", text("not a tarball at all, and not gzip either"));
  await assert.rejects(readHostTree(junk), (e: unknown) => e instanceof HostTreeError);
  await assert.rejects(readHostTree(join(dir.path, "none")), /none does not exist/);
});
