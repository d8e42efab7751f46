"""seedseq-v1 written from its specification (README, "Derivation") on top of NumPy's SeedSequence.

This is the tests' oracle: it shares no code with the C# derivation. It reads JSON keys, one per
line, from stdin ({"root": "<decimal>", "worker": n, "library": "...", "stream": "..."}) and writes
one JSON answer per line with seed, seed64, width, state and spawn_key.
"""
import hashlib
import json
import sys

import numpy as np

WIDTHS = {
    "python": 64, "python.hash": 32, "numpy": 32, "torch": 64, "torch.cuda": 64,
    "tensorflow": 63, "keras": 32, "jax": 32, "sklearn": 32, "dotnet": 31,
}
RESERVED_WORKER = 0xFFFFFFFF
LOW31 = 2**31 - 1


def tag(name):
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "little")


def column_of(library, stream):
    return (tag(library),) if stream == "" else (tag(library), tag(stream))


def derive(root, worker, library, stream):
    column = column_of(library, stream)
    spawn_key = (worker,) + column
    state = np.random.SeedSequence(entropy=root, spawn_key=spawn_key).generate_state(4, np.uint32)
    s64 = int(state[0]) | (int(state[1]) << 32)
    keys = np.random.SeedSequence(entropy=root, spawn_key=(RESERVED_WORKER,) + column).generate_state(4, np.uint32)
    x = worker
    for k in keys:
        k = int(k) & LOW31
        x = ((x ^ k) * (k | 1)) % 2**31
        x ^= x >> 15
    seed64 = (s64 & ~LOW31 & (2**64 - 1)) | x
    width = WIDTHS.get(library, 64)
    return {
        "seed": seed64 & ((1 << width) - 1),
        "seed64": seed64,
        "width": width,
        "state": [int(w) for w in state],
        "spawn_key": list(spawn_key),
    }


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        key = json.loads(line)
        answer = derive(int(key["root"]), key["worker"], key["library"], key["stream"])
        # 64-bit values travel as strings so that no JSON reader rounds them.
        answer["seed"] = str(answer["seed"])
        answer["seed64"] = str(answer["seed64"])
        sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
