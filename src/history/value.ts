/**
 * The values a history holds, as EDN has them (JSON's are a subset): nil, booleans,
 * numbers, strings, keywords, symbols, vectors (and lists), sets and maps. One canonical
 * text per value, its EDN form, is both how a person reads it and what equality means:
 * two values are equal when their texts are.
 *
 * @module
 */

/** An EDN keyword: `:read`, `:jepsen/timed-out`. */
export class Keyword {
  /** Makes the keyword `:name`. */
  constructor(readonly name: string) {}
}

/** An EDN symbol, as Jepsen writes exception classes: `java.net.SocketTimeoutException`. */
export class EdnSymbol {
  /** Makes the symbol. */
  constructor(readonly name: string) {}
}

/** An EDN set: `#{1 2}`. Its members in the order read. */
export class ValueSet {
  /** Makes the set of `items`. */
  constructor(readonly items: readonly Value[]) {}
}

/** An EDN map (or a JSON object), with the line it starts on when it was read from text. */
export class ValueMap {
  /**
   * Makes the map whose keys and values alternate in `items` (`[k0, v0, k1, v1, ...]`: one
   * array, not one per entry, as a history holds many), read at `line` (0: not from text).
   */
  constructor(readonly items: readonly Value[], readonly line = 0) {}

  /** Its entries, as key and value pairs. */
  get entries(): [Value, Value][] {
    const entries: [Value, Value][] = [];
    for (let i = 0; i + 1 < this.items.length; i += 2) {
      entries.push([this.items[i], this.items[i + 1]]);
    }
    return entries;
  }

  /** The value under the keyword `:name` or the string `"name"`; undefined when absent. */
  get(name: string): Value | undefined {
    const items = this.items;
    for (let i = 0; i + 1 < items.length; i += 2) {
      const key = items[i];
      if (key === name || (key instanceof Keyword && key.name === name)) return items[i + 1];
    }
    return undefined;
  }
}

/** A value of a history: what EDN and JSON can say. Lists read as arrays, as vectors do. */
export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | Keyword
  | EdnSymbol
  | ValueSet
  | ValueMap
  | readonly Value[];

/**
 * The value's EDN text: strings quoted, `nil`, keywords with their colon, a set's and a
 * map's members sorted. Equal values, and only those, have equal texts.
 *
 * @example
 * ```ts
 * formatValue([1, "a", null, new Keyword("ok")]); // '[1 "a" nil :ok]'
 * ```
 */
export function formatValue(value: Value): string {
  if (value === null) return "nil";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
  }
  if (value instanceof Keyword) return `:${value.name}`;
  if (value instanceof EdnSymbol) return value.name;
  if (value instanceof ValueSet) return `#{${value.items.map(formatValue).sort().join(" ")}}`;
  if (value instanceof ValueMap) {
    const entries = value.entries.map(([k, v]) => `${formatValue(k)} ${formatValue(v)}`);
    return `{${entries.sort().join(", ")}}`;
  }
  return `[${(value as readonly Value[]).map(formatValue).join(" ")}]`;
}

/**
 * The members of a collection value (a vector, list or set); null for anything else.
 *
 * @example
 * ```ts
 * membersOf(new ValueSet([1, 2])); // [1, 2]
 * membersOf(3); // null
 * ```
 */
export function membersOf(value: Value): readonly Value[] | null {
  if (Array.isArray(value)) return value;
  if (value instanceof ValueSet) return value.items;
  return null;
}

/**
 * A keyword's or a string's name (`:read` and `"read"` both give `read`); null otherwise.
 *
 * @example
 * ```ts
 * nameOf(new Keyword("ok")); // "ok"
 * nameOf(3); // null
 * ```
 */
export function nameOf(value: Value | undefined): string | null {
  if (value instanceof Keyword) return value.name;
  return typeof value === "string" ? value : null;
}
