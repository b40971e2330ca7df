import assert from "node:assert/strict";
import { startRendezvousStore } from "../transports/rendezvous.ts";

async function run(mode: "thread" | "inline") {
  const token = crypto.randomUUID();
  const store = await startRendezvousStore({ token });
  try {
    const script = new URL("./ranks/progress_rank.ts", import.meta.url).pathname;
    const procs = [0, 1].map((rank) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, mode, String(rank), String(store.address.port), token],
        stdout: "piped",
        stderr: "inherit",
      }).output()
    );
    const outs = await Promise.all(procs);
    outs.forEach((o, r) => assert.equal(o.code, 0, `rank ${r} failed`));
    const [a, b] = outs.map((o) => JSON.parse(new TextDecoder().decode(o.stdout).trim()));
    return {
      fourthReceived: a.fourthReceived as number,
      spinEnd: b.spinEnd as number,
      spinStart: b.spinStart as number,
    };
  } finally {
    await store.close();
  }
}

Deno.test("progress thread: a rank spinning 800 ms still delivers 4 iterations of 4 MiB to a lag-4 peer", async () => {
  const r = await run("thread");
  assert.ok(
    r.fourthReceived < r.spinEnd,
    `with a progress thread the sender had all 4 iterations ${
      (r.spinEnd - r.fourthReceived).toFixed(0)
    } ms before the spin ended`,
  );
});

Deno.test("inline progress (documented): the spinning rank holds its peer up until the spin ends", async () => {
  const r = await run("inline");
  assert.ok(
    r.fourthReceived >= r.spinEnd - 1,
    `inline: the sender got the 4th iteration ${
      (r.fourthReceived - r.spinEnd).toFixed(0)
    } ms after the spin ended`,
  );
});
