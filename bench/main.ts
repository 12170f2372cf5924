/**
 * `deno task bench`: the fault layer against nbdkit and qemu-nbd, then sweep
 * throughput. Flags go to the fault-layer benchmark; `--quick`, `--json` and
 * `--jobs N` go to both. `--only fault-layer|sweep` runs one of them.
 *
 * @module
 */

import { main as faultLayer } from "./fault_layer.ts";
import { main as sweepBench } from "./sweep.ts";

const args = [...Deno.args];
if (args.includes("--help") || args.includes("-h")) {
  await faultLayer(["--help"]);
  console.log(`
The sweep benchmark follows (power-loss and EIO sweeps of scenarios/fsync-log.ts):
  --only fault-layer|sweep   run one of the two benchmarks
  --jobs N                   replays at once in the sweeps (default: the number of cores)
  --quick, --json            go to both`);
  Deno.exit(0);
}
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
const shared = args.filter((arg, i) =>
  arg === "--quick" || arg === "--json" || arg === "--jobs" || args[i - 1] === "--jobs"
);

let code = 0;
if (only !== "sweep") {
  code = await faultLayer(args.filter((arg, i) => arg !== "--jobs" && args[i - 1] !== "--jobs"));
}
if (code === 0 && only !== "fault-layer") code = await sweepBench(shared);
Deno.exit(code);
