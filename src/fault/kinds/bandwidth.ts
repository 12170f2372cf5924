/**
 * `bandwidth:RATE[,link=LINK]`: the link carries at most that many bytes per second;
 * frames queue behind each other.
 *
 * @module
 */

import { parseBandwidth } from "../../util/units.ts";
import { FaultSpecError } from "../errors.ts";
import { formatLinkScope, scopeLinks, scopeNodes, scopeParams } from "../link_scope.ts";
import { isBandwidth } from "../params.ts";
import type { LinkScope } from "../types.ts";
import { defineKind } from "./kind.ts";
import { doublingsUp, drawLinkScope, logBetween } from "../draw_params.ts";

/** The link carries at most this many bytes per second. */
export interface BandwidthEffect {
  kind: "bandwidth";
  bytesPerSecond: number;
  link: LinkScope;
}

/** The kind. */
export const bandwidth = defineKind<BandwidthEffect>({
  kind: "bandwidth",
  names: ["bandwidth"],
  family: "link",
  summary: "the link carries at most that many bytes per second; frames queue behind each other",
  params: "`[rate=]SIZE/s`, `[link=]LINK`",
  examples: ["bandwidth:1M/s,link=n3"],
  persistent: true,
  standing: true,
  parse(p) {
    const link = p.link();
    const rate = p.take("rate", isBandwidth);
    if (rate === undefined) {
      throw new FaultSpecError("bandwidth needs a rate, as in bandwidth:1M/s");
    }
    return { kind: "bandwidth", bytesPerSecond: parseBandwidth(rate), link };
  },
  format: (e) => [`${e.bytesPerSecond}/s`, ...scopeParams(e.link)],
  describe: (e) => `${formatLinkScope(e.link)} carries at most ${e.bytesPerSecond} bytes/s`,
  nodes: (e) => scopeNodes(e.link),
  link: {
    links: (e, nodes) => scopeLinks(e.link, nodes),
    act: (e) => ({
      action: { do: "rate", bytesPerSecond: e.bytesPerSecond },
      detail: { bytesPerSecond: e.bytesPerSecond },
    }),
  },
  live: {
    params: ["link", "bandwidth"],
    parse: (args) => ({
      kind: "bandwidth",
      bytesPerSecond: args.required("bandwidth", 1, " (bytes per second)"),
      link: args.link(),
    }),
    args: (e) => ({ bandwidth: e.bytesPerSecond, link: formatLinkScope(e.link) }),
  },
  explore: {
    ranges:
      "64 KiB/s to 10 MiB/s (log-uniform), links as `drop`'s; weakened by doubling, up to 10 MiB/s",
    draw: (draw, { nodes, node }) => ({
      kind: "bandwidth",
      bytesPerSecond: logBetween(draw, 64 * 1024, 10 * 1024 * 1024),
      link: drawLinkScope(draw, nodes, node),
    }),
    weaken: (e) =>
      doublingsUp(e.bytesPerSecond, 10 * 1024 * 1024).map((bytesPerSecond) => ({
        ...e,
        bytesPerSecond,
      })),
  },
});
