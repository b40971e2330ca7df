/**
 * The `bench` command.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { RunError } from "../util/errors.ts";

/**
 * Builds the `bench` command.
 *
 * @returns The command.
 */
export function benchCommand(): Command {
  return new Command("bench")
    .description("bench (not built yet)")
    .allowUnknownOption()
    .action(() => {
      throw new RunError("The bench command is not built yet");
    }) as unknown as Command;
}
