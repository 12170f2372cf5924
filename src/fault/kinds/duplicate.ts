/**
 * `duplicate[:P][,link=LINK]`: each frame hit arrives twice, with probability P.
 *
 * @module
 */

import { formatLinkScope, scopeLinks, scopeNodes, scopeParams } from "../link_scope.ts";
import type { LinkScope } from "../types.ts";
import { defineKind } from "./kind.ts";
import { drawLinkScope, probabilityBetween, probabilityHalvings } from "../draw_params.ts";

/** Each frame hit arrives twice, with this probability. */
export interface DuplicateEffect {
  kind: "duplicate";
  probability: number;
  link: LinkScope;
}

/** The kind. */
export const duplicate = defineKind<DuplicateEffect>({
  kind: "duplicate",
  names: ["duplicate"],
  family: "link",
  summary: "each frame hit arrives twice",
  params: "`[probability=]P`, `[link=]LINK`",
  examples: ["duplicate:0.1,link=n2"],
  persistent: false,
  standing: true,
  parse(p) {
    const link = p.link();
    return { kind: "duplicate", probability: p.probability(), link };
  },
  format: (e) => [...(e.probability === 1 ? [] : [String(e.probability)]), ...scopeParams(e.link)],
  describe: (e) =>
    `${e.probability === 1 ? "every frame" : `${e.probability * 100}% of the frames`} on ${
      formatLinkScope(e.link)
    } delivered twice`,
  nodes: (e) => scopeNodes(e.link),
  link: {
    links: (e, nodes) => scopeLinks(e.link, nodes),
    act: (e, draw) =>
      e.probability >= 1 || draw(0) < e.probability ? { action: { do: "twice" } } : null,
  },
  live: {
    params: ["link", "probability"],
    parse: (args) => ({ kind: "duplicate", probability: args.probability(), link: args.link() }),
    args: (e) => ({ probability: e.probability, link: formatLinkScope(e.link) }),
  },
  explore: {
    ranges:
      "probability 0.05 to 0.5 (by 0.05), links as `drop`'s; weakened by halving, down to 0.05",
    draw: (draw, { nodes, node }) => ({
      kind: "duplicate",
      probability: probabilityBetween(draw, 0.05, 0.5),
      link: drawLinkScope(draw, nodes, node),
    }),
    weaken: (e) =>
      probabilityHalvings(e.probability, 0.05).map((probability) => ({ ...e, probability })),
  },
});
