"""seedd's Python client: fetch a worker's seeds from seedd, verify them offline with seedseq-v1,
and apply them to random, NumPy, PyTorch, TensorFlow, Keras, JAX and scikit-learn.

    import seedd_client
    report = seedd_client.seed_everything(deterministic=True)   # identity from SEEDD_* and torchrun's RANK

or, step by step:

    from seedd_client import SeedClient, apply_bundle
    with SeedClient.from_environment() as client:    # SEEDD_ADDRESS, SEEDD_EXPERIMENT, SEEDD_WORKER or RANK, SEEDD_TOKEN
        bundle = client.get_bundle()                  # one BatchGetSeeds call, every answer re-derived here
    report = apply_bundle(bundle, deterministic=True) # what was seeded and switched, and what was not
"""
__version__ = "0.2.0"

import os as _os

# grpcio's fork support (on by default in its builds) makes every fork() of this process wait in a
# pthread_atfork handler for gRPC's executor threads; with a call in flight on another thread (a run's
# background reports) that wait can last forever, and a DataLoader starting its workers hangs. The
# processes seedd_client forks (DataLoader workers) never call gRPC, so they need none of it. A value
# you set yourself is kept; it must be in place before gRPC starts (before the first channel).
_os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

from .apply import SeedingReport, apply_bundle
from .bundle import Bundle, IssuedSeed, verify
from .client import DEFAULT_COLUMNS, SeedClient
from .dataloader import DataLoaderSeeding
from .everything import seed_everything
from .errors import (AlreadyExistsError, ExperimentNotFoundError, FailedPreconditionError, InvalidArgumentError,
                     LibraryNotInstalledError, ResourceExhaustedError, SeeddAuthenticationError, SeeddError,
                     SeeddPermissionError, SeeddUnavailableError, SeedVerificationError)
from .identity import WorkerIdentity, compose_worker
from .proofs import open_checkpoint, verify_consistency, verify_proof
from .rng_state import RngState, RngStateError
from .runs import Run, RunResumeError
from .seedseq import SCHEME, WIDTHS, derive

__all__ = [
    "__version__", "seed_everything", "SeedClient", "open_checkpoint", "verify_proof", "verify_consistency", "Bundle", "IssuedSeed", "verify", "DEFAULT_COLUMNS", "apply_bundle", "SeedingReport",
    "DataLoaderSeeding", "RngState", "RngStateError", "Run", "RunResumeError", "WorkerIdentity", "compose_worker", "derive", "SCHEME", "WIDTHS",
    "SeeddError", "SeeddUnavailableError", "SeeddAuthenticationError", "SeeddPermissionError", "ExperimentNotFoundError",
    "InvalidArgumentError", "AlreadyExistsError", "FailedPreconditionError", "ResourceExhaustedError",
    "SeedVerificationError", "LibraryNotInstalledError",
]
