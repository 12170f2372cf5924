/**
 * Debian's headless Chromium, rendering a local page with no network: for tests that
 * look at a report as a person would. Absent Chromium, tests skip, saying why.
 *
 * @module
 */

import { type Ran, run } from "./process.ts";

/** Where Debian installs it (`apt-get install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed. */
export const hasChromium: boolean = await Deno.stat(CHROMIUM).then(() => true, () => false);

/** The flags of a headless Chromium that renders a local file with no network. */
export function chromiumArgs(profile: string): string[] {
  return [
    "--headless",
    "--no-sandbox", // root in a container: Chromium refuses to start sandboxed.
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-features=NetworkTimeServiceQuerying",
    "--hide-scrollbars",
    // Chromium 156 still asks update.googleapis.com and accounts.google.com despite the flags
    // above: no host resolves, so nothing leaves the machine (and the page's CSP loads nothing).
    "--host-resolver-rules=MAP * ~NOTFOUND",
    `--user-data-dir=${profile}`,
  ];
}

/** Runs Chromium with these arguments (90 s at most). */
export function chromium(args: string[]): Promise<Ran> {
  return run(CHROMIUM, args, { timeoutMs: 90_000 });
}
