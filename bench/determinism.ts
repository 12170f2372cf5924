/**
 * Determinism, measured: for each shipped scenario and fault kind, R replays
 * of one recording at the same op, with and without strict order. Reports how
 * many verdicts equal the first (goal: R of R) and how often the replay's ops
 * before the fault were identical to the recording's.
 *
 * Run: `deno run -A bench/determinism.ts [--runs R] [--quick] [--json]`.
 *
 * @module
 */

import { join } from "node:path";
import { prepareForReplay, readParent, replay, type ReplayResult } from "../src/replay/replay.ts";
import { runScenario } from "../src/run/run.ts";
import { loadScenario } from "../src/scenario/load.ts";
import { makePrivateDir } from "../src/util/tempdir.ts";

const args = Deno.args;
const quick = args.includes("--quick");
const json = args.includes("--json");
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : quick ? 3 : 5;

const scenarios = quick
  ? ["scenarios/fsync-log.ts"]
  : ["scenarios/fsync-log.ts", "scenarios/sqlite-commit.ts"];
const kinds = quick ? ["eio", "power-loss"] : [
  "eio",
  "enospc",
  "lost-write",
  "torn-write",
  "corrupt:write",
  "delay:300ms",
  "limp:5ms",
  "fail",
  "hang:500ms",
  "power-loss",
  "power-loss --live",
];

interface Row {
  scenario: string;
  fault: string;
  strictOrder: boolean;
  at: number;
  runs: number;
  identicalVerdicts: number;
  identicalPrefixes: number;
  reorderedPrefixes: number;
  verdict: string;
  meanSeconds: number;
}

await using dir = await makePrivateDir("faultline-determinism-");
const rows: Row[] = [];
for (const path of scenarios) {
  const scenario = await loadScenario(path);
  const trace = join(dir.path, `${scenario.name}.trace`);
  await runScenario({ scenario, trace: { path: trace, keepData: true }, command: "record" });
  const parent = await readParent(trace);
  const prepared = await prepareForReplay(parent);
  // A write in the middle of the workload: after its first acknowledgement, before its last.
  const acks = parent.lines.filter((l) => l.phase === "run" && l.kind === "ack");
  const middle = acks[Math.floor(acks.length / 2)].at;
  const target = parent.ordered.find((op) =>
    op.phase === "run" && op.op === "write" && op.index >= middle
  )!;
  for (const kind of kinds) {
    const [fault, flag] = kind.split(" ");
    const at = fault.startsWith("power-loss")
      ? parent.ordered.find((op) => op.phase === "run" && op.op === "flush" && op.index >= middle)!
        .index
      : target.index;
    for (const strictOrder of [false, true]) {
      if (fault.startsWith("power-loss") && flag !== "--live" && strictOrder) continue; // no run phase to order
      const results: ReplayResult[] = [];
      for (let i = 0; i < runs; i++) {
        results.push(
          await replay(parent, {
            faults: [fault],
            faultAt: String(at),
            live: flag === "--live",
            strictOrder,
            output: join(dir.path, "replay.trace"),
            keepData: false,
            prepared,
          }),
        );
      }
      const first = results[0].verdict;
      const row: Row = {
        scenario: scenario.name,
        fault: kind,
        strictOrder,
        at,
        runs,
        identicalVerdicts: results.filter((r) =>
          r.verdict.pass === first.pass && r.verdict.reason === first.reason
        ).length,
        identicalPrefixes: results.filter((r) => r.prefix.kind === "identical").length,
        reorderedPrefixes: results.filter((r) => r.prefix.kind === "reordered").length,
        verdict: `${first.pass ? "pass" : "FAIL"}: ${first.reason}`,
        meanSeconds: Math.round(
          results.reduce((s, r) => s + r.timings.totalMs, 0) / results.length / 100,
        ) / 10,
      };
      rows.push(row);
      if (!json) {
        console.log(
          `${row.scenario.padEnd(14)} ${row.fault.padEnd(18)} ${
            strictOrder ? "strict" : "      "
          }  verdicts ${row.identicalVerdicts}/${runs}  prefixes identical ${row.identicalPrefixes}/${runs} (reordered ${row.reorderedPrefixes})  ${row.meanSeconds} s  ${row.verdict}`,
        );
      }
    }
  }
}

/** Rows that replay the workload in that mode (a power loss from the trace runs no workload: its prefix is the recording's). */
const summary = (strict: boolean) => {
  const selected = rows.filter((r) => r.strictOrder === strict && r.fault !== "power-loss");
  const total = selected.reduce((s, r) => s + r.runs, 0);
  return {
    replays: total,
    identicalPrefixRate: total
      ? selected.reduce((s, r) => s + r.identicalPrefixes, 0) / total
      : null,
    allVerdictsIdentical: selected.every((r) => r.identicalVerdicts === r.runs),
  };
};
if (json) {
  console.log(JSON.stringify({ runs, rows, without: summary(false), strict: summary(true) }));
} else {
  const a = summary(false);
  const b = summary(true);
  console.log(
    `\nwithout strict order: ${a.replays} replays, identical prefix ${
      (100 * (a.identicalPrefixRate ?? 0)).toFixed(0)
    }%, every verdict R of R: ${a.allVerdictsIdentical}`,
  );
  console.log(
    `with strict order:    ${b.replays} replays, identical prefix ${
      (100 * (b.identicalPrefixRate ?? 0)).toFixed(0)
    }%, every verdict R of R: ${b.allVerdictsIdentical}`,
  );
}
