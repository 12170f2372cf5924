/**
 * `drop[:P][,link=LINK]`: each frame hit is dropped with probability P (seeded).
 *
 * @module
 */

import { formatLinkScope, scopeLinks, scopeNodes, scopeParams } from "../link_scope.ts";
import type { LinkScope } from "../types.ts";
import { defineKind } from "./kind.ts";
import { drawLinkScope, probabilityBetween, probabilityHalvings } from "../draw_params.ts";

/** Each frame hit is dropped with this probability. */
export interface DropEffect {
  kind: "drop";
  probability: number;
  link: LinkScope;
}

/** The kind. */
export const drop = defineKind<DropEffect>({
  kind: "drop",
  names: ["drop"],
  family: "link",
  summary: "each frame hit is dropped with probability P",
  params: "`[probability=]P` (default 1), `[link=]LINK`",
  examples: ["drop:0.3,link=n1->n2", "drop@net:n1->n2/tcp:2379/syn#1"],
  persistent: false,
  standing: true,
  parse(p) {
    const link = p.link();
    return { kind: "drop", probability: p.probability(), link };
  },
  format: (e) => [...(e.probability === 1 ? [] : [String(e.probability)]), ...scopeParams(e.link)],
  describe: (e) =>
    `${e.probability === 1 ? "every frame" : `${e.probability * 100}% of the frames`} on ${
      formatLinkScope(e.link)
    } lost`,
  nodes: (e) => scopeNodes(e.link),
  link: {
    links: (e, nodes) => scopeLinks(e.link, nodes),
    act: (e, draw) =>
      e.probability >= 1 || draw(0) < e.probability ? { action: { do: "lose" } } : null,
  },
  live: {
    params: ["link", "probability"],
    parse: (args) => ({ kind: "drop", probability: args.probability(), link: args.link() }),
    args: (e) => ({ probability: e.probability, link: formatLinkScope(e.link) }),
  },
  explore: {
    ranges:
      "probability 0.1 to 1 (by 0.05), on every link, the arrival's node's links or one direction from it (a third each); weakened by halving the probability, down to 0.05",
    draw: (draw, { nodes, node }) => ({
      kind: "drop",
      probability: probabilityBetween(draw, 0.1, 1),
      link: drawLinkScope(draw, nodes, node),
    }),
    weaken: (e) =>
      probabilityHalvings(e.probability, 0.05).map((probability) => ({ ...e, probability })),
  },
});
