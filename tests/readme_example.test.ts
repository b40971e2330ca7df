import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

Deno.test("the README's library example runs and prints what it says", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.slice(readme.indexOf("## Library"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "the Library section has a ts block");
  const expected = /console\.log\(results\[1\]\); \/\/ (.*)/.exec(code)?.[1];
  assert.ok(expected);
  // The example imports ./mod.ts, so it runs from the repository root.
  const file = new URL(`.readme-example-${crypto.randomUUID().slice(0, 8)}.ts`, ROOT);
  await Deno.writeTextFile(file, code);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file.pathname],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const printed = new TextDecoder().decode(out.stdout).replace(/\s+/g, " ").trim();
    assert.equal(printed.replaceAll('"', "'"), expected.replaceAll('"', "'").replace(/\s+/g, " "));
  } finally {
    await Deno.remove(file).catch(() => {});
  }
});
