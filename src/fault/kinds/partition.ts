/**
 * `partition:A[,B...]|C[,D...]`: frames between the two sides are dropped, both ways;
 * nodes named on neither side reach both.
 *
 * @module
 */

import { FaultSpecError } from "../errors.ts";
import { checkNodeName, linkKey } from "../link_scope.ts";
import { defineKind } from "./kind.ts";

/** Frames between the two sides are dropped. */
export interface PartitionEffect {
  kind: "partition";
  sides: readonly [readonly string[], readonly string[]];
}

/** The kind. */
export const partition = defineKind<PartitionEffect>({
  kind: "partition",
  names: ["partition"],
  family: "link",
  summary:
    "frames between the sides are dropped, both ways; nodes named on neither side reach both",
  params: "`A[,B...]\\|C[,D...]` (two sides)",
  examples: ["partition:n1|n2,n3@+2s"],
  persistent: true,
  standing: true,
  parse(p) {
    if (p.named.size > 0) {
      throw new FaultSpecError(
        `partition takes its two sides only, as in partition:n1|n2,n3, not "${
          [...p.named.keys()].join("=, ")
        }="`,
      );
    }
    // The params, commas and all, are the two sides.
    return { kind: "partition", sides: parseSides(p.positional.splice(0).join(",")) };
  },
  format: (e) => [`${e.sides[0].join(",")}|${e.sides[1].join(",")}`],
  describe: (e) => `${e.sides[0].join(", ")} cut off from ${e.sides[1].join(", ")}`,
  nodes: (e) => [...e.sides[0], ...e.sides[1]],
  check: (e) => void checkSides([...e.sides[0]], [...e.sides[1]]),
  link: {
    links(e) {
      const links = new Set<string>();
      for (const a of e.sides[0]) {
        for (const b of e.sides[1]) {
          links.add(linkKey(a, b));
          links.add(linkKey(b, a));
        }
      }
      return links;
    },
    act: () => ({ action: { do: "lose" } }),
  },
  live: {
    params: ["sides"],
    parse(args) {
      const sides = args.args.sides;
      if (!Array.isArray(sides) || sides.length !== 2) {
        throw new FaultSpecError(
          'Parameter \'sides\' expects two arrays of node names, as [["n1"], ["n2", "n3"]]',
        );
      }
      const [left, right] = [args.names(sides[0], "sides"), args.names(sides[1], "sides")];
      return { kind: "partition", sides: checkSides(left, right) };
    },
    args: (e) => ({ sides: e.sides.map((side) => [...side]) }),
  },
  explore: {
    ranges:
      "the arrival's node on one side, each other node on it with odds 1 in 3, the rest on the other (never empty)",
    draw(draw, { nodes, node }) {
      const others = nodes.filter((other) => other !== node);
      const joined = others.filter(() => draw() < 1 / 3);
      const left = joined.length === others.length ? [node] : [node, ...joined];
      return {
        kind: "partition",
        sides: [left, nodes.filter((other) => !left.includes(other))],
      };
    },
    targets: (e) => {
      const [a, b] = e.sides.map((side) => [...side].sort());
      return a.length < b.length || (a.length === b.length && a.join() <= b.join()) ? a : b;
    },
  },
});

function parseSides(text: string): PartitionEffect["sides"] {
  const sides = text.split("|");
  if (text === "" || sides.length !== 2) {
    throw new FaultSpecError("partition needs two sides separated by |, as in partition:n1|n2,n3");
  }
  const [left, right] = sides.map((side) => side.split(",").map(checkNodeName));
  return checkSides(left, right);
}

/** Two sides, each naming a node at least and at most once, none on both. */
function checkSides(left: string[], right: string[]): PartitionEffect["sides"] {
  if (left.length === 0 || right.length === 0) {
    throw new FaultSpecError("a partition needs a node on each side");
  }
  for (const side of [left, right]) {
    const seen = new Set<string>();
    for (const node of side) {
      if (seen.has(node)) throw new FaultSpecError(`node ${node} is named twice on one side`);
      seen.add(node);
    }
  }
  const both = left.filter((node) => right.includes(node));
  if (both.length > 0) {
    throw new FaultSpecError(
      `the sides overlap: ${both.join(", ")} ${both.length > 1 ? "are" : "is"} on both sides`,
    );
  }
  return [left, right];
}
