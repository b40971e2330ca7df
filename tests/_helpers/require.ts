/**
 * Tests that need a system package. A test whose package is missing is
 * registered with `ignore: true`, so Deno reports it as ignored (counted in the
 * summary line), never as passed, and a line on stderr names the package to
 * install. On CI (`BLSBENCH_REQUIRE_ALL=1`) it is not ignored: it runs and
 * fails at its first `needs()`.
 *
 * @module
 */

const requireAll = () => Deno.env.get("BLSBENCH_REQUIRE_ALL") === "1";
const warned = new Set<string>();

/**
 * The `ignore` of a test (or test step) that needs a system package: true when
 * it is missing (the test is reported as ignored), false when it is present, and
 * false with `BLSBENCH_REQUIRE_ALL=1` (the test runs, and `needs()` fails it).
 *
 * @param what The Debian package(s) to install, e.g. `"openmpi-bin libopenmpi-dev"`.
 * @param present Whether the part was found.
 * @returns Whether to ignore the test.
 */
export function ignoreUnless(what: string, present: boolean): boolean {
  if (present || requireAll()) return false;
  if (!warned.has(what)) {
    warned.add(what);
    console.warn(`ignored: install ${what} to run the tests that need it`);
  }
  return true;
}

/**
 * Fails the running test when its system package is missing (a test that was
 * not ignored must have it, or run under `BLSBENCH_REQUIRE_ALL=1`).
 *
 * @param what The Debian package(s) to install.
 * @param present Whether the part was found.
 * @throws Error naming the package when it is missing.
 */
export function needs(what: string, present: boolean): void {
  if (!present) {
    throw new Error(
      `Missing system package: install ${what}` + (requireAll() ? " (BLSBENCH_REQUIRE_ALL=1)" : ""),
    );
  }
}

/**
 * Whether `python3` imports the given modules (checked once per list).
 *
 * @param modules Comma-separated module names, e.g. `"numpy, zipfile"`.
 * @returns true when the import succeeds.
 */
export function pythonHas(modules: string): boolean {
  try {
    return new Deno.Command("/usr/bin/python3", {
      args: ["-c", `import ${modules}`],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
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
