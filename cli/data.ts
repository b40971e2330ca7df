/**
 * The `data` command.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { RunError } from "../util/errors.ts";

/**
 * Builds the `data` command.
 *
 * @returns The command.
 */
export function dataCommand(): Command {
  return new Command("data")
    .description("data (not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw new RunError("The data command is not built yet");
    }) as unknown as Command;
}
