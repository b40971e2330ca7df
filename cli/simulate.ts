/**
 * The `simulate` command.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { RunError } from "../util/errors.ts";

/**
 * Builds the `simulate` command.
 *
 * @returns The command.
 */
export function simulateCommand(): Command {
  return new Command("simulate")
    .description("simulate (not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw new RunError("The simulate command is not built yet");
    }) as unknown as Command;
}
