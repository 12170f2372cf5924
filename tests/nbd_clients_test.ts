/**
 * The NBD server against real clients: qemu-io, qemu-img, nbdinfo, nbdcopy.
 * Every test also checks (in `stop`) that the base image never changed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { TraceReader } from "../src/trace/reader.ts";
import { sha256File } from "../src/util/hash.ts";
import { makeImage, qemuIo, qemuIoFailed, run, seededFill, serveImage } from "./support/mod.ts";

Deno.test("qemu-io writes a pattern, reads it back, discards, zeroes, flushes, and runs aio", async () => {
  await using served = await serveImage({ size: 8 * 1024 * 1024, fill: seededFill(7) });
  const result = await qemuIo(served.uri(), [
    "write -P 0xa5 4096 65536",
    "read -P 0xa5 4096 65536",
    "write -P 0x3c 1000 3000", // unaligned: the overlay copies the base block first
    "read -P 0x3c 1000 3000",
    "discard 1048576 1048576",
    "write -z 2097152 131072",
    "read -P 0 2097152 131072",
    "flush",
    "aio_write -P 0x11 3145728 4096",
    "aio_write -P 0x22 3149824 4096",
    "aio_flush",
    "read -P 0x11 3145728 4096",
    "read -P 0x22 3149824 4096",
  ]);
  assert.equal(qemuIoFailed(result), false, result.text);
  assert.match(result.text, /read 65536\/65536 bytes at offset 4096/);

  // The bytes around the unaligned write kept the base's content.
  const base = await Deno.readFile(served.image);
  const around = await qemuIo(served.uri(), ["read -v 996 4"]);
  const hex = [...base.subarray(996, 1000)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  assert.match(around.stdout, new RegExp(hex));
});

Deno.test("qemu-img converts an image into an export and back, byte-identical", async () => {
  await using served = await serveImage({ size: 4 * 1024 * 1024 });
  const source = await makeImage(
    join(served.dir.path, "source.raw"),
    4 * 1024 * 1024,
    seededFill(11),
  );
  const into = await run("qemu-img", [
    "convert",
    "-n",
    "-f",
    "raw",
    "-O",
    "raw",
    source,
    served.uri(),
  ]);
  assert.equal(into.code, 0, into.text);
  const back = join(served.dir.path, "back.raw");
  const out = await run("qemu-img", ["convert", "-f", "raw", "-O", "raw", served.uri(), back]);
  assert.equal(out.code, 0, out.text);
  assert.equal(await sha256File(back), await sha256File(source));
});

Deno.test("nbdinfo --json shows the size and every capability the export offers", async () => {
  await using served = await serveImage({ size: 3 * 1024 * 1024 + 512 });
  const info = await run("nbdinfo", ["--json", served.uri()]);
  assert.equal(info.code, 0, info.text);
  const parsed = JSON.parse(info.stdout);
  const exp = parsed.exports[0];
  assert.equal(exp["export-name"], "vda");
  assert.equal(exp["export-size"], 3 * 1024 * 1024 + 512);
  for (
    const flag of [
      "can_flush",
      "can_fua",
      "can_trim",
      "can_zero",
      "can_cache",
      "can_multi_conn",
      "can_df",
    ]
  ) {
    assert.equal(exp[flag], true, flag);
  }
  assert.equal(exp.is_read_only, false);
  assert.equal(parsed.protocol, "newstyle-fixed");
  assert.equal(parsed.structured, true);

  const list = await run("nbdinfo", [
    "--list",
    "--json",
    `nbd+unix://?socket=${
      served.service.address.transport === "unix" ? served.service.address.path : ""
    }`,
  ]);
  assert.equal(list.code, 0, list.text);
  assert.deepEqual(
    JSON.parse(list.stdout).exports.map((e: { "export-name": string }) => e["export-name"]),
    ["vda"],
  );
});

Deno.test("an nbdcopy round trip of a random 32 MiB image is byte-identical", async () => {
  const size = 32 * 1024 * 1024;
  await using served = await serveImage({ size });
  const source = await makeImage(join(served.dir.path, "random.raw"), size, seededFill(1234));
  const into = await run("nbdcopy", [source, served.uri()]);
  assert.equal(into.code, 0, into.text);
  const back = join(served.dir.path, "copy.raw");
  await makeImage(back, size);
  const out = await run("nbdcopy", [served.uri(), back]);
  assert.equal(out.code, 0, out.text);
  assert.equal(await sha256File(back), await sha256File(source));
});

Deno.test("the trace records the ops a client made, with written data and hashes", async () => {
  await using served = await serveImage({ size: 1024 * 1024 });
  const result = await qemuIo(served.uri(), ["write -P 0x42 0 8192", "flush", "read 0 8192"]);
  assert.equal(qemuIoFailed(result), false, result.text);
  await served.service.close("done");
  const reader = await TraceReader.open(served.trace);
  const ops = [];
  for await (const record of reader.records()) if (record.record === "op") ops.push(record);
  assert.ok(reader.end.footer, "the trace has its footer");
  const write = ops.find((op) => op.op === "write");
  assert.ok(write);
  assert.equal(write.offset, 0);
  assert.equal(write.length, 8192);
  assert.equal(write.result, "ok");
  assert.deepEqual(write.data, new Uint8Array(8192).fill(0x42));
  assert.match(write.hash ?? "", /^[0-9a-f]{16}$/);
  assert.ok(ops.some((op) => op.op === "flush"));
  assert.ok(ops.some((op) => op.op === "read" && op.length === 8192));
  // Indices are arrival positions: each appears once.
  assert.deepEqual(ops.map((op) => op.index).sort((a, b) => a - b), ops.map((_, i) => i));
});

Deno.test("--modify-image writes the image itself, and flushes reach it", async () => {
  await using served = await serveImage({ size: 1024 * 1024, modifyImage: true });
  const result = await qemuIo(served.uri(), ["write -P 0x77 8192 4096", "flush"]);
  assert.equal(qemuIoFailed(result), false, result.text);
  const bytes = await Deno.readFile(served.image);
  assert.deepEqual(bytes.subarray(8192, 8192 + 4096), new Uint8Array(4096).fill(0x77));
});
