/**
 * Tests that need a system package: on CI (`BLSBENCH_REQUIRE_ALL=1`) a missing
 * package fails the test; on a user's machine the test is skipped with a message
 * naming the package to install.
 *
 * @module
 */

/**
 * Decides whether a test that needs a system part runs.
 *
 * @param what The Debian package(s) to install, e.g. `"openmpi-bin libopenmpi-dev"`.
 * @param present Whether the part was found.
 * @returns true to run the test; false to skip it (a message was printed).
 * @throws Error when the part is missing and `BLSBENCH_REQUIRE_ALL=1`.
 */
export function needs(what: string, present: boolean): boolean {
  if (present) return true;
  if (Deno.env.get("BLSBENCH_REQUIRE_ALL") === "1") {
    throw new Error(`Missing system package: install ${what} (BLSBENCH_REQUIRE_ALL=1)`);
  }
  console.warn(`skipped: install ${what} to run this test`);
  return false;
}

/**
 * Whether a file exists.
 *
 * @param path The path.
 * @returns true when it exists.
 */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
