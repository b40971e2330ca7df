/**
 * Single-rank DLRM forward throughput: this suite's OpenBLAS and TypeScript
 * kernels against PyTorch's CPU forward (bench/peers/dlrm_torch.py) of the same
 * architecture, weights and batch. PyTorch runs as a server process so that the
 * three are measured interleaved, round after round, in one run: a busy shared
 * machine then slows all of them alike. Prints Markdown for docs/dlrm.md.
 *
 *     deno run -A bench/peers/dlrm_forward.ts [--batch 2048] [--max-ind-range 100000]
 *       [--rounds 15] [--reps 3] [--pooling 1] [--python /usr/bin/python3]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeNpz } from "../../datasets/npz.ts";
import { type NpyArray, parseNpy } from "../../datasets/npy.ts";
import {
  architecture,
  DlrmModel,
  initWeights,
  loadKernels,
  saveWeights,
  synthesizeDataset,
} from "../../dlrm/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    batch: { type: "string", default: "2048" },
    "max-ind-range": { type: "string", default: "100000" },
    rounds: { type: "string", default: "15" },
    reps: { type: "string", default: "3" },
    pooling: { type: "string", default: "1" },
    python: { type: "string", default: "/usr/bin/python3" },
    seed: { type: "string", default: "1" },
  },
});
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const reps = Number(values.reps);
const seed = Number(values.seed);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const config = architecture("kaggle", { maxIndRange: Number(values["max-ind-range"]) });
const weights = initWeights(config, seed);
const data = synthesizeDataset({ config, rows: batch, seed, pooling: Number(values.pooling) });
const dir = await Deno.makeTempDir({ prefix: "dlrm-forward-" });

await saveWeights(`${dir}/weights.npz`, weights);
const arrays = new Map<string, NpyArray>([
  ["dense", { dtype: "<f4", shape: [batch, config.bottomLayers[0]], data: data.dense }],
]);
data.sparse.forEach((f, t) => {
  arrays.set(`offsets_${t}`, { dtype: "<i4", shape: [f.offsets.length], data: f.offsets });
  arrays.set(`indices_${t}`, { dtype: "<i4", shape: [f.indices.length], data: f.indices });
});
await writeNpz(`${dir}/batch.npz`, arrays);

const torch = new Deno.Command(values.python!, {
  args: [
    new URL("./dlrm_torch.py", import.meta.url).pathname,
    `${dir}/weights.npz`,
    `${dir}/batch.npz`,
    "--serve",
    "--warmup",
    "3",
    "--out",
    `${dir}/torch.npy`,
  ],
  env: { OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
  stdin: "piped",
  stdout: "piped",
}).spawn();
const reader = torch.stdout.pipeThrough(new TextDecoderStream()).getReader();
const writer = torch.stdin.getWriter();
let pending = "";
const nextLine = async (): Promise<string> => {
  while (!pending.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the PyTorch peer stopped");
    pending += value;
  }
  const at = pending.indexOf("\n");
  const line = pending.slice(0, at);
  pending = pending.slice(at + 1);
  return line;
};
const torchInfo = JSON.parse(await nextLine());
const torchPredictions = parseNpy(await Deno.readFile(`${dir}/torch.npy`)).data as Float32Array;

const blas = new DlrmModel(weights, loadKernels({ backend: "openblas" }));
const ts = new DlrmModel(weights, loadKernels({ backend: "typescript" }));
const times = { blas: [] as number[], ts: [] as number[], torch: [] as number[] };
const outputs = {
  blas: new Float32Array(0) as Float32Array,
  ts: new Float32Array(0) as Float32Array,
};
const time = (model: DlrmModel, n: number, into: number[] | undefined) => {
  let out = new Float32Array(0) as Float32Array;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    out = model.forward(data, 0, batch);
    into?.push(performance.now() - t0);
  }
  return out;
};
time(blas, 3, undefined); // warm-up
time(ts, 1, undefined);
for (let round = 0; round < rounds; round++) {
  // Alternate one forward at a time so that both see the same machine load.
  for (let i = 0; i < reps; i++) {
    outputs.blas = time(blas, 1, times.blas);
    await writer.write(new TextEncoder().encode("1\n"));
    times.torch.push(...JSON.parse(await nextLine()));
  }
  outputs.ts = time(ts, 1, times.ts);
}
await writer.write(new TextEncoder().encode("\n"));
await writer.close();
await torch.status;

// Where the OpenBLAS forward's time goes: the three steps forward() runs.
const parts = { lookups: [] as number[], bottom: [] as number[], top: [] as number[] };
const tables = config.tableSizes.map((_, t) => t);
const d = config.embeddingDim;
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  const pooled = blas.lookup(data, tables, 0, batch);
  const t1 = performance.now();
  const bottom = blas.bottom(data, 0, batch);
  const t2 = performance.now();
  blas.top(
    bottom,
    tables.map((t) => ({ data: pooled, offset: t * d, stride: tables.length * d })),
    batch,
  );
  const t3 = performance.now();
  parts.lookups.push(t1 - t0);
  parts.bottom.push(t2 - t1);
  parts.top.push(t3 - t2);
}
await Deno.remove(dir, { recursive: true });

const maxDiff = (p: Float32Array) => {
  let m = 0;
  for (let i = 0; i < batch; i++) m = Math.max(m, Math.abs(p[i] - torchPredictions[i]));
  return m;
};
const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(
  /model name\s*:\s*(.*)/,
)?.[1];
const torchMedian = median(times.torch);
const torchBest = Math.min(...times.torch);
const row = (name: string, ms: number[], diff: string) => {
  const m = median(ms);
  const best = Math.min(...ms);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  return `| ${name} | ${m.toFixed(1)} | ${Math.round((batch / m) * 1000)} | ${
    ratio(torchMedian, m)
  } | ` +
    `${best.toFixed(1)} | ${ratio(torchBest, best)} | ${diff} |`;
};
console.log(
  `Kaggle DLRM forward, batch ${batch}, tables capped at ${
    values["max-ind-range"]
  } rows, pooling ${values.pooling}, one thread each; ${rounds} interleaved rounds ` +
    `(${reps} times one OpenBLAS then one PyTorch forward, then one TypeScript forward, per round); ${
      cpu ?? "unknown CPU"
    }, ` +
    `${navigator.hardwareConcurrency} cores; Deno ${Deno.version.deno}, PyTorch ${torchInfo.torch}.\n`,
);
console.log(
  "| forward | median ms / batch | samples/s (median) | vs PyTorch (median) | best ms | vs PyTorch (best) | max abs diff vs PyTorch |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|");
console.log(
  row(
    `blsbench, ${blas.kernels.description}`,
    times.blas,
    maxDiff(outputs.blas).toExponential(1),
  ),
);
console.log(
  row("blsbench, TypeScript kernels", times.ts, maxDiff(outputs.ts).toExponential(1)),
);
console.log(row(`PyTorch ${torchInfo.torch} CPU (${torchInfo.threads} thread)`, times.torch, "0"));
console.log(
  `\nOpenBLAS forward by step (medians): embedding lookups ${
    median(parts.lookups).toFixed(1)
  } ms, ` +
    `bottom MLP ${median(parts.bottom).toFixed(1)} ms, interaction + top MLP ${
      median(parts.top).toFixed(1)
    } ms.`,
);
