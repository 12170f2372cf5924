/**
 * How fast a trace decodes, with msgpackr's native string extraction (the npm package
 * msgpackr-extract, a prebuilt Node-API addon) and without it (msgpackr's own JavaScript):
 * the choice behind `allowScripts` in deno.json (bench/README.md has the figures).
 *
 * Each pass reads every record of the trace through `TraceReader`, as `trace stats`, a
 * replay and a sweep do. msgpackr decides once, when it loads, whether to use the addon
 * (`MSGPACKR_NATIVE_ACCELERATION_DISABLED=true` says no), so each way runs in a process of
 * its own; the two take turns, round after round, and the medians are compared.
 *
 * Run: `deno run -A bench/trace_decode.ts TRACE [--rounds N] [--passes N] [--json]`.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { isNativeAccelerationEnabled } from "msgpackr";
import { TraceReader } from "../src/trace/reader.ts";

/** One process's passes over the trace. */
interface Passes {
  native: boolean;
  records: number;
  bytes: number;
  /** Milliseconds of each pass. */
  ms: number[];
  /** CPU milliseconds of each pass (user and system, every thread): less sensitive to a busy machine. */
  cpuMs: number[];
}

/** Reads the whole trace `passes` times in this process (the child's side). */
async function decodePasses(trace: string, passes: number): Promise<Passes> {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let records = 0;
  for (let i = 0; i < passes; i++) {
    const started = performance.now();
    const cpu = cpuUsage();
    const reader = await TraceReader.open(trace);
    records = 1;
    for await (const _ of reader.records()) records++;
    const used = cpuUsage(cpu);
    ms.push(performance.now() - started);
    cpuMs.push((used.user + used.system) / 1000);
  }
  const bytes = (await Deno.stat(trace)).size;
  return { native: isNativeAccelerationEnabled, records, bytes, ms, cpuMs };
}

/** Runs the passes in a child process, with the addon allowed or not. */
async function child(trace: string, passes: number, native: boolean): Promise<Passes> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--child", trace, String(passes)],
    env: { MSGPACKR_NATIVE_ACCELERATION_DISABLED: native ? "false" : "true" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`the decoding process failed (exit ${output.code})`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Both ways, `rounds` times each, taking turns; prints the medians. */
async function compare(
  trace: string,
  options: { rounds: number; passes: number; json: boolean },
): Promise<void> {
  const runs: Record<"native" | "javascript", Passes[]> = { native: [], javascript: [] };
  for (let round = 0; round < options.rounds; round++) {
    // The first pass of each process warms up V8's compiler: it is left out.
    const order = round % 2 === 0 ? [true, false] : [false, true];
    for (const native of order) {
      const passes = await child(trace, options.passes + 1, native);
      if (passes.native !== native) {
        throw new Error(`msgpackr's native extraction is ${passes.native ? "on" : "off"}`);
      }
      runs[native ? "native" : "javascript"].push({
        ...passes,
        ms: passes.ms.slice(1),
        cpuMs: passes.cpuMs.slice(1),
      });
    }
  }
  const summary = Object.fromEntries(
    Object.entries(runs).map(([way, list]) => {
      const all = list.flatMap((p) => p.ms);
      const ms = median(all);
      const round = (n: number) => Math.round(n * 10) / 10;
      return [way, {
        medianMs: round(ms),
        minMs: round(Math.min(...all)),
        maxMs: round(Math.max(...all)),
        medianCpuMs: round(median(list.flatMap((p) => p.cpuMs))),
        recordsPerSecond: Math.round(list[0].records / (ms / 1000)),
        mibPerSecond: Math.round(list[0].bytes / 1048576 / (ms / 1000)),
      }];
    }),
  );
  const { records, bytes } = runs.native[0];
  if (options.json) {
    console.log(JSON.stringify({ trace, records, bytes, ...options, ...summary }));
    return;
  }
  console.log(
    `${trace}: ${records} records, ${(bytes / 1048576).toFixed(1)} MiB; ` +
      `${options.rounds} rounds x ${options.passes} passes a way`,
  );
  for (const [way, s] of Object.entries(summary)) {
    console.log(
      `  ${way.padEnd(10)} median ${s.medianMs} ms a pass (${s.minMs} to ${s.maxMs}), ` +
        `CPU ${s.medianCpuMs} ms, ${s.recordsPerSecond} records/s, ${s.mibPerSecond} MiB/s`,
    );
  }
  const ratio = (key: "medianMs" | "medianCpuMs") =>
    (summary.native[key] / summary.javascript[key]).toFixed(2);
  console.log(`  native / javascript: ${ratio("medianMs")} (time), ${ratio("medianCpuMs")} (CPU)`);
}

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

if (import.meta.main) {
  const args = Deno.args;
  if (args[0] === "--child") {
    console.log(JSON.stringify(await decodePasses(args[1], Number(args[2]))));
  } else if (!args[0] || args[0].startsWith("-")) {
    console.error(
      "usage: deno run -A bench/trace_decode.ts TRACE [--rounds N] [--passes N] [--json]",
    );
    Deno.exit(2);
  } else {
    await compare(args[0], {
      rounds: flag(args, "--rounds", 5),
      passes: flag(args, "--passes", 5),
      json: args.includes("--json"),
    });
  }
}
