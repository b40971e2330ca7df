/**
 * The `figures` command.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { RunError } from "../util/errors.ts";

/**
 * Builds the `figures` command.
 *
 * @returns The command.
 */
export function figuresCommand(): Command {
  return new Command("figures")
    .description("figures (not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw new RunError("The figures command is not built yet");
    }) as unknown as Command;
}
