/**
 * The `report` command.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { RunError } from "../util/errors.ts";

/**
 * Builds the `report` command.
 *
 * @returns The command.
 */
export function reportCommand(): Command {
  return new Command("report")
    .description("report (not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw new RunError("The report command is not built yet");
    }) as unknown as Command;
}
