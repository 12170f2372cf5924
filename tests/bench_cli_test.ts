/**
 * The benchmarks that take minutes teach with `--help` and refuse a flag they do not know,
 * instead of starting a run of half an hour. Nothing boots.
 *
 * @module
 */

import assert from "node:assert/strict";
import { run } from "./support/mod.ts";

/** Runs a benchmark script, stopped after a minute: one that ignored `--help` would run on. */
const bench = (script: string, ...args: string[]) =>
  run(Deno.execPath(), ["run", "-A", script, ...args], { timeoutMs: 60_000 });

for (const script of ["bench/cluster.ts", "bench/sweep.ts"]) {
  Deno.test(`${script}: --help teaches and exits 0; an unknown flag exits 2 in one line`, async () => {
    const help = await bench(script, "--help");
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: deno run -A ${script} \\[options\\]`));
    assert.match(help.stdout, /--json/);
    const unknown = await bench(script, "--bogus");
    assert.equal(unknown.code, 2);
    assert.equal(
      unknown.stderr,
      `${script}: Unknown option '--bogus' (see --help)\n`,
    );
  });
}
