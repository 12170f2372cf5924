import assert from "node:assert/strict";
import { bytecodeDirs, compilesBytecode } from "./_python_bytecode.ts";

const pkg = (name: string) => ({ name, version: "1", architecture: "amd64" });

Deno.test("python bytecode: a root holding python3-minimal, built as root, gets it; others do not", () => {
  assert.equal(compilesBytecode([pkg("dash"), pkg("python3-minimal")], true), true);
  assert.equal(compilesBytecode([pkg("dash"), pkg("python3-minimal")], false), false);
  assert.equal(compilesBytecode([pkg("dash"), pkg("python3.11-minimal")], true), false);
});

Deno.test("python bytecode: the standard library's directory and /usr/lib/python3, nothing else", () => {
  assert.deepEqual(
    bytecodeDirs(["x86_64-linux-gnu", "python3.11", "python3", "python3-dist", "python2.7"]),
    ["/usr/lib/python3", "/usr/lib/python3.11"],
  );
  assert.deepEqual(bytecodeDirs(["x86_64-linux-gnu"]), []);
});
