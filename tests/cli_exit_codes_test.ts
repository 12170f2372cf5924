/**
 * Exit codes through the real CLI, one case of each kind that needs no VM: 2 for
 * the user's input, 3 for the machinery, each with one line that names the
 * problem. (Exit 1, a failed verdict, needs a run: see record_test.ts and
 * sweep_ci_test.ts.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline } from "./_helpers.ts";

function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
}

Deno.test("exit 2: a missing scenario file, named", async () => {
  const result = await faultline(["record", "no/such/scenario.ts"]);
  assert.equal(result.code, 2, result.text);
  assert.match(result.stderr, /no\/such\/scenario\.ts: no such scenario file/);
  oneLine(result.stderr);
});

Deno.test("exit 2: an unknown flag, with the hint to --help", async () => {
  const result = await faultline(["record", "--frobnicate", "x.ts"]);
  assert.equal(result.code, 2, result.text);
  assert.match(result.stderr, /unknown option '--frobnicate'/);
});

Deno.test("exit 2: fault on a socket that does not exist, or is not a socket", async () => {
  await using dir = await makePrivateDir("faultline-exit-");
  const missing = await faultline(["fault", join(dir.path, "control.sock"), "list"]);
  assert.equal(missing.code, 2, missing.text);
  assert.match(missing.stderr, /control\.sock is not a control socket \(no such file\)/);
  oneLine(missing.stderr);
  const file = join(dir.path, "plain");
  await Deno.writeTextFile(file, "");
  const plain = await faultline(["fault", file, "query", "vda"]);
  assert.equal(plain.code, 2, plain.text);
  assert.match(plain.stderr, /plain is not a control socket \(it is not a socket\)/);
});

Deno.test("exit 3: no cache directory to keep the guest and disks in, named", async () => {
  // Everything that locates a cache directory is unset: preparing the run cannot store anything.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", "record", "scenarios/fsync-log.ts", "-o", "/dev/null"],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      // Deno's own cache stays where it is: only faultline's has nowhere to go.
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 3, stderr);
  assert.match(stderr, /set FAULTLINE_CACHE_DIR/);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace without --debug");
});
