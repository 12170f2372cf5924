/**
 * Text output helpers for the CLI: aligned tables and the op statistics table.
 *
 * @module
 */

import { OP_TYPES } from "../block/backend.ts";
import type { StatsSummary } from "../trace/stats.ts";
import { formatBytes } from "../util/units.ts";

/**
 * Formats rows as left-aligned text columns (numbers aligned right).
 *
 * @example
 * ```ts
 * table([["op", "count"], ["read", "12"]]); // "op    count\nread     12"
 * ```
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  const numeric = (cell: string) => /^-?[\d.,]+( [KMGT]?i?B)?$/.test(cell);
  return rows.map((row) =>
    row.map((cell, i) => (numeric(cell) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(
      "  ",
    ).trimEnd()
  ).join("\n");
}

/** Prints ops by type (and by disk when there are several) to stdout. */
export function printStatsTable(summary: StatsSummary): void {
  const rows: string[][] = [["op", "count", "bytes", "errors"]];
  for (const type of OP_TYPES) {
    const c = summary.byType[type];
    if (c.count > 0) rows.push([type, String(c.count), formatBytes(c.bytes), String(c.errors)]);
  }
  rows.push(["total", String(summary.ops), formatBytes(summary.bytes), String(summary.errors)]);
  console.log(table(rows));
  const disks = Object.entries(summary.byDisk);
  if (disks.length > 1) {
    for (const [disk, counts] of disks) {
      const parts = OP_TYPES.filter((t) => counts[t].count > 0).map((t) =>
        `${t} ${counts[t].count}`
      );
      console.log(`  ${disk}: ${parts.join(", ")}`);
    }
  }
  const faults = Object.entries(summary.faults);
  if (faults.length > 0) {
    console.log(`faults injected: ${faults.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  }
}
