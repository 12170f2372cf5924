/**
 * The table of history models: each one object, named by `--model`.
 *
 * @module
 */

import { HistoryError } from "../errors.ts";
import type { HistoryModel } from "../model.ts";
import { KV } from "./kv.ts";
import { QUEUE } from "./queue.ts";
import { REGISTER } from "./register.ts";
import { SET } from "./set.ts";

/** Every model, in the order `--help` and the docs list them. */
export const HISTORY_MODELS: readonly HistoryModel[] = [REGISTER, KV, SET, QUEUE];

/** The models' names, as `--model` and {@linkcode checkHistory}'s `model` take them. */
export const HISTORY_MODEL_NAMES: readonly string[] = HISTORY_MODELS.map((model) => model.name);

/**
 * The model named `name`; an unknown name is bad input, naming the models there are.
 *
 * @example
 * ```ts
 * modelNamed("register").kind; // "linearizable"
 * ```
 */
export function modelNamed(name: string): HistoryModel {
  const model = HISTORY_MODELS.find((m) => m.name === name);
  if (model) return model;
  const names = HISTORY_MODELS.map((m) => m.name);
  throw new HistoryError(
    `unknown model "${name}": expected ${names.slice(0, -1).join(", ")} or ${names.at(-1)}`,
  );
}
