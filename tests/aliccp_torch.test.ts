import assert from "node:assert/strict";
import { runPredictCli } from "./_helpers/dlrm_helpers.ts";
import { exists, ignoreUnless, needs } from "./_helpers/require.ts";
import { architecture } from "../dlrm/config.ts";
import { initWeights, saveWeights } from "../dlrm/weights.ts";
import { readAliCcpCsv } from "../datasets/aliccp.ts";
import { parseNpy } from "../datasets/npy.ts";

const PYTHON = "/usr/bin/python3";
const PEERS = new URL("../bench/peers", import.meta.url).pathname;

function torchAndPandasPresent(): boolean {
  if (!exists(PYTHON)) return false;
  return new Deno.Command(PYTHON, {
    args: ["-c", "import torch, pandas"],
    stderr: "null",
    stdout: "null",
  }).outputSync().success;
}

/** An Ali-CCP CSV (torch-rechub form) whose ids are label-encoded but not in first-appearance order. */
function csvText(rows: number): string {
  const lines = ["click,purchase,101,205,210,D508,D509"];
  let s = 12345;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  for (let r = 0; r < rows; r++) {
    // Large ids early, small ones later: a first-appearance remap would change every id.
    const a = r === 0 ? 29 : next(30);
    const b = r === 0 ? 11 : next(12);
    const c = next(7) + 3;
    lines.push(`${next(2)},0,${a},${b},${c},${(next(100) / 10).toFixed(1)},${next(5)}`);
  }
  return lines.join("\n") + "\n";
}

const TORCH_AND_PANDAS = torchAndPandasPresent();

Deno.test({
  name:
    "predict on an Ali-CCP CSV uses its ids as given: the same probabilities as a PyTorch DLRM with max id + 1 rows per table",
  ignore: ignoreUnless("python3-torch and python3-pandas", TORCH_AND_PANDAS),
  async fn() {
    needs("python3-torch and python3-pandas", TORCH_AND_PANDAS);
    const dir = await Deno.makeTempDir();
    try {
      const rows = 120;
      const data = `${dir}/ali_ccp_test.csv`;
      await Deno.writeTextFile(data, csvText(rows));
      const dataset = await readAliCcpCsv(data);
      assert.deepEqual(dataset.tableSizes, [30, 12, 10]);
      const config = architecture("tiny", { dataset });
      await saveWeights(`${dir}/w.npz`, initWeights(config, 5));
      // PyTorch reads the CSV itself (pandas) and looks up the ids as written;
      // it also predicts with the ids renumbered in first-appearance order, the
      // old reading, to show that the file tells the two apart.
      const script = [
        "import sys, numpy as np, pandas as pd, torch",
        `sys.path.insert(0, ${JSON.stringify(PEERS)})`,
        "from dlrm_torch import Dlrm",
        "m = Dlrm(dict(np.load('w.npz'))).eval()",
        "df = pd.read_csv('ali_ccp_test.csv')",
        "dense = torch.from_numpy(df[['D508', 'D509']].to_numpy(np.float32))",
        "cols = ['101', '205', '210']",
        "off = [torch.arange(len(df), dtype=torch.int64) for _ in cols]",
        "def run(ids):",
        "    with torch.inference_mode(): return m(dense, off, ids).numpy().reshape(-1)",
        "given = [torch.from_numpy(df[c].to_numpy(np.int64)) for c in cols]",
        "remapped = [torch.from_numpy(pd.factorize(df[c])[0].astype(np.int64)) for c in cols]",
        "np.save('given.npy', run(given)); np.save('remapped.npy', run(remapped))",
      ].join("\n");
      const py = await new Deno.Command(PYTHON, { args: ["-c", script], cwd: dir }).output();
      assert.ok(py.success, new TextDecoder().decode(py.stderr));
      const given = parseNpy(await Deno.readFile(`${dir}/given.npy`)).data as Float32Array;
      const remapped = parseNpy(await Deno.readFile(`${dir}/remapped.npy`)).data as Float32Array;
      const out = `${dir}/preds.csv`;
      const r = await runPredictCli(
        data,
        `${dir}/w.npz`,
        out,
        "--ranks",
        "2",
        "--batch-size",
        "32",
      );
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      const ours = (await Deno.readTextFile(out)).trim().split("\n").slice(1).map((l) =>
        Number(l.split(",")[1])
      );
      assert.equal(ours.length, rows);
      let worstRemapped = 0;
      for (let i = 0; i < rows; i++) {
        assert.ok(
          Math.abs(ours[i] - given[i]) <= 1e-6,
          `row ${i}: ${ours[i]} vs PyTorch ${given[i]}`,
        );
        worstRemapped = Math.max(worstRemapped, Math.abs(ours[i] - remapped[i]));
      }
      assert.ok(worstRemapped > 1e-4, `renumbered ids give the same output (${worstRemapped})`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("predict on an Ali-CCP CSV with an id beyond the weights' table exits 2 naming FILE:LINE and the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/ali_ccp_test.csv`;
    await Deno.writeTextFile(
      data,
      "click,purchase,101,205,D508\n1,0,3,1,0.5\n0,0,2,9,1.5\n1,0,1,0,2\n",
    );
    const dataset = await readAliCcpCsv(data, { tableRows: [4, 10] });
    assert.deepEqual(dataset.tableSizes, [4, 10]);
    // Tables sized for the first line only: 205 has 2 rows, line 3 uses id 9.
    const small = { ...dataset, tableSizes: [4, 2] };
    await saveWeights(`${dir}/w.npz`, initWeights(architecture("tiny", { dataset: small }), 1));
    const r = await runPredictCli(data, `${dir}/w.npz`, `${dir}/p.csv`);
    const stderr = new TextDecoder().decode(r.stderr).trim();
    assert.equal(r.code, 2, stderr);
    assert.equal(stderr.split("\n").length, 1, stderr);
    assert.equal(
      stderr,
      `error: ${data}:3: field 205 has id 9 but its table has 2 rows`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
