import assert from "node:assert/strict";
import { join } from "node:path";
import { cacheDir, CacheDirError, ensureCacheDir, storeBytes, storeFile } from "./cache_dir.ts";
import { sha256Bytes, sha256File } from "./hash.ts";
import { makePrivateDir } from "./tempdir.ts";

const ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("cacheDir: FAULTLINE_CACHE_DIR, then XDG_CACHE_HOME, then HOME", () => {
  assert.equal(
    cacheDir(env({ FAULTLINE_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" })),
    "/c",
  );
  assert.equal(cacheDir(env({ XDG_CACHE_HOME: "/x", HOME: "/h" })), "/x/faultline");
  assert.equal(cacheDir(env({ HOME: "/h" })), "/h/.cache/faultline");
  // Relative values are ignored, as the XDG base directory spec says.
  assert.equal(
    cacheDir(env({ FAULTLINE_CACHE_DIR: "rel", XDG_CACHE_HOME: "x", HOME: "/h" })),
    "/h/.cache/faultline",
  );
  assert.throws(() => cacheDir(env({})), CacheDirError);
});

Deno.test("ensureCacheDir: creates the directory, or names it, its variable and why not", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  const made = await ensureCacheDir(env({ XDG_CACHE_HOME: join(dir.path, "xdg") }));
  assert.equal(made, join(dir.path, "xdg", "faultline"));
  assert.equal((await Deno.stat(made)).isDirectory, true);
  assert.deepEqual([...Deno.readDirSync(made)], [], "the probe is gone");
  // A file where a directory must be: root cannot create it either.
  const file = join(dir.path, "a-file");
  await Deno.writeTextFile(file, "");
  const error = await ensureCacheDir(env({ XDG_CACHE_HOME: file })).catch((e) => e);
  assert.ok(error instanceof CacheDirError, String(error));
  assert.equal(
    error.message,
    `cannot create the cache directory ${file}/faultline (from XDG_CACHE_HOME), or write in it: ` +
      "Not a directory (os error 20); set FAULTLINE_CACHE_DIR to a directory faultline may " +
      "create and write",
  );
});

Deno.test("sha256File and sha256Bytes agree with the known digest of abc", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  const path = join(dir.path, "abc");
  await Deno.writeTextFile(path, "abc");
  assert.equal(await sha256File(path), ABC_SHA256);
  assert.equal(sha256Bytes(new TextEncoder().encode("abc")), ABC_SHA256);
  assert.equal(
    sha256Bytes([new TextEncoder().encode("a"), new TextEncoder().encode("bc")]),
    ABC_SHA256,
  );
});

Deno.test("sha256File streams a file larger than one read", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  const path = join(dir.path, "big");
  const data = new Uint8Array(9 * 1024 * 1024 + 7);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  await Deno.writeFile(path, data);
  assert.equal(await sha256File(path), sha256Bytes(data));
});

Deno.test("storeFile and storeBytes put content under its hash, once", async () => {
  await using dir = await makePrivateDir("faultline-cache-test-");
  const root = join(dir.path, "cache");
  const source = join(dir.path, "abc.txt");
  await Deno.writeTextFile(source, "abc");
  const stored = await storeFile(source, { kind: "things", extension: ".txt", root });
  assert.deepEqual(stored, { path: join(root, "things", `${ABC_SHA256}.txt`), sha256: ABC_SHA256 });
  assert.equal(await Deno.readTextFile(stored.path), "abc");
  assert.equal((await Deno.stat(stored.path)).mode! & 0o777, 0o644);
  const again = await storeBytes(new TextEncoder().encode("abc"), {
    kind: "things",
    extension: ".txt",
    root,
  });
  assert.deepEqual(again, stored);
  const moved = await storeFile(source, { kind: "things", extension: ".txt", root, move: true });
  assert.deepEqual(moved, stored);
  await assert.rejects(Deno.stat(source), Deno.errors.NotFound);
  const names = [];
  for await (const entry of Deno.readDir(join(root, "things"))) names.push(entry.name);
  assert.deepEqual(names, [`${ABC_SHA256}.txt`], "no temporary files are left");
  await assert.rejects(storeBytes(new Uint8Array(1), { kind: "../x", root }), CacheDirError);
});
