/**
 * Where a rank is in a run, in words, for error messages and progress lines.
 *
 * @module
 */

import type { CommPosition } from "../../collectives/communicator.ts";
import type { Configuration } from "../config.ts";
import { formatDelaySpec } from "../models/delay.ts";
import { formatImbalanceSpec } from "../models/imbalance.ts";

/**
 * Says where in a configuration a rank is, for error messages.
 *
 * @example An iteration of the timed loop
 * ```ts
 * import { describePosition } from "./_describe.ts";
 * const where = describePosition({ warmup: 10 }, {
 *   collective: 2, iterations: 100, started: 58, draining: false,
 * });
 * if (where !== " at iteration 57 of 100") throw new Error(where);
 * ```
 *
 * @param conf The configuration (its warm-up count tells warm-up from timed).
 * @param pos The communication position, if any exchange started.
 * @returns A phrase starting with a space, or "" when there is nothing to say.
 */
export function describePosition(
  conf: Pick<Configuration, "warmup">,
  pos: CommPosition | undefined,
): string {
  if (!pos) return "";
  if (pos.control) return ` in the ${pos.control}`;
  const warm = conf.warmup > 0 && pos.collective === 1;
  const label = warm ? "warm-up iteration" : "iteration";
  if (pos.done) return ` after its last ${label} (${pos.iterations - 1})`;
  if (pos.draining) return ` while draining after ${label} ${pos.iterations - 1}`;
  if (pos.started === 0) return ` before ${label} 0`;
  return ` at ${label} ${pos.started - 1} of ${pos.iterations}`;
}

/** Describes a configuration for messages and progress lines. */
export function describeConfiguration(conf: Configuration): string {
  const parts = [`lag ${conf.lag}`];
  if (conf.sizeBytes !== null) parts.push(`${conf.sizeBytes} B`);
  if (conf.imbalance.kind !== "none") {
    parts.push(`imbalance ${formatImbalanceSpec(conf.imbalance)}`);
  }
  if (conf.delay.kind !== "none") parts.push(`delay ${formatDelaySpec(conf.delay)}`);
  if (conf.calibration) parts.push("calibration");
  return parts.join(", ");
}
