/**
 * The README's install command, run as printed (into a temporary root), gives
 * a `faultline` that works from any directory.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { VERSION } from "../src/version.ts";
import { run } from "./support/mod.ts";

Deno.test("install: the README's deno install command gives a faultline that runs anywhere", async () => {
  const readme = await Deno.readTextFile("README.md");
  const command = /`(deno install [^`]+)`/.exec(readme)?.[1];
  assert.ok(command, "the README gives a deno install command");
  await using root = await makePrivateDir("faultline-install-");
  const words = command.split(/\s+/).slice(1);
  // Into a temporary root instead of the user's: --root before the module.
  words.splice(words.length - 1, 0, "--root", root.path);
  const installed = await run(Deno.execPath(), words);
  assert.equal(installed.code, 0, installed.text);
  const version = await new Deno.Command(join(root.path, "bin", "faultline"), {
    args: ["--version"],
    cwd: "/",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(version.stdout).trim(), VERSION);
});
