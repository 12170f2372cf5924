/**
 * `faultline serve`: put the fault layer under any VM. Serves images over NBD
 * until SIGINT or SIGTERM, with faults from `--fault` and from the control
 * socket, and records a trace on request.
 *
 * @module
 */

import { join } from "node:path";
import { parseFaultSpec } from "../fault/spec.ts";
import { freshSeed } from "../fault/random.ts";
import { kindOf } from "../fault/kinds/mod.ts";
import { checkStanding } from "../fault/standing.ts";
import type { FaultRule } from "../fault/types.ts";
import type { ListenAddress } from "../nbd/server.ts";
import { exportUri } from "../nbd/uri.ts";
import {
  DiskService,
  type DiskSpec,
  exportNameForImage,
  type ServiceEvent,
} from "../service/disk_service.ts";
import type { StatsSummary } from "../trace/stats.ts";
import { makePrivateDir } from "../util/tempdir.ts";
import { formatBytes } from "../util/units.ts";
import { EXIT, UsageError } from "./errors.ts";
import { printStatsTable } from "./format.ts";

/** The options of `serve`, as the command line gives them. */
export interface ServeOptions {
  image: string[];
  export?: string;
  socket?: string;
  tcp?: string;
  control?: string;
  trace?: string;
  data: boolean;
  fault: string[];
  seed?: number;
  modifyImage: boolean;
  readOnly: boolean;
  node: string;
  json: boolean;
  verbose: boolean;
}

/** Parses `--image [NAME=]FILE` (repeated) and `--export NAME` into disks. */
export function parseImages(images: string[], exportName?: string): DiskSpec[] {
  if (images.length === 0) throw new UsageError("serve needs at least one --image FILE");
  if (exportName !== undefined && images.length > 1) {
    throw new UsageError(
      "--export names a single image; with several, write each as --image NAME=FILE",
    );
  }
  const disks = images.map((text) => {
    const eq = text.indexOf("=");
    const named = eq > 0 && !text.slice(0, eq).includes("/");
    const image = named ? text.slice(eq + 1) : text;
    const name = exportName ?? (named ? text.slice(0, eq) : exportNameForImage(image));
    if (image === "") throw new UsageError(`--image ${text} names no file`);
    return { name, image };
  });
  const seen = new Set<string>();
  for (const disk of disks) {
    if (seen.has(disk.name)) {
      throw new UsageError(
        `two images would be served as "${disk.name}": name them with --image NAME=FILE`,
      );
    }
    seen.add(disk.name);
  }
  return disks;
}

/** Parses `--tcp HOST:PORT` (loopback only; the server checks the host). */
export function parseTcp(text: string): ListenAddress {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  if (!match) throw new UsageError(`--tcp ${text}: expected HOST:PORT, like 127.0.0.1:10809`);
  const port = Number(match[2]);
  if (port > 65535) throw new UsageError(`--tcp ${text}: port ${port} is above 65535`);
  return { transport: "tcp", hostname: match[1].replace(/^\[|\]$/g, ""), port };
}

/**
 * Parses `--fault` specs for serve, which cannot cut a VM's power, checking the disks and
 * the node their triggers name against what is served.
 *
 * @throws {UsageError} for a kind serve cannot inject, or a trigger naming a disk or node
 *   that is not served (a rule that could never fire).
 * @example
 * ```ts
 * parseServeFaults(["eio@vda/write#3"], { disks: ["vda"], node: "serve" });
 * ```
 */
export function parseServeFaults(
  specs: string[],
  served: { disks: readonly string[]; node: string },
): FaultRule[] {
  return specs.map((spec) => {
    const rule = parseFaultSpec(spec);
    const kind = kindOf(rule.effect);
    if (kind.family === "machine") {
      throw new UsageError(
        `--fault ${spec}: ${
          kind.names[0]
        } needs record or replay (serve does not own the VM); use fail or hang to take a disk away`,
      );
    }
    if (kind.family !== "block") {
      throw new UsageError(
        `--fault ${spec}: a ${kind.family} fault needs a run (record or replay) of a cluster; serve serves disks`,
      );
    }
    const { trigger } = rule;
    if (trigger.kind === "match" && trigger.disk !== undefined) {
      if (!served.disks.includes(trigger.disk)) {
        throw new UsageError(
          `--fault ${spec}: no disk ${trigger.disk} (serve serves ${served.disks.join(", ")})`,
        );
      }
    }
    if (trigger.kind === "match" && trigger.node !== undefined && trigger.node !== served.node) {
      throw new UsageError(
        `--fault ${spec}: no node ${trigger.node} (serve's node is ${served.node}: --node NAME)`,
      );
    }
    // Serve has no check phase: a fault that stands holds as long as it serves.
    checkStanding(rule, "@TRIGGER");
    return rule;
  });
}

/** Runs `serve` until a signal; returns the exit code. */
export async function serveCommand(options: ServeOptions): Promise<number> {
  const disks = parseImages(options.image, options.export).map((d) => ({
    ...d,
    readOnly: options.readOnly,
  }));
  const rules = parseServeFaults(options.fault, {
    disks: disks.map((disk) => disk.name),
    node: options.node,
  });
  if (options.socket && options.tcp) throw new UsageError("give --socket or --tcp, not both");
  if (options.modifyImage && options.readOnly) {
    throw new UsageError("--modify-image and --read-only contradict");
  }

  await using dir = await makePrivateDir("faultline-serve-");
  const listen: ListenAddress = options.tcp
    ? parseTcp(options.tcp)
    : { transport: "unix", path: options.socket ?? join(dir.path, "nbd.sock") };
  const controlPath = options.control ?? join(dir.path, "control.sock");
  const seed = options.seed ?? freshSeed();

  const service = await DiskService.start({
    disks,
    listen,
    controlPath,
    plan: { seed, rules },
    modifyImage: options.modifyImage,
    scratchDir: dir.path,
    node: options.node,
    trace: options.trace
      ? { path: options.trace, keepData: options.data, command: "serve" }
      : undefined,
    onEvent: options.verbose ? (event) => console.error(describeEvent(event)) : undefined,
  });
  const exports = disks.map((disk) => ({
    name: disk.name,
    image: disk.image,
    uri: exportUri(service.address, disk.name),
  }));
  printServing({ exports, controlPath, seed, rules }, options);

  const signal = await waitForSignal();
  await service.close(`signal ${signal}`);
  printStopped(signal, service.summary(), options);
  return EXIT.pass;
}

/** What serve serves, once it listens: the exports, the control socket, the faults. */
interface Serving {
  exports: { name: string; image: string; uri: string }[];
  controlPath: string;
  seed: number;
  rules: FaultRule[];
}

/** What serve serves and how to use it, or one JSON line with `--json`. */
function printServing(serving: Serving, options: ServeOptions): void {
  const { exports, controlPath, seed, rules } = serving;
  if (options.json) {
    console.log(JSON.stringify({
      exports,
      control: controlPath,
      trace: options.trace ?? null,
      seed,
      faults: rules.map((r) => r.spec),
    }));
    return;
  }
  console.log(
    `faultline serve: ${exports.length} disk${exports.length > 1 ? "s" : ""}${
      options.modifyImage
        ? " (writing the images themselves)"
        : " (base images read-only, writes go to a scratch overlay)"
    }`,
  );
  for (const exp of exports) console.log(`  ${exp.name}  ${exp.uri}`);
  console.log(
    `control socket: ${controlPath}   (faultline fault ${controlPath} set ${exports[0].name} eio)`,
  );
  if (options.trace) {
    console.log(`trace: ${options.trace}${options.data ? "" : " (hashes only, --no-data)"}`);
  }
  if (rules.length > 0) {
    console.log(`faults: ${rules.map((r) => r.spec).join(" ")} (seed ${seed})`);
  }
  console.log(
    `QEMU: -drive file=${exports[0].uri},format=raw,if=virtio,werror=report,rerror=report`,
  );
  console.log("Ctrl-C stops serving.");
}

/** What serve did, once a signal stopped it. */
function printStopped(signal: Deno.Signal, summary: StatsSummary, options: ServeOptions): void {
  if (options.json) {
    console.log(JSON.stringify({ stopped: signal, stats: summary }));
  } else {
    console.log(`\nstopped by ${signal}: ${summary.ops} ops, ${formatBytes(summary.bytes)} moved`);
    if (summary.ops > 0) printStatsTable(summary);
  }
}

/** Resolves with the name of the first SIGINT or SIGTERM. */
function waitForSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

/** One line for a service event, for --verbose. */
export function describeEvent(event: ServiceEvent): string {
  switch (event.type) {
    case "fault":
      return `fault: ${event.fault.fault} into ${event.fault.op} #${event.fault.index} of ${event.fault.disk} (${event.fault.rule})`;
    case "request-refused":
      return `refused: command ${event.command} on ${event.disk}: ${event.errno} (${event.reason})`;
    case "backend-failure":
      return `store failure: ${event.op} on ${event.disk}: ${event.error}`;
    case "protocol-error":
      return `connection ${event.connection} dropped: ${event.message}`;
    case "command":
      return `control: ${event.command} ${JSON.stringify(event.arguments)}${
        event.error ? ` failed: ${event.error}` : ""
      }`;
    default:
      return `${event.type}: ${JSON.stringify(event)}`;
  }
}
