/**
 * faultline: boot the system under test in QEMU with every disk behind its own
 * NBD server (the fault layer), record every block operation into a trace, and
 * replay with faults injected at chosen ops.
 *
 * This module is the public API: what a scenario author and a library user
 * need. Run it to get the command line: `deno run -A mod.ts --help`.
 *
 * @example Record a scenario, then replay it with an EIO at recorded op 24
 * ```ts
 * import { loadScenario, readParent, replay, runScenario } from "./mod.ts";
 *
 * const scenario = await loadScenario("scenarios/fsync-log.ts");
 * const recorded = await runScenario({
 *   scenario,
 *   trace: { path: "run.trace", keepData: true },
 *   command: "record",
 * });
 * console.log(recorded.verdict.reason);
 * const parent = await readParent("run.trace");
 * const replayed = await replay(parent, {
 *   faults: ["eio"],
 *   faultAt: "24",
 *   output: "replay.trace",
 *   keepData: false,
 * });
 * console.log(replayed.verdict.pass, replayed.reproduce);
 * ```
 *
 * @example The fault layer under any VM
 * ```ts
 * import { DiskService, parseFaultSpec } from "./mod.ts";
 *
 * const service = await DiskService.start({
 *   disks: [{ name: "vda", image: "disk.raw" }],
 *   listen: { transport: "unix", path: "/tmp/x/nbd.sock" },
 *   plan: { seed: 1, rules: [parseFaultSpec("eio@write#3")] },
 *   scratchDir: "/tmp/x",
 * });
 * await service.close("finished");
 * ```
 *
 * @module
 */

// Scenarios.
export { defineScenario, loadScenario } from "./src/scenario/load.ts";
export type {
  ExitCodesInput,
  Expectations,
  ExpectationsInput,
  FaultExpectation,
  FaultExpectationInput,
  FilesystemDiskInput,
  ImageDiskInput,
  NodeInput,
  NodeRoot,
  NodeUser,
  OutputExpectation,
  Scenario,
  ScenarioDisk,
  ScenarioInput,
  ScenarioNode,
} from "./src/scenario/schema.ts";
export { SCENARIO_VERSION } from "./src/scenario/schema.ts";
export { parsePoints, type PointFilter, type PointSelection } from "./src/scenario/points.ts";

// Runs, replays, sweeps, CI.
export {
  type CrashFromTrace,
  type PowerCut,
  prepareRun,
  type ResumeFrom,
  type RunEvent,
  type RunOptions,
  type RunResult,
  runScenario,
  type RunTimings,
} from "./src/run/run.ts";
export {
  openWarmChecks,
  openWarmRun,
  type WarmChecks,
  type WarmRun,
  type WarmSession,
} from "./src/run/warm.ts";
export type { GuestState } from "./src/vm/snapshot.ts";
export type { NodeGuest, Prepared } from "./src/run/prepare.ts";
export type { SetupFacts } from "./src/run/setup_phase.ts";
export type { BaseDisk } from "./src/run/base_disks.ts";
export type { CrashSelection } from "./src/run/crash_state.ts";
export type { OrderBreak } from "./src/run/strict_order.ts";
export type { OracleResult } from "./src/run/oracle.ts";
export type { PhaseOutcome, Verdict } from "./src/run/verdict.ts";
export {
  type ParentTrace,
  prepareForReplay,
  readParent,
  replay,
  type ReplayOptions,
  type ReplayResult,
} from "./src/replay/replay.ts";
export type { OpSignature, PrefixComparison } from "./src/replay/signature.ts";
export {
  pointMessage,
  type PointStates,
  type StateOutcome,
  sweep,
  type SweepOptions,
  type SweepPoint,
  type SweepProgress,
  type SweepResult,
} from "./src/sweep/sweep.ts";
export { type Shard } from "./src/sweep/shard.ts";
export {
  MergeError,
  mergeSweepShards,
  type NamedResults,
  type SweepResultsFile,
} from "./src/sweep/merge.ts";
export { type CiCheck, type CiOptions, runCi, scenarioFiles } from "./src/ci/ci.ts";
export { type CiResultsFile, mergeCiShards } from "./src/ci/merge.ts";

// The fault layer and its faults.
export {
  DiskService,
  type DiskServiceOptions,
  type DiskSpec,
  type ServiceEvent,
} from "./src/service/disk_service.ts";
export type { ControlEvent, FaultControlTarget, LinkControlTarget } from "./src/service/control.ts";
export type { LiveRequest } from "./src/fault/live.ts";
export type { LiveFault } from "./src/fault/plan.ts";
export type { JsonObject } from "./src/qmp/framing.ts";
export type { ListenAddress, ServerEvent } from "./src/nbd/server.ts";
export type { TransmissionEvent } from "./src/nbd/transmission.ts";
export {
  type AppliedFault,
  type BlockBackend,
  type BlockOp,
  OP_TYPES,
  type OpType,
} from "./src/block/backend.ts";
export { type Errno, ERRNOS } from "./src/block/errno.ts";
export { formatFaultSpec, parseFaultSpec } from "./src/fault/spec.ts";
export { PLAN_VERSION } from "./src/fault/plan_version.ts";
export type {
  FaultEffect,
  FaultPlan,
  FaultRule,
  FrameProtocol,
  LinkScope,
  Trigger,
} from "./src/fault/types.ts";
export { type EffectOf, FAULT_KINDS, kindOf } from "./src/fault/kinds/mod.ts";
export type {
  BlockAction,
  BlockBehaviour,
  BlockContext,
  BlockHit,
  CrashStates,
  CrashVariant,
  Detail,
  Effect,
  Family,
  FaultKind,
  FrameAction,
  FromTrace,
  LinkBehaviour,
  LiveBehaviour,
  NodeAction,
  NodeBehaviour,
} from "./src/fault/kinds/kind.ts";
export type { LiveArgs, Params } from "./src/fault/params.ts";
export type { FrameFacts, OpView } from "./src/fault/trigger.ts";
export type { InjectedFault } from "./src/fault/engine.ts";
export type { Decision } from "./src/fault/plan.ts";

// Traces.
export { type GuestLine, type LoadedTrace, loadTrace } from "./src/trace/load.ts";
export { type TraceEnd, TraceReader } from "./src/trace/reader.ts";
export {
  DATA_HASH,
  type EventRecord,
  type FooterRecord,
  type FrameFault,
  type FrameRecord,
  type HeaderFields,
  type HeaderRecord,
  type OpFault,
  type OpRecord,
  type OpResult,
  TRACE_FORMAT,
  TRACE_VERSION,
  type TraceDisk,
  type TraceRecord,
} from "./src/trace/schema.ts";
export type { StatsSummary, TypeCounts } from "./src/trace/stats.ts";
export { LatencyStats, type LatencySummary } from "./src/trace/latency_stats.ts";

// Errors: every one has a kind, which gives the exit code.
export { type ErrorKind, EXIT, exitCodeForError, FaultlineError } from "./src/util/errors.ts";
export { UnitError } from "./src/util/units.ts";
export { CacheDirError } from "./src/util/cache_dir.ts";
export { BlockError } from "./src/block/backend.ts";
export { NbdError, NbdProtocolError, NbdServerError } from "./src/nbd/errors.ts";
export { QmpError } from "./src/qmp/errors.ts";
export { FaultError, FaultSpecError } from "./src/fault/errors.ts";
export { TraceError, TraceFormatError } from "./src/trace/errors.ts";
export { ServiceError } from "./src/service/errors.ts";
export { GuestImageError } from "./src/vm/guest_image_error.ts";
export { VmError } from "./src/vm/launcher.ts";
export { ScenarioError } from "./src/scenario/errors.ts";
export { RunError, RunInterrupted } from "./src/run/errors.ts";
export { ReplayError } from "./src/replay/errors.ts";
export { NetError } from "./src/net/errors.ts";
export { SweepError } from "./src/sweep/errors.ts";
export { CiError } from "./src/ci/errors.ts";

export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  // No top-level await: scenario files import this module, and must not wait for the CLI to finish.
  import("./src/cli/main.ts").then(({ main }) => main(Deno.args)).then((code) => Deno.exit(code));
}
