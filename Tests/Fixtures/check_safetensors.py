#!/usr/bin/env python3
"""Loads a .safetensors file with Python's `safetensors` library (numpy only, no torch) and prints

    {"<tensor name>": {"dtype": "F32", "shape": [2, 3], "sum": 1.5}, ...,
     "__metadata__": {...}}          # only when the file has a __metadata__ header entry

as one JSON object on stdout, tensors sorted by name. "sum" is the float64 sum of all elements
(BOOL counts True). Exits non-zero, with the error on stderr, when the file does not load.

Eckart's Swift tests run it to prove that files Eckart writes load in Python:

    python3 Tests/Fixtures/check_safetensors.py FILE

Needs only `pip install safetensors numpy`. numpy has no bfloat16 type, so safetensors' numpy
backend cannot return BF16 tensors; those are decoded here from the raw bytes (the library still
parses and validates the whole header when opening the file).
"""

import json
import struct
import sys

import numpy as np
from safetensors import safe_open


def header(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return 8 + length, json.loads(f.read(length))


def bf16_tensor(path, data_start, entry):
    begin, end = entry["data_offsets"]
    with open(path, "rb") as f:
        f.seek(data_start + begin)
        raw = np.frombuffer(f.read(end - begin), dtype="<u2")
    return (raw.astype("<u4") << 16).view("<f4").reshape(entry["shape"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_safetensors.py FILE")
    path = sys.argv[1]
    data_start, entries = header(path)
    result = {}
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata()
        for name in sorted(f.keys()):
            dtype = entries[name]["dtype"]
            array = bf16_tensor(path, data_start, entries[name]) if dtype == "BF16" else f.get_tensor(name)
            assert list(array.shape) == entries[name]["shape"], name
            result[name] = {"dtype": dtype, "shape": list(array.shape), "sum": float(array.astype(np.float64).sum())}
    if metadata is not None:
        result["__metadata__"] = metadata
    print(json.dumps(result))


if __name__ == "__main__":
    main()
