/**
 * Seeded guests against real VMs: a recording's trace names its guests' clock and each
 * node's seed; the guest's virtio-rng hands it bytes that follow the seed (the same seed,
 * the same stream; another seed, another), while the kernel's own /dev/urandom, which mixes
 * the guest's timing in, differs from boot to boot whatever the seed; and a replay boots
 * with its recording's seeds, whatever its own `--seed`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { guestSeed } from "../src/run/pinning.ts";
import { loadTrace } from "../src/trace/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { faultline } from "./support/mod.ts";

const PROBE = {
  name: "seeded-probe",
  nodes: {
    app: {
      disks: {},
      // 384 bytes of the device in three lines (a results line holds at most 500 bytes).
      workload: [
        "hwrng=$(head -c 384 /dev/hwrng | od -A n -t x1 | tr -d ' \\n')",
        "for at in 1 257 513; do report hwrng $(echo $hwrng | cut -c $at-$((at + 255))); done",
        "report urandom $(head -c 16 /dev/urandom | od -A n -t x1 | tr -d ' \\n')",
      ].join("\n"),
    },
  },
};

/**
 * Whether two reads of the device share 16 bytes in a row: the same seeded stream, read from
 * the same place or from another. The kernel's hwrng thread takes bytes of the device too,
 * as many as its timers let it before the workload reads (measured: the first 8 bytes a
 * workload read were one of two values over 5 boots, docs/determinism.md), so the workload's
 * bytes start further along the stream on some boots.
 */
function sameStream(a: string, b: string): boolean {
  for (let at = 0; at + 32 <= a.length; at += 2) if (b.includes(a.slice(at, at + 32))) return true;
  return false;
}

/** Runs faultline, which must pass, and reads the trace it wrote: its header and the guest's lines. */
async function traced(args: string[], trace: string) {
  const result = await faultline([...args, "-o", trace, "--json"], { timeoutMs: 240_000 });
  assert.equal(result.code, 0, result.text);
  const loaded = await loadTrace(trace);
  const line = (kind: string) =>
    loaded.lines.filter((l) => l.kind === kind).map((l) => l.args[0]).join("");
  // deno-lint-ignore no-explicit-any
  const guests = loaded.header.guests as Record<string, any>;
  return {
    clock: loaded.header.clock,
    seed: guests.app.seed,
    hwrng: line("hwrng"),
    urandom: line("urandom"),
  };
}

Deno.test("seeded guests: the trace names each node's seed and the clock; the virtio-rng's bytes follow the seed, urandom does not; a replay keeps its recording's seeds", async () => {
  await using dir = await makePrivateDir("faultline-pinning-");
  const scenario = join(dir.path, "probe.json");
  await Deno.writeTextFile(scenario, JSON.stringify(PROBE));
  const first = await traced(["record", scenario], join(dir.path, "a.trace"));
  assert.deepEqual(first.clock, { mode: "host" });
  assert.equal(first.seed, guestSeed(0, "app"), "record's seed is 0 by default");
  assert.match(first.hwrng, /^[0-9a-f]{768}$/, "the guest reads its virtio-rng");

  const other = await traced(["record", scenario, "--seed", "5"], join(dir.path, "b.trace"));
  assert.equal(other.seed, guestSeed(5, "app"));
  assert.ok(!sameStream(other.hwrng, first.hwrng), "another seed, another stream");

  const again = await traced(
    ["replay", join(dir.path, "a.trace"), "--seed", "7"],
    join(dir.path, "c.trace"),
  );
  assert.equal(again.seed, first.seed, "the replay boots with its recording's seed");
  assert.ok(sameStream(again.hwrng, first.hwrng), "the same seed, the same stream");
  assert.notEqual(again.urandom, first.urandom, "the kernel mixes its timing into urandom");
});
