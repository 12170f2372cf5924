/**
 * The disk service's errors, under one root.
 *
 * @module
 */

/** A disk service that cannot start: a missing or unsuitable image, a duplicate name. */
export class ServiceError extends Error {
  override name = "ServiceError";
}
