#!/usr/bin/env python3
"""PyTorch CPU forward of a DLRM, the peer for blsbench's single-rank forward benchmark.

Reads weights with PyTorch DLRM state_dict names (emb_l.J.weight, bot_l.I.weight/bias,
top_l.I.weight/bias) and one batch (dense [B, n] float32; per table offsets_J/indices_J int32)
from .npz files written by bench/peers/dlrm_forward.ts, builds the model the way the reference
dlrm_s_pytorch.py does (EmbeddingBag sum, Linear+ReLU bottom, dot interaction without
self-interaction, Linear+ReLU top with a sigmoid at the end), times the forward pass and prints
one JSON line. Usage:

    python3 dlrm_torch.py WEIGHTS.npz BATCH.npz [--reps N] [--warmup N] [--threads T] [--out P.npy]
        [--serve]

With --serve it prints "ready", then for each line N read on stdin runs N timed forwards and
prints their times in ms as a JSON list, so a driver can interleave its own runs with PyTorch's
on a busy machine; an empty line or end of input stops it.
"""
import sys
import argparse
import json
import statistics
import time

import numpy as np
import torch
from torch import nn


class Dlrm(nn.Module):
    def __init__(self, arrays):
        super().__init__()
        tables = sorted(
            (int(k.split(".")[1]), v) for k, v in arrays.items() if k.startswith("emb_l.")
        )
        self.emb_l = nn.ModuleList()
        for _, w in tables:
            bag = nn.EmbeddingBag(w.shape[0], w.shape[1], mode="sum")
            bag.weight.data = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
            self.emb_l.append(bag)
        self.bot_l = self._mlp(arrays, "bot_l", last_relu=True)
        self.top_l = self._mlp(arrays, "top_l", last_relu=False)
        features = len(tables) + 1
        pairs = [(i, j) for i in range(features) for j in range(i)]
        self.li = torch.tensor([i for i, _ in pairs])
        self.lj = torch.tensor([j for _, j in pairs])

    @staticmethod
    def _mlp(arrays, prefix, last_relu):
        count = len([k for k in arrays if k.startswith(prefix) and k.endswith(".weight")])
        layers = []
        for i in range(count):
            w = arrays[f"{prefix}.{2 * i}.weight"]
            lin = nn.Linear(w.shape[1], w.shape[0], bias=True)
            lin.weight.data = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
            lin.bias.data = torch.from_numpy(
                np.ascontiguousarray(arrays[f"{prefix}.{2 * i}.bias"], dtype=np.float32)
            )
            layers.append(lin)
            if i < count - 1 or last_relu:
                layers.append(nn.ReLU())
        if not last_relu:
            layers.append(nn.Sigmoid())
        return nn.Sequential(*layers)

    def forward(self, dense, offsets, indices):
        x = self.bot_l(dense)
        ly = [bag(indices[t], offsets[t]) for t, bag in enumerate(self.emb_l)]
        batch, d = x.shape
        z = torch.cat([x] + ly, dim=1).view(batch, -1, d)
        zz = torch.bmm(z, torch.transpose(z, 1, 2))
        r = torch.cat([x, zz[:, self.li, self.lj]], dim=1)
        return self.top_l(r)


def timed(model, dense, offsets, indices, n):
    times = []
    out = None
    with torch.inference_mode():
        for _ in range(n):
            start = time.perf_counter()
            out = model(dense, offsets, indices)
            times.append((time.perf_counter() - start) * 1000)
    return times, out


def serve(model, dense, offsets, indices, args):
    _, out = timed(model, dense, offsets, indices, max(1, args.warmup))
    if args.out:
        np.save(args.out, out.numpy().reshape(-1))
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        times, _ = timed(model, dense, offsets, indices, int(line))
        print(json.dumps(times), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("weights")
    parser.add_argument("batch")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out")
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    weights = dict(np.load(args.weights))
    data = np.load(args.batch)
    tables = len([k for k in weights if k.startswith("emb_l.")])
    dense = torch.from_numpy(data["dense"])
    # EmbeddingBag wants int64 indices; the bags' last offset is implied.
    offsets = [torch.from_numpy(data[f"offsets_{t}"][:-1].astype(np.int64)) for t in range(tables)]
    indices = [torch.from_numpy(data[f"indices_{t}"].astype(np.int64)) for t in range(tables)]
    model = Dlrm(weights).eval()
    if args.serve:
        serve(model, dense, offsets, indices, args)
        return
    times = []
    with torch.inference_mode():
        for rep in range(args.warmup + args.reps):
            start = time.perf_counter()
            out = model(dense, offsets, indices)
            elapsed = time.perf_counter() - start
            if rep >= args.warmup:
                times.append(elapsed * 1000)
    if args.out:
        np.save(args.out, out.numpy().reshape(-1))
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "reps": len(times),
    }))


if __name__ == "__main__":
    main()
