/**
 * A real guest under KVM, where the host has a usable /dev/kvm (src/vm/accel.ts): the
 * shipped fsync-log scenario recorded with `--accel kvm` passes and its trace says so,
 * and a replay of it under TCG says that it ran on another accelerator. Elsewhere the
 * test is skipped, and says why.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { probeKvm } from "../src/vm/accel.ts";
import { TraceReader } from "../src/trace/reader.ts";
import { faultline } from "./support/mod.ts";

const probe = await probeKvm();
if (!probe.usable) {
  console.log(
    `kvm guest test skipped: ${probe.device} is ${
      probe.problem === "failed" ? `unusable (${probe.detail})` : probe.problem
    }`,
  );
}

Deno.test({
  name:
    "kvm: a guest records under KVM, its trace says so, and a replay under TCG says it ran elsewhere",
  ignore: !probe.usable,
  fn: async () => {
    await using dir = await makePrivateDir("faultline-kvm-test-");
    const trace = join(dir.path, "kvm.trace");
    const recorded = await faultline([
      "record",
      "scenarios/fsync-log.ts",
      "--accel",
      "kvm",
      "-o",
      trace,
      "--json",
    ]);
    assert.equal(recorded.code, 0, recorded.text);
    assert.equal(JSON.parse(recorded.stdout).accel.accel, "kvm");
    const reader = await TraceReader.open(trace);
    assert.equal((reader.header.accel as { accel: string }).accel, "kvm");
    reader.close();
    const replayed = await faultline([
      "replay",
      trace,
      "--accel",
      "tcg",
      "--fault",
      "power-loss",
      "--fault-at",
      "40",
      "-o",
      join(dir.path, "tcg.trace"),
    ]);
    assert.equal(replayed.code, 0, replayed.text);
    assert.match(
      replayed.stdout,
      /note: recorded on kvm, replayed on tcg: the verdicts should agree/,
    );
  },
});
