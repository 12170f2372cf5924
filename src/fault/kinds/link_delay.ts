/**
 * `delay:D[,jitter=J][,link=LINK]`, of frames: each frame hit arrives D later, plus a
 * seeded jitter in [-J, J]; frames of one link keep their order. `delay` is this kind
 * when it has a link scope, a jitter or a frame trigger; else the block delay
 * (./delay.ts).
 *
 * @module
 */

import { parseDuration } from "../../util/units.ts";
import { FaultSpecError } from "../errors.ts";
import { formatLinkScope, scopeLinks, scopeNodes } from "../link_scope.ts";
import { isDuration } from "../params.ts";
import type { LinkScope } from "../types.ts";
import { defineKind } from "./kind.ts";
import { drawLinkScope, halvingsDown, logBetween } from "../draw_params.ts";

/** Each frame hit arrives `durationMs` plus a seeded jitter in [-jitterMs, jitterMs] later. */
export interface LinkDelayEffect {
  kind: "link-delay";
  durationMs: number;
  jitterMs: number;
  link: LinkScope;
}

/** The kind. */
export const linkDelay = defineKind<LinkDelayEffect>({
  kind: "link-delay",
  names: ["delay"],
  family: "link",
  summary:
    "each frame hit arrives that much later, plus a seeded jitter in [-J, J]; frames of one link keep their order",
  params: "`[duration=]DURATION`, `jitter=DURATION`, `[link=]LINK`",
  examples: ["delay:100ms,jitter=20ms,link=n1<->n2", "delay:5ms@net:tcp:2379"],
  persistent: false,
  standing: true,
  claims: (p, trigger) => p.hasLink() || trigger.kind === "frames",
  parse(p) {
    const link = p.link();
    const jitter = p.takeNamed("jitter");
    const duration = p.take("duration", isDuration) ?? p.take("duration", () => true);
    if (duration === undefined) {
      throw new FaultSpecError("delay needs a duration, as in delay:200ms");
    }
    return {
      kind: "link-delay",
      durationMs: parseDuration(duration),
      jitterMs: jitter === undefined ? 0 : parseDuration(jitter),
      link,
    };
  },
  specName: () => "delay",
  format: (e) => [
    `${e.durationMs}ms`,
    ...(e.jitterMs > 0 ? [`jitter=${e.jitterMs}ms`] : []),
    // Always written: a delay without a link would be a block delay.
    `link=${formatLinkScope(e.link)}`,
  ],
  describe: (e) =>
    `frames on ${formatLinkScope(e.link)} arrive ${e.durationMs} ms late${
      e.jitterMs > 0 ? ` (jitter ${e.jitterMs} ms)` : ""
    }`,
  nodes: (e) => scopeNodes(e.link),
  link: {
    links: (e, nodes) => scopeLinks(e.link, nodes),
    act(e, draw) {
      const jitter = e.jitterMs > 0 ? (draw(1) * 2 - 1) * e.jitterMs : 0;
      const ms = Math.max(0, e.durationMs + jitter);
      return { action: { do: "late", ms }, detail: { delayMs: Math.round(ms * 1000) / 1000 } };
    },
  },
  live: {
    states: ["delay"],
    params: ["link", "duration-ms", "jitter-ms"],
    parse: (args) => ({
      kind: "link-delay",
      durationMs: args.required("duration-ms", 0),
      jitterMs: args.number("jitter-ms", 0) ?? 0,
      link: args.link(),
    }),
    args: (e) => ({
      "duration-ms": e.durationMs,
      ...(e.jitterMs > 0 ? { "jitter-ms": e.jitterMs } : {}),
      link: formatLinkScope(e.link),
    }),
  },
  explore: {
    ranges:
      "5 ms to 1 s (log-uniform), no jitter, links as `drop`'s; weakened by halving, down to 5 ms",
    draw: (draw, { nodes, node }) => ({
      kind: "link-delay",
      durationMs: logBetween(draw, 5, 1000),
      jitterMs: 0,
      link: drawLinkScope(draw, nodes, node),
    }),
    weaken: (e) => halvingsDown(e.durationMs, 5).map((durationMs) => ({ ...e, durationMs })),
  },
});
