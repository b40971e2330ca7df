import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

Deno.test("the README's two-process library example runs and prints what it says", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.slice(readme.indexOf("## Library"));
  // The block is marked `ignore` for `deno test --doc`: it needs two processes, started here.
  const code = /```ts ignore\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "the Library section has a ts block");
  const expected = /console\.log\(rank, got\); \/\/ 1 (.*)/.exec(code)?.[1];
  assert.ok(expected);
  // The example imports the package by name, which resolves inside this repository.
  const file = new URL(`.readme-example-${crypto.randomUUID().slice(0, 8)}.ts`, ROOT);
  await Deno.writeTextFile(file, code);
  const port = String(30000 + Math.floor(Math.random() * 20000));
  try {
    const run = (rank: number) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", file.pathname, String(rank)],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", MASTER_PORT: port },
      }).output();
    const first = run(0);
    await new Promise((r) => setTimeout(r, 300));
    const outs = await Promise.all([first, run(1)]);
    outs.forEach((o, r) =>
      assert.equal(o.code, 0, `rank ${r}: ${new TextDecoder().decode(o.stderr)}`)
    );
    const printed = new TextDecoder().decode(outs[1].stdout).replace(/\s+/g, " ").trim();
    const want = `1 ${expected}`.replaceAll('"', "'").replace(/\s+/g, " ");
    assert.equal(printed.replaceAll('"', "'"), want);
    const rank0 = new TextDecoder().decode(outs[0].stdout);
    assert.equal(
      rank0.replace(/\s+/g, " ").trim(),
      '0 [ "0:1->0", "1:1->0", "2:1->0", "3:1->0", "4:1->0" ]',
    );
  } finally {
    await Deno.remove(file).catch(() => {});
  }
});
