import assert from "node:assert/strict";
import { exists, ignoreUnless, needs } from "./_helpers/require.ts";
import { testKernels } from "./_helpers/dlrm_helpers.ts";
import { architecture } from "../dlrm/config.ts";
import { DlrmModel } from "../dlrm/model.ts";
import { synthesizeDataset } from "../dlrm/synthetic.ts";
import { initWeights, loadWeights, saveWeights } from "../dlrm/weights.ts";
import { writeNpz } from "../datasets/npz.ts";
import { type NpyArray, parseNpy } from "../datasets/npy.ts";

const PYTHON = "/usr/bin/python3";

function torchPresent(): boolean {
  if (!exists(PYTHON)) return false;
  return new Deno.Command(PYTHON, { args: ["-c", "import torch"], stderr: "null", stdout: "null" })
    .outputSync().success;
}

// The three lines docs/dlrm.md gives for turning a reference DLRM checkpoint into weights.
const CONVERT = [
  "import torch, numpy as np",
  'sd = torch.load("dlrm.pt", map_location="cpu")["state_dict"]',
  'np.savez("weights.npz", **{k: v.float().numpy() for k, v in sd.items()})',
].join("\n");

const TORCH = torchPresent();

Deno.test({
  name:
    "a PyTorch DLRM checkpoint converted with the documented snippet loads and predicts as PyTorch does",
  ignore: ignoreUnless("python3-torch", TORCH),
  async fn() {
    needs("python3-torch", TORCH);
    const dir = await Deno.makeTempDir();
    try {
      const config = architecture("kaggle", { maxIndRange: 200 });
      const data = synthesizeDataset({ config, rows: 50, seed: 6, pooling: 1.7 });
      await saveWeights(`${dir}/init.npz`, initWeights(config, 13));
      const batch = new Map<string, NpyArray>([
        ["dense", { dtype: "<f4", shape: [50, 13], data: data.dense }],
      ]);
      data.sparse.forEach((f, t) => {
        batch.set(`offsets_${t}`, { dtype: "<i4", shape: [f.offsets.length], data: f.offsets });
        batch.set(`indices_${t}`, { dtype: "<i4", shape: [f.indices.length], data: f.indices });
      });
      await writeNpz(`${dir}/batch.npz`, batch);
      const peers = new URL("../bench/peers", import.meta.url).pathname;
      // Build the PyTorch model, save a checkpoint as dlrm_s_pytorch.py does, predict the batch.
      const build = [
        "import sys, numpy as np, torch",
        `sys.path.insert(0, ${JSON.stringify(peers)})`,
        "from dlrm_torch import Dlrm",
        "m = Dlrm(dict(np.load('init.npz'))).eval()",
        "torch.save({'state_dict': m.state_dict()}, 'dlrm.pt')",
        "d = np.load('batch.npz'); T = 26",
        "off = [torch.from_numpy(d[f'offsets_{t}'][:-1].astype(np.int64)) for t in range(T)]",
        "ind = [torch.from_numpy(d[f'indices_{t}'].astype(np.int64)) for t in range(T)]",
        "with torch.inference_mode(): p = m(torch.from_numpy(d['dense']), off, ind)",
        "np.save('torch.npy', p.numpy().reshape(-1))",
      ].join("\n");
      for (const script of [build, CONVERT]) {
        const out = await new Deno.Command(PYTHON, { args: ["-c", script], cwd: dir }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
      }
      const weights = await loadWeights(`${dir}/weights.npz`);
      assert.deepEqual(weights.config, config);
      const ours = new DlrmModel(weights, testKernels()).forward(data, 0, 50);
      const theirs = parseNpy(await Deno.readFile(`${dir}/torch.npy`)).data as Float32Array;
      for (let i = 0; i < 50; i++) {
        assert.ok(
          Math.abs(ours[i] - theirs[i]) <= 1e-6,
          `row ${i}: ${ours[i]} vs PyTorch ${theirs[i]}`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
