"""One call that seeds a training process: seed_everything()."""
import os
import sys

from .apply import apply_bundle
from .bundle import Bundle, IssuedSeed
from .client import DEFAULT_COLUMNS, SeedClient
from .identity import WorkerIdentity
from .seedseq import SCHEME, derive


def seed_everything(experiment=None, *, root=None, worker=None, columns=None, deterministic=False, warn_only=False,
                    offline=False, address=None, env=None, **client_options):
    """Seeds everything this process has, in one call, and returns the SeedingReport (its `bundle`
    holds every seed, `as_params()` a dict for a tracker).

    The identity comes from the environment, as SeedClient.from_environment() reads it: SEEDD_ADDRESS,
    SEEDD_TOKEN, the experiment (SEEDD_EXPERIMENT, or `experiment`) and the worker (SEEDD_WORKER, else
    torchrun's RANK; WORLD_SIZE > 1 without either is an error, never worker 0; or `worker`). The
    worker's bundle is fetched in one BatchGetSeeds call, every seed verified against seedseq-v1, and
    applied to random, PYTHONHASHSEED (for child processes), NumPy, torch (CPU and every CUDA device),
    TensorFlow, Keras and JAX where installed; deterministic=True also sets cuDNN, cuBLAS, torch and
    TensorFlow's determinism switches (warn_only for torch's).

    With `root`, the experiment is created first when it does not exist (the same root again is
    fine; another root is ALREADY_EXISTS; under auth, creating needs the admin role).

    offline=True asks for no daemon: the seeds are derived here from `root` (required) with
    seedseq-v1, the same seeds seedd would answer, and one line on standard error says that nothing
    was recorded. Without offline=True an unreachable daemon is retried (SEEDD_RETRY_TIMEOUT) and then
    raises: a run is never silently unrecorded.
    """
    environment = dict(os.environ if env is None else env)
    # Arguments win over the environment, and an explicit worker settles WORLD_SIZE without RANK.
    if worker is not None:
        environment["SEEDD_WORKER"] = str(worker)
    if "token" in client_options:
        environment["SEEDD_TOKEN"] = client_options.pop("token") or ""
    identity = WorkerIdentity.from_environment(environment)
    experiment = experiment or identity.experiment_id
    if not experiment:
        raise ValueError("seed_everything needs an experiment: pass experiment='team/run-1' or set SEEDD_EXPERIMENT")
    worker = identity.worker
    columns = list(dict.fromkeys(columns or DEFAULT_COLUMNS))

    if offline:
        if root is None:
            raise ValueError("seed_everything(offline=True) derives the seeds here and needs the experiment's root: pass root=...")
        bundle = _derived_bundle(experiment, worker, int(root), columns)
        print(f"seedd_client: offline: the seeds of {experiment!r} worker {worker} were derived here from root {root} "
              f"with {SCHEME}; nothing was recorded in seedd", file=sys.stderr)
    else:
        with SeedClient.from_environment(environment, address=address, **client_options) as client:
            if root is not None:
                client.create_experiment(experiment, root)
            bundle = client.get_bundle(experiment, worker, columns)

    report = apply_bundle(bundle, deterministic=deterministic, warn_only=warn_only)
    report.bundle = bundle
    return report


def _derived_bundle(experiment, worker, root, columns):
    bundle = Bundle(experiment, worker, root)
    for library, stream in columns:
        d = derive(root, worker, library, stream)
        bundle.seeds[(library, stream)] = IssuedSeed(experiment, worker, library, stream, d["seed"], d["seed64"], d["width"],
                                                     tuple(d["state"]), tuple(d["spawn_key"]), root, SCHEME, 0)
    return bundle
