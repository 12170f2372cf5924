/**
 * The Swift scenarios (scenarios/swift-*.ts, built from scenarios/_swift.ts) without
 * booting them: each is a cluster of three storage nodes on XFS disks of at least 300M,
 * built from Debian's Swift packages by name, with the rings built in s1's setup, and every
 * Python program they carry (the launcher laid into the root, the rings' builder, the
 * client, the check) parses. Nothing boots: one recording of swift-put.ts took 12 min 50 s
 * on 2 cores under TCG (load average 15 to 20), the rings' setup cached, most of it Swift's
 * servers importing, so no Swift run fits this suite's budget. `faultline ci
 * scenarios/swift-*.ts` runs them (docs/findings.md).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadScenario } from "../src/scenario/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";
import { run } from "./support/mod.ts";

const SWIFT = [...Deno.readDirSync("scenarios")]
  .filter((e) => /^swift-.*\.ts$/.test(e.name)).map((e) => join("scenarios", e.name)).sort();

/** Whether the host has python3 (Debian's apt does not need it). */
function hostPython(): boolean {
  try {
    return Deno.statSync("/usr/bin/python3").isFile;
  } catch {
    return false;
  }
}

/** The here-documents of a script (`<<'FAULTLINE_EOF'` ... `FAULTLINE_EOF`), by the file they write. */
function hereDocuments(script: string): string[] {
  return [...script.matchAll(/<<'FAULTLINE_EOF'[^\n]*\n([\s\S]*?)FAULTLINE_EOF\n/g)].map((m) =>
    m[1]
  );
}

Deno.test("swift scenarios: three storage nodes on XFS from Debian's packages, the rings in s1's setup, the proxy and client on s1", async () => {
  assert.ok(SWIFT.includes("scenarios/swift-put.ts"), SWIFT.join(" "));
  for (const path of SWIFT) {
    const scenario = await loadScenario(path);
    assert.deepEqual(scenario.nodes.map((n) => n.name), ["s1", "s2", "s3"], path);
    assert.equal(scenario.client, "s1", path);
    for (const node of scenario.nodes) {
      assert.ok(node.root?.packages.includes("swift-object"), `${path}: ${node.name}`);
      const disk = node.disks[0];
      assert.ok(disk.kind === "filesystem" && disk.filesystem === "xfs", `${path}: ${node.name}`);
      assert.equal(disk.mount, "/srv/node/d1");
      assert.equal(node.ready, true);
    }
    const [s1, s2] = scenario.nodes;
    assert.match(s1.setup ?? "", /RingBuilder\(6, 3, 1\)/, "3 replicas");
    assert.equal(s2.setup, null, "only s1 builds the rings");
    assert.match(s1.workload, /swift-servers object container account proxy/);
    assert.match(s2.workload, /swift-servers object container account >/);
  }
});

Deno.test({
  name: "swift scenarios: every Python program they carry parses",
  ignore: !hostPython(),
  fn: async () => {
    await using dir = await makePrivateDir("faultline-swift-test-");
    const scenario = await loadScenario("scenarios/swift-put.ts");
    const s1 = scenario.nodes[0];
    const programs = [
      ...hereDocuments(s1.root?.rootSetup ?? "").filter((text) =>
        text.startsWith("#!/usr/bin/python3")
      ),
      ...hereDocuments(s1.setup ?? ""),
      ...hereDocuments(s1.workload),
      ...hereDocuments(s1.check ?? ""),
    ];
    assert.equal(programs.length, 4, "the launcher, the rings, the client, the check");
    const partition = await loadScenario("scenarios/swift-partition.ts");
    const counted = partition.nodes[0].check ?? "";
    programs.push(...hereDocuments(counted).slice(1, 2));
    assert.equal(programs.length, 5, "and swift-partition's count of s2's replicas");
    assert.match(
      counted,
      /replicas\.py before s2 16 \|\|[^\n]*\n[\s\S]*swift-object-replicator \/tmp\/object-replicator\.conf once[\s\S]*replicas\.py after s2 16 \|\|[^\n]*\nexit \$checked$/,
    );
    assert.match(counted, /sync_method = ssync/);
    assert.equal(
      counted.slice(0, counted.indexOf("\nchecked=$?")),
      s1.check,
      "the GETs as in every Swift scenario, then the counts and the replicator",
    );
    for (const [i, program] of programs.entries()) {
      const file = join(dir.path, `p${i}.py`);
      await Deno.writeTextFile(file, program);
      const parsed = await run("/usr/bin/python3", [
        "-c",
        "import ast, sys; ast.parse(open(sys.argv[1]).read())",
        file,
      ]);
      assert.equal(parsed.code, 0, `${parsed.text}\n${program}`);
    }
  },
});
