/**
 * `reorder[:P][,hold=D][,link=LINK]`: each frame hit is held back until the next frame of
 * its link has overtaken it (at most D).
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { formatLinkScope, scopeLinks, scopeNodes, scopeParams } from "../link_scope.ts";
import type { LinkScope } from "../types.ts";
import { defineKind } from "./kind.ts";
import { drawLinkScope, probabilityBetween, probabilityHalvings } from "../draw_params.ts";

/** How long a `reorder` holds a frame back at most, unless `hold=` says otherwise. */
export const DEFAULT_REORDER_HOLD_MS = 100;

/** Each frame hit is held back (at most `holdMs`) so that the next frame of its link overtakes it. */
export interface ReorderEffect {
  kind: "reorder";
  probability: number;
  holdMs: number;
  link: LinkScope;
}

/** The kind. */
export const reorder = defineKind<ReorderEffect>({
  kind: "reorder",
  names: ["reorder"],
  family: "link",
  summary:
    "each frame hit is held back until the next frame of its link has overtaken it (at most `hold`)",
  params: "`[probability=]P`, `hold=DURATION` (default 100ms), `[link=]LINK`",
  examples: ["reorder:0.5@net:udp"],
  persistent: false,
  standing: true,
  parse(p) {
    const link = p.link();
    const hold = p.takeNamed("hold");
    return {
      kind: "reorder",
      probability: p.probability(),
      holdMs: hold === undefined ? DEFAULT_REORDER_HOLD_MS : parseDuration(hold),
      link,
    };
  },
  format: (e) => [
    ...(e.probability === 1 ? [] : [String(e.probability)]),
    ...(e.holdMs === DEFAULT_REORDER_HOLD_MS ? [] : [`hold=${e.holdMs}ms`]),
    ...scopeParams(e.link),
  ],
  describe: (e) =>
    `${e.probability === 1 ? "every frame" : `${e.probability * 100}% of the frames`} on ${
      formatLinkScope(e.link)
    } overtaken by the next (held at most ${e.holdMs} ms)`,
  nodes: (e) => scopeNodes(e.link),
  link: {
    links: (e, nodes) => scopeLinks(e.link, nodes),
    act: (e, draw) =>
      e.probability >= 1 || draw(0) < e.probability
        ? { action: { do: "hold-back", ms: e.holdMs }, detail: { holdMs: e.holdMs } }
        : null,
  },
  live: {
    params: ["link", "probability", "hold-ms"],
    parse: (args) => ({
      kind: "reorder",
      probability: args.probability(),
      holdMs: args.number("hold-ms", 0) ?? DEFAULT_REORDER_HOLD_MS,
      link: args.link(),
    }),
    args: (e) => ({
      probability: e.probability,
      "hold-ms": e.holdMs,
      link: formatLinkScope(e.link),
    }),
  },
  explore: {
    ranges:
      "probability 0.1 to 0.5 (by 0.05), held at most 100 ms, links as `drop`'s; weakened by halving, down to 0.05",
    draw: (draw, { nodes, node }) => ({
      kind: "reorder",
      probability: probabilityBetween(draw, 0.1, 0.5),
      holdMs: 100,
      link: drawLinkScope(draw, nodes, node),
    }),
    weaken: (e) =>
      probabilityHalvings(e.probability, 0.05).map((probability) => ({ ...e, probability })),
  },
});
