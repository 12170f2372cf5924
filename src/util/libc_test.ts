import assert from "node:assert/strict";
import { exitCodeForError, FaultlineError } from "./errors.ts";
import { libc, LibcError, O_CLOEXEC, O_RDONLY, openFd } from "./libc.ts";

Deno.test("LibcError: a FaultlineError of the machinery (exit 3), its errno named in code", () => {
  const error = new LibcError("pwrite", 28, "disk.raw");
  assert.ok(error instanceof FaultlineError);
  assert.equal(error.kind, "machinery");
  assert.equal(exitCodeForError(error), 3);
  assert.equal(error.name, "LibcError");
  assert.equal(error.code, "ENOSPC");
  assert.equal(error.errno, 28);
  assert.equal(error.message, "pwrite disk.raw: ENOSPC (errno 28)");
  assert.equal(new LibcError("lseek", 200).code, "E200");
});

Deno.test({
  name: "openFd: a missing file is a LibcError ENOENT",
  ignore: libc === null,
  fn: () => {
    assert.throws(
      () => openFd("/nonexistent/faultline-libc-test", O_RDONLY | O_CLOEXEC),
      (e: unknown) => e instanceof LibcError && e.code === "ENOENT",
    );
  },
});
