/**
 * The guests' result lines of a run (`phase run`, `ack 7`, `have 7`, `exit 0`):
 * one results disk per boot of a node (each boot numbers its lines from 0),
 * all served by one NBD server, and every line placed on the run's op clock as
 * it arrives, so that an ack is ordered exactly among the ops.
 *
 * @module
 */

import type { OpClock } from "../block/op_clock.ts";
import { NbdServer } from "../nbd/server.ts";
import { exportUri } from "../nbd/uri.ts";
import type { GuestLine } from "../trace/load.ts";
import type { VmDisk } from "../vm/qemu_args.ts";
import { RESULTS_SERIAL, ResultsChannel } from "../vm/results.ts";

/** One boot of a node, as the results know it. */
export interface Boot {
  node: string;
  /** `restart`: the node's restart script, after a crash or serving the check phase. */
  phase: "run" | "check" | "restart";
  /** Boots of this node so far, from 0 (a node that crashed and restarted boots again). */
  number: number;
}

/**
 * The result lines of every boot of a run.
 *
 * @example
 * ```ts
 * const results = await GuestResults.start({ path: `${dir}/results.sock`, clock, onLine });
 * const disk = results.diskFor({ node: "app", phase: "run", number: 0 });
 * ```
 */
export class GuestResults implements AsyncDisposable {
  /** Every line of the run, in arrival order. */
  readonly lines: GuestLine[] = [];
  private readonly byBoot = new Map<string, GuestLine[]>();

  private constructor(
    private readonly server: NbdServer,
    private readonly clock: OpClock,
    private readonly onLine: (line: GuestLine, text: string) => void,
  ) {}

  /** Listens on a unix socket; `onLine` hears every line as it arrives. */
  static async start(options: {
    path: string;
    clock: OpClock;
    onLine: (line: GuestLine, text: string) => void;
  }): Promise<GuestResults> {
    const server = await NbdServer.start({
      exports: [],
      // Result lines are not ops: the server numbers them on a clock of its own.
      listen: { transport: "unix", path: options.path },
    });
    return new GuestResults(server, options.clock, options.onLine);
  }

  /** The results disk for one boot (attached last, serial `faultline-results`). */
  diskFor(boot: Boot, options: { firstLine?: number } = {}): VmDisk {
    const name = bootName(boot);
    const mine: GuestLine[] = [];
    this.byBoot.set(name, mine);
    this.server.addExport({
      name,
      backend: new ResultsChannel((line) => {
        const guestLine: GuestLine = {
          node: boot.node,
          phase: boot.phase,
          kind: line.kind,
          args: line.args,
          at: this.clock.arrivals,
          // Stamped as the line arrives, before the guest's report returns (src/run/history.ts).
          time: this.clock.now(),
          text: line.text,
        };
        mine.push(guestLine);
        this.lines.push(guestLine);
        this.onLine(guestLine, line.text);
      }, { firstSector: options.firstLine ?? 0 }),
    });
    return { name: RESULTS_SERIAL, uri: exportUri(this.server.address, name) };
  }

  /** The lines of one boot so far. */
  linesOf(boot: Boot): readonly GuestLine[] {
    return this.byBoot.get(bootName(boot)) ?? [];
  }

  close(): Promise<void> {
    return this.server.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function bootName(boot: Boot): string {
  return `${boot.node}-${boot.phase}-${boot.number}`;
}
