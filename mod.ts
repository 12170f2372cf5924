/**
 * faultline: record every block operation of a VM's disks through its own NBD
 * server (the fault layer), and replay with faults injected at chosen ops.
 *
 * This module is the public API; run it to get the command line:
 * `deno run -A mod.ts serve --image disk.raw`.
 *
 * @example
 * ```ts
 * import { DiskService, parseFaultSpec } from "./mod.ts";
 * const service = await DiskService.start({
 *   disks: [{ name: "vda", image: "disk.raw" }],
 *   listen: { transport: "unix", path: "/tmp/x/nbd.sock" },
 *   plan: { seed: 1, rules: [parseFaultSpec("eio@write#3")] },
 *   scratchDir: "/tmp/x",
 * });
 * ```
 *
 * @module
 */

export {
  type BlockBackend,
  BlockError,
  type BlockOp,
  OP_TYPES,
  type OpType,
} from "./src/block/backend.ts";
export { type CompletedOp, DurabilityModel, type VolatileWrite } from "./src/block/durability.ts";
export { type Errno, ERRNOS } from "./src/block/errno.ts";
export { ImageStore } from "./src/block/image_store.ts";
export { OpClock } from "./src/block/op_clock.ts";
export { OverlayStore } from "./src/block/overlay_store.ts";
export { FaultEngine, type InjectedFault } from "./src/fault/engine.ts";
export { FaultError, FaultSpecError } from "./src/fault/errors.ts";
export { FaultLayer } from "./src/fault/layer.ts";
export { liveArguments, parseLiveArguments } from "./src/fault/live.ts";
export {
  type Action,
  decide,
  initialState,
  type OpView,
  type PlanState,
} from "./src/fault/plan.ts";
export { formatFaultSpec, parseFaultSpec } from "./src/fault/spec.ts";
export type { FaultEffect, FaultPlan, FaultRule, Trigger } from "./src/fault/types.ts";
export { NbdError, NbdProtocolError, NbdServerError } from "./src/nbd/errors.ts";
export type { NbdExport } from "./src/nbd/export.ts";
export { type ListenAddress, NbdServer, type ServerEvent } from "./src/nbd/server.ts";
export { QmpClient } from "./src/qmp/client.ts";
export { type CiCheck, runCi, scenarioFiles } from "./src/ci/ci.ts";
export { type CrashSelection, selectCrashWrites, writeCrashImages } from "./src/run/crash_state.ts";
export { ReplayError } from "./src/replay/errors.ts";
export {
  type ParentTrace,
  prepareForReplay,
  readParent,
  replay,
  type ReplayOptions,
  type ReplayResult,
} from "./src/replay/replay.ts";
export { comparePrefix, type PrefixComparison } from "./src/replay/signature.ts";
export { prepareScenario } from "./src/run/prepare.ts";
export { type RunEvent, type RunOptions, type RunResult, runScenario } from "./src/run/run.ts";
export { parsePoints, type PointSelection } from "./src/scenario/points.ts";
export { sweep, type SweepOptions, type SweepPoint, type SweepResult } from "./src/sweep/sweep.ts";

export type { OracleResult } from "./src/run/oracle.ts";
export type { PhaseOutcome, Verdict } from "./src/run/verdict.ts";
export { defineScenario, loadScenario, normalizeScenario } from "./src/scenario/load.ts";
export { ScenarioError } from "./src/scenario/errors.ts";
export type { Scenario, ScenarioInput } from "./src/scenario/schema.ts";
export { DiskService, type DiskServiceOptions, type DiskSpec } from "./src/service/disk_service.ts";
export { TraceError, TraceFormatError } from "./src/trace/errors.ts";
export { describeEnd, type TraceEnd, TraceReader } from "./src/trace/reader.ts";
export { RecordingLayer } from "./src/trace/recorder.ts";
export type {
  EventRecord,
  FooterRecord,
  HeaderRecord,
  OpRecord,
  TraceRecord,
} from "./src/trace/schema.ts";
export { OpStats, type StatsSummary } from "./src/trace/stats.ts";
export { TraceWriter } from "./src/trace/writer.ts";
export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  // No top-level await: scenario files import this module, and must not wait for the CLI to finish.
  import("./src/cli/main.ts").then(({ main }) => main(Deno.args)).then((code) => Deno.exit(code));
}
