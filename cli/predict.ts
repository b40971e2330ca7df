/**
 * The `predict` command.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { RunError } from "../util/errors.ts";

/**
 * Builds the `predict` command.
 *
 * @returns The command.
 */
export function predictCommand(): Command {
  return new Command("predict")
    .description("predict (not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw new RunError("The predict command is not built yet");
    }) as unknown as Command;
}
