import assert from "node:assert/strict";
import { exitCodeForError } from "./errors.ts";
import { hostCommand, ToolMissingError } from "./host_command.ts";

Deno.test("host command: a missing program is named with its Debian package, exit 3", async () => {
  // The child's PATH decides where the program is looked for.
  const env = { PATH: "/nonexistent" };
  for (
    const start of [
      () => hostCommand("qemu-system-x86_64", { env, stdout: "null" }).output(),
      () => Promise.resolve().then(() => hostCommand("mkfs.ext4", { env }).spawn()),
    ]
  ) {
    const error = await start().then(() => null, (e) => e);
    assert.ok(error instanceof ToolMissingError, String(error));
    assert.equal(exitCodeForError(error), 3);
    assert.match(error.message, /^(qemu-system-x86_64|mkfs\.ext4) is not installed/);
    assert.match(error.message, /Debian package (qemu-system-x86|e2fsprogs)/);
    assert.doesNotMatch(error.message, /Failed to spawn/);
  }
  const unknown = await hostCommand("faultline-no-such-tool").output().catch((e) => e);
  assert.ok(unknown instanceof ToolMissingError);
  assert.equal(unknown.debianPackage, null);
  assert.equal(unknown.message, "faultline-no-such-tool is not installed (not found on PATH)");
});

Deno.test("host command: a program that runs is run as Deno.Command runs it", async () => {
  const output = await hostCommand("true").output();
  assert.equal(output.success, true);
  const failing = await hostCommand("false").output();
  assert.equal(failing.code, 1);
  // A program by its path is looked up by its name.
  const error = new ToolMissingError("/usr/sbin/mke2fs");
  assert.equal(error.debianPackage, "e2fsprogs");
});
