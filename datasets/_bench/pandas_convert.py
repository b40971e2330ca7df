"""The pandas baseline for `data convert`: read_csv + factorize + savez.

Usage: python3 pandas_convert.py INPUT.txt OUTPUT.npz [--strings]
Prints one JSON line with the seconds taken (reading, factorizing, saving).

By default categorical values are parsed as hex numbers before factorizing, so
the output equals DLRM's (and blsbench's) exactly. With --strings the hex strings
are factorized as they are (empty filled with "00000000"): faster, and the same
result whenever values are written as 8 lower-case digits, as in Criteo's files.
"""
import json
import sys
import time

import numpy as np
import pandas as pd

start = time.perf_counter()
names = ["label"] + [f"I{i}" for i in range(1, 14)] + [f"C{i}" for i in range(1, 27)]
frame = pd.read_csv(
    sys.argv[1],
    sep="\t",
    header=None,
    names=names,
    dtype={**{f"I{i}": "float64" for i in range(1, 14)}, **{f"C{i}": "object" for i in range(1, 27)}},
)
read = time.perf_counter()
# DLRM's rules: empty -> 0, negative integers -> 0, categorical empty counts as value 0,
# dictionary index = first appearance (factorize with sort=False).
x_int = frame[[f"I{i}" for i in range(1, 14)]].fillna(0).clip(lower=0).to_numpy(np.int32)
x_cat = np.empty((len(frame), 26), dtype=np.int32)
counts = np.empty(26, dtype=np.int32)
for j in range(26):
    column = frame[f"C{j + 1}"].fillna("00000000")
    if "--strings" not in sys.argv:
        column = column.map(lambda v: int(v, 16))
    codes, uniques = pd.factorize(column, sort=False)
    x_cat[:, j] = codes
    counts[j] = len(uniques)
y = frame["label"].fillna(0).to_numpy(np.int32)
factorized = time.perf_counter()
np.savez(sys.argv[2], X_int=x_int, X_cat=x_cat, y=y, counts=counts)
saved = time.perf_counter()
print(json.dumps({
    "rows": len(frame),
    "read_s": read - start,
    "factorize_s": factorized - read,
    "save_s": saved - factorized,
    "total_s": saved - start,
}))
