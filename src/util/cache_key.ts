/**
 * Cache keys derived from values, never from hand-kept lists of fields: a key is the
 * SHA-256 of a canonical serialization (JSON with every object's keys sorted) of the whole
 * value the cached thing is made from, with what kind of thing it is and faultline's cache
 * schema version. A field that comes into that value later is in the key by itself; a
 * field that cannot matter is left out by its caller, by name, in one place.
 *
 * @module
 */

import { sha256Bytes } from "./hash.ts";

/**
 * The cache schema version: raised when the way anything in the cache is made changes (a
 * build step, an index file's shape), so that nothing made the old way is found again.
 *
 * @example
 * ```ts
 * cacheKey("setup", value); // changes for every value when CACHE_VERSION is raised
 * ```
 */
export const CACHE_VERSION = 1;

/**
 * The canonical JSON text of plain data: object keys sorted, a property whose value is
 * `undefined` left out (as an absent one), numbers as JSON writes them.
 *
 * @throws {TypeError} for anything but plain data (a Map, a Date, bytes, a function, a
 *   number that is not finite): it has no one text, so it cannot name a cache entry.
 * @example
 * ```ts
 * canonicalJson({ b: [1, "x"], a: null, c: undefined }); // '{"a":null,"b":[1,"x"]}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`${value} cannot be part of a cache key`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => item === undefined ? "null" : canonicalJson(item)).join(",")}]`;
  }
  const prototype = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError(`${describe(value)} cannot be part of a cache key: only plain data can`);
  }
  const fields = Object.entries(value as Record<string, unknown>)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${
    fields.map(([name, field]) => `${JSON.stringify(name)}:${canonicalJson(field)}`).join(",")
  }}`;
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return `a ${typeof value}`;
  return `a ${value.constructor?.name ?? "object"}`;
}

/**
 * The SHA-256 of a value's canonical JSON: what the value is, whatever order its fields
 * were written in. For names that must not change with the cache schema (a file system's
 * UUID, which is in the image's bytes).
 *
 * @example
 * ```ts
 * contentId({ a: 1, b: 2 }) === contentId({ b: 2, a: 1 }); // true
 * ```
 */
export function contentId(value: unknown): string {
  return sha256Bytes(new TextEncoder().encode(canonicalJson(value)));
}

/**
 * The cache key of a thing of `kind` made from `value`: the whole value, the kind and
 * {@link CACHE_VERSION}.
 *
 * @example
 * ```ts
 * const key = cacheKey("base-disk", { node: "db", disk, mkfs }); // 64 hex digits
 * ```
 */
export function cacheKey(kind: string, value: unknown): string {
  return contentId({ cache: CACHE_VERSION, kind, value });
}

/**
 * A copy of plain data without the fields at `paths`: dotted names from the top, `[]`
 * standing for every element of an array (`timeouts.checkMs`, `nodes[].workload`). How a
 * key leaves out, by name, a field that cannot matter to what it names.
 *
 * @example
 * ```ts
 * withoutFields({ a: 1, b: { c: 2, d: 3 } }, ["b.c"]); // { a: 1, b: { d: 3 } }
 * ```
 */
export function withoutFields(value: unknown, paths: readonly string[]): unknown {
  let result = value;
  for (const path of paths) result = without(result, path.split(/\.|(?=\[\])/));
  return result;
}

function without(value: unknown, steps: readonly string[]): unknown {
  if (steps.length === 0 || value === null || typeof value !== "object") return value;
  const [step, ...rest] = steps;
  if (step === "[]") {
    return Array.isArray(value) ? value.map((item) => without(item, rest)) : value;
  }
  if (Array.isArray(value) || !(step in value)) return value;
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete copy[step];
  else copy[step] = without(copy[step], rest);
  return copy;
}

/**
 * A version 4 UUID made from a hash's hex digits: the same hash gives the same UUID, as a
 * reproducible image needs.
 *
 * @example
 * ```ts
 * uuidOfHash("0123456789abcdef0123456789abcdef"); // "01234567-89ab-4def-8123-456789abcdef"
 * ```
 */
export function uuidOfHash(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${
    hex.slice(20, 32)
  }`;
}
