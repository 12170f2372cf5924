/**
 * The command line: the only file that knows commander. Each command parses
 * its options here and calls a plain function with typed options, so the CLI
 * could move to another framework in this one file.
 *
 * @module
 */

import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { VERSION } from "../version.ts";
import { demoCommand } from "./demo.ts";
import { errorLine, EXIT, exitCodeForError } from "./errors.ts";
import { faultAction, faultCommand } from "./fault.ts";
import { FAULT_HELP } from "./fault_help.ts";
import { ACCEL_HELP } from "./accel.ts";
import { historyCheckCommand } from "./history.ts";
import { traceHistoryCommand } from "./trace_history.ts";
import { HISTORY_MODELS } from "../history/models/mod.ts";
import { HISTORY_FORMATS } from "../history/parse.ts";
import { ciCommand } from "./ci.ts";
import { recordCommand } from "./record.ts";
import { sweepCommand } from "./sweep.ts";
import { exploreCommand } from "./explore.ts";
import { mergeCommand } from "./merge.ts";
import { replayCommand } from "./replay.ts";
import { serveCommand } from "./serve.ts";
import { setupCommand } from "./setup.ts";
import {
  tracePcapCommand,
  tracePerfettoCommand,
  traceShowCommand,
  traceStatsCommand,
} from "./trace.ts";

function integer(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError("expected a whole number");
  }
  return value;
}

/** A count of things to do: at least one. */
function count(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError("expected a whole number, 1 or more");
  }
  return value;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Hands a command's work to whoever runs the program: its promise of an exit code. */
type Runner = (work: () => Promise<number>) => void;

/** Builds the program; `run` receives each command's promise of an exit code. */
function program(
  run: Runner,
  output?: { writeOut(text: string): void; writeErr(text: string): void },
): Command {
  const root = new Command("faultline")
    .description(
      "Boot the system under test in QEMU with every disk behind faultline's NBD server (and the nodes of a cluster behind its switch), record every op, and replay it with faults injected at chosen ops.",
    )
    .version(VERSION)
    .option("--debug", "print the stack trace of an error")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  if (output) root.configureOutput(output);
  addServeCommand(root, run);
  addFaultCommand(root, run);
  addTraceCommands(root, run);
  addHistoryCommands(root, run);
  addRecordCommand(root, run);
  addReplayCommand(root, run);
  addSweepCommand(root, run);
  addExploreCommand(root, run);
  addCiCommand(root, run);
  addMergeCommand(root, run);
  addSetupCommand(root, run);
  addDemoCommand(root, run);
  return root;
}

/** `serve`: images over NBD through the fault layer, until Ctrl-C. */
function addServeCommand(root: Command, run: Runner): void {
  root.command("serve")
    .description("serve images over NBD through the fault layer, until Ctrl-C")
    .option("--image <[name=]file>", "raw image to serve (repeat for several disks)", collect)
    .option(
      "--export <name>",
      "export name of the single image (default: file name without extension)",
    )
    .option(
      "--socket <path>",
      "unix socket to listen on (default: in a private temporary directory)",
    )
    .option("--tcp <host:port>", "listen on loopback TCP instead, e.g. 127.0.0.1:10809")
    .option("--control <path>", "control socket for live faults (default: beside the NBD socket)")
    .option("--trace <file>", "record every op into this msgpack trace")
    .option("--no-data", "record only hashes of written bytes, not the bytes")
    .option("--fault <spec>", "inject a fault (repeatable)", collect)
    .option("--seed <n>", "seed of every random choice of the faults", integer)
    .option(
      "--modify-image",
      "write the images themselves (default: a scratch overlay; the image never changes)",
      false,
    )
    .option("--read-only", "refuse writes with EPERM", false)
    .option("--node <name>", "node name recorded in the trace", "serve")
    .option("--json", "print machine-readable lines", false)
    .option("-v, --verbose", "print every injected fault and dropped connection", false)
    .addHelpText("after", FAULT_HELP)
    .action((options) =>
      run(() =>
        serveCommand({ ...options, image: options.image ?? [], fault: options.fault ?? [] })
      )
    );
}

/** `fault`: live faults over a control socket. */
function addFaultCommand(root: Command, run: Runner): void {
  root.command("fault")
    .description("switch faults live over a control socket: fault SOCKET set DISK SPEC")
    .argument("<socket>", "the control socket (serve prints it)")
    .argument("<action>", "set DISK SPEC | query DISK | list | stats | link SPEC | links")
    .argument("[args...]", "the action's arguments")
    .option("--count <n>", "set, link: clear the fault after this many ops, or frames", integer)
    .option("--json", "print the reply as JSON", false)
    .addHelpText(
      "after",
      `
Actions:
  set DISK SPEC    set a disk's live fault: a fault spec without trigger, or none
  query DISK       show a disk's fault state
  list             show the fault plan and the live faults
  stats            show the ops served so far
  link SPEC        a cluster run: set a live link fault (partition:n1|n2,n3, drop:0.3,link=n1->n2, ...),
                   heal (every link) or heal:n1<->n2, or none
  links            a cluster run: show the link faults of the plan and the live ones

  fault /tmp/faultline-serve-XXXX/control.sock set vda eio
  fault /tmp/faultline-serve-XXXX/control.sock set vda delay:200ms --count 10
  fault /tmp/faultline-serve-XXXX/control.sock set vda none
  fault /tmp/run/control.sock link partition:n1|n2,n3      (record --control /tmp/run/control.sock)
  fault /tmp/run/control.sock link none
${FAULT_HELP}`,
    )
    .action((socket, action, args, options) =>
      run(() => faultCommand(socket, faultAction(action, args, options.count), options))
    );
}

/** `trace stats`, `trace show`, `trace pcap`, `trace perfetto`: reading traces. */
function addTraceCommands(root: Command, run: Runner): void {
  const trace = root.command("trace").description("read traces");
  trace.command("stats")
    .description("counts and bytes by op type and disk, duration, faults")
    .argument("<trace>", "trace file")
    .option("--json", "print one JSON object", false)
    .action((path, options) => run(() => traceStatsCommand(path, options)));
  trace.command("show")
    .description("the ops of a trace, one per line")
    .argument("<trace>", "trace file")
    .option("--json", "print one JSON object per line", false)
    .option("--events", "show events (faults, control commands) among the ops", false)
    .option("--net", "show the frames between nodes instead of the ops", false)
    .option("--from <index>", "start at this op index", integer)
    .option("--limit <n>", "show at most this many lines", integer)
    .action((path, options) => run(() => traceShowCommand(path, options)));
  trace.command("pcap")
    .description("write the frames between nodes as a pcapng capture (one interface per node)")
    .argument("<trace>", "trace file")
    .requiredOption("-o, --output <file>", "the pcapng file to write")
    .option("--json", "print one JSON object", false)
    .action((path, options) => run(() => tracePcapCommand(path, options)));
  trace.command("perfetto")
    .description(
      "write the trace as a timeline for ui.perfetto.dev and chrome://tracing (Chrome trace event JSON): a process per node, a track per disk and link",
    )
    .argument("<trace>", "trace file")
    .requiredOption("-o, --output <file>", "the JSON file to write")
    .option("--json", "print one JSON object", false)
    .addHelpText(
      "after",
      `
  trace perfetto run.trace -o run.perfetto.json     then open it in https://ui.perfetto.dev`,
    )
    .action((path, options) => run(() => tracePerfettoCommand(path, options)));
  addTraceHistoryCommand(trace, run);
}

/** `trace history`: the clients' history a run recorded, as Jepsen's tools read it. */
function addTraceHistoryCommand(trace: Command, run: Runner): void {
  trace.command("history")
    .description(
      "the clients' history (report invoke|ok|fail|info lines, the faults as :nemesis ops) in Jepsen's EDN, one op map a line",
    )
    .argument("<trace>", "trace file")
    .option("--json", "JSON lines with jepsen.history's field names instead", false)
    .option(
      "--html <file>",
      "check it (the scenario's expect.history, or --model) and write the verdict, an invalid history's window drawn as a timeline",
    )
    .option(
      "--model <name>",
      `the model for --html: ${HISTORY_MODELS.map((m) => m.name).join(", ")}`,
    )
    .option(
      "--timeout <duration>",
      "the search's budget for --html (default: the scenario's, else 30s)",
    )
    .addHelpText(
      "after",
      `
  trace history run.trace > history.edn      then: faultline history check history.edn --model register
  trace history run.trace --html history.html

Exit codes: 0 (with --html: the history is valid), 1 --html found it invalid, 2 a line the host
cannot read as an op (named with its node and phase) or a bad option, 3 --html's search ran out.`,
    )
    .action((path, options) => run(() => traceHistoryCommand(path, options)));
}

/** `history check`: client histories checked against a model. */
function addHistoryCommands(root: Command, run: Runner): void {
  const history = root.command("history").description(
    "check client histories (Jepsen's EDN, or JSON lines)",
  );
  const models = HISTORY_MODELS.map((model) => `  ${model.name.padEnd(9)} ${model.summary}`).join(
    "\n",
  );
  history.command("check")
    .description(
      "check each history against a model: linearizability (register, kv), or a one-pass check (set, queue)",
    )
    .argument(
      "<files...>",
      "history files: Jepsen's EDN (op maps), or JSON lines with jepsen.history's fields",
    )
    .requiredOption(
      "--model <name>",
      `the model: ${HISTORY_MODELS.map((model) => model.name).join(", ")}`,
    )
    .option(
      "--timeout <duration>",
      "the search's budget per history; past it the answer is unknown",
      "30s",
    )
    .option("--initial <edn>", "register: the value before anything is written (default nil)")
    .option("--mode <mode>", "queue: at-least-once (default) or exactly-once")
    .addOption(
      new Option("--format <format>", "the files' format (default: by extension, else by content)")
        .choices(HISTORY_FORMATS),
    )
    .option("--json", "print one JSON object per file", false)
    .addHelpText(
      "after",
      `
Models:
${models}

  history check tests/fixtures/history/stale-read.edn --model register
  history check tests/fixtures/history/porcupine/c10-bad.txt --model kv --json

Exit codes: 0 every history valid, 1 one is invalid, 2 bad input (a file, a line that is not
an op map, a value the model cannot read: named with the file and line), 3 unknown (the
search's budget ran out first).`,
    )
    .action((files, options) => run(() => historyCheckCommand(files, options)));
}

/** `record`: a scenario run behind the fault layer, traced and judged. */
function addRecordCommand(root: Command, run: Runner): void {
  root.command("record")
    .description(
      "run a scenario with every disk behind the fault layer; write the trace and judge the run",
    )
    .argument("<scenario>", "scenario file (.ts with a default export of defineScenario, or .json)")
    .option("-o, --output <trace>", "trace file (default: NAME-DATE-TIME.trace here)")
    .option(
      "--no-data",
      "record only hashes of written bytes (replays then cannot build crash states)",
    )
    .option(
      "--qmp <[node=]path>",
      "serve a QMP socket that proxies the node's QEMU and adds set-block-fault-state (repeatable; default node: the first)",
      collect,
    )
    .option(
      "--control <path>",
      "serve the fault layer's control socket (faultline fault PATH ...: disks, and links in a cluster)",
    )
    .option(
      "--seed <n>",
      "the run's seed: each guest's random source is seeded from it and the node's name; replays keep it (default 0)",
      integer,
    )
    .option("--accel <accel>", ACCEL_HELP)
    .option("--json", "print one JSON object", false)
    .option("-v, --verbose", "show the guests' consoles and result lines as they come", false)
    .addHelpText(
      "after",
      `
  record scenarios/fsync-log.ts -o run.trace
  record scenarios/fsync-log.ts --qmp /tmp/qmp.sock    then: qmp_capabilities, query-block, set-block-fault-state

Exit codes: 0 the verdict passed, 1 it failed, 2 a scenario error, 3 the machinery failed,
130 Ctrl-C (143 SIGTERM): the trace keeps what was recorded (docs/exit-codes.md).`,
    )
    .action((path, options) =>
      run(() => recordCommand(path, { ...options, qmp: options.qmp ?? [] }))
    );
}

/** `replay`: a trace's scenario again with faults at chosen ops. */
function addReplayCommand(root: Command, run: Runner): void {
  root.command("replay")
    .description(
      "run a trace's scenario again with faults at chosen ops, or check a power loss built from the trace",
    )
    .argument("<trace>", "a trace made by record or replay")
    .option(
      "--fault <spec>",
      "a fault to inject (repeatable); without @trigger it takes --fault-at",
      collect,
    )
    .option(
      "--with <spec>",
      "a fault in force beside them (repeatable): lie-flush, limp:5ms, ...; without @ it stands for the run phase, on every disk from its first op",
      collect,
    )
    .option(
      "--fault-at <op>",
      "the recorded op index (from 0), or an op signature such as data/write:4096+512#2",
    )
    .option(
      "--live",
      "inject a power loss live (freeze the fault layer, kill QEMU) instead of building it from the trace",
      false,
    )
    .option(
      "--strict-order",
      "serve requests in the recorded order until the fault fires (measured: no verdict changed)",
      false,
    )
    .option(
      "--recovery <order>",
      "how the check phase starts the nodes serving the check: together (then the checks), with-checks (the checks too, at once), in-order, or an order such as n2,n1 (default: the scenario's)",
    )
    .option(
      "--runs <n>",
      "replay this many times: how many failed (fail K of N), with the distinct reasons",
      count,
      1,
    )
    .option("--seed <n>", "seed of random choices (default: the trace's)", integer)
    .option(
      "-o, --output <trace>",
      "the replay's trace (default: PARENT.replay-DATE-TIME.trace in the current directory)",
    )
    .option("--no-data", "record only hashes of written bytes")
    .option(
      "--qmp <[node=]path>",
      "serve a QMP socket that proxies the node's QEMU and adds set-block-fault-state (repeatable)",
      collect,
    )
    .option(
      "--control <path>",
      "serve the fault layer's control socket (faultline fault PATH ...: disks, and links in a cluster)",
    )
    .option("--accel <accel>", ACCEL_HELP)
    .option("--json", "print one JSON object", false)
    .option("-v, --verbose", "show the guests' consoles and result lines as they come", false)
    .addHelpText("after", REPLAY_HELP)
    .action((path, options) =>
      run(() =>
        replayCommand(path, {
          ...options,
          fault: options.fault ?? [],
          with: options.with ?? [],
          qmp: options.qmp ?? [],
        })
      )
    );
}

/** What `replay --help` says after the options: examples and exit codes. */
const REPLAY_HELP = `${FAULT_HELP}

  replay run.trace --fault eio --fault-at 42           EIO at recorded op 42, found again by its signature
  replay run.trace --fault power-loss --fault-at 42    the crash state at op 42, built from the trace, then the check
  replay run.trace --fault power-loss:subset --fault-at 42 --runs 5
  replay run.trace --fault power-loss --with lie-flush --fault-at 42   a power loss of a disk that lies about flushes
  replay recovery.trace --fault power-loss --fault-at 42 --recovery n2,n1   the check starts n2, then n1 once n2 is ready

Exit codes: 0 every verdict passed, 1 one failed (a fault that never fired fails), 2 a usage error or a trace
that no longer matches its images, 3 the machinery failed, 130 Ctrl-C (143 SIGTERM).`;

/** What `sweep --help` says after the options: how points are checked, examples, exit codes. */
const SWEEP_HELP = `
Power-loss points are built from the trace, without running the workload again; points
whose crash states are byte-identical are checked once. power-loss:each, orders=K and
all[,max=B] check several crash states a point (each volatile write dropped alone, K seeded
subsets, every subset); each failing state prints its command (--fault power-loss:state=ID).
Other faults replay the workload at each point. A point whose fault never fired is reported
as such, not as a pass.

  sweep run.trace --fault power-loss --points flushes --with lie-flush
  sweep run.trace --fault power-loss:each --points 40..60
  sweep run.trace --fault eio --points 255,300..310,flushes:db/data,1400..1600
  sweep run.trace --fault power-loss --points all --shard 2/3 --json shard-2.json   (then: merge shard-*.json)
  sweep recovery.trace --fault power-loss --points flushes:n2/data --recovery each-order   (every order of the nodes serving the check)
Exit codes: 0 every point passed, 1 a point failed, 2 a usage error, 3 the machinery failed,
130 Ctrl-C (143 SIGTERM): the finished points' results are written, marked partial.`;

/** `sweep`: one fault at every chosen op of a trace. */
function addSweepCommand(root: Command, run: Runner): void {
  root.command("sweep")
    .description(
      "one fault at every chosen op of a trace (or of a scenario, recorded first), in parallel",
    )
    .argument("<trace-or-scenario>", "a trace, or a scenario file (.ts, .json) to record first")
    .requiredOption(
      "--fault <kind[:params]>",
      "the fault, without trigger: power-loss, eio, lost-write, delay:1s, ...",
    )
    .option(
      "--with <spec>",
      "a fault in force at every point besides the one swept (repeatable): lie-flush, limp:5ms, ...; without @ it stands for the run phase, on every disk from its first op",
      collect,
    )
    .requiredOption(
      "--points <which>",
      "a list joined by commas (their union): N, N..M, all, reads, writes, flushes (of one disk: flushes:NODE/DISK), frames (of a link: 'frames:n1->n2/tcp:5432'), a class narrowed by the ,N..M and thinned by the ,every:K after it; every:K first (docs/points.md)",
    )
    .option(
      "--jobs <n>",
      "replays at once (default: the cores, divided by the nodes of a cluster)",
      count,
    )
    .option(
      "--confirm <r>",
      "verdicts each failing point gets, rated stable (R of R failed) or flaky K/R (default: 3 on a cluster, 1 on one node)",
      count,
    )
    .option(
      "--recovery <order>",
      "how each check starts the nodes serving it: together (then the checks), with-checks (the checks too, at once), in-order, each-order (every order of them, at every point), or an order such as n2,n1 (default: the scenario's)",
    )
    .option(
      "--json [file]",
      "print one JSON object (progress as JSON lines on stderr); with FILE, write the results there for merge",
      false,
    )
    .option("--shard <k/n>", "run shard K of N: a deterministic share of the points (then merge)")
    .option(
      "--shard-index-env <name>",
      "take the shard from this variable, an index from 0 (JOB_COMPLETION_INDEX); with --shards",
    )
    .option("--shards <n>", "how many shards, with --shard-index-env", integer)
    .option("--junit <file>", "write JUnit XML (a test case per point)")
    .option(
      "--html <file>",
      "write a self-contained report page, and beside it FILE.perfetto.json, the recording's timeline for ui.perfetto.dev",
    )
    .option(
      "--keep-traces <dir>",
      "keep each point's trace in this directory (else they are removed, and no output names them)",
    )
    .option(
      "--cold",
      "boot every check and every point's run (default: checks start from a guest saved before it read any disk, online points from the run saved at the workload's start)",
      false,
    )
    .option("-o, --output <trace>", "where to record a scenario first")
    .option("--accel <accel>", ACCEL_HELP)
    .option("-v, --verbose", "show the guests' consoles and result lines", false)
    .addHelpText("after", SWEEP_HELP)
    .action((target, options) => run(() => sweepCommand(target, options)));
}

/** `explore`: seeded schedules of several faults, every failure shrunk. */
function addExploreCommand(root: Command, run: Runner): void {
  root.command("explore")
    .description(
      "draw schedules of 1 to K faults from a seed, replay each, confirm and shrink every failure, group the findings",
    )
    .argument("<trace-or-scenario>", "a trace, or a scenario file (.ts, .json) to record first")
    .requiredOption(
      "--budget <30m|n>",
      "a time (schedules start until it is spent) or a number of schedules",
    )
    .option(
      "--seed <n>",
      "the seed schedules are drawn from (default: a new one, printed)",
      integer,
    )
    .option(
      "--kinds <a,b>",
      "the fault kinds to draw, joined by commas (default: every kind the recording can take)",
    )
    .option("--max-faults <k>", "the most faults in one schedule", count, 3)
    .option(
      "--jobs <n>",
      "schedules at once (default: the cores, divided by the nodes of a cluster)",
      count,
    )
    .option(
      "--confirm <r>",
      "verdicts each failing schedule and each shrinking step gets (default: 3 on a cluster, 1 on one node)",
      count,
    )
    .option("--shrink-replays <n>", "the most replays shrinking one failure may run", count, 30)
    .option("--json", "print one JSON object (progress as JSON lines on stderr)", false)
    .option("--junit <file>", "write JUnit XML (a test case per schedule)")
    .option(
      "--html <file>",
      "write the report page (a section per finding; the recording's timeline beside it)",
    )
    .option("-o, --output <trace>", "where to record a scenario first")
    .option("--accel <accel>", ACCEL_HELP)
    .option("-v, --verbose", "show the guests' consoles and result lines of the recording", false)
    .addHelpText(
      "after",
      `
  explore run.trace --budget 20 --seed 7
  explore run.trace --budget 30m --seed 7 --kinds error,partition,crash --json
  explore run.trace --budget 40 --seed 7 --html explore.html

Schedule i of seed S is drawn from S, i, the recording and the kind table's version (printed):
the same four draw the same schedules. A power loss is built from the trace and drawn alone.
Exit codes: 0 no finding, 1 a finding (or a schedule that could not run), 2 a usage error,
3 the machinery failed, 130 Ctrl-C (143 SIGTERM): the finished schedules are reported.`,
    )
    .action((target, options) => run(() => exploreCommand(target, options)));
}

/** `ci`: every scenario and the faults it declares. */
function addCiCommand(root: Command, run: Runner): void {
  root.command("ci")
    .description("run every scenario and the faults it declares; fail with reproduce commands")
    .argument("[paths...]", "scenario files or directories (default: scenarios/)")
    .option("--junit <file>", "write JUnit XML (a suite per scenario, a case per check)")
    .option(
      "--json [file]",
      "print one JSON object; with FILE, write the results there for merge",
      false,
    )
    .option(
      "--record-only",
      "record and judge every scenario into --trace-dir, without its faults (once, before the shards)",
      false,
    )
    .option("--shard <k/n>", "run shard K of N on the traces in --trace-dir (then merge)")
    .option(
      "--shard-index-env <name>",
      "take the shard from this variable, an index from 0 (JOB_COMPLETION_INDEX); with --shards",
    )
    .option("--shards <n>", "how many shards, with --shard-index-env", integer)
    .option(
      "--jobs <n>",
      "replays at once in sweeps (default: the cores, divided by the nodes of a cluster)",
      count,
    )
    .option(
      "--confirm <r>",
      "verdicts each failing point gets (default: 3 on a cluster, 1 on one node); detect needs a stable finding unless the fault declares minRate",
      count,
    )
    .option(
      "--trace-dir <dir>",
      "where to keep the recorded traces (the reproduce commands name them)",
      "faultline-ci",
    )
    .option("--cold", "boot every check and every point's run of a sweep (no saved guest)", false)
    .option("--accel <accel>", ACCEL_HELP)
    .option(
      "--budget <duration>",
      "the time to fit in, such as 10m: the declared faults' points are sampled to fit (a scenario's budget is its own), and what was left out is said",
    )
    .option(
      "--budget-seed <n>",
      "the seed the sample is drawn from (default: a new one, printed); the same seed draws the same order",
      integer,
    )
    .option("-v, --verbose", "show the guests' consoles and result lines", false)
    .addHelpText(
      "after",
      `
  ci                                   every scenario in scenarios/
  ci scenarios/fsync-log.ts --junit faultline.xml
  ci --budget 10m                      sample points to fit 10 minutes (the seed is printed)

Every scenario file is loaded first: one that does not load exits 2 before anything runs.
Exit codes: 0 every check passed, 1 a check failed (with the commands that reproduce it),
2 a scenario error, 3 the machinery failed, 130 Ctrl-C (143 SIGTERM).`,
    )
    .action((paths, options) => run(() => ciCommand(paths, options)));
}

/** `merge`: the results files of a sweep's or ci's shards, joined. */
function addMergeCommand(root: Command, run: Runner): void {
  root.command("merge")
    .description(
      "join the results files of a sweep's or ci's shards (--shard K/N --json FILE) into one report",
    )
    .argument("<results...>", "every shard's results file")
    .option("--html <file>", "write the sweep's report page (reads the trace the shards swept)")
    .option("--junit <file>", "write JUnit XML")
    .option("--json", "print one JSON object", false)
    .addHelpText(
      "after",
      `
  merge shard-1.json shard-2.json shard-3.json --html report.html --junit sweep.xml

Refuses shards of different traces or sweeps, a shard given twice and a missing shard (exit 2).
Exit codes: 0 every point passed, 1 a point failed, 2 the shards do not make one sweep.`,
    )
    .action((paths, options) => run(() => mergeCommand(paths, options)));
}

/** `setup`: the Debian packages faultline needs. */
function addSetupCommand(root: Command, run: Runner): void {
  root.command("setup")
    .description("install the Debian packages faultline needs (as root), or print the command")
    .option("--json", "print the package versions as JSON", false)
    .action((options) => run(() => setupCommand(options)));
}

/** `demo`: the main job on the built-in scenarios. */
function addDemoCommand(root: Command, run: Runner): void {
  root.command("demo")
    .description("the main job on the built-in scenarios: record, replay with faults, sweep, serve")
    .addOption(new Option("--trace-dir <dir>", "keep the demo's traces in this directory"))
    .option("--accel <accel>", ACCEL_HELP)
    .action((options) => run(() => demoCommand(options)));
}

/**
 * Parses a command line as the CLI would, without running anything: null when
 * the command, its arguments and flags are accepted, else commander's message.
 * For tests that keep the documentation's commands honest.
 *
 * @example
 * ```ts
 * await parseCommandLine(["replay", "run.trace", "--fault", "eio", "--fault-at", "3"]); // null
 * await parseCommandLine(["replay", "--frobnicate"]); // "error: unknown option '--frobnicate'"
 * ```
 */
export async function parseCommandLine(args: string[]): Promise<string | null> {
  let errors = "";
  const root = program(() => {}, { writeOut: () => {}, writeErr: (text) => errors += text });
  try {
    await root.parseAsync(args, { from: "user" });
    return null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "commander.helpDisplayed" || code === "commander.version") return null;
    return errors.split("\n")[0] || (error as Error).message;
  }
}

/**
 * Runs the CLI with `args` (without the program name) and resolves with the exit code.
 *
 * @example
 * ```ts
 * Deno.exit(await main(Deno.args));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let work: (() => Promise<number>) | null = null;
  const root = program((w) => work = w);
  try {
    await root.parseAsync(args, { from: "user" });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      code === "commander.helpDisplayed" || code === "commander.version" ||
      code === "commander.help"
    ) return EXIT.pass;
    if (typeof code === "string" && code.startsWith("commander.")) return EXIT.usage;
    throw error;
  }
  if (!work) return EXIT.pass;
  try {
    return await (work as () => Promise<number>)();
  } catch (error) {
    console.error(errorLine(error, { debug: (root.opts() as { debug?: boolean }).debug === true }));
    return exitCodeForError(error);
  }
}
