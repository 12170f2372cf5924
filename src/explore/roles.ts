/**
 * The roles a workload reports its nodes in (`report role leader`): each node's role at a
 * moment of the recording is the last `role` line it wrote in the run phase before that
 * moment. A finding's shape names a fault's nodes by the roles they held when the fault was
 * put, so that a leader's disk failing on n1 in one schedule and on n2 in another is one
 * finding. Pure.
 *
 * @module
 */

/** A node's `report role NAME` line, where it stands among the recording's arrivals. */
export interface RoleReport {
  /** The node that reported it. */
  node: string;
  /** The role, as the workload named it. */
  role: string;
  /** Arrivals (ops and frames) before the line came (the trace's `at`). */
  at: number;
}

/**
 * The role reports among a recording's guest lines: its run phase's `role NAME` lines.
 *
 * @example
 * ```ts
 * roleReports([{ node: "n1", phase: "run", kind: "role", args: ["leader"], at: 4 }]);
 * // [{ node: "n1", role: "leader", at: 4 }]
 * ```
 */
export function roleReports(
  lines: readonly {
    node: string;
    phase: string;
    kind: string;
    args: readonly string[];
    at: number;
  }[],
): RoleReport[] {
  return lines
    .filter((line) => line.phase === "run" && line.kind === "role" && line.args.length > 0)
    .map((line) => ({ node: line.node, role: line.args.join(" "), at: line.at }));
}

/**
 * Each node's role at arrival `at`: the last it reported at or before it; a node that had
 * reported none is absent.
 *
 * @example
 * ```ts
 * rolesAt([{ node: "n1", role: "follower", at: 2 }, { node: "n1", role: "leader", at: 9 }], 5);
 * // Map { "n1" => "follower" }
 * ```
 */
export function rolesAt(reports: readonly RoleReport[], at: number): Map<string, string> {
  const roles = new Map<string, string>();
  for (const report of reports) {
    if (report.at <= at) roles.set(report.node, report.role);
  }
  return roles;
}
