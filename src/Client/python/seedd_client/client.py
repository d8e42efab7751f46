"""A worker's view of seedd: identity from the environment, one channel, retries, verification."""
import os
import random
import socket
import time
from dataclasses import dataclass, field

import grpc

from . import _stubs
from .seedseq import SCHEME, derive

DEFAULT_COLUMNS = [("python", ""), ("python.hash", ""), ("numpy", ""), ("torch", ""), ("torch.cuda", ""),
                   ("tensorflow", ""), ("keras", ""), ("jax", ""), ("sklearn", "")]


class SeedVerificationError(Exception):
    """The daemon's answer differs from seedseq-v1 derived here, or uses another scheme."""


@dataclass(frozen=True)
class IssuedSeed:
    experiment_id: str
    worker: int
    library: str
    stream: str
    seed: int
    seed64: int
    width: int
    state: tuple
    spawn_key: tuple
    root: int
    scheme: str
    issue_count: int


@dataclass
class Bundle:
    """Every seed one worker needs, by (library, stream)."""
    experiment_id: str
    worker: int
    root: int
    seeds: dict = field(default_factory=dict)

    def get(self, library, stream=""):
        try:
            return self.seeds[(library, stream)]
        except KeyError:
            raise KeyError(f"the bundle of worker {self.worker} has no seed for {library}/{stream}; ask for that column") from None

    def seed(self, library, stream=""):
        return self.get(library, stream).seed

    def seed_sequence(self, library="numpy", stream=""):
        """numpy.random.SeedSequence(root, spawn_key=...) of a column: what new-style NumPy code should use."""
        import numpy as np
        return np.random.SeedSequence(self.root, spawn_key=self.get(library, stream).spawn_key)

    def numpy_generator(self, stream=""):
        import numpy as np
        return np.random.default_rng(self.seed_sequence("numpy", stream))

    def jax_key(self, stream=""):
        import jax
        return jax.random.key(self.seed("jax", stream))

    def sklearn_random_state(self, stream=""):
        return self.seed("sklearn", stream)


@dataclass(frozen=True)
class WorkerIdentity:
    address: str
    experiment_id: str
    worker: int
    token: str

    @staticmethod
    def from_environment(env=None):
        env = os.environ if env is None else env
        address = env.get("SEEDD_ADDRESS") or "127.0.0.1:50051"
        world = env.get("WORLD_SIZE")
        if env.get("SEEDD_WORKER"):
            worker = int(env["SEEDD_WORKER"])
        elif env.get("RANK"):
            worker = int(env["RANK"])
        elif world and int(world) > 1:
            raise RuntimeError(f"WORLD_SIZE is {world} but neither SEEDD_WORKER nor RANK is set: every process would be worker 0")
        else:
            worker = 0
        if not 0 <= worker < 0xFFFFFFFF:
            raise ValueError(f"worker {worker} is outside 0..4294967294")
        return WorkerIdentity(address, env.get("SEEDD_EXPERIMENT", ""), worker, env.get("SEEDD_TOKEN", ""))


class SeedClient:
    """One channel to seedd. Every call has a deadline; UNAVAILABLE is retried with backoff; every
    seed is re-derived locally and a difference raises SeedVerificationError."""

    def __init__(self, address="127.0.0.1:50051", token="", timeout=10.0, retry_timeout=60.0, verify=True, labels=None, identity=None):
        self._pb, self._rpc = _stubs.load()
        target = address
        for prefix in ("http://", "https://"):
            if target.startswith(prefix):
                target = target[len(prefix):]
        if address.startswith("https://"):
            self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials())
        else:
            self._channel = grpc.insecure_channel(target)  # also unix:/path
        self._stub = self._rpc.SeedServiceStub(self._channel)
        self._timeout, self._retry_timeout, self._verify = timeout, retry_timeout, verify
        self.identity = identity
        metadata = [("x-seedd-client-host", socket.gethostname()), ("x-seedd-client-pid", str(os.getpid()))]
        if labels:
            metadata.append(("x-seedd-client-labels", ",".join(f"{k}={v}" for k, v in labels.items())))
        if token:
            metadata.append(("authorization", f"Bearer {token}"))
        self._metadata = metadata

    @classmethod
    def from_environment(cls, env=None, **options):
        identity = WorkerIdentity.from_environment(env)
        return cls(identity.address, identity.token, identity=identity, **options)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request):
        give_up = time.monotonic() + self._retry_timeout
        backoff = 0.1
        while True:
            try:
                return method(request, timeout=self._timeout, metadata=self._metadata)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() + backoff > give_up:
                    raise
                time.sleep(backoff * (0.5 + random.random() / 2))
                backoff = min(backoff * 2, 2.0)

    def create_experiment(self, experiment_id, root=None, labels=None):
        request = self._pb.CreateExperimentRequest(experiment_id=experiment_id, root="" if root is None else str(root), labels=labels or {})
        return self._call(self._stub.CreateExperiment, request)

    def get_experiment(self, experiment_id):
        return self._call(self._stub.GetExperiment, self._pb.GetExperimentRequest(experiment_id=experiment_id))

    def get_seed(self, experiment_id, worker, library, stream=""):
        answer = self._call(self._stub.GetSeed, self._pb.GetSeedRequest(experiment_id=experiment_id, worker=worker, library=library, stream=stream))
        return self._checked(answer, experiment_id, worker, library, stream)

    def get_bundle(self, experiment_id=None, worker=None, columns=None):
        """All columns of one worker in one BatchGetSeeds call (defaults from the environment)."""
        experiment_id = experiment_id or (self.identity.experiment_id if self.identity else "")
        worker = worker if worker is not None else (self.identity.worker if self.identity else 0)
        if not experiment_id:
            raise RuntimeError("no experiment: pass experiment_id or set SEEDD_EXPERIMENT")
        columns = list(dict.fromkeys(columns or DEFAULT_COLUMNS))
        request = self._pb.BatchGetSeedsRequest(requests=[
            self._pb.GetSeedRequest(experiment_id=experiment_id, worker=worker, library=library, stream=stream) for library, stream in columns])
        response = self._call(self._stub.BatchGetSeeds, request)
        if len(response.seeds) != len(columns):
            raise SeedVerificationError(f"asked for {len(columns)} seeds, got {len(response.seeds)}")
        seeds = {(library, stream): self._checked(answer, experiment_id, worker, library, stream)
                 for (library, stream), answer in zip(columns, response.seeds)}
        return Bundle(experiment_id, worker, int(response.seeds[0].root) if response.seeds else 0, seeds)

    def _checked(self, answer, experiment_id, worker, library, stream):
        seed = IssuedSeed(answer.experiment_id, answer.worker, answer.library, answer.stream, answer.seed, answer.seed64, answer.width,
                          tuple(answer.state), tuple(answer.spawn_key), int(answer.root), answer.scheme, answer.issue_count)
        if self._verify:
            verify(seed, experiment_id, worker, library, stream)
        return seed


def verify(seed, experiment_id, worker, library, stream):
    """Raises SeedVerificationError unless seed is exactly the seedseq-v1 answer for the key."""
    key = f"({experiment_id}, {worker}, {library}, {stream!r})"
    if seed.scheme != SCHEME:
        raise SeedVerificationError(f"seedd answered {key} with scheme {seed.scheme!r}; this client verifies {SCHEME} only")
    if (seed.experiment_id, seed.worker, seed.library, seed.stream) != (experiment_id, worker, library, stream):
        raise SeedVerificationError(f"seedd answered {key} with the seed of another key")
    expected = derive(seed.root, worker, library, stream)
    got = {"seed": seed.seed, "seed64": seed.seed64, "width": seed.width, "state": list(seed.state), "spawn_key": list(seed.spawn_key)}
    if got != expected:
        raise SeedVerificationError(f"seedd answered {key} with seed64 {seed.seed64}; seedseq-v1 derives {expected['seed64']}")
