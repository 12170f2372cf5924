/**
 * Loading a scenario file (a TypeScript module whose default export is
 * `defineScenario({...})`, or a JSON file), validating it once, and
 * normalizing it. Every error names the file, the field path, what was
 * expected and what was found.
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { z } from "zod";
import { ScenarioError } from "./errors.ts";
import { describeValue, issueLines } from "./issues.ts";
import { kindOf } from "../fault/kinds/mod.ts";
import { DEFAULT_TIMEOUT_MS } from "../history/check.ts";
import { readEdn } from "../history/edn.ts";
import { modelNamed } from "../history/models/mod.ts";
import { checkClusterFaults } from "../fault/link.ts";
import { parseFaultSpec } from "../fault/spec.ts";
import { parsePoints } from "./points.ts";
import { filesystemOf } from "./filesystems.ts";
import { formatBytes } from "../util/units.ts";
import { checkHostFiles, fileField } from "./host_files.ts";
import {
  type Expectations,
  type FaultExpectation,
  type HistoryExpectation,
  hostFileEntries,
  joinsNetwork,
  type NodeRoot,
  type Scenario,
  SCENARIO_DEFAULTS,
  type ScenarioDisk,
  type ScenarioInput,
  scenarioInputSchema,
  type ScenarioNode,
} from "./schema.ts";
import type { RecoveryMode } from "./recovery.ts";

/** What normalizing collects: every problem found, and how to find host files. */
class Findings {
  readonly problems: string[] = [];

  constructor(private readonly baseDir: string) {}

  /** A host path from the scenario, resolved against the scenario's directory. */
  hostPath(path: string): string {
    return isAbsolute(path) ? path : resolve(this.baseDir, path);
  }

  /** Notes a problem when `path` is not an existing regular file. */
  async mustExist(path: string, field: string, what: string): Promise<void> {
    const info = await Deno.stat(path).catch(() => null);
    if (!info) {
      this.problems.push(
        `${field}: expected ${what}, found ${JSON.stringify(path)}, which does not exist`,
      );
    } else if (!info.isFile) {
      this.problems.push(
        `${field}: expected ${what}, found ${JSON.stringify(path)}, which is not a file`,
      );
    }
  }
}

type Input = z.output<typeof scenarioInputSchema>;
type NodeValue = Input["nodes"][string];

/**
 * Validates scenario content and normalizes it. `source` names the file in
 * errors; relative paths in the scenario are resolved against `baseDir`.
 *
 * @throws {ScenarioError} listing every problem, each with its field path.
 * @example
 * ```ts
 * const scenario = await normalizeScenario(input, { source: "scenarios/x.json", baseDir: "scenarios" });
 * ```
 */
export async function normalizeScenario(
  input: unknown,
  options: { source: string; baseDir: string },
): Promise<Scenario> {
  const parsed = scenarioInputSchema.safeParse(input);
  if (!parsed.success) {
    const lines = issueLines(parsed.error.issues, input);
    throw new ScenarioError(`${options.source}: ${lines.join(`\n${options.source}: `)}`);
  }
  const value = parsed.data;
  const findings = new Findings(options.baseDir);
  const nodes: ScenarioNode[] = [];
  for (const name of Object.keys(value.nodes).sort()) {
    nodes.push(await normalizeNode(name, value.nodes[name], findings));
  }
  const expect = normalizeExpect(value, findings.problems);
  if (expect.noLostAcks && nodes.every((n) => n.check === null)) {
    findings.problems.push(
      "expect.noLostAcks: expected a node with a check that reports `have KEY`, found no check",
    );
  }
  const faults = normalizeFaults(value, expect, findings.problems, nodes);
  const networked = joinsNetwork(value.nodes);
  if (value.client !== undefined && !nodes.some((n) => n.name === value.client)) {
    findings.problems.push(
      `client: expected one of the nodes (${
        nodes.map((n) => n.name).join(", ")
      }), found "${value.client}"`,
    );
  }
  const recovery = value.recovery ?? "together";
  checkRecoveryField(recovery, { nodes, faults }, findings.problems);
  if (findings.problems.length > 0) {
    throw new ScenarioError(
      `${options.source}: ${findings.problems.join(`\n${options.source}: `)}`,
    );
  }
  return {
    name: value.name,
    description: value.description ?? "",
    source: options.source,
    nodes,
    expect,
    faults,
    network: networked ? { subnet: value.network?.subnet ?? null } : null,
    client: value.client ?? null,
    recovery,
    ...(value.accel !== undefined ? { accel: value.accel } : {}),
    ...(value.budget !== undefined ? { budgetMs: value.budget } : {}),
    timeouts: {
      bootMs: value.timeouts?.boot ?? SCENARIO_DEFAULTS.bootMs,
      runMs: value.timeouts?.run ?? SCENARIO_DEFAULTS.runMs,
      checkMs: value.timeouts?.check ?? SCENARIO_DEFAULTS.checkMs,
      setupMs: value.timeouts?.setup ?? SCENARIO_DEFAULTS.setupMs,
    },
  };
}

/**
 * A recovery order needs a check phase that starts nodes; `each-order` checks each point of a
 * declared fault in every order, which a fault that explores crash states a point would
 * multiply: refused.
 */
function checkRecoveryField(
  recovery: RecoveryMode,
  scenario: { nodes: ScenarioNode[]; faults: FaultExpectation[] },
  problems: string[],
): void {
  if (recovery === "together") return;
  if (scenario.nodes.every((n) => n.check === null)) {
    problems.push(
      `recovery: "${recovery}" orders the nodes the check phase starts, and no node has a check (the check phase starts none)`,
    );
  }
  if (recovery !== "each-order") return;
  for (const [i, fault] of scenario.faults.entries()) {
    if (!explores(fault.fault)) continue;
    problems.push(
      `faults[${i}].fault: "${fault.fault}" checks several crash states a point, and recovery "each-order" checks each point in every order: declare one of the two`,
    );
  }
}

/** Whether a fault explores crash states a point (one that does not parse is reported apart). */
function explores(fault: string): boolean {
  try {
    const { effect } = parseFaultSpec(fault);
    return kindOf(effect).fromTrace?.explores(effect) !== undefined;
  } catch {
    return false;
  }
}

async function normalizeNode(
  name: string,
  input: NodeValue,
  findings: Findings,
): Promise<ScenarioNode> {
  const at = `nodes.${name}`;
  const disks: ScenarioDisk[] = [];
  for (const [diskName, disk] of Object.entries(input.disks)) {
    disks.push(await normalizeDisk(diskName, disk, `${at}.disks.${diskName}`, findings));
  }
  for (const [i, program] of (input.programs ?? []).entries()) {
    await findings.mustExist(program, `${at}.programs[${i}]`, "a program on this machine");
  }
  const entries = hostFileEntries(input.files);
  const files = entries.map((file) => ({ host: findings.hostPath(file.host), guest: file.guest }));
  await checkHostFiles(
    files.map((file, i) => ({ ...file, field: `${at}.${fileField(entries[i].at)}` })),
    findings.problems,
  );
  return {
    name,
    memoryBytes: input.memory ?? SCENARIO_DEFAULTS.memoryBytes,
    disks,
    programs: input.programs ?? [],
    files,
    env: input.env ?? {},
    workload: input.workload,
    check: input.check ?? null,
    guest: await normalizeGuest(at, input, findings),
    restart: input.restart ?? null,
    ready: input.ready ?? false,
    root: normalizeRoot(input),
    setup: input.setup ?? null,
  };
}

/** The node's package root, when it names packages. */
function normalizeRoot(input: NodeValue): NodeRoot | null {
  if (input.packages === undefined) return null;
  return {
    packages: [...new Set(input.packages)].sort(),
    users: (input.users ?? []).map((user) => ({
      name: user.name,
      uid: user.uid,
      gid: user.gid ?? user.uid,
      home: user.home ?? "/nonexistent",
    })),
    rootSetup: input.rootSetup ?? null,
  };
}

async function normalizeDisk(
  name: string,
  disk: NodeValue["disks"][string],
  at: string,
  findings: Findings,
): Promise<ScenarioDisk> {
  if ("image" in disk) {
    const image = findings.hostPath(disk.image);
    await findings.mustExist(image, `${at}.image`, "an image file");
    return {
      name,
      kind: "image",
      image,
      fstype: disk.fstype ?? "ext4",
      mount: disk.mount ?? null,
      mountOptions: disk.mountOptions ?? null,
    };
  }
  if (disk.filesystem === "none" && disk.mount) {
    findings.problems.push(`${at}.mount: a disk with filesystem "none" cannot be mounted`);
  }
  if (disk.size % 512 !== 0 || disk.size < 1024 * 1024) {
    findings.problems.push(
      `${at}.size: expected at least 1M and a multiple of 512 bytes, found ${disk.size} bytes`,
    );
  } else {
    const fs = filesystemOf(disk.filesystem ?? "ext4");
    if (fs && disk.size < fs.minSizeBytes) {
      findings.problems.push(
        `${at}.size: expected at least ${
          formatBytes(fs.minSizeBytes)
        } for ${fs.name} (${fs.minSizeWhy}), ` +
          `found ${formatBytes(disk.size)}`,
      );
    }
  }
  return {
    name,
    kind: "filesystem",
    sizeBytes: disk.size,
    filesystem: disk.filesystem ?? "ext4",
    mkfsOptions: disk.mkfsOptions ?? [],
    mount: disk.mount ?? null,
    mountOptions: disk.mountOptions ?? null,
  };
}

/** The user's own kernel and initramfs, when the node brings them. */
async function normalizeGuest(
  at: string,
  input: NodeValue,
  findings: Findings,
): Promise<ScenarioNode["guest"]> {
  if (input.kernel !== undefined && input.initramfs === undefined) {
    findings.problems.push(
      `${at}.kernel: expected an initramfs beside it (its modules must match the kernel), found none`,
    );
  }
  if (input.initramfs === undefined) return null;
  const guest = {
    kernel: input.kernel === undefined ? null : findings.hostPath(input.kernel),
    initramfs: findings.hostPath(input.initramfs),
  };
  if (guest.kernel) await findings.mustExist(guest.kernel, `${at}.kernel`, "a kernel image");
  await findings.mustExist(guest.initramfs, `${at}.initramfs`, "an initramfs");
  return guest;
}

function normalizeExpect(value: Input, problems: string[]): Expectations {
  const expect: Expectations = {
    workloadExit: normalizeExit(value.expect?.workload?.exit),
    checkExit: normalizeExit(value.expect?.check?.exit),
    output: (value.expect?.output ?? []).map((o) => ({
      phase: o.phase,
      pattern: o.pattern instanceof RegExp ? o.pattern.source : o.pattern,
      flags: o.pattern instanceof RegExp ? o.pattern.flags : "m",
      absent: o.absent ?? false,
    })),
    noLostAcks: value.expect?.noLostAcks ?? false,
  };
  const history = value.expect?.history;
  if (history) expect.history = normalizeHistory(history, problems);
  for (const [i, o] of expect.output.entries()) {
    try {
      new RegExp(o.pattern, o.flags);
    } catch (error) {
      problems.push(
        `expect.output[${i}].pattern: expected a regular expression, found ${
          describeValue(o.pattern)
        } (${(error as Error).message})`,
      );
    }
  }
  return expect;
}

function normalizeFaults(
  value: Input,
  expect: Expectations,
  problems: string[],
  nodes: readonly ScenarioNode[],
): FaultExpectation[] {
  return (value.faults ?? []).map((declared, i) => {
    const at = `faults[${i}]`;
    const where = pointProblem(declared);
    if (where) problems.push(`${at}: ${where}`);
    try {
      const rule = parseFaultSpec(declared.fault);
      checkClusterFaults([rule], nodes.map((node) => node.name));
      if (rule.trigger.kind !== "always" && !where) {
        problems.push(
          `${at}.fault: expected a fault without @trigger (give at or points), found "${declared.fault}"`,
        );
      } else if (kindOf(rule.effect).boot) {
        problems.push(
          `${at}.fault: ${declared.fault} is set when its node boots and has no points: give it in with`,
        );
      }
    } catch (error) {
      problems.push(`${at}.fault: ${(error as Error).message}`);
    }
    for (const [j, text] of (declared.with ?? []).entries()) {
      try {
        checkClusterFaults([parseFaultSpec(text)], nodes.map((node) => node.name));
      } catch (error) {
        problems.push(`${at}.with[${j}]: ${(error as Error).message}`);
      }
    }
    if (declared.minRate !== undefined && declared.outcome !== "detect") {
      problems.push(
        `${at}.minRate: applies to outcome: "detect" (a finding's rate), not to "pass"`,
      );
    }
    if (declared.points !== undefined) {
      try {
        parsePoints(declared.points);
      } catch (error) {
        problems.push(`${at}.points: ${(error as Error).message}`);
      }
    }
    return {
      fault: declared.fault,
      at: declared.at === undefined ? null : String(declared.at),
      points: declared.points ?? null,
      expect: {
        ...expect,
        workloadExit: normalizeExit(declared.expect?.workload?.exit ?? "any"),
        checkExit: declared.expect?.check?.exit === undefined
          ? expect.checkExit
          : normalizeExit(declared.expect.check.exit),
        noLostAcks: declared.expect?.noLostAcks ?? true,
      },
      outcome: declared.outcome ?? "pass",
      minRate: declared.minRate ?? null,
      with: declared.with ?? [],
    };
  });
}

/** A history expectation, its initial value read as EDN and its mode known to its model. */
function normalizeHistory(
  history: NonNullable<NonNullable<Input["expect"]>["history"]>,
  problems: string[],
): HistoryExpectation {
  const model = modelNamed(history.model);
  const modes = model.kind === "pass" ? model.modes : [];
  if (history.mode !== undefined && !modes.includes(history.mode)) {
    problems.push(
      `expect.history.mode: expected ${
        modes.length > 0 ? modes.join(" or ") : `no mode (the ${model.name} model takes none)`
      }, found ${describeValue(history.mode)}`,
    );
  }
  if (history.initial !== undefined) {
    const takes = model.kind === "linearizable" && model.takesInitial;
    let forms = 0;
    try {
      forms = readEdn(history.initial).length;
    } catch { /* counted as no form */ }
    if (!takes || forms !== 1) {
      problems.push(
        `expect.history.initial: expected ${
          takes ? "one EDN value, such as nil or 0" : `none (the ${model.name} model takes none)`
        }, found ${describeValue(history.initial)}`,
      );
    }
  }
  return {
    model: model.name,
    timeoutMs: history.timeout ?? DEFAULT_TIMEOUT_MS,
    initial: history.initial ?? null,
    mode: history.mode ?? null,
    check: history.check ?? false,
  };
}

/**
 * What is wrong with where a declared fault goes: it takes `at` (one op) or `points` (a
 * sweep), exactly one, never a trigger of its own; null when it is right. The message
 * shows the declaration written right, with the user's own fault and op when given.
 *
 * @example
 * ```ts
 * pointProblem({ fault: "eio@5" });
 * // 'expected at (one op) or points (a sweep), found neither; "eio@5" carries its trigger, which a declared fault gives as at: { fault: "eio", at: 5 }'
 * ```
 */
export function pointProblem(
  declared: { fault: string; at?: number | string; points?: string },
): string | null {
  if (declared.at !== undefined && declared.points !== undefined) {
    return `expected at (one op) or points (a sweep), found both (at: ${
      JSON.stringify(declared.at)
    }, points: ${JSON.stringify(declared.points)})`;
  }
  if (declared.at !== undefined || declared.points !== undefined) return null;
  const sign = declared.fault.indexOf("@");
  const fault = JSON.stringify(sign < 0 ? declared.fault : declared.fault.slice(0, sign));
  const neither = "expected at (one op) or points (a sweep), found neither";
  if (sign < 0) {
    return `${neither}: write { fault: ${fault}, at: 17 } or { fault: ${fault}, points: "all" }`;
  }
  // An op index or an op signature is what at takes; anything else (a time, `any`) is not.
  const trigger = declared.fault.slice(sign + 1);
  const op = /^\d+$/.test(trigger)
    ? trigger
    : trigger.includes("/") && !trigger.endsWith("/any")
    ? JSON.stringify(trigger)
    : "17";
  return `${neither}; ${
    JSON.stringify(declared.fault)
  } carries its trigger, which a declared fault gives as at: { fault: ${fault}, at: ${op} }`;
}

function normalizeExit(exit: number | number[] | "any" | undefined): number[] | "any" {
  if (exit === undefined) return [0];
  if (exit === "any") return "any";
  return Array.isArray(exit) ? exit : [exit];
}

/**
 * Loads a scenario file: a TypeScript module (its default export) or JSON.
 *
 * @throws {ScenarioError} naming the file and what is wrong with it.
 * @example
 * ```ts
 * const scenario = await loadScenario("scenarios/fsync-log.ts");
 * ```
 */
export async function loadScenario(path: string): Promise<Scenario> {
  const absolute = resolve(path);
  try {
    const info = await Deno.stat(absolute);
    if (!info.isFile) {
      throw new ScenarioError(`${path}: expected a scenario file, found a directory`);
    }
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    throw new ScenarioError(`${path}: no such scenario file`);
  }
  let input: unknown;
  if (/\.json$/i.test(path)) {
    const text = await Deno.readTextFile(absolute);
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new ScenarioError(`${path}: not valid JSON: ${(error as Error).message}`);
    }
  } else if (/\.(ts|js|mts|mjs)$/i.test(path)) {
    let module: { default?: unknown };
    try {
      module = await importInTurn(pathToFileURL(absolute).href);
    } catch (error) {
      throw new ScenarioError(
        `${path}: the module does not load: ${(error as Error).message.split("\n")[0]}`,
      );
    }
    if (module.default === undefined) {
      throw new ScenarioError(
        `${path}: expected a default export (export default defineScenario({...})), found none`,
      );
    }
    input = module.default;
  } else {
    throw new ScenarioError(`${path}: expected a .ts or .json scenario file`);
  }
  return await normalizeScenario(input, { source: path, baseDir: dirname(absolute) });
}

/** The scenario module being imported, which the next import waits for. */
let importing: Promise<unknown> = Promise.resolve();

/**
 * Imports scenario modules one at a time. They import one another (redis-aof-everysec.ts
 * imports redis-aof.ts) and faultline's module graph holds a top-level await (the hash's
 * WebAssembly, src/trace/hash.ts): two imports at once can hand one of them a module still
 * being evaluated, whose `default` then throws "Cannot access 'default' before
 * initialization" (seen in cache_keys_test.ts, which loads two scenarios at once).
 */
function importInTurn(url: string): Promise<{ default?: unknown }> {
  const next = importing.then(() => import(url));
  importing = next.catch(() => {});
  return next;
}

/**
 * Declares a scenario with types, so that an editor completes and checks it.
 * It returns its argument: validation happens when the file is loaded.
 *
 * @example
 * ```ts
 * export default defineScenario({
 *   name: "fsync-log",
 *   nodes: { app: { disks: { data: { size: "64M", mount: "/data" } }, workload: "..." } },
 * });
 * ```
 */
export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario;
}
