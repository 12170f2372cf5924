/**
 * Validation problems as people read them: one line per problem, naming the
 * innermost field, what was expected and what was found
 * (`nodes.app.disks.data.filesystem: expected one of "ext4", ..., found "zfs"`).
 * zod reports a value that fits no branch of a union as one issue holding
 * every branch's issues; the line names the branch the value meant.
 *
 * @module
 */

import type { z } from "zod";

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/**
 * Renders a found value for an error message.
 *
 * @example
 * ```ts
 * describeValue("zfs"); // "\"zfs\""
 * describeValue(-5); // "number -5"
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  }
  if (Array.isArray(value)) return "an array";
  if (value instanceof RegExp) return String(value);
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * A field path as the scenario writes it: `nodes.app.disks.data`, `faults[0].at`.
 *
 * @example
 * ```ts
 * fieldPath(["faults", 0, "at"]); // "faults[0].at"
 * ```
 */
export function fieldPath(path: Path): string {
  if (path.length === 0) return "(top level)";
  return path.map((key, i) =>
    typeof key === "number" ? `[${key}]` : `${i > 0 ? "." : ""}${String(key)}`
  ).join("");
}

/**
 * How far a union branch is from what the value meant: a key the branch does not
 * know, a key it needs that is missing, or a value of the wrong type altogether.
 */
function mismatch(issues: readonly Issue[], base: unknown): number {
  let score = 0;
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") score += 2;
    else if (
      (issue.code === "invalid_type" || issue.code === "invalid_value") &&
      (issue.path.length === 0 ||
        issue.path.length === 1 && valueAt(base, issue.path) === undefined)
    ) score += 2;
  }
  return score * 100 + issues.length;
}

/** The issues of the branch of a union that the value meant, with full paths. */
function branchIssues(issue: Extract<Issue, { code: "invalid_union" }>, input: unknown): Issue[] {
  const base = valueAt(input, issue.path);
  const branches = issue.errors.filter((branch) => branch.length > 0);
  if (branches.length === 0) return [];
  const best = branches.reduce((a, b) => (mismatch(b, base) < mismatch(a, base) ? b : a));
  return best.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue);
}

function bound(issue: Extract<Issue, { code: "too_small" | "too_big" }>): string {
  const small = issue.code === "too_small";
  const limit = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === "number" || issue.origin === "int" || issue.origin === "bigint") {
    return `a number ${
      small ? (issue.inclusive ? ">=" : ">") : (issue.inclusive ? "<=" : "<")
    } ${limit}`;
  }
  const unit = issue.origin === "string" ? "character" : "item";
  return `${small ? "at least" : "at most"} ${limit} ${unit}${limit === 1 ? "" : "s"}`;
}

/**
 * One line per problem of a failed validation, innermost fields first.
 *
 * @example
 * ```ts
 * const parsed = schema.safeParse(input);
 * if (!parsed.success) console.log(issueLines(parsed.error.issues, input).join("\n"));
 * ```
 */
export function issueLines(issues: readonly Issue[], input: unknown): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === "invalid_union") {
      const inner = branchIssues(issue, input);
      if (inner.length > 0) return issueLines(inner, input);
    }
    if (issue.code === "invalid_key") {
      const key = issue.path.at(-1);
      return issue.issues.map((inner) =>
        `${fieldPath(issue.path)}: expected ${
          inner.message.replace(/^expected /, "")
        } as the name, found ${describeValue(key)}`
      );
    }
    return [issueLine(issue, input)];
  });
}

function issueLine(issue: Issue, input: unknown): string {
  const at = fieldPath(issue.path);
  const found = describeValue(valueAt(input, issue.path));
  switch (issue.code) {
    case "unrecognized_keys":
      return `${at}: unknown field${issue.keys.length > 1 ? "s" : ""} ${
        issue.keys.map((k) => `"${k}"`).join(", ")
      }`;
    case "invalid_type":
      return `${at}: expected ${issue.expected}, found ${found}`;
    case "invalid_value":
      return `${at}: expected one of ${
        issue.values.map((v) => JSON.stringify(v)).join(", ")
      }, found ${found}`;
    case "too_small":
    case "too_big":
      return `${at}: expected ${bound(issue)}, found ${found}`;
    default: {
      const message = issue.message.startsWith("expected")
        ? issue.message
        : `expected ${issue.message}`;
      return `${at}: ${message}, found ${found}`;
    }
  }
}
