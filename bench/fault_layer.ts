/**
 * The fault layer's speed against its peers, side by side in one run:
 * `qemu-img bench` (4 KiB requests, queue depth 16, `-t none`, raw over a unix
 * socket; reads, then writes), then `nbdcopy` (several connections, as the
 * server advertises multi-conn) copying an image of random bytes into the
 * export and back out of it, against faultline serve with recording on (trace
 * with data), faultline serve with recording off, nbdkit's file plugin and
 * qemu-nbd. Every server is its own process on its own fresh sparse image in a
 * private temporary directory, started without a shell, and always stopped.
 *
 * The machine this runs on is noisy (2 cores, other work), so the servers take
 * turns in rounds (the order rotates each round) and the figures are medians
 * with their min and max.
 *
 * ```sh
 * deno task bench                 # 200000 requests per direction, 5 rounds
 * deno task bench --quick         # 20000 requests, 1 round
 * deno task bench --count 100000 --repeat 3 --json
 * deno task bench --cpu-prof /tmp/prof --servers faultline-rec,faultline
 * ```
 *
 * Exit codes: 0 when the benchmark ran (the goals are goals, not gates),
 * 2 for a usage error, 3 when the harness failed (a server would not start, a
 * tool is missing, qemu-img failed), 130/143 when interrupted.
 *
 * @module
 */

import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { VERSION } from "../src/version.ts";

// ---------------------------------------------------------------- options

/** The servers this bench knows, in their default order. */
const SERVER_IDS = ["faultline-rec", "faultline", "faultline-hash", "nbdkit", "qemu-nbd"] as const;
type ServerId = typeof SERVER_IDS[number];
const DEFAULT_SERVERS: ServerId[] = ["faultline-rec", "faultline", "nbdkit", "qemu-nbd"];

interface Options {
  count: number;
  rounds: number;
  depth: number;
  requestSize: number;
  imageSize: number;
  servers: ServerId[];
  /** Bytes nbdcopy copies into each server and back out; 0: no nbdcopy. */
  copySize: number;
  json: boolean;
  cpuProfDir?: string;
  keep: boolean;
}

const USAGE = `usage: deno task bench [options]

  --count N        requests per direction per run (default 200000)
  --repeat R       rounds; each round runs every server, reads then writes (default 5)
  --quick          --count 20000 --repeat 1, for a fast check
  --depth N        queue depth (default 16)
  --size BYTES     request size (default 4096)
  --copy-size MIB  MiB nbdcopy copies into each server, then the whole export it copies
                   out (--no-extents) (default 1024; 0 skips nbdcopy)
  --servers LIST   comma-separated, from: ${SERVER_IDS.join(", ")}
                   (default ${
  DEFAULT_SERVERS.join(",")
}; faultline-hash records hashes only, --no-data)
  --cpu-prof DIR   run faultline's servers under V8's CPU profiler (slows them) and print
                   their top self-time functions; profiles are kept in DIR
  --keep           keep the temporary directory (images, traces, server logs)
  --json           print one JSON object with every figure (progress still goes to stderr)
  -h, --help       this text`;

class UsageError extends Error {}

/** The harness itself failed: the figures cannot be trusted or do not exist. */
class HarnessError extends Error {}

function parseOptions(args: string[]): Options | null {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: "string" },
      repeat: { type: "string" },
      rounds: { type: "string" },
      quick: { type: "boolean", default: false },
      depth: { type: "string" },
      size: { type: "string" },
      "copy-size": { type: "string" },
      servers: { type: "string" },
      "cpu-prof": { type: "string" },
      keep: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  const whole = (name: string, text: string | undefined, fallback: number, min = 1) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) {
      throw new UsageError(`--${name} ${text}: expected a whole number of at least ${min}`);
    }
    return value;
  };
  const count = whole("count", values.count, values.quick ? 20_000 : 200_000);
  const rounds = whole("repeat", values.repeat ?? values.rounds, values.quick ? 1 : 5);
  const depth = whole("depth", values.depth, 16);
  const requestSize = whole("size", values.size, 4096, 512);
  if (requestSize % 512 !== 0) throw new UsageError(`--size ${requestSize}: use a multiple of 512`);
  const copySize = whole("copy-size", values["copy-size"], 1024, 0) *
    (1 << 20);
  const servers = values.servers === undefined ? DEFAULT_SERVERS : values.servers.split(",").map(
    (name) => {
      const id = name.trim() as ServerId;
      if (!SERVER_IDS.includes(id)) {
        throw new UsageError(
          `--servers: unknown server "${name}"; known: ${SERVER_IDS.join(", ")}`,
        );
      }
      return id;
    },
  );
  if (new Set(servers).size !== servers.length) {
    throw new UsageError("--servers names a server twice");
  }
  // At least 1 GiB, and large enough that qemu-img's sequential offsets never wrap.
  const imageSize = Math.max(
    1 << 30,
    copySize,
    Math.ceil((count * requestSize) / (1 << 20)) * (1 << 20),
  );
  return {
    count,
    rounds,
    depth,
    requestSize,
    imageSize,
    servers,
    copySize,
    json: values.json,
    cpuProfDir: values["cpu-prof"],
    keep: values.keep,
  };
}

// ---------------------------------------------------------------- servers

const REPO = new URL("..", import.meta.url).pathname;
const MOD_TS = join(REPO, "mod.ts");
const EXPORT = "bench";

/** How one kind of server is started and reached. */
interface ServerKind {
  id: ServerId;
  label: string;
  /** The program and its arguments for one run. */
  command(run: RunFiles, options: Options): { program: string; args: string[] };
  uri(socket: string): string;
  /** Records a trace into `run.trace`. */
  records: boolean;
  /** Runs under the V8 CPU profiler when --cpu-prof is given. */
  deno: boolean;
}

/** The files of one run of one server. */
interface RunFiles {
  image: string;
  socket: string;
  trace: string;
  profileDir?: string;
}

function faultline(id: ServerId, label: string, trace: "data" | "hash" | "off"): ServerKind {
  return {
    id,
    label,
    records: trace !== "off",
    deno: true,
    command: (run) => ({
      program: Deno.execPath(),
      args: [
        "run",
        "-A",
        ...(run.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${run.profileDir}`] : []),
        MOD_TS,
        "serve",
        "--image",
        run.image,
        "--export",
        EXPORT,
        "--socket",
        run.socket,
        ...(trace === "off" ? [] : ["--trace", run.trace]),
        ...(trace === "hash" ? ["--no-data"] : []),
        "--json",
      ],
    }),
    uri: (socket) => `nbd+unix:///${EXPORT}?socket=${socket}`,
  };
}

const KINDS: Record<ServerId, ServerKind> = {
  "faultline-rec": faultline("faultline-rec", "faultline, recording", "data"),
  "faultline": faultline("faultline", "faultline, not recording", "off"),
  "faultline-hash": faultline("faultline-hash", "faultline, recording hashes", "hash"),
  "nbdkit": {
    id: "nbdkit",
    label: "nbdkit file",
    records: false,
    deno: false,
    // -f: stay in the foreground so that the pid is the server's; --exit-with-parent as a backstop.
    command: (run) => ({
      program: "nbdkit",
      args: ["-f", "--exit-with-parent", "-U", run.socket, "file", run.image],
    }),
    uri: (socket) => `nbd+unix:///?socket=${socket}`,
  },
  "qemu-nbd": {
    id: "qemu-nbd",
    label: "qemu-nbd",
    records: false,
    deno: false,
    // --persistent: the readiness probe's connection must not end the server.
    command: (run) => ({
      program: "qemu-nbd",
      args: ["--persistent", "-k", run.socket, "-f", "raw", run.image],
    }),
    uri: (socket) => `nbd+unix:///?socket=${socket}`,
  },
};

/** A server process: stopped at most once, with SIGTERM and then, if need be, SIGKILL. */
class ServerProcess {
  readonly status: Promise<Deno.CommandStatus>;
  readonly stdout: Promise<string>;
  readonly stderr: Promise<string>;
  exited = false;
  private stopping: Promise<Deno.CommandStatus> | null = null;

  constructor(readonly label: string, private readonly child: Deno.ChildProcess) {
    this.status = child.status.then((status) => {
      this.exited = true;
      return status;
    });
    this.stdout = new Response(child.stdout).text().catch(() => "");
    this.stderr = new Response(child.stderr).text().catch(() => "");
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Stops the server: SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs = 30_000): Promise<Deno.CommandStatus> {
    this.stopping ??= (async () => {
      if (!this.exited) this.signal("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), graceMs)
      );
      const first = await Promise.race([this.status, late]);
      clearTimeout(timer);
      if (first === "late") this.signal("SIGKILL");
      return await this.status;
    })();
    return this.stopping;
  }

  private signal(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
  }
}

/** Every server still running, so that a signal can stop them. */
const live = new Set<ServerProcess>();
/** Aborted on SIGINT/SIGTERM: kills a running qemu-img. */
const interrupt = new AbortController();

function startServer(
  kind: ServerKind,
  run: RunFiles,
  options: Options,
  env: Record<string, string>,
) {
  const { program, args } = kind.command(run, options);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: REPO,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new HarnessError(`cannot start ${program}: ${error}`);
  }
  const server = new ServerProcess(kind.label, child);
  live.add(server);
  server.status.then(() => live.delete(server));
  return server;
}

/** Waits until the socket accepts a connection (then closes it), or fails when the server died. */
async function waitForSocket(
  server: ServerProcess,
  path: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (server.exited) {
      const status = await server.status;
      throw new HarnessError(
        `${server.label} exited (code ${status.code}) before listening: ${
          (await server.stderr).trim()
        }`,
      );
    }
    try {
      const conn = await Deno.connect({ transport: "unix", path });
      conn.close();
      return;
    } catch { /* not yet */ }
    if (performance.now() > deadline) {
      throw new HarnessError(
        `${server.label} did not listen on ${path} within ${timeoutMs / 1000} s`,
      );
    }
    if (interrupt.signal.aborted) throw interrupt.signal.reason;
    await sleep(25);
  }
}

// ---------------------------------------------------------------- measuring

/** qemu-img bench's reads and writes, then nbdcopy into the server and out of it. */
type Direction = "reads" | "writes" | "copy-in" | "copy-out";

/** One qemu-img bench run, or one nbdcopy. */
interface Measurement {
  round: number;
  server: ServerId;
  direction: Direction;
  seconds: number;
  /** qemu-img bench: requests per second; nbdcopy: MiB per second. */
  iops: number;
  /** qemu-img bench: CPU time of the server process per request, in microseconds; nbdcopy: per MiB. */
  serverCpuUsPerRequest: number | null;
  /**
   * I/O system calls of the server per request, from /proc/PID/io: `syscr`
   * counts read(2)-family calls, `syscw` write(2)-family ones (file and socket
   * alike); send and recv calls are not counted, so compare servers with care.
   */
  serverSyscallsPerRequest: { read: number; write: number } | null;
  /**
   * CPU the rest of the machine used meanwhile, in cores: all busy time minus
   * the server's and qemu-img's. The noise this run suffered.
   */
  otherCores: number | null;
  /** CPU the hypervisor gave to others meanwhile (steal), in cores. */
  stealCores: number | null;
  /** The 1-minute load average as the run ended. */
  loadavg: number;
}

/** What the recording run of one round wrote. */
interface TraceSize {
  round: number;
  server: ServerId;
  afterReads: number;
  /** After qemu-img's writes, before nbdcopy. */
  total: number;
  ops: number | null;
}

/** What one qemu-img bench run took. */
interface BenchRun {
  /** qemu-img's own "Run completed in" time. */
  seconds: number;
  /** CPU seconds qemu-img used (sampled every 50 ms, so a little low). */
  clientCpu: number;
}

async function qemuImgBench(
  uri: string,
  direction: Direction,
  options: Options,
): Promise<BenchRun> {
  const args = [
    "bench",
    "-f",
    "raw",
    "-t",
    "none",
    "-c",
    String(options.count),
    "-d",
    String(options.depth),
    "-s",
    String(options.requestSize),
    ...(direction === "writes" ? ["-w"] : []),
    uri,
  ];
  const { output, clientCpu } = await runClient("qemu-img", args, 60_000 + options.count * 2);
  const text = new TextDecoder().decode(output.stdout);
  const match = /Run completed in ([\d.]+) seconds/.exec(text);
  if (!match) {
    throw new HarnessError(`qemu-img ${args.join(" ")} printed no run time: ${text.trim()}`);
  }
  return { seconds: Number(match[1]), clientCpu };
}

/** One nbdcopy: `from` to `to`, each a file, an NBD URI or `null:`. */
async function nbdcopy(
  from: string,
  to: string,
  options: Options,
  flags: string[] = [],
): Promise<BenchRun> {
  const args = [...flags, from, to];
  const { clientCpu, started } = await runClient(
    "nbdcopy",
    args,
    120_000 + options.copySize / 1000,
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, clientCpu };
}

/**
 * Runs one client to its end under the bench's timeout and Ctrl-C, sampling
 * its CPU time (for the machine's noise figure: /proc is gone once it is
 * reaped). A client that fails or times out is a {@link HarnessError} with its
 * stderr.
 */
async function runClient(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ output: Deno.CommandOutput; clientCpu: number; started: number }> {
  const signal = AbortSignal.any([interrupt.signal, AbortSignal.timeout(timeoutMs)]);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).spawn();
  } catch (error) {
    throw new HarnessError(`cannot run ${command}: ${error}`);
  }
  let clientCpu = 0;
  const poll = setInterval(() => clientCpu = cpuSeconds(child.pid) ?? clientCpu, 50);
  const started = performance.now();
  let output: Deno.CommandOutput;
  try {
    output = await child.output();
  } finally {
    clearInterval(poll);
  }
  if (!output.success) {
    if (interrupt.signal.aborted) throw interrupt.signal.reason;
    const why = signal.aborted ? `timed out after ${timeoutMs / 1000} s` : `exited ${output.code}`;
    const stderr = new TextDecoder().decode(output.stderr).trim();
    const stdout = new TextDecoder().decode(output.stdout).trim();
    throw new HarnessError(`${command} ${args.join(" ")} ${why}: ${stderr || stdout}`);
  }
  return { output, clientCpu, started };
}

/** The image nbdcopy copies into every server: random bytes (no zero block to skip), made once. */
async function makeCopySource(path: string, size: number): Promise<void> {
  const chunk = new Uint8Array(1 << 20);
  let state = 0x9e3779b9;
  const words = new Uint32Array(chunk.buffer);
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[i] = state >>> 0;
  }
  const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    for (let at = 0; at < size; at += chunk.length) {
      // Each MiB differs from the others in its first word.
      words[0] = at / chunk.length + 1;
      let written = 0;
      const part = chunk.subarray(0, Math.min(chunk.length, size - at));
      while (written < part.length) written += await file.write(part.subarray(written));
    }
  } finally {
    file.close();
  }
}

/** The machine's CPU time so far (seconds, all cores): busy (user, nice, system, irq, softirq) and steal. */
function machineCpu(): { busy: number; steal: number } {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(
      Number,
    );
    return {
      busy: (user + nice + system + irq + softirq) / clockTicks,
      steal: (steal || 0) / clockTicks,
    };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

let clockTicks = 100;

/** The CPU seconds (user + system) a process has used so far, or null if it is gone. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}

/** A process's read-family and write-family system calls so far, or null if it is gone. */
function syscalls(pid: number): { read: number; write: number } | null {
  try {
    const io = Deno.readTextFileSync(`/proc/${pid}/io`);
    return {
      read: Number(/^syscr:\s*(\d+)/m.exec(io)?.[1]),
      write: Number(/^syscw:\s*(\d+)/m.exec(io)?.[1]),
    };
  } catch {
    return null;
  }
}

function loadavg(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** The random image nbdcopy copies from, in the bench's directory. */
function copySource(dir: string): string {
  return join(dir, "copy-source.raw");
}

/** Runs one server on a fresh image: reads, then writes, then nbdcopy in and out. */
async function measureServer(
  kind: ServerKind,
  round: number,
  dir: string,
  options: Options,
  progress: (line: string) => void,
): Promise<{ measurements: Measurement[]; trace: TraceSize | null }> {
  const stem = `${kind.id}-r${round}`;
  const run: RunFiles = {
    image: join(dir, `${stem}.raw`),
    socket: join(dir, `${stem}.sock`),
    trace: join(dir, `${stem}.trace`),
    profileDir: options.cpuProfDir && kind.deno ? join(options.cpuProfDir, stem) : undefined,
  };
  const image = await Deno.open(run.image, {
    write: true,
    create: true,
    truncate: true,
    mode: 0o600,
  });
  await image.truncate(options.imageSize);
  image.close();
  if (run.profileDir) await Deno.mkdir(run.profileDir, { recursive: true });

  // TMPDIR: faultline's scratch directory (overlay, control socket) lands in ours,
  // so that even a killed server leaves nothing behind. NO_COLOR: plain error text.
  const server = startServer(kind, run, options, { TMPDIR: dir, NO_COLOR: "1" });
  const measurements: Measurement[] = [];
  let trace: TraceSize | null = null;
  try {
    await waitForSocket(server, run.socket);
    const uri = kind.uri(run.socket);
    let afterReads = 0;
    let afterWrites = 0;
    const directions: Direction[] = options.copySize > 0
      ? ["reads", "writes", "copy-in", "copy-out"]
      : ["reads", "writes"];
    for (const direction of directions) {
      const copy = direction === "copy-in" || direction === "copy-out";
      // MiB moved: the copy in writes copySize, the copy out reads the whole export.
      const units = direction === "copy-in"
        ? options.copySize / (1 << 20)
        : direction === "copy-out"
        ? options.imageSize / (1 << 20)
        : options.count;
      const callsBefore = syscalls(server.pid);
      const cpuBefore = cpuSeconds(server.pid);
      const machineBefore = machineCpu();
      const wallBefore = performance.now();
      const measured = direction === "copy-in"
        ? nbdcopy(copySource(dir), uri, options)
        : direction === "copy-out"
        // --no-extents: every server reads every byte, whatever it knows of holes.
        ? nbdcopy(uri, "null:", options, ["--no-extents"])
        : qemuImgBench(uri, direction, options);
      const { seconds, clientCpu } = await measured.catch(async (error) => {
        // A server that died mid-run says why on its stderr.
        if (!server.exited || !(error instanceof HarnessError)) throw error;
        const status = await server.status;
        throw new HarnessError(
          `${error.message}\n${kind.label} exited (code ${status.code}, signal ${status.signal}): ${
            (await server.stderr).trim()
          }`,
        );
      });
      const wall = (performance.now() - wallBefore) / 1000;
      const machineAfter = machineCpu();
      const cpuAfter = cpuSeconds(server.pid);
      const callsAfter = syscalls(server.pid);
      const iops = units / seconds;
      const serverCpu = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
      const cpu = serverCpu === null ? null : (serverCpu * 1e6) / units;
      const others = machineAfter.busy - machineBefore.busy - (serverCpu ?? NaN) - clientCpu;
      const steal = machineAfter.steal - machineBefore.steal;
      const m: Measurement = {
        round,
        server: kind.id,
        direction,
        seconds,
        iops,
        serverCpuUsPerRequest: cpu,
        serverSyscallsPerRequest: callsBefore && callsAfter
          ? {
            read: (callsAfter.read - callsBefore.read) / units,
            write: (callsAfter.write - callsBefore.write) / units,
          }
          : null,
        otherCores: Number.isFinite(others) ? Math.max(0, others / wall) : null,
        stealCores: Number.isFinite(steal) ? steal / wall : null,
        loadavg: loadavg(),
      };
      measurements.push(m);
      const rate = copy ? `${iops.toFixed(0)} MiB/s` : `${fmtIops(iops)} IOPS`;
      const per = copy ? "MiB" : "req";
      progress(
        `round ${round + 1}/${options.rounds}  ${kind.label.padEnd(28)} ${direction.padEnd(8)} ` +
          `${rate.padStart(11)}  (${seconds.toFixed(3)} s` +
          `${cpu === null ? "" : `, server CPU ${cpu.toFixed(1)} µs/${per}`}` +
          `${m.otherCores === null ? "" : `, others ${m.otherCores.toFixed(2)} cores`}` +
          `${m.stealCores ? `, steal ${m.stealCores.toFixed(2)}` : ""}, load ${
            m.loadavg.toFixed(2)
          })`,
      );
      if ((direction === "reads" || direction === "writes") && kind.records) {
        // The trace writer flushes a batch at most 100 ms after its first record.
        await sleep(400);
        if (direction === "reads") afterReads = await fileSize(run.trace);
        else afterWrites = await fileSize(run.trace);
      }
    }
    const status = await server.stop();
    if (kind.records) {
      trace = {
        round,
        server: kind.id,
        afterReads,
        total: afterWrites,
        ops: opsServed(await server.stdout),
      };
    }
    if (!status.success && status.signal !== "SIGTERM" && status.signal !== "SIGINT") {
      throw new HarnessError(
        `${kind.label} ended badly (code ${status.code}, signal ${status.signal}): ${
          (await server.stderr).trim()
        }`,
      );
    }
  } finally {
    await server.stop(5_000);
    if (!options.keep) {
      for (const path of [run.image, run.trace, run.socket]) {
        await Deno.remove(path).catch(() => {});
      }
    } else {
      await Deno.writeTextFile(join(dir, `${stem}.stderr`), await server.stderr);
      await Deno.writeTextFile(join(dir, `${stem}.stdout`), await server.stdout);
    }
  }
  return { measurements, trace };
}

/** The op count in faultline serve's closing `--json` line. */
function opsServed(stdout: string): number | null {
  for (const line of stdout.trim().split("\n").reverse()) {
    try {
      const value = JSON.parse(line);
      if (typeof value?.stats?.ops === "number") return value.stats.ops;
    } catch { /* not JSON */ }
  }
  return null;
}

// ---------------------------------------------------------------- figures

interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: values };
}

function medianOf(values: number[]): number | null {
  return spread(values)?.median ?? null;
}

type PerDirection = Record<Direction, number | null>;

interface ServerFigures {
  id: ServerId;
  label: string;
  command: string;
  /** qemu-img bench, IOPS. */
  reads: Spread | null;
  writes: Spread | null;
  /** nbdcopy, MiB/s. */
  copyIn: Spread | null;
  copyOut: Spread | null;
  /** Per request for qemu-img bench, per MiB for nbdcopy. */
  cpuUsPerRequest: PerDirection;
  /** Median rate over nbdkit's median rate. */
  ratioToNbdkit: PerDirection;
  /** Median over rounds of (this server's rate / nbdkit's rate in the same round). */
  pairedRatioToNbdkit: PerDirection;
}

interface Goal {
  goal: string;
  value: number | null;
  target: string;
  met: boolean | null;
}

interface Report {
  tool: string;
  startedAt: string;
  durationSeconds: number;
  config: {
    count: number;
    rounds: number;
    queueDepth: number;
    requestSize: number;
    imageSize: number;
    copySize: number;
    qemuImgCache: "none";
    order: string;
  };
  machine: {
    nproc: number;
    cpuModel: string;
    kernel: string;
    memTotalKiB: number | null;
    loadavgStart: number[];
    loadavgEnd: number[];
  };
  versions: Record<string, string>;
  servers: ServerFigures[];
  recordingCost: {
    reads: number | null;
    writes: number | null;
    copyIn: number | null;
    copyOut: number | null;
    pairedReads: number | null;
    pairedWrites: number | null;
    pairedCopyIn: number | null;
    pairedCopyOut: number | null;
  };
  trace: {
    server: ServerId;
    bytesPerRead: number;
    bytesPerWrite: number;
    bytesPerRequest: number;
    totalBytes: number;
    ops: number | null;
  } | null;
  goals: Goal[];
  /** Other work on the machine during the runs, in cores (see {@link Measurement.otherCores}). */
  noise: {
    otherCoresMedian: number | null;
    otherCoresMax: number | null;
    stealCoresMax: number | null;
  };
  measurements: Measurement[];
  cpuProfile: ProfileSummary[] | null;
}

function figures(options: Options, measurements: Measurement[]): {
  servers: ServerFigures[];
  recordingCost: Report["recordingCost"];
} {
  const iopsOf = (id: ServerId, direction: Direction) =>
    measurements.filter((m) => m.server === id && m.direction === direction);
  const nbdkit = (direction: Direction) => spread(iopsOf("nbdkit", direction).map((m) => m.iops));
  // Each direction's rate: IOPS for qemu-img bench, MiB/s for nbdcopy.
  const paired = (id: ServerId, base: ServerId, direction: Direction) => {
    const ratios: number[] = [];
    for (const m of iopsOf(id, direction)) {
      const b = iopsOf(base, direction).find((n) => n.round === m.round);
      if (b) ratios.push(m.iops / b.iops);
    }
    return medianOf(ratios);
  };
  const perDirection = (f: (direction: Direction) => number | null): PerDirection => ({
    reads: f("reads"),
    writes: f("writes"),
    "copy-in": f("copy-in"),
    "copy-out": f("copy-out"),
  });
  const servers = options.servers.map((id): ServerFigures => {
    const kind = KINDS[id];
    const rates = (direction: Direction) => spread(iopsOf(id, direction).map((m) => m.iops));
    const ratio = (direction: Direction) => {
      const s = rates(direction), base = nbdkit(direction);
      return s && base ? s.median / base.median : null;
    };
    const cpu = (direction: Direction) =>
      medianOf(iopsOf(id, direction).flatMap((m) => m.serverCpuUsPerRequest ?? []));
    const { program, args } = kind.command(
      { image: "IMAGE", socket: "SOCKET", trace: "TRACE" },
      options,
    );
    return {
      id,
      label: kind.label,
      command: [basename(program), ...args].join(" "),
      reads: rates("reads"),
      writes: rates("writes"),
      copyIn: rates("copy-in"),
      copyOut: rates("copy-out"),
      cpuUsPerRequest: perDirection(cpu),
      ratioToNbdkit: perDirection(ratio),
      pairedRatioToNbdkit: perDirection((direction) =>
        options.servers.includes("nbdkit") ? paired(id, "nbdkit", direction) : null
      ),
    };
  });
  const onOff = options.servers.includes("faultline-rec") && options.servers.includes("faultline");
  const cost = (direction: Direction) => {
    const a = spread(iopsOf("faultline-rec", direction).map((m) => m.iops));
    const b = spread(iopsOf("faultline", direction).map((m) => m.iops));
    return onOff && a && b ? 1 - a.median / b.median : null;
  };
  const pairedCost = (direction: Direction) => {
    const r = onOff ? paired("faultline-rec", "faultline", direction) : null;
    return r === null ? null : 1 - r;
  };
  return {
    servers,
    recordingCost: {
      reads: cost("reads"),
      writes: cost("writes"),
      copyIn: cost("copy-in"),
      copyOut: cost("copy-out"),
      pairedReads: pairedCost("reads"),
      pairedWrites: pairedCost("writes"),
      pairedCopyIn: pairedCost("copy-in"),
      pairedCopyOut: pairedCost("copy-out"),
    },
  };
}

function goalsOf(servers: ServerFigures[], cost: Report["recordingCost"]): Goal[] {
  const on = servers.find((s) => s.id === "faultline-rec");
  const atLeast = (value: number | null | undefined, target: number) =>
    value === null || value === undefined ? null : value >= target;
  const atMost = (value: number | null, target: number) => value === null ? null : value <= target;
  const names: [Direction, string, keyof Report["recordingCost"]][] = [
    ["reads", "reads", "reads"],
    ["writes", "writes", "writes"],
    ["copy-in", "nbdcopy into it", "copyIn"],
    ["copy-out", "nbdcopy out of it", "copyOut"],
  ];
  return [
    ...names.map(([direction, name]) => ({
      goal: `recording on at or above nbdkit, ${name}`,
      value: on?.ratioToNbdkit[direction] ?? null,
      target: "ratio >= 1.0",
      met: atLeast(on?.ratioToNbdkit[direction], 1),
    })),
    ...names.map(([, name, key]) => ({
      goal: `recording costs at most 10%, ${name}`,
      value: cost[key],
      target: "cost <= 10%",
      met: atMost(cost[key], 0.1),
    })),
  ];
}

function traceFigures(options: Options, sizes: TraceSize[]): Report["trace"] {
  const rec = sizes.filter((s) => s.server === "faultline-rec");
  const chosen = rec.length > 0 ? rec : sizes;
  if (chosen.length === 0) return null;
  const perRead = medianOf(chosen.map((s) => s.afterReads / options.count))!;
  const perWrite = medianOf(chosen.map((s) => (s.total - s.afterReads) / options.count))!;
  const total = medianOf(chosen.map((s) => s.total))!;
  return {
    server: chosen[0].server,
    bytesPerRead: perRead,
    bytesPerWrite: perWrite,
    bytesPerRequest: total / (2 * options.count),
    totalBytes: total,
    ops: chosen[0].ops,
  };
}

// ---------------------------------------------------------------- CPU profiles

interface ProfileSummary {
  server: ServerId;
  files: number;
  sampledMs: number;
  top: { function: string; selfMs: number; percent: number; percentBusy: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with the most self time in the V8 CPU profiles under `dir`. */
async function summariseProfiles(
  dir: string,
  server: ServerId,
  top = 15,
): Promise<ProfileSummary | null> {
  const self = new Map<string, number>();
  let files = 0;
  let total = 0;
  let idle = 0;
  for await (const round of Deno.readDir(dir)) {
    if (!round.isDirectory || !new RegExp(`^${server}-r\\d+$`).test(round.name)) continue;
    for await (const entry of Deno.readDir(join(dir, round.name))) {
      if (!entry.name.endsWith(".cpuprofile")) continue;
      files++;
      const profile: CpuProfile = JSON.parse(
        await Deno.readTextFile(join(dir, round.name, entry.name)),
      );
      const names = new Map<number, string>();
      for (const node of profile.nodes) {
        const { functionName, url, lineNumber } = node.callFrame;
        const where = url ? ` ${shortUrl(url)}:${lineNumber + 1}` : "";
        names.set(node.id, `${functionName || "(anonymous)"}${where}`);
      }
      // timeDeltas[i + 1] is the time spent in sample i.
      for (let i = 0; i < profile.samples.length; i++) {
        const us = profile.timeDeltas[i + 1] ?? 0;
        const name = names.get(profile.samples[i]) ?? "?";
        self.set(name, (self.get(name) ?? 0) + us);
        total += us;
        if (name.startsWith("(idle)")) idle += us;
      }
    }
  }
  if (files === 0) return null;
  const busy = Math.max(1, total - idle);
  return {
    server,
    files,
    sampledMs: total / 1000,
    top: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({
      function: name,
      selfMs: us / 1000,
      percent: (100 * us) / total,
      percentBusy: name.startsWith("(idle)") ? NaN : (100 * us) / busy,
    })),
  };
}

function shortUrl(url: string): string {
  const at = url.indexOf("/work/main/");
  if (at >= 0) return url.slice(at + "/work/main/".length);
  const npm = url.indexOf("/npm/");
  if (npm >= 0) return url.slice(npm + 1);
  return url.replace(/^file:\/\//, "");
}

// ---------------------------------------------------------------- machine and peers

async function commandLine(program: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(program, { args, stdin: "null", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

async function versions(options: Options): Promise<Record<string, string>> {
  const found: Record<string, string> = {
    deno: Deno.version.deno,
    faultline: VERSION,
  };
  const needs: [string, string, boolean][] = [
    ["qemu-img", "qemu-img", true],
    ["nbdkit", "nbdkit", options.servers.includes("nbdkit")],
    ["qemu-nbd", "qemu-nbd", options.servers.includes("qemu-nbd")],
    ["nbdcopy", "nbdcopy", options.copySize > 0],
  ];
  for (const [name, program, required] of needs) {
    const text = await commandLine(program, ["--version"]);
    if (text === null) {
      if (required) {
        throw new HarnessError(
          `${program} is missing (Debian: apt-get install ${
            program === "nbdkit" ? "nbdkit" : program === "nbdcopy" ? "libnbd-bin" : "qemu-utils"
          })`,
        );
      }
      continue;
    }
    found[name] = text.split("\n")[0].replace(/^\S*\/(\S+) /, "$1 ");
  }
  return found;
}

async function machine(): Promise<Report["machine"]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const nproc = Number(await commandLine("nproc", [])) || navigator.hardwareConcurrency;
  return {
    nproc,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    kernel: Deno.osRelease(),
    memTotalKiB: Number(/^MemTotal:\s*(\d+)/m.exec(meminfo)?.[1]) || null,
    loadavgStart: Deno.loadavg(),
    loadavgEnd: [],
  };
}

// ---------------------------------------------------------------- output

function fmtIops(value: number | null | undefined): string {
  if (value === null || value === undefined) return "-";
  return value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0);
}

function fmtRatio(value: number | null): string {
  return value === null ? "-" : value.toFixed(2);
}

function fmtPercent(value: number | null): string {
  return value === null ? "-" : `${(value * 100).toFixed(1)}%`;
}

function fmtBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(2)} KiB`;
  return `${bytes.toFixed(0)} B`;
}

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) =>
    row.map((cell, i) => rightAligned.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
      .join("  ").trimEnd()
  ).join("\n");
}

function printReport(report: Report): void {
  const { config, machine: m, versions: v } = report;
  const out: string[] = [];
  out.push(
    `fault layer bench: qemu-img bench, ${config.count} x ${config.requestSize} B requests, ` +
      `queue depth ${config.queueDepth}, -t none, raw over a unix socket; ${config.rounds} round` +
      `${config.rounds > 1 ? "s" : ""} (${config.order}); ${report.durationSeconds.toFixed(0)} s`,
  );
  out.push(
    `machine: ${m.nproc} cores, ${m.cpuModel}, Linux ${m.kernel}; load average ` +
      `${m.loadavgStart.map((x) => x.toFixed(2)).join(" ")} at start, ` +
      `${m.loadavgEnd.map((x) => x.toFixed(2)).join(" ")} at end`,
  );
  const n = report.noise;
  if (n.otherCoresMedian !== null) {
    out.push(
      `other work during the runs: median ${n.otherCoresMedian.toFixed(2)} cores, max ${
        n.otherCoresMax!.toFixed(2)
      } (of ${m.nproc})${
        n.stealCoresMax ? `; steal up to ${n.stealCoresMax.toFixed(2)} cores` : ""
      }`,
    );
  }
  out.push(
    `peers: ${
      Object.entries(v).map(([k, x]) => k === x.split(" ")[0] ? x : `${k} ${x}`).join("; ")
    }`,
  );
  out.push("");
  const rows = [[
    "server",
    "reads IOPS",
    "(min-max)",
    "writes IOPS",
    "(min-max)",
    "vs nbdkit R",
    "W",
    "CPU µs/req R",
    "W",
  ]];
  for (const s of report.servers) {
    rows.push([
      s.label,
      fmtIops(s.reads?.median),
      s.reads ? `(${fmtIops(s.reads.min)}-${fmtIops(s.reads.max)})` : "",
      fmtIops(s.writes?.median),
      s.writes ? `(${fmtIops(s.writes.min)}-${fmtIops(s.writes.max)})` : "",
      fmtRatio(s.ratioToNbdkit.reads),
      fmtRatio(s.ratioToNbdkit.writes),
      s.cpuUsPerRequest.reads === null ? "-" : s.cpuUsPerRequest.reads.toFixed(1),
      s.cpuUsPerRequest.writes === null ? "-" : s.cpuUsPerRequest.writes.toFixed(1),
    ]);
  }
  out.push(table(rows, new Set([1, 3, 5, 6, 7, 8])));
  out.push(
    '(IOPS: median over rounds of requests / qemu-img\'s "Run completed in" time; ' +
      "CPU: the server process's user+system time per request)",
  );
  out.push("");
  if (config.copySize > 0) {
    out.push(
      `nbdcopy, ${config.copySize >> 20} MiB of random bytes from a file into the export, then ` +
        `the whole export (${config.imageSize >> 20} MiB) to null: (its defaults: several ` +
        `connections, 256 KiB requests):`,
    );
    const copyRows = [[
      "server",
      "into MiB/s",
      "(min-max)",
      "out of MiB/s",
      "(min-max)",
      "vs nbdkit in",
      "out",
      "CPU µs/MiB in",
      "out",
    ]];
    const mibs = (value: number | null | undefined) =>
      value === null || value === undefined ? "-" : value.toFixed(0);
    for (const s of report.servers) {
      copyRows.push([
        s.label,
        mibs(s.copyIn?.median),
        s.copyIn ? `(${mibs(s.copyIn.min)}-${mibs(s.copyIn.max)})` : "",
        mibs(s.copyOut?.median),
        s.copyOut ? `(${mibs(s.copyOut.min)}-${mibs(s.copyOut.max)})` : "",
        fmtRatio(s.ratioToNbdkit["copy-in"]),
        fmtRatio(s.ratioToNbdkit["copy-out"]),
        mibs(s.cpuUsPerRequest["copy-in"]),
        mibs(s.cpuUsPerRequest["copy-out"]),
      ]);
    }
    out.push(table(copyRows, new Set([1, 3, 5, 6, 7, 8])));
    out.push("(MiB/s: median over rounds of the bytes / nbdcopy's wall time)");
    out.push("");
  }
  const c = report.recordingCost;
  out.push(
    `recording cost (faultline recording vs not, medians): reads ${fmtPercent(c.reads)}, writes ${
      fmtPercent(c.writes)
    }, nbdcopy in ${fmtPercent(c.copyIn)}, out ${fmtPercent(c.copyOut)}` +
      (config.rounds > 1
        ? `\n  (median of per-round pairs: reads ${fmtPercent(c.pairedReads)}, writes ${
          fmtPercent(c.pairedWrites)
        }, nbdcopy in ${fmtPercent(c.pairedCopyIn)}, out ${fmtPercent(c.pairedCopyOut)})`
        : ""),
  );
  if (report.trace) {
    const t = report.trace;
    out.push(
      `trace written per request (${KINDS[t.server].label}): reads ${
        t.bytesPerRead.toFixed(0)
      } B, writes ` +
        `${t.bytesPerWrite.toFixed(0)} B (${
          (t.bytesPerWrite - config.requestSize).toFixed(0)
        } B beyond the data); ` +
        `${fmtBytes(t.totalBytes)} for ${2 * config.count} ops`,
    );
  }
  out.push("");
  out.push("goals (from the issue; goals, not gates):");
  const goalRows = report.goals.map((g) => [
    `  ${g.goal}`,
    g.value === null ? "-" : g.target.startsWith("ratio") ? fmtRatio(g.value) : fmtPercent(g.value),
    `(${g.target})`,
    g.met === null ? "not measured" : g.met ? "met" : "NOT MET",
  ]);
  out.push(table(goalRows, new Set([1])));
  if (report.cpuProfile) {
    for (const p of report.cpuProfile) {
      out.push("");
      out.push(
        `CPU profile of ${KINDS[p.server].label} (${p.files} profile${p.files > 1 ? "s" : ""}, ` +
          `${
            (p.sampledMs / 1000).toFixed(1)
          } s sampled; the profiler slows the server, so the IOPS above are not representative):`,
      );
      const rows = [["  self ms", "% all", "% busy", "function"]];
      for (const f of p.top) {
        rows.push([
          `  ${f.selfMs.toFixed(0)}`,
          f.percent.toFixed(1),
          Number.isNaN(f.percentBusy) ? "" : f.percentBusy.toFixed(1),
          f.function,
        ]);
      }
      out.push(table(rows, new Set([0, 1, 2])));
    }
  }
  console.log(out.join("\n"));
}

// ---------------------------------------------------------------- main

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function run(options: Options, dir: string): Promise<Report> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const progress = (line: string) => console.error(line);
  const peerVersions = await versions(options);
  const host = await machine();
  const ticks = await commandLine("getconf", ["CLK_TCK"]);
  if (ticks && Number(ticks) > 0) clockTicks = Number(ticks);
  if (options.cpuProfDir) await Deno.mkdir(options.cpuProfDir, { recursive: true });

  progress(
    `fault layer bench: ${options.servers.join(", ")}; ${options.count} requests per direction, ` +
      `${options.rounds} round(s); load average ${
        host.loadavgStart.map((x) => x.toFixed(2)).join(" ")
      }`,
  );
  if (options.copySize > 0) {
    progress(`making the ${options.copySize >> 20} MiB image nbdcopy copies (random bytes)`);
    await makeCopySource(copySource(dir), options.copySize);
  }
  const measurements: Measurement[] = [];
  const traces: TraceSize[] = [];
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order so that no server always follows the same neighbour or runs first.
    const order = options.servers.map((_, i) =>
      options.servers[(i + round) % options.servers.length]
    );
    for (const id of order) {
      const result = await measureServer(KINDS[id], round, dir, options, progress);
      measurements.push(...result.measurements);
      if (result.trace) traces.push(result.trace);
    }
  }
  host.loadavgEnd = Deno.loadavg();

  const { servers, recordingCost } = figures(options, measurements);
  let cpuProfile: ProfileSummary[] | null = null;
  if (options.cpuProfDir) {
    cpuProfile = [];
    for (const id of options.servers.filter((id) => KINDS[id].deno)) {
      const summary = await summariseProfiles(options.cpuProfDir, id);
      if (summary) cpuProfile.push(summary);
    }
  }
  return {
    tool: "faultline bench/fault_layer.ts",
    startedAt,
    durationSeconds: (performance.now() - started) / 1000,
    config: {
      count: options.count,
      rounds: options.rounds,
      queueDepth: options.depth,
      requestSize: options.requestSize,
      imageSize: options.imageSize,
      copySize: options.copySize,
      qemuImgCache: "none",
      order:
        "servers interleaved per round, order rotated each round; each run a fresh process on a fresh sparse image; reads then writes",
    },
    machine: host,
    versions: peerVersions,
    servers,
    recordingCost,
    trace: traceFigures(options, traces),
    goals: goalsOf(servers, recordingCost),
    noise: {
      otherCoresMedian: medianOf(measurements.flatMap((m) => m.otherCores ?? [])),
      otherCoresMax: spread(measurements.flatMap((m) => m.otherCores ?? []))?.max ?? null,
      stealCoresMax: spread(measurements.flatMap((m) => m.stealCores ?? []))?.max ?? null,
    },
    measurements,
    cpuProfile,
  };
}

export async function main(args: string[]): Promise<number> {
  let parsed: Options | null;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    console.error(
      `bench: ${error instanceof Error ? error.message : error}\n(run with --help for usage)`,
    );
    return 2;
  }
  if (!parsed) {
    console.log(USAGE);
    return 0;
  }
  const options = parsed;

  const dir = await Deno.makeTempDir({ prefix: "faultline-bench-" });
  await Deno.chmod(dir, 0o700);
  let cleaned: Promise<void> | null = null;
  const cleanup = () =>
    cleaned ??= (async () => {
      await Promise.all([...live].map((server) => server.stop(5_000)));
      if (options.keep) console.error(`bench: kept ${dir}`);
      else await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();

  // Ctrl-C reaches the servers too (same process group); a SIGTERM to this
  // process alone does not, so stop them here in both cases.
  const onSignal = (signal: Deno.Signal) => () => {
    if (interrupt.signal.aborted) return;
    console.error(`\nbench: ${signal}: stopping the servers`);
    interrupt.abort(new Error(signal));
    cleanup().finally(() => Deno.exit(signal === "SIGINT" ? 130 : 143));
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);

  try {
    const report = await run(options, dir);
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else printReport(report);
    return 0;
  } catch (error) {
    if (interrupt.signal.aborted) {
      await cleanup();
      return 130;
    }
    console.error(
      `bench: ${
        error instanceof HarnessError ? error.message : error instanceof Error ? error.stack : error
      }`,
    );
    return 3;
  } finally {
    await cleanup();
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
