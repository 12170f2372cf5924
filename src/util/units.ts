/**
 * Parsing and formatting of sizes, durations and bandwidths, the one place where
 * strings such as `32M`, `200ms` or `1MiB/s` become numbers.
 *
 * @module
 */

import { type ErrorKind, FaultlineError } from "./errors.ts";

const SIZE_SUFFIXES: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const DURATION_UNITS_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
};

/** A string that is not a size, duration or bandwidth; `message` says what was expected. */
export class UnitError extends FaultlineError {
  /** The kind of these errors unless one says otherwise. */
  static override readonly kind: ErrorKind = "usage";
}

/**
 * Parses a byte size: a non-negative integer with an optional binary suffix
 * (`K`, `M`, `G`, `T`, also written `KiB`, `MB`, ...; all powers of 1024), or a hex number.
 *
 * @example
 * ```ts
 * parseSize("32M"); // 33554432
 * parseSize("0x1000"); // 4096
 * ```
 */
export function parseSize(text: string): number {
  const trimmed = text.trim();
  const hex = /^0x[0-9a-f]+$/i.test(trimmed);
  const match = hex ? null : /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(trimmed);
  const factor = match ? SIZE_SUFFIXES[match[2].toLowerCase()] : undefined;
  if (!hex && (!match || factor === undefined)) {
    throw new UnitError(`"${text}" is not a size (expected a number with K, M, G or T, like 64M)`);
  }
  const value = hex ? Number.parseInt(trimmed, 16) : Number.parseFloat(match![1]) * factor!;
  if (!Number.isSafeInteger(value)) {
    throw new UnitError(`"${text}" is not a whole number of bytes`);
  }
  return value;
}

/**
 * Parses a duration into milliseconds: a number with a unit `us`, `ms`, `s`, `m`/`min` or `h`.
 *
 * @example
 * ```ts
 * parseDuration("200ms"); // 200
 * parseDuration("1.5s"); // 1500
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(us|ms|s|min|m|h)$/i.exec(text.trim());
  if (!match) {
    throw new UnitError(
      `"${text}" is not a duration (expected a number with a unit, like 200ms or 5s)`,
    );
  }
  return Number.parseFloat(match[1]) * DURATION_UNITS_MS[match[2].toLowerCase()];
}

/**
 * Parses a bandwidth into bytes per second: a size followed by `/s`.
 *
 * @example
 * ```ts
 * parseBandwidth("1MiB/s"); // 1048576
 * ```
 */
export function parseBandwidth(text: string): number {
  const match = /^(.+)\/s$/i.exec(text.trim());
  if (!match) {
    throw new UnitError(`"${text}" is not a bandwidth (expected a size per second, like 1M/s)`);
  }
  const value = parseSize(match[1]);
  if (value <= 0) throw new UnitError(`bandwidth "${text}" must be more than zero`);
  return value;
}

/**
 * Formats a byte count with a binary unit, for people.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  // The unit is chosen by the value as printed: 1048575 B is 1.0 MiB, not 1024 KiB.
  const printed = (v: number) => Number(v.toFixed(v < 10 ? 1 : 0));
  while ((unit === 0 ? value : printed(value)) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * Formats milliseconds for people: `850 ms`, `3.2 s`, `2 min 5 s`.
 *
 * @example
 * ```ts
 * formatDuration(3200); // "3.2 s"
 * ```
 */
export function formatDuration(ms: number): string {
  // Rounded first, then the unit chosen: 999.6 ms is 1.0 s, 119.6 s is 2 min 0 s.
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.round(ms / 100) < 600) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
