/**
 * Latency percentiles of a trace's ops, per disk and op type, each op's latency being
 * the time from its arrival to its reply (`end - start`): what the guest lived through,
 * an injected `limp` or `stall` included. Computed from a trace (`trace stats`), exactly:
 * every latency is kept until the summary sorts them.
 *
 * @module
 */

import type { OpType } from "../block/backend.ts";
import type { OpRecord } from "./schema.ts";

/** The percentiles of one disk and op type, in milliseconds. */
export interface LatencySummary {
  /** Ops measured. */
  count: number;
  /** The median. */
  p50: number;
  /** The 90th percentile. */
  p90: number;
  /** The 99th percentile. */
  p99: number;
  /** The slowest op. */
  max: number;
}

/** A growable list of numbers in one typed array. */
class Samples {
  private values = new Float64Array(64);
  count = 0;

  push(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }
}

/**
 * The nearest-rank percentile `q` (in (0, 100]) of sorted values.
 *
 * @example
 * ```ts
 * percentile(Float64Array.of(1, 2, 3, 4), 50); // 2
 * ```
 */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Collects op latencies per disk (`node/disk`) and op type, of the run phase only: the
 * check's ops (a fresh boot reading what the run left) would mix another workload into
 * what the faults of the run did.
 *
 * @example
 * ```ts
 * const latency = new LatencyStats();
 * for await (const r of reader.records()) if (r.record === "op") latency.add(r);
 * latency.summary()["serve/vda"].read.p99;
 * ```
 */
export class LatencyStats {
  private readonly disks = new Map<string, Map<OpType, Samples>>();

  /** Measures one completed op, if it is of the run phase (a trace without phases is all run). */
  add(record: Pick<OpRecord, "node" | "disk" | "op" | "start" | "end" | "phase">): void {
    if (record.phase !== undefined && record.phase !== "run") return;
    const key = `${record.node}/${record.disk}`;
    let types = this.disks.get(key);
    if (!types) this.disks.set(key, types = new Map());
    let samples = types.get(record.op);
    if (!samples) types.set(record.op, samples = new Samples());
    samples.push(Math.max(0, record.end - record.start));
  }

  /** The percentiles, by disk (sorted by name) and op type (in the order first seen). */
  summary(): Record<string, Partial<Record<OpType, LatencySummary>>> {
    const out: Record<string, Partial<Record<OpType, LatencySummary>>> = {};
    for (const disk of [...this.disks.keys()].sort()) {
      const types: Partial<Record<OpType, LatencySummary>> = {};
      for (const [type, samples] of this.disks.get(disk)!) {
        const sorted = samples.sorted();
        types[type] = {
          count: sorted.length,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted[sorted.length - 1],
        };
      }
      out[disk] = types;
    }
    return out;
  }
}
