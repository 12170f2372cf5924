/**
 * `deno task bench`: the fault layer against nbdkit and qemu-nbd, then sweep
 * throughput, then cluster points cold and warm, then history checking. Flags go to the
 * fault-layer benchmark; `--quick`, `--json` and `--jobs N` go to the sweep's too, `--quick`
 * and `--json` to the cluster's and the history checker's (`--quick`: two points, the busybox
 * cluster only). `--only fault-layer|sweep|cluster|history` runs one of them.
 *
 * @module
 */

import { main as clusterBench } from "./cluster.ts";
import { main as faultLayer } from "./fault_layer.ts";
import { main as historyBench } from "./history.ts";
import { main as sweepBench } from "./sweep.ts";

const args = [...Deno.args];
if (args.includes("--help") || args.includes("-h")) {
  await faultLayer(["--help"]);
  console.log(`
The sweep benchmark follows (power-loss and EIO sweeps of scenarios/fsync-log.ts), then
cluster points cold and warm (power-loss and EIO points of a busybox cluster and of
scenarios/etcd-put.ts, median of 5 each), then history checking (kv and register histories
generated from seeds, valid and invalid):
  --only fault-layer|sweep|cluster|history   run one of the four benchmarks
  --jobs N                           replays at once in the sweeps (default: the number of cores)
  --quick, --json                    go to all four (--quick: 2 cluster points, busybox only)`);
  Deno.exit(0);
}
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
const BENCHMARKS = ["fault-layer", "sweep", "cluster", "history"];
if (onlyAt >= 0 && !BENCHMARKS.includes(only ?? "")) {
  console.error(`bench: --only ${only ?? "(nothing)"}: expected one of ${BENCHMARKS.join(", ")}`);
  Deno.exit(2);
}
const shared = args.filter((arg, i) =>
  arg === "--quick" || arg === "--json" || arg === "--jobs" || args[i - 1] === "--jobs"
);

let code = 0;
if (only === undefined || only === "fault-layer") {
  code = await faultLayer(args.filter((arg, i) => arg !== "--jobs" && args[i - 1] !== "--jobs"));
}
if (code === 0 && (only === undefined || only === "sweep")) code = await sweepBench(shared);
if (code === 0 && (only === undefined || only === "cluster")) {
  const quick = shared.includes("--quick");
  code = await clusterBench([
    ...(shared.includes("--json") ? ["--json"] : []),
    ...(quick ? ["--points", "2", "--scenario", "busybox"] : []),
  ]);
}
if (code === 0 && (only === undefined || only === "history")) {
  code = await historyBench(shared.filter((arg) => arg === "--quick" || arg === "--json"));
}
Deno.exit(code);
