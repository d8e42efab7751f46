"""Bench (tests/Bench runs): the Python client's cost per fingerprint, and a model's digest on the CPU.

    bench_fingerprint.py ADDRESS PARAMETERS
The fingerprint cost is what the training loop pays: RNG state digests and the queue hand-off,
measured over 2,000 steps; the baseline is the same loop drawing one torch.rand(1) per step
(measured in the same run). The model is PARAMETERS float32 parameters in one Linear layer's weight.
"""
import sys
import time

import torch

from seedd_client import SeedClient
from seedd_client import runs as seedd_runs

address, parameters = sys.argv[1], int(sys.argv[2])
with SeedClient(address) as client:
    client.create_experiment("bench/python-runs", 3)
    generator = torch.Generator().manual_seed(1)
    with client.start_run(run_id="bench", experiment_id="bench/python-runs", worker=0, seeded={"dataloader": generator}) as run:
        steps = 2000
        started = time.perf_counter()
        for step in range(steps):
            torch.rand(1)
        baseline = (time.perf_counter() - started) / steps
        started = time.perf_counter()
        for step in range(steps):
            run.fingerprint(step, values={"loss": 0.25 + step})
        per_step = (time.perf_counter() - started) / steps
    print(f"python fingerprint (generators + a scalar, queued): {per_step * 1e6:.0f} us per step; torch.rand(1): {baseline * 1e6:.1f} us "
          f"({per_step / baseline:.0f}x); {run.sent} sent, {run.dropped} dropped")

rows = max(1, parameters // 1000)
weights = torch.empty(rows, 1000, dtype=torch.float32).uniform_(generator=torch.Generator().manual_seed(2))
started = time.perf_counter()
seedd_runs.tensor_digest(weights)
cpu = time.perf_counter() - started
started = time.perf_counter()
weights.clone()
copy = time.perf_counter() - started
print(f"model digest on the CPU: {rows * 1000 / 1e6:.0f}M float32 parameters in {cpu:.2f} s ({rows * 4000 / cpu / 1e9:.2f} GB/s); "
      f"copying them once: {copy:.2f} s")
