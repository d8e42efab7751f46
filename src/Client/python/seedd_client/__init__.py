"""seedd's Python client: fetch a worker's seeds from seedd, verify them offline with seedseq-v1,
and apply them to random, NumPy, PyTorch, TensorFlow, Keras, JAX and scikit-learn.

    from seedd_client import SeedClient, apply_bundle
    client = SeedClient.from_environment()          # SEEDD_ADDRESS, SEEDD_EXPERIMENT, SEEDD_WORKER or RANK
    bundle = client.get_bundle()                    # one BatchGetSeeds call, every answer re-derived locally
    applied = apply_bundle(bundle)                  # what was seeded, and what was not installed
"""
from .seedseq import derive, SCHEME, WIDTHS
from .client import SeedClient, Bundle, IssuedSeed, SeedVerificationError, WorkerIdentity, DEFAULT_COLUMNS
from .apply import apply_bundle

__all__ = [
    "derive", "SCHEME", "WIDTHS", "SeedClient", "Bundle", "IssuedSeed", "SeedVerificationError",
    "WorkerIdentity", "DEFAULT_COLUMNS", "apply_bundle",
]
