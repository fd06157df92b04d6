"""A safetensors reader in NumPy alone, independent of zoograd: prints each tensor's name, dtype,
shape and the bits of its elements (as unsigned integers), one line per tensor, in file order."""
import json
import sys

import numpy as np

DTYPES = {"F32": ("<f4", "<u4", "float32"), "F64": ("<f8", "<u8", "float64"), "I64": ("<i8", "<u8", "int64")}

with open(sys.argv[1], "rb") as f:
    raw = f.read()
length = int.from_bytes(raw[:8], "little")
header = json.loads(raw[8:8 + length])
data = raw[8 + length:]
for name, info in header.items():
    if name == "__metadata__":
        continue
    dtype, bits, label = DTYPES[info["dtype"]]
    begin, end = info["data_offsets"]
    array = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
    assert array.nbytes == end - begin
    values = " ".join(str(int(b)) for b in array.view(bits).ravel())
    shape = "[" + ", ".join(str(d) for d in array.shape) + "]"
    print(f"{name} {label} {shape}:" + (" " + values if values else ""))
