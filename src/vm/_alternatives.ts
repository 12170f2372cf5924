/**
 * Debian's alternatives (`/usr/bin/awk` -> `/usr/bin/mawk`) that packages' maintainer
 * scripts install with `update-alternatives --install`, read from the scripts: `dpkg -x`
 * runs none of them, so a package root would otherwise have no `awk`, `which` or `pager`.
 * Only literal calls count (a line that builds its arguments from variables is skipped);
 * of several alternatives for one name, the one of the highest priority wins, as in
 * update-alternatives' automatic mode. Slave links (manual pages) are left out.
 *
 * @module
 */

/** One `update-alternatives --install LINK NAME PATH PRIORITY`. */
export interface Alternative {
  /** The generic name's link, such as `/usr/bin/awk`. */
  link: string;
  /** The generic name, such as `awk`. */
  name: string;
  /** What it points to, such as `/usr/bin/mawk`. */
  path: string;
  /** Its priority. */
  priority: number;
}

/**
 * The alternatives a maintainer script installs with literal arguments.
 *
 * @example
 * ```ts
 * alternativesIn("update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\\n --slave a b c\n");
 * // [{ link: "/usr/bin/awk", name: "awk", path: "/usr/bin/mawk", priority: 5 }]
 * ```
 */
export function alternativesIn(script: string): Alternative[] {
  const joined = script.replace(/\\\n/g, " ");
  const found: Alternative[] = [];
  for (const line of joined.split("\n")) {
    const match =
      /(?:^|[\s;&|])update-alternatives\s+(?:--quiet\s+)?--install\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)(?=\s|$)/
        .exec(line);
    if (!match) continue;
    const [, link, name, path] = match;
    if ([link, name, path].some((word) => /[$`"'\\*?]/.test(word))) continue;
    if (!link.startsWith("/") || !path.startsWith("/")) continue;
    found.push({ link, name, path, priority: Number(match[4]) });
  }
  return found;
}

/**
 * The alternative that wins for each name (the highest priority; on a tie, the first
 * given), sorted by name.
 *
 * @example
 * ```ts
 * chooseAlternatives([{ link: "/usr/bin/pager", name: "pager", path: "/bin/more", priority: 50 },
 *   { link: "/usr/bin/pager", name: "pager", path: "/usr/bin/less", priority: 77 }]);
 * // [{ link: "/usr/bin/pager", name: "pager", path: "/usr/bin/less", priority: 77 }]
 * ```
 */
export function chooseAlternatives(all: readonly Alternative[]): Alternative[] {
  const best = new Map<string, Alternative>();
  for (const alternative of all) {
    const current = best.get(alternative.name);
    if (!current || alternative.priority > current.priority) {
      best.set(alternative.name, alternative);
    }
  }
  return [...best.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
