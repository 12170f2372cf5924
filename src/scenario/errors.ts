/**
 * The scenario subsystem's error.
 *
 * @module
 */

/** A scenario file that is missing or wrong; the message names the file and each field at fault. */
export class ScenarioError extends Error {
  override name = "ScenarioError";
}
