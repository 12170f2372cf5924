/**
 * Python's bytecode in a package root (src/vm/_python_bytecode.ts): a root of
 * python3-minimal holds the standard library's `.pyc` files, hash-based and unchecked
 * (PEP 552: a timestamp-based one would never match the image's fixed times), and the same
 * packages give the same image bytes when it is built again.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hostCommand } from "../src/util/host_command.ts";
import { ensureBusybox } from "../src/vm/kernel.ts";
import { ensurePackageRoot, type PackageRootSpec } from "../src/vm/package_root.ts";

const spec: PackageRootSpec = {
  packages: ["python3-minimal"],
  users: [],
  files: [],
  rootSetup: null,
  directories: ["/data"],
};

/** A file of an ext4 image, read with debugfs. */
async function readFromImage(image: string, path: string): Promise<Uint8Array> {
  const output = await hostCommand("debugfs", {
    args: ["-R", `cat ${path}`, image],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return output.stdout;
}

Deno.test({
  name:
    "python bytecode: the root's standard library is compiled, unchecked-hash, the same bytes when built again",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const busybox = await ensureBusybox();
    const root = await ensurePackageRoot(spec, { busybox });
    const pyc = await readFromImage(
      root.path,
      "/usr/lib/python3.11/__pycache__/os.cpython-311.pyc",
    );
    assert.ok(pyc.length > 16, `os.cpython-311.pyc holds ${pyc.length} bytes`);
    // The header's flags word (PEP 552): 1 = hash-based, its source not checked.
    assert.equal(new DataView(pyc.buffer, pyc.byteOffset).getUint32(4, true), 1);
    const again = await ensurePackageRoot(spec, { busybox, rebuild: true });
    assert.equal(again.built, true);
    assert.equal(again.sha256, root.sha256);
  },
});
