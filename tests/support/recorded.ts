/**
 * A scenario recorded for the tests that then replay or sweep it: the run, its trace read
 * whole, and the guests and disks its replays start from.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ParentTrace, prepareForReplay, readParent } from "../../src/replay/replay.ts";
import type { Prepared } from "../../src/run/prepare.ts";
import { type RunResult, runScenario } from "../../src/run/run.ts";
import type { Scenario } from "../../src/scenario/schema.ts";

/**
 * Records `scenario` into `trace` with the written bytes kept (a power loss is built from
 * them), asserts that the recording met its own expectations, and prepares its replays.
 *
 * @example
 * ```ts
 * const { parent, prepared } = await recordForReplay(await loadScenario("scenarios/etcd-put.ts"), path);
 * ```
 */
export async function recordForReplay(
  scenario: Scenario,
  trace: string,
): Promise<{ recorded: RunResult; parent: ParentTrace; prepared: Prepared }> {
  const recorded = await runScenario({
    scenario,
    trace: { path: trace, keepData: true },
    command: "record",
  });
  assert.ok(recorded.verdict.pass, `${scenario.name} records: ${recorded.verdict.reason}`);
  const parent = await readParent(trace);
  return { recorded, parent, prepared: await prepareForReplay(parent) };
}
