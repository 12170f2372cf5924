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

/** The npm packages of deno.lock that have lifecycle (build) scripts. */
async function packagesWithScripts(): Promise<string[]> {
  const lock = JSON.parse(await Deno.readTextFile("deno.lock")) as {
    npm: Record<string, { scripts?: boolean }>;
  };
  return Object.entries(lock.npm).filter(([, info]) => info.scripts)
    .map(([id]) => id.replace(/^(@?[^@]+)@.*$/, "$1"));
}

Deno.test("install: every npm build script is allowed or denied in deno.json, and nothing warns", async () => {
  const config = JSON.parse(await Deno.readTextFile("deno.json")) as {
    allowScripts?: { allow?: string[]; deny?: string[] };
  };
  const decided = [...config.allowScripts?.allow ?? [], ...config.allowScripts?.deny ?? []];
  const scripted = await packagesWithScripts();
  assert.ok(scripted.includes("msgpackr-extract"), "deno.lock lists msgpackr-extract's script");
  for (const name of scripted) {
    assert.ok(decided.includes(`npm:${name}`), `deno.json's allowScripts decides npm:${name}`);
  }
  // Deno warns once per project directory: this configuration, from a directory it never saw.
  await using dir = await makePrivateDir("faultline-scripts-");
  for (const file of ["deno.json", "deno.lock"]) await Deno.copyFile(file, join(dir.path, file));
  await Deno.writeTextFile(
    join(dir.path, "native.ts"),
    'import { isNativeAccelerationEnabled } from "msgpackr";\n' +
      "console.log(JSON.stringify({ native: isNativeAccelerationEnabled }));\n",
  );
  const ran = await run(Deno.execPath(), ["run", "-A", "native.ts"], {
    cwd: dir.path,
    env: { NO_COLOR: "1" },
  });
  assert.equal(ran.code, 0, ran.text);
  assert.doesNotMatch(ran.stderr, /Ignored build scripts|Warning/, ran.stderr);
  // The choice (bench/README.md): msgpackr-extract's prebuilt addon, from the npm registry,
  // decodes traces; its script, which would build one with node-gyp, never runs.
  assert.deepEqual(JSON.parse(ran.stdout), { native: true });
});
