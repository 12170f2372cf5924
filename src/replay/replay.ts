/**
 * Replay: run the scenario of a trace again, from the same images, with a
 * fault plan; or check a power loss at a recorded op from the trace alone.
 * Everything the replay needs comes from the parent trace's header (the
 * scenario, the hashes of kernel, initramfs and base images), and each of those
 * is checked before anything runs.
 *
 * @module
 */

import { basename } from "node:path";
import { kindOf, specNameOf, takesFrames } from "../fault/kinds/mod.ts";
import { checkClusterFaults } from "../fault/link.ts";
import { PLAN_VERSION } from "../fault/plan_version.ts";
import { appliesTo } from "../fault/plan.ts";
import { formatFaultSpec, formatTrigger, parseFaultSpec, parseTrigger } from "../fault/spec.ts";
import { checkStanding } from "../fault/standing.ts";
import { type OpView, passesFilter } from "../fault/trigger.ts";
import type { FaultEffect, FaultPlan, FaultRule, Trigger } from "../fault/types.ts";
import type { Prepared } from "../run/prepare.ts";
import {
  prepareRun,
  type ResumeFrom,
  type RunEvent,
  type RunOptions,
  type RunResult,
  runScenario,
} from "../run/run.ts";
import { type Expectations, type Scenario, SCENARIO_VERSION } from "../scenario/schema.ts";
import { checkRecovery, type Recovery, recoveryName, servingNodes } from "../scenario/recovery.ts";
import { byIndex, type LoadedTrace, loadTrace } from "../trace/load.ts";
import type { OpRecord } from "../trace/schema.ts";
import { shellCommand } from "../util/shell_quote.ts";
import type { GuestState } from "../vm/snapshot.ts";
import type { WarmRun } from "../run/warm.ts";
import { type CrashSelection, selectCrashWrites, withLiedFlushes } from "../run/crash_state.ts";
import { LostFiles, type LostWrites } from "../run/lost_files.ts";
import { pinningOfTrace } from "../run/pinning.ts";
import { diskKey } from "../trace/ops.ts";
import { VERSION } from "../version.ts";
import { ReplayError } from "./errors.ts";
import { type AccelChoice, accelOfHeader, TCG } from "../vm/accel.ts";
import {
  compareNodePrefixes,
  type OpSignature,
  type PrefixComparison,
  recordedOpOfTrigger,
  triggerOfRecordedOp,
} from "./signature.ts";

/** How long an op waits for its recorded predecessors under strict order before it goes on. */
export const STRICT_ORDER_BOUND_MS = 2000;

/** A trace read whole, with the scenario that made it: what a replay starts from. */
export interface ParentTrace extends LoadedTrace {
  /** The scenario recorded in the header. */
  scenario: Scenario;
}

/**
 * Reads a trace for replaying.
 *
 * @throws {ReplayError} when the trace has no scenario (a `serve` trace), is older than
 *   {@link OLDEST_REPLAYABLE_VERSION}, or holds fault specs or a scenario of a newer version.
 */
export async function readParent(path: string): Promise<ParentTrace> {
  const trace = await loadTrace(path);
  refuseOtherVersions(trace);
  const scenario = trace.header.scenario as Scenario | undefined;
  if (!scenario || typeof scenario !== "object" || !Array.isArray(scenario.nodes)) {
    throw new ReplayError(
      `${path} holds no scenario (it was made by ${trace.header.command}); only traces of record and replay can be replayed`,
    );
  }
  return { ...trace, scenario };
}

/**
 * The oldest trace version a replay starts from. Before version 2 a file system's UUID came
 * from the scenario's name (src/run/base_disks.ts), and a package root's from its older
 * cache key: this faultline makes those images with other bytes, so an older trace's base
 * images and package root can never be found again.
 */
export const OLDEST_REPLAYABLE_VERSION = 2;

/**
 * Refuses, in one line naming both versions and what to do, a trace this faultline cannot
 * replay: one older than {@link OLDEST_REPLAYABLE_VERSION}, or whose fault specs or
 * scenario are of a newer version than this code's (it would run them with a meaning they
 * do not have). An older plan version is no obstacle: a replay never applies its parent's
 * fault specs, its faults are its own.
 */
function refuseOtherVersions(trace: LoadedTrace): void {
  const { header, path } = trace;
  if (header.version < OLDEST_REPLAYABLE_VERSION) {
    throw new ReplayError(
      `${path} is a trace of version ${header.version}; this faultline (${VERSION}) replays traces of version ${OLDEST_REPLAYABLE_VERSION} or later, as it makes base disks and package roots with other bytes: record it again`,
    );
  }
  const newer = (what: string, found: number, known: number) =>
    new ReplayError(
      `${path} holds ${what} of version ${found} (written by faultline ${header.tool.version}); this faultline (${VERSION}) reads ${what} of version ${known} and older: replay it with a newer faultline`,
    );
  if (header.planVersion > PLAN_VERSION) {
    throw newer("fault specs", header.planVersion, PLAN_VERSION);
  }
  const scenarioVersion = header.scenarioVersion ?? SCENARIO_VERSION;
  if (scenarioVersion > SCENARIO_VERSION) {
    throw newer("a scenario", scenarioVersion, SCENARIO_VERSION);
  }
}

/** The packages whose version changed between two package roots, as a clause: `: postgresql-15 15.19 -> 15.20`. */
function packageChanges(was: readonly string[], now: readonly string[]): string {
  const versions = (list: readonly string[]) =>
    new Map(
      list.map((
        entry,
      ) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
    );
  const before = versions(was);
  const after = versions(now);
  // Versions that changed first, then packages that came or went.
  const changes = [...new Set([...before.keys(), ...after.keys()])].sort()
    .filter((name) => before.get(name) !== after.get(name))
    .sort((a, b) =>
      Number(!(before.has(a) && after.has(a))) - Number(!(before.has(b) && after.has(b)))
    )
    .map((name) => `${name} ${before.get(name) ?? "(none)"} -> ${after.get(name) ?? "(none)"}`);
  if (changes.length === 0) return "";
  return `: ${changes.slice(0, 5).join(", ")}${
    changes.length > 5 ? `, and ${changes.length - 5} more` : ""
  }`;
}

/**
 * Prepares the parent's scenario again and checks that nothing changed: the
 * kernel, each node's initramfs and each base image must have the hashes the
 * trace recorded.
 *
 * @throws {ReplayError} naming what changed, with both hashes.
 */
export async function prepareForReplay(
  parent: ParentTrace,
  signal?: AbortSignal,
): Promise<Prepared> {
  const prepared = await prepareRun(parent.scenario, signal ? { signal } : {});
  const recorded = (parent.header.guests ?? {}) as Record<
    string,
    {
      kernel: { version: string; sha256: string };
      initramfs: string;
      root?: { sha256: string; packages: readonly string[] };
    }
  >;
  const short = (hash: string) => hash.slice(0, 12);
  for (const [node, guest] of prepared.guests) {
    const was = recorded[node];
    if (!was) throw new ReplayError(`${parent.path} has no guest recorded for node ${node}`);
    if (was.kernel.sha256 !== guest.kernel.sha256) {
      throw new ReplayError(
        `the kernel of node ${node} changed since ${parent.path} was recorded: it was ${was.kernel.version} (sha256 ${
          short(was.kernel.sha256)
        }), it is now ${guest.kernel.version} (sha256 ${
          short(guest.kernel.sha256)
        }); record the trace again`,
      );
    }
    if (was.initramfs !== guest.initramfs.sha256) {
      throw new ReplayError(
        `the initramfs of node ${node} changed since ${parent.path} was recorded (sha256 ${
          short(was.initramfs)
        }, now ${
          short(guest.initramfs.sha256)
        }): busybox, a program or a file it carries is different; record the trace again`,
      );
    }
    if ((was.root?.sha256 ?? null) !== (guest.root?.sha256 ?? null)) {
      throw new ReplayError(
        `the package root of node ${node} changed since ${parent.path} was recorded (sha256 ${
          was.root ? short(was.root.sha256) : "none"
        }, now ${guest.root ? short(guest.root.sha256) : "none"})${
          packageChanges(was.root?.packages ?? [], guest.root?.packages ?? [])
        }; record the trace again`,
      );
    }
  }
  for (const disk of parent.header.disks) {
    const base = prepared.bases.find((b) => b.node === disk.node && b.name === disk.name);
    if (!base || base.sha256 !== disk.base.sha256) {
      throw new ReplayError(
        `the base image of disk ${disk.node}/${disk.name} changed since ${parent.path} was recorded (sha256 ${
          short(disk.base.sha256)
        }, now ${base ? short(base.sha256) : "missing"}${base ? `, ${base.path}` : ""})${
          prepared.setup && !prepared.setup.cached && prepared.setup.nodes.includes(disk.node)
            ? ": the setup phase ran again (this machine's cache did not have the disks it " +
              "left) and left different bytes"
            : ""
        }; record the trace again`,
      );
    }
  }
  return prepared;
}

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Fault specs; those without a trigger take `faultAt`. */
  faults: string[];
  /**
   * Faults in force beside them (`--with`): one written without a trigger stands for the
   * run phase (docs/fault-spec.md), and never takes `faultAt`.
   */
  with?: string[];
  /** A recorded op index, or an op signature (`data/write:4096+512#2`). */
  faultAt?: string;
  /** Inject a power loss live (freeze, kill QEMU) instead of building it from the trace. */
  live?: boolean;
  /** Serve requests in the recorded order until a fault fires. */
  strictOrder?: boolean;
  /**
   * How the check phase starts the nodes serving the checks: `together`, `with-checks`,
   * `in-order`, or an explicit order of them (`["n2", "n1"]`); the scenario's `recovery` by
   * default (its first order, for `each-order`). `each-order` is a sweep's: a replay checks one order.
   */
  recovery?: Recovery;
  /**
   * What must hold, instead of the scenario's own expectations (a scenario's
   * declared fault test). Without it, a replay with faults judges everything
   * but the workload's exit code.
   */
  expect?: Expectations;
  /** Where to write the replay's trace. */
  output: string;
  /** Keep written bytes in the replay's trace. */
  keepData: boolean;
  /** The seed of random choices; the parent's by default. */
  seed?: number;
  /**
   * The accelerator every boot gets (src/vm/accel.ts); TCG when absent. When it is not the
   * recording's, the result says so ({@link ReplayResult.otherAccel}).
   */
  accel?: AccelChoice;
  /** Aborting kills the VMs and closes the trace. */
  signal?: AbortSignal;
  /** Hears the replay's progress. */
  onEvent?: (event: RunEvent) => void;
  /**
   * Already prepared and checked (for many replays of one parent).
   * @ignore faultline's own: not part of the public API
   */
  prepared?: Prepared;
  /** QMP endpoints by node name, as {@link runScenario} takes them. */
  qmp?: ReadonlyMap<string, string>;
  /** A control socket for the replay (block and link faults, live). */
  control?: string;
  /**
   * Saved check guests by node: their checks start from them instead of booting (src/run/warm.ts).
   * @ignore faultline's own: not part of the public API
   */
  warmChecks?: ReadonlyMap<string, GuestState>;
  /**
   * The run saved at the workload's start (src/run/warm.ts): a replay whose faults all fire
   * at recorded ops after it resumes from it instead of booting; others boot.
   * @ignore faultline's own: not part of the public API
   */
  warmRun?: Pick<WarmRun, "resume" | "images">;
  /**
   * What maps a failing crash state's lost writes to files, shared by a sweep's replays (it
   * makes each disk's image once); a replay makes its own otherwise.
   * @ignore faultline's own: not part of the public API
   */
  lostFiles?: LostFiles;
}

/** A replay's result: the run's, and how its prefix compared with the recording. */
export interface ReplayResult extends RunResult {
  /** Whether every planned fault fired (a fault that never fired is its own verdict, not a pass). */
  fired: boolean;
  /** The recorded op the fault was planned at, when it names one (or frame: a crash state built at one). */
  faultAt: number | null;
  /** How the replay's ops before the fault compared with the recording's. */
  prefix: PrefixComparison;
  /** The command line that reproduces this replay. */
  reproduce: string;
  /** Whether the run resumed from a saved workload start, or why it booted when one was given. */
  resumed?: true | string;
  /**
   * The replay ran on another accelerator than the recording (`recorded on tcg, replayed on
   * kvm: ...`): its verdicts should agree, its timing differs.
   */
  otherAccel?: string;
  /**
   * A crash state built from the trace that failed: what it lost, as files
   * (src/run/lost_files.ts).
   */
  lost?: LostWrites;
}

/** The command that reproduces a replay; with `runs`, as many times, each judged. */
export function reproduceCommand(
  parent: string,
  options:
    & Pick<
      ReplayOptions,
      "faults" | "with" | "faultAt" | "live" | "seed" | "strictOrder" | "recovery"
    >
    & { runs?: number },
): string {
  const words = ["faultline", "replay", parent];
  for (const fault of options.faults) words.push("--fault", fault);
  for (const fault of options.with ?? []) words.push("--with", fault);
  if (options.faultAt !== undefined) words.push("--fault-at", options.faultAt);
  if (options.recovery !== undefined) words.push("--recovery", recoveryName(options.recovery));
  if (options.live) words.push("--live");
  if (options.strictOrder) words.push("--strict-order");
  if (options.seed !== undefined) words.push("--seed", String(options.seed));
  if (options.runs !== undefined) words.push("--runs", String(options.runs));
  return shellCommand(words);
}

/**
 * `@N` of any family means recorded op N: it becomes that op's signature and occurrence,
 * which the replay finds again however its ops interleave. For a fault that can be put at
 * a frame (a link or node fault, a crash state built from the trace), an index that is no
 * recorded op's (a frame's) stays a moment of the clock; a fault of ops needs an op.
 *
 * @throws {ReplayError} for a block fault at an index that is no recorded op's.
 */
function resolveTrigger(parent: ParentTrace, effect: FaultEffect, trigger: Trigger): Trigger {
  if (trigger.kind !== "index") return trigger;
  const isOp = parent.ordered.some((op) => op.index === trigger.index);
  if (!isOp && takesFrames(effect)) return trigger;
  return triggerOfRecordedOp(parent.ordered, trigger.index);
}

/**
 * Builds the replay's fault plan from specs and `--fault-at`.
 *
 * @throws {FaultSpecError} for a bad spec, or a fault of one op without a trigger;
 *   {@link ReplayError} for `--fault-at` without a fault or an op the trace lacks.
 */
export function replayPlan(
  parent: ParentTrace,
  options: Pick<ReplayOptions, "faults" | "with" | "faultAt" | "seed">,
): FaultPlan {
  if (options.faultAt !== undefined && options.faults.length === 0) {
    throw new ReplayError(
      "--fault-at names where, --fault what: give a --fault too (e.g. --fault eio)",
    );
  }
  const at = options.faultAt === undefined
    ? undefined
    : /^\d+$/.test(options.faultAt)
    ? { kind: "index" as const, index: Number(options.faultAt) }
    : parseTrigger(options.faultAt);
  const place = (text: string, at: Trigger | undefined, how: string): FaultRule => {
    const rule = parseFaultSpec(text);
    const trigger = rule.trigger.kind === "always" && at ? at : rule.trigger;
    if (trigger.kind === "index") checkApplies(parent, rule.effect, trigger.index);
    const resolved = resolveTrigger(parent, rule.effect, trigger);
    const placed = { effect: rule.effect, trigger: resolved, spec: "" };
    placed.spec = formatFaultSpec(placed);
    checkStanding(placed, how);
    return placed;
  };
  const rules: FaultRule[] = [
    ...options.faults.map((text) => place(text, at, "--fault-at N or @TRIGGER")),
    ...(options.with ?? []).map((text) => place(text, undefined, "@TRIGGER")),
  ];
  checkClusterFaults(rules, parent.scenario.nodes.map((node) => node.name));
  return { seed: options.seed ?? parent.header.seed, rules };
}

/**
 * Refuses, before anything boots, a fault at a recorded op it cannot apply to
 * (a lost write at a flush), naming the nearest ops it does apply to.
 */
function checkApplies(parent: ParentTrace, effect: FaultEffect, index: number): void {
  const op = parent.ordered.find((record) => record.index === index);
  if (!op || appliesTo(effect, op.op)) return;
  const fits = parent.ordered.filter((record) =>
    record.phase === op.phase && appliesTo(effect, record.op)
  );
  const before = fits.findLast((record) => record.index < index);
  const after = fits.find((record) => record.index > index);
  const nearest = [before, after].filter((r) => r !== undefined).map((r) => r.index);
  const kind = specNameOf(effect);
  const applies = kindOf(effect).block?.appliesToText?.(effect) ?? "every op";
  throw new ReplayError(
    `${kind} applies to ${applies}; op ${index} is a ${op.op}; ${
      nearest.length === 0
        ? `the trace has no op it applies to`
        : `the nearest ${nearest.length > 1 ? "are" : "is"} ${nearest.join(" and ")}`
    }`,
  );
}

function signatures(records: readonly OpRecord[]): OpSignature[] {
  return records.map(({ node, disk, op, offset, length }) => ({ node, disk, op, offset, length }));
}

/**
 * Replays a trace once.
 *
 * @throws {ReplayError} when anything the trace was recorded with changed, or the plan cannot apply.
 * @example
 * ```ts
 * const parent = await readParent("fsync.trace");
 * const result = await replay(parent, { faults: ["eio"], faultAt: "42", output: "replay.trace", keepData: true });
 * ```
 */
export async function replay(parent: ParentTrace, options: ReplayOptions): Promise<ReplayResult> {
  checkReplayRecovery(parent, options.recovery);
  const plan = replayPlan(parent, options);
  const reproduce = reproduceCommand(parent.path, options);
  const { planned, fromTrace, faultAtOp } = plannedFault(parent, plan, options);
  if (fromTrace && options.live && frameAt(parent, fromTrace.trigger) !== undefined) {
    throw new ReplayError(
      `a live power loss cuts as an op arrives, and ${
        formatTrigger(fromTrace.trigger)
      } is a frame's index: leave out --live to build the crash state of that moment from the trace`,
    );
  }
  const run = await runOptions(parent, plan, options, reproduce);
  if (fromTrace) checkOneCrashState(parent, fromTrace, options.live === true);
  const other = otherAccel(parent, options.accel ?? TCG);
  const note = other === null ? {} : { otherAccel: other };
  if (fromTrace && !options.live) {
    const cutAt = faultAtOp?.index ?? frameAt(parent, fromTrace.trigger);
    return {
      ...await replayCrashState(parent, plan, fromTrace, cutAt, run, {
        reproduce,
        ...(options.lostFiles ? { lostFiles: options.lostFiles } : {}),
      }),
      ...note,
    };
  }
  const { result, resumed } = await runOnline(parent, plan, run, options);
  return {
    ...result,
    ...judgeReplay(parent, plan, planned, faultAtOp, result),
    faultAt: faultAtOp?.index ?? null,
    reproduce,
    ...(resumed === undefined ? {} : { resumed }),
    ...note,
  };
}

/**
 * Refuses a recovery order a replay cannot run: `each-order` (a sweep's), and one that makes
 * no sense for the trace's scenario (src/scenario/recovery.ts `checkRecovery`). `replay`
 * does; a command calls it first, before anything is prepared.
 *
 * @throws {ReplayError} for `each-order`; {@link ScenarioError} for an order of other nodes.
 */
export function checkReplayRecovery(
  parent: ParentTrace,
  recovery: Recovery | undefined,
): void {
  if (recovery === undefined) return;
  if (recovery === "each-order") {
    const serving = servingNodes(parent.scenario);
    const example = serving.length > 1 ? serving.toReversed().join(",") : "in-order";
    throw new ReplayError(
      `--recovery each-order: a replay checks one order; name it (--recovery ${example}), or sweep with --recovery each-order`,
    );
  }
  checkRecovery(recovery, parent.scenario);
}

/**
 * What a replay on another accelerator than its recording's says, or null on the same one
 * (a trace without `accel` was recorded on TCG).
 *
 * @example
 * ```ts
 * otherAccel(parent, kvm); // "recorded on tcg, replayed on kvm: the verdicts should agree; the timing differs"
 * ```
 */
export function otherAccel(parent: Pick<ParentTrace, "header">, used: AccelChoice): string | null {
  const recorded = accelOfHeader(parent.header.accel);
  if (recorded === null || (recorded.accel === used.accel && recorded.cpu === used.cpu)) {
    return null;
  }
  const what = (choice: AccelChoice) =>
    choice.cpu === used.cpu && choice.cpu === recorded.cpu
      ? choice.accel
      : `${choice.accel} (cpu ${choice.cpu})`;
  return `recorded on ${what(recorded)}, replayed on ${
    what(used)
  }: the verdicts should agree; the timing differs`;
}

/**
 * The fault the replay is about, and the recorded op it names: a fault built from the trace
 * (a power loss), else the first that takes `--fault-at` (the others, with triggers of
 * their own, are in force beside it: a sweep's `--with`).
 *
 * @throws {ReplayError} for a signature the trace has no op of.
 */
function plannedFault(
  parent: ParentTrace,
  plan: FaultPlan,
  options: Pick<ReplayOptions, "faults" | "faultAt">,
): { planned?: FaultRule; fromTrace?: FaultRule; faultAtOp?: OpRecord } {
  const fromTrace = plan.rules.find((rule) => kindOf(rule.effect).fromTrace);
  const atRule = options.faultAt === undefined
    ? -1
    : options.faults.findIndex((text) => parseFaultSpec(text).trigger.kind === "always");
  const planned = fromTrace ?? plan.rules[Math.max(0, atRule)];
  if (!planned) return {};
  const faultAtOp = recordedOpOfTrigger(parent.ordered, planned.trigger, planned.effect);
  if (planned.trigger.kind === "match" && planned.trigger.exact && !faultAtOp) {
    throw new ReplayError(`the trace has no op ${formatTrigger(planned.trigger)}`);
  }
  return { planned, fromTrace, faultAtOp };
}

/** What every run of a replay shares: the parent's scenario, prepared again, and the header. */
async function runOptions(
  parent: ParentTrace,
  plan: FaultPlan,
  options: ReplayOptions,
  reproduce: string,
): Promise<Omit<RunOptions, "plan">> {
  return {
    scenario: options.expect ? { ...parent.scenario, expect: options.expect } : parent.scenario,
    trace: { path: options.output, keepData: options.keepData },
    command: "replay",
    header: {
      parent: { path: parent.path, sha256: parent.sha256, createdAt: parent.header.createdAt },
      replay: {
        faults: options.faults,
        ...(options.with?.length ? { with: options.with } : {}),
        faultAt: options.faultAt ?? null,
        live: options.live ?? false,
        ...(options.recovery !== undefined ? { recovery: recoveryName(options.recovery) } : {}),
        reproduce,
      },
    },
    prepared: options.prepared ?? await prepareForReplay(parent, options.signal),
    // The guests boot as the recording's did, whatever the replay's own seed.
    pinning: pinningOfTrace(parent.header),
    ...(options.accel ? { accel: options.accel } : {}),
    judgeWorkloadExit: options.expect !== undefined || plan.rules.length === 0,
    qmp: options.qmp,
    ...(options.control ? { control: options.control } : {}),
    ...(options.warmChecks ? { warmChecks: options.warmChecks } : {}),
    ...(options.recovery !== undefined ? { recovery: options.recovery } : {}),
    signal: options.signal,
    onEvent: options.onEvent,
  };
}

/**
 * The workload run again with the plan: resumed from the run saved at its start when one was
 * given and the plan allows (else it boots, and `resumed` says why), under strict order when
 * asked.
 */
async function runOnline(
  parent: ParentTrace,
  plan: FaultPlan,
  run: Omit<RunOptions, "plan">,
  options: ReplayOptions,
): Promise<{ result: RunResult; resumed?: true | string }> {
  const resumable = options.warmRun
    ? resumablePlan(parent, plan, options.warmRun.resume, options)
    : undefined;
  const warmRun = typeof resumable === "object" ? options.warmRun! : undefined;
  const result = await runScenario({
    ...run,
    plan: warmRun ? resumable as FaultPlan : plan,
    ...(warmRun
      ? {
        resume: warmRun.resume,
        prepared: {
          ...run.prepared!,
          bases: run.prepared!.bases.map((base) => {
            const image = warmRun.images.get(`${base.node}/${base.name}`)!;
            return { ...base, path: image.path, sha256: image.sha256 };
          }),
        },
      }
      : {}),
    strictOrder: options.strictOrder
      ? { recorded: parent.records, boundMs: STRICT_ORDER_BOUND_MS }
      : undefined,
  });
  if (resumable === undefined) return { result };
  return { result, resumed: warmRun ? true : resumable as string };
}

/**
 * Whether the planned fault fired, how the replay's ops before it compared with the
 * recording's, and the verdict (a fault that never fired is its own verdict, not a pass).
 */
function judgeReplay(
  parent: ParentTrace,
  plan: FaultPlan,
  planned: FaultRule | undefined,
  faultAtOp: OpRecord | undefined,
  result: RunResult,
): Pick<ReplayResult, "fired" | "prefix" | "verdict"> {
  const firing = result.faults.find((fault) => fault.rule === planned?.spec) ??
    result.firings.find((firing) => firing.rule === planned?.spec) ??
    (result.powerCut ? { index: result.powerCut.at } : undefined);
  const fired = plan.rules.length === 0 || firing !== undefined ||
    (planned !== undefined && !result.notFired.includes(planned.spec));
  // Both sides stop at the fault's op: where it fired in the replay, where it was planned in the recording.
  const recordedCut = faultAtOp?.index ?? firing?.index ?? Infinity;
  const recorded = parent.ordered.filter((op) => op.index < recordedCut);
  const replayed = byIndex(result.records);
  const prefix = compareNodePrefixes(
    signatures(recorded),
    signatures(
      firing
        ? replayed.filter((op) => op.index < firing.index)
        : replayed.slice(0, recorded.length),
    ),
  );
  const verdict = fired ? result.verdict : {
    pass: false,
    reason: `the planned fault never fired (${
      (result.notFired.length > 0 ? result.notFired : plan.rules.map((rule) => rule.spec))
        .join(", ")
    }): its op never came`,
  };
  return { fired, prefix, verdict };
}

/** Refuses a power loss that names many crash states (a sweep's), or one state live. */
function checkOneCrashState(parent: ParentTrace, rule: FaultRule, live: boolean): void {
  const fromTrace = kindOf(rule.effect).fromTrace!;
  const name = specNameOf(rule.effect);
  const explores = fromTrace.explores(rule.effect);
  if (explores) {
    throw new ReplayError(
      `${name}:${explores.kind} explores many crash states of a point: sweep it (faultline sweep ${parent.path} --fault ${
        formatFaultSpec({ effect: rule.effect, trigger: { kind: "always" } })
      } --points N..N), or replay one of them with --fault ${name}:state=ID`,
    );
  }
  if (live && fromTrace.variant(rule.effect, 0)?.kind === "state") {
    throw new ReplayError(
      `${name}:state=ID names a crash state built from the trace; a live power loss (--live) cannot choose its writes`,
    );
  }
}

/**
 * The plan of a replay resumed from a saved run, or why it cannot resume. Every fault must
 * fire at a moment after the saved one: a block fault at one recorded op, a link or node
 * fault at a recorded op or at a frame's moment (an index at or after the saved moment's).
 * A fault at a recorded op fires by signature and occurrence: the saved ops are the
 * recording's first ones of each node, so the k-th matching op of the recording is the
 * (k - m)-th of the resumed run, m of them being before the saved moment. A fault that
 * acts at a boot (a clock skew), at a time (`@+2s` counts from the boots), that cuts a
 * node's disks while its writes before the save were still volatile, or that jumps a clock
 * boots.
 *
 * @example
 * ```ts
 * resumablePlan(parent, replayPlan(parent, { faults: ["eio"], faultAt: "40" }), warm.resume, {});
 * // the plan with eio's occurrence counted from the saved moment, or why it boots
 * ```
 * @ignore faultline's own: not part of the public API
 */
export function resumablePlan(
  parent: ParentTrace,
  plan: FaultPlan,
  resume: ResumeFrom,
  options: Pick<ReplayOptions, "live" | "strictOrder">,
): FaultPlan | string {
  if (options.live || options.strictOrder) return "a live power loss or strict order boots";
  const before = savedPrefix(parent, resume);
  const rules: FaultRule[] = [];
  for (const rule of plan.rules) {
    const refusal = unresumable(rule, resume);
    if (refusal !== null) return refusal;
    const { trigger, effect } = rule;
    if (trigger.kind === "index") {
      if (trigger.index < resume.clockStart) {
        return `${rule.spec} fires before the workload starts (the saved moment is arrival ${resume.clockStart})`;
      }
      rules.push(rule);
      continue;
    }
    if (trigger.kind !== "match" || trigger.occurrence === undefined) {
      return `${rule.spec} does not fire at one recorded op`;
    }
    const op = recordedOpOfTrigger(parent.ordered, trigger, effect);
    if (!op || before.has(op)) {
      return `${rule.spec} fires before the workload starts (the saved moment is op ${resume.clockStart})`;
    }
    const earlier = [...before].filter((record) =>
      (!kindOf(effect).block || appliesTo(effect, record.op)) &&
      passesFilter(trigger, { kind: "op", op: opView(record) })
    ).length;
    rules.push({ ...rule, trigger: { ...trigger, occurrence: trigger.occurrence - earlier } });
  }
  return { ...plan, rules };
}

/** Why a fault cannot fire in a run resumed from a saved one, or null. */
function unresumable(rule: FaultRule, resume: ResumeFrom): string | null {
  const kind = kindOf(rule.effect);
  const cluster = Object.keys(resume.states).length > 1;
  if (kind.fromTrace || kind.boot) return `${rule.spec} acts from the boot`;
  if (kind.block && kind.persistent) return `${rule.spec} is not a fault of one op`;
  if (kind.block) return null;
  if (!cluster || (!kind.link && !kind.node)) return `${rule.spec} is not a fault of one op`;
  if (kind.node?.act(rule.effect).do === "jump-clock") {
    return `${rule.spec} is told over the control channel, which a resumed guest is not checked to read`;
  }
  if (kind.cutsDisks && resume.volatileAtHold > 0) {
    return `${rule.spec} cuts a node's disks, and ${resume.volatileAtHold} writes before the saved moment were volatile`;
  }
  return null;
}

/**
 * The recording's ops that the saved run served before its holds, matched by signature:
 * each node's writes and flushes before its workload started, and the reads the saved run
 * did (a read the kernel makes by itself after a mount, such as ext4's prefetch of block
 * bitmaps, comes before a hold or after it: src/run/warm.ts `prefixProblem` allows it).
 */
function savedPrefix(parent: ParentTrace, resume: ResumeFrom): Set<OpRecord> {
  const signature = (op: OpRecord) => `${op.node}/${op.disk}/${op.op}:${op.offset}+${op.length}`;
  const left = new Map<string, number>();
  for (const op of resume.records) left.set(signature(op), (left.get(signature(op)) ?? 0) + 1);
  const before = new Set<OpRecord>();
  for (const op of parent.ordered) {
    const count = left.get(signature(op)) ?? 0;
    if (count === 0) continue;
    left.set(signature(op), count - 1);
    before.add(op);
  }
  return before;
}

/** What the trigger engine sees of a recorded op. */
function opView(record: OpRecord): OpView {
  return {
    index: record.index,
    node: record.node,
    disk: record.disk,
    name: record.disk,
    type: record.op,
    offset: record.offset,
    length: record.length,
    time: 0,
    ...(record.phase === undefined ? {} : { phase: record.phase }),
  };
}

/** The recorded frame an index trigger names, if any: its index. */
function frameAt(parent: ParentTrace, trigger: Trigger): number | undefined {
  if (trigger.kind !== "index") return undefined;
  return parent.frames.find((frame) => frame.index === trigger.index)?.index;
}

/**
 * A power loss at a recorded op or frame, built from the trace: the crash state's check,
 * without a run phase. At a frame, the cut is the moment the frame arrived: the writes
 * completed before it are those of the crash state (src/run/crash_state.ts counts arrivals
 * of both kinds).
 */
async function replayCrashState(
  parent: ParentTrace,
  plan: FaultPlan,
  powerLoss: FaultRule,
  cutAt: number | undefined,
  run: Omit<RunOptions, "plan">,
  { reproduce, lostFiles }: { reproduce: string; lostFiles?: LostFiles },
): Promise<ReplayResult> {
  if (cutAt === undefined) {
    throw new ReplayError(
      "a power loss built from the trace needs a recorded op or frame: give --fault-at N (or an op's signature)",
    );
  }
  if (!parent.header.recordsData) {
    throw new ReplayError(
      `a power loss built from the trace needs the written data, and ${parent.path} was recorded with --no-data; record again without it, or inject the power loss live with --live`,
    );
  }
  const variant = kindOf(powerLoss.effect).fromTrace!.variant(powerLoss.effect, plan.seed);
  // A disk that lies about flushes lied in the run the crash state is built from.
  const selection = selectCrashWrites(
    withLiedFlushes(parent.records, plan),
    cutAt,
    variant ?? { kind: "drop" },
  );
  const result = await runScenario({
    ...run,
    plan: {
      seed: plan.seed,
      rules: plan.rules.filter((rule) =>
        rule !== powerLoss && !kindOf(rule.effect).block?.shapesDurability
      ),
    },
    crash: {
      cutAt,
      selection,
      lines: parent.lines.filter((line) => line.phase === "run"),
    },
  });
  const failed = !result.verdict.pass && result.verdict.kind !== "inconclusive";
  return {
    ...result,
    fired: true,
    faultAt: cutAt,
    prefix: { kind: "identical", ops: parent.ordered.filter((op) => op.index < cutAt).length },
    reproduce,
    ...(failed ? { lost: await lostInCrash(parent, selection, run, lostFiles) } : {}),
  };
}

/** What a crash state lost, as files: with the sweep's {@link LostFiles}, or one of its own. */
async function lostInCrash(
  parent: ParentTrace,
  selection: CrashSelection,
  run: Omit<RunOptions, "plan">,
  shared: LostFiles | undefined,
): Promise<LostWrites> {
  if (shared) return await shared.of(selection);
  await using own = new LostFiles({
    records: parent.records,
    scenario: parent.scenario,
    bases: new Map(run.prepared!.bases.map((base) => [diskKey(base.node, base.name), base.path])),
    ...(run.signal ? { signal: run.signal } : {}),
  });
  return await own.of(selection);
}

/** A default name for a replay's trace, beside its parent. */
export function defaultReplayPath(parent: string, run?: number): string {
  const base = basename(parent).replace(/\.trace$/, "");
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace(
    "T",
    "-",
  );
  return `${base}.replay-${stamp}${run === undefined ? "" : `-${run}`}.trace`;
}
