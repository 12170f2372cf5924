/**
 * `heal[:LINK]`: ends the link faults in force on its links (every link without a scope),
 * the live ones included. It fires once, before the other rules see the frame it fires at;
 * a rule still waiting for its trigger is not in force, and stays.
 *
 * @module
 */

import { formatLinkScope, scopeLinks, scopeNodes, scopeParams } from "../link_scope.ts";
import type { LinkScope } from "../types.ts";
import { defineKind } from "./kind.ts";

/** Ends the link faults in force on its links (all of them without a scope). */
export interface HealEffect {
  kind: "heal";
  link: LinkScope;
}

/** The kind. */
export const heal = defineKind<HealEffect>({
  kind: "heal",
  names: ["heal"],
  family: "link",
  summary: "ends the link faults in force on its links",
  params: "`[link=]LINK`",
  examples: ["heal@+10s", "heal:n1<->n2@+4s"],
  persistent: false,
  standing: false,
  parse: (p) => ({ kind: "heal", link: p.link() }),
  format: (e) => scopeParams(e.link),
  describe: (e) => e.link.kind === "all" ? "every link heals" : `${formatLinkScope(e.link)} heals`,
  nodes: (e) => scopeNodes(e.link),
  link: {
    links: (e, nodes) => scopeLinks(e.link, nodes),
    act: () => null,
    heals: true,
  },
  // Live, a heal is `none`: with `link`, of those links only.
  live: {
    states: ["none"],
    params: ["link"],
    uncounted: true,
    parse: (args) => ({ kind: "heal", link: args.link() }),
    args: (e) => e.link.kind === "all" ? {} : { link: formatLinkScope(e.link) },
  },
  explore: { ranges: "every link", draw: () => ({ kind: "heal", link: { kind: "all" } }) },
});
