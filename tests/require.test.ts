/** A test whose system package is missing is ignored (never passed), unless BLSBENCH_REQUIRE_ALL=1. */

import { equal, match } from "node:assert/strict";

const REQUIRE = new URL("./_helpers/require.ts", import.meta.url).href;

/** Runs `deno test` on a file with one test needing a package that is missing. */
async function runMissing(requireAll: boolean) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/needs_missing.test.ts`,
      `import { ignoreUnless, needs } from "${REQUIRE}";
Deno.test({ name: "needs a missing package", ignore: ignoreUnless("no-such-package", false) }, () => {
  needs("no-such-package", false);
});
Deno.test("needs nothing", () => {});
`,
    );
    // Set either way: CI runs the suite itself with BLSBENCH_REQUIRE_ALL=1, which the child would inherit.
    const env: Record<string, string> = {
      NO_COLOR: "1",
      BLSBENCH_REQUIRE_ALL: requireAll ? "1" : "0",
    };
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", `${dir}/needs_missing.test.ts`],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a missing system package: the test is reported as ignored, the package named", async () => {
  const { code, text } = await runMissing(false);
  equal(code, 0, text);
  match(text, /ok \| 1 passed \| 0 failed \| 1 ignored/);
  match(text, /ignored: install no-such-package/);
});

Deno.test("a missing system package with BLSBENCH_REQUIRE_ALL=1: the test fails", async () => {
  const { code, text } = await runMissing(true);
  equal(code, 1, text);
  match(text, /Missing system package: install no-such-package \(BLSBENCH_REQUIRE_ALL=1\)/);
  match(text, /1 passed \| 1 failed/);
});
