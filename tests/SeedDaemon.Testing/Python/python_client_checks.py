"""Checks of the Python client (src/Client/python/seedd_client) against independent oracles.

usage: python_client_checks.py ADDRESS EXPERIMENT RANDOM_SEED   (PYTHONPATH must hold src/Client/python)
 - its pure-Python seedseq-v1 equals NumPy (seedseq_oracle) for 1,000 random keys;
 - a bundle from the daemon verifies, and a tampered answer is refused;
 - the NumPy Generator of the bundle draws what default_rng(SeedSequence(root, spawn_key)) draws;
 - scikit-learn accepts the sklearn seed.
Prints a JSON summary.
"""
import dataclasses
import json
import random
import sys

import numpy as np

import seedseq_oracle
from seedd_client import SeedClient, SeedVerificationError, derive
from seedd_client.client import verify

address, experiment, rng_seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(rng_seed)
libraries = list(seedseq_oracle.WIDTHS) + ["lightgbm", "x"]
for _ in range(1000):
    key = (rng.randrange(2**128) >> rng.randrange(128), rng.randrange(2**32 - 1), rng.choice(libraries), rng.choice(["", "dataloader", "epoch-3"]))
    if derive(*key) != seedseq_oracle.derive(*key):
        sys.exit(f"pure-Python seedseq-v1 differs from NumPy for {key}")

with SeedClient(address, labels={"job": "python-checks"}) as client:
    client.create_experiment(experiment, 20261126)
    bundle = client.get_bundle(experiment, 3_000_000_000)
    numpy_seed = bundle.get("numpy")
    tampered = dataclasses.replace(numpy_seed, seed64=numpy_seed.seed64 ^ 1)
    try:
        verify(tampered, experiment, 3_000_000_000, "numpy", "")
        sys.exit("a tampered answer was accepted")
    except SeedVerificationError:
        pass

expected = np.random.default_rng(np.random.SeedSequence(20261126, spawn_key=(3_000_000_000, seedseq_oracle.tag("numpy")))).random(4)
if bundle.numpy_generator().random(4).tolist() != expected.tolist():
    sys.exit("the bundle's NumPy Generator draws differently from default_rng(SeedSequence(root, spawn_key))")

from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402
state = bundle.sklearn_random_state()
check_random_state(state)
if train_test_split(list(range(100)), random_state=state) != train_test_split(list(range(100)), random_state=state):
    sys.exit("scikit-learn split differently with the same random_state")

print(json.dumps({"keys_checked": 1000, "bundle": len(bundle.seeds), "sklearn_random_state": state}))
