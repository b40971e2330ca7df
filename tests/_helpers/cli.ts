/**
 * Running the command line as a user would, in a process of its own.
 *
 * @module
 */

/** The command line's entry point. */
export const CLI_PATH = new URL("../../cli.ts", import.meta.url).pathname;

/** What a finished command printed and how it exited. */
export interface CliResult {
  /** The exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/**
 * Runs `deno run -A cli.ts ARGS...` and waits for it.
 *
 * @param args The arguments after `cli.ts`.
 * @returns Its exit code and output.
 */
export async function runCli(args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI_PATH, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
