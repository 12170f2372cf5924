/**
 * `faultline setup`: installs the Debian packages faultline needs when run as
 * root, or prints the exact command otherwise.
 *
 * @module
 */

import {
  DEBIAN_PACKAGES,
  installCommand,
  installedVersions,
  installPackages,
  isRoot,
} from "../setup/packages.ts";
import { EXIT, MachineryError } from "./errors.ts";

/** Makes sure every package is installed; returns the versions in use. */
export async function ensurePackages(
  options: { quiet: boolean },
): Promise<Record<string, string | null>> {
  let versions = await installedVersions(DEBIAN_PACKAGES);
  const missing = DEBIAN_PACKAGES.filter((name) => versions[name] === null);
  if (missing.length === 0) return versions;
  if (!isRoot()) {
    throw new MachineryError(
      `missing Debian packages ${missing.join(", ")}; install them with:\n  ${
        installCommand(missing)
      }`,
    );
  }
  if (!options.quiet) console.error(`installing ${missing.join(" ")} with apt-get...`);
  await installPackages(missing);
  versions = await installedVersions(DEBIAN_PACKAGES);
  return versions;
}

/** Runs `setup`. */
export async function setupCommand(options: { json: boolean }): Promise<number> {
  const versions = await ensurePackages({ quiet: options.json });
  if (options.json) console.log(JSON.stringify({ packages: versions }));
  else {for (const [name, version] of Object.entries(versions)) {
      console.log(`${name.padEnd(16)} ${version}`);
    }}
  return EXIT.pass;
}
