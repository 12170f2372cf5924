/**
 * faultline: boot the system under test in QEMU with every disk behind its own
 * NBD server (the fault layer), record every block operation into a trace, and
 * replay with faults injected at chosen ops.
 *
 * This module is the public API: what a scenario author and an embedding program use
 * (docs/api.md says what is public and what is not). Run it to get the command line:
 * `deno run -A mod.ts --help`.
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

// What a scenario author uses: the scenario and its parts.
export { defineScenario, loadScenario } from "./src/scenario/load.ts";
export {
  type ExitCodesInput,
  type Expectations,
  type ExpectationsInput,
  type FaultExpectation,
  type FaultExpectationInput,
  type FilesystemDiskInput,
  type HistoryExpectation,
  type HistoryExpectationInput,
  type ImageDiskInput,
  type NodeInput,
  type NodeRoot,
  type NodeUser,
  type OutputExpectation,
  type Scenario,
  SCENARIO_VERSION,
  type ScenarioDisk,
  type ScenarioInput,
  type ScenarioNode,
} from "./src/scenario/schema.ts";
export {
  type Recovery,
  RECOVERY_MODES,
  type RecoveryMode,
  type RecoveryOrder,
} from "./src/scenario/recovery.ts";

// What an embedding program uses: record, replay, sweep and explore, and what they give back.
export {
  type PowerCut,
  type RunEvent,
  type RunOptions,
  type RunResult,
  runScenario,
  type RunTimings,
} from "./src/run/run.ts";
export type { OracleResult } from "./src/run/oracle.ts";
export type { HistoryVerdict } from "./src/run/history.ts";
export type { LostFile, LostWrites, UnreadDisk } from "./src/run/lost_files.ts";
export { type PhaseOutcome, type Verdict, VERDICT_KINDS } from "./src/run/verdict.ts";
export {
  type ParentTrace,
  readParent,
  replay,
  type ReplayOptions,
  type ReplayResult,
} from "./src/replay/replay.ts";
export {
  type AccelChoice,
  type Accelerator,
  type AccelRequest,
  chooseAccel,
  type KvmProbe,
  probeKvm,
} from "./src/vm/accel.ts";
export type { OpSignature, PrefixComparison } from "./src/replay/signature.ts";
export type {
  PointStates,
  StateOutcome,
  SweepPoint,
  SweepProgress,
  SweepResult,
} from "./src/sweep/result.ts";
export { sweep, type SweepOptions } from "./src/sweep/sweep.ts";
export {
  type FrameFilter,
  parsePoints,
  type PointFilter,
  type PointSelection,
} from "./src/scenario/points.ts";
export type { Shard } from "./src/sweep/shard.ts";
export type { Reproduced } from "./src/sweep/confirm.ts";
export type { OrderOutcome } from "./src/sweep/orders.ts";
export { exploreTrace, type ExploreTraceOptions } from "./src/explore/explore_trace.ts";
export { type Budget, parseBudget } from "./src/explore/budget.ts";
export type {
  ExploredSchedule,
  ExploreProgress,
  ExploreResult,
  ScheduleStatus,
  ShrunkFailure,
} from "./src/explore/explore.ts";
export type { Coverage, Failure, Finding, HistoryCounterexample } from "./src/explore/findings.ts";
export type { DrawnFault } from "./src/explore/draw.ts";

// Faults, and the fault layer under any VM.
export { formatFaultSpec, parseFaultSpec } from "./src/fault/spec.ts";
export { PLAN_VERSION } from "./src/fault/plan_version.ts";
export type { FaultPlan, FaultRule, FrameProtocol, LinkScope, Trigger } from "./src/fault/types.ts";
export type { InjectedFault } from "./src/fault/engine.ts";
export type { Decision } from "./src/fault/plan.ts";
export {
  DiskService,
  type DiskServiceOptions,
  type DiskSpec,
  type ServiceEvent,
} from "./src/service/disk_service.ts";
export type { ControlEvent } from "./src/service/control.ts";
export type { JsonObject } from "./src/qmp/framing.ts";
export type { ListenAddress, ServerEvent } from "./src/nbd/server.ts";
export type { TransmissionEvent } from "./src/nbd/transmission.ts";
export { OP_TYPES, type OpType } from "./src/block/backend.ts";
export { type Errno, ERRNOS } from "./src/block/errno.ts";

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

// Client histories: read, checked against a model, and why one is not valid (docs/history.md).
export {
  HISTORY_FORMATS,
  type HistoryFormat,
  parseHistory,
  type ParseHistoryOptions,
} from "./src/history/parse.ts";
export { HISTORY_OP_TYPES, type HistoryOp, type HistoryOpType } from "./src/history/op.ts";
export {
  checkHistory,
  type CheckHistoryOptions,
  DEFAULT_TIMEOUT_MS,
  type HistoryCheckResult,
  type SearchSummary,
} from "./src/history/check.ts";
export { HISTORY_MODEL_NAMES } from "./src/history/models/mod.ts";
export type { PassAnomalies } from "./src/history/model.ts";
export type {
  Counterexample,
  CounterexampleOp,
  ShrinkBudget,
} from "./src/history/counterexample.ts";
export { describeAnomalies, describeCounterexample } from "./src/history/describe.ts";
export {
  EdnSymbol,
  formatValue,
  Keyword,
  type Value,
  ValueMap,
  ValueSet,
} from "./src/history/value.ts";
export { HistoryError, type HistoryPlace } from "./src/history/errors.ts";

// Errors: every one has a kind, which gives the exit code.
export { type ErrorKind, EXIT, exitCodeForError, FaultlineError } from "./src/util/errors.ts";
export { UnitError } from "./src/util/units.ts";
export { CacheDirError } from "./src/util/cache_dir.ts";
export { ToolMissingError } from "./src/util/host_command.ts";
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
export { MergeError } from "./src/sweep/merge.ts";
export { CiError } from "./src/ci/errors.ts";
export { ExploreError } from "./src/explore/errors.ts";

export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  // No top-level await: scenario files import this module, and must not wait for the CLI to finish.
  import("./src/cli/main.ts").then(({ main }) => main(Deno.args)).then((code) => Deno.exit(code));
}
