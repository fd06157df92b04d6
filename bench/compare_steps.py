"""Compares two training states written by `zoograd_bench ... --steps K --dump A` and
`torch_bench.py ... --init INIT --steps K --dump B`, tensor by tensor:

    python3 bench/compare_steps.py [--json] A B

For each tensor present in both: the largest absolute difference, and the relative difference
max|a - b| / max|b| (the tensor's scale, so that entries near zero do not inflate it). After one
step float32 rounding alone gives about 1e-6 relative; more than 1e-4 is a real difference.
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    size, = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    header.pop("__metadata__", None)
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    out = {}
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = entry["data_offsets"]
        dtype = np.dtype(dtypes[entry["dtype"]])
        out[name] = np.frombuffer(raw, dtype, (end - begin) // dtype.itemsize, 8 + size + begin).reshape(entry["shape"])
    return out


def compare(a, b):
    """Rows (name, shape, max abs difference, relative difference) for the tensors both hold."""
    rows = []
    for name, x in a.items():
        if name not in b:
            continue
        y = b[name]
        if x.shape != y.shape:
            rows.append((name, f"{x.shape} vs {y.shape}", float("nan"), float("nan")))
            continue
        diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
        scale = float(np.abs(y.astype(np.float64)).max()) if y.size else 0.0
        worst = float(diff.max()) if diff.size else 0.0
        rows.append((name, tuple(x.shape), worst, worst / scale if scale > 0 else worst))
    return rows


def main():
    args = sys.argv[1:]
    as_json = args[:1] == ["--json"]
    if as_json:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = read_safetensors(args[0]), read_safetensors(args[1])
    if as_json:  # one object per tensor, for bench/test_bench.py
        print(json.dumps([{"name": n, "max_abs": w, "relative": r} for n, _, w, r in compare(a, b)]))
        return
    only = sorted(set(a) ^ set(b))
    print(f"{'tensor':<28} {'shape':<18} {'max |a-b|':>11} {'relative':>11}")
    for name, shape, worst, rel in compare(a, b):
        print(f"{name:<28} {str(shape):<18} {worst:11.3e} {rel:11.3e}")
    if only:
        print("in one file only:", ", ".join(only))


if __name__ == "__main__":
    main()
