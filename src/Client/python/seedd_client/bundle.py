"""A worker's seeds as the daemon answered them, verified against seedseq-v1 derived here."""
from dataclasses import dataclass, field

from ._modules import required
from .errors import SeedVerificationError
from .seedseq import SCHEME, WIDTHS, derive


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

    @staticmethod
    def of(answer):
        """From a seeddaemon.v1.IssuedSeed message."""
        return IssuedSeed(answer.experiment_id, answer.worker, answer.library, answer.stream, answer.seed, answer.seed64, answer.width,
                          tuple(answer.state), tuple(answer.spawn_key), int(answer.root), answer.scheme, answer.issue_count)


def verify(seed, experiment_id, worker, library, stream):
    """Raises SeedVerificationError unless `seed` is exactly the seedseq-v1 answer for the key asked for:
    the scheme, the key, seed64, the truncated seed (seed64 cut to the library's width) and the width
    itself (from the library table), the SeedSequence state and the spawn key."""
    key = f"(experiment {experiment_id!r}, worker {worker}, library {library!r}, stream {stream!r})"
    if seed.scheme != SCHEME:
        raise SeedVerificationError(f"seedd answered {key} with scheme {seed.scheme!r}; this client verifies {SCHEME} only. Upgrade seedd_client or point it at a {SCHEME} daemon.")
    if (seed.experiment_id, seed.worker, seed.library, seed.stream) != (experiment_id, worker, library, stream):
        raise SeedVerificationError(f"seedd answered {key} with the seed of (experiment {seed.experiment_id!r}, worker {seed.worker}, library {seed.library!r}, stream {seed.stream!r})")
    if not 0 <= seed.root < 2**128:
        raise SeedVerificationError(f"seedd answered {key} with an invalid root {seed.root}")
    expected = derive(seed.root, worker, library, stream)
    width = WIDTHS.get(library, 64)
    if seed.width != width:
        raise SeedVerificationError(f"seedd answered {key} with width {seed.width}; library {library!r} has width {width}")
    if seed.seed64 != expected["seed64"]:
        raise SeedVerificationError(f"seedd answered {key} with seed64 {seed.seed64}; seedseq-v1 derives {expected['seed64']} for root {seed.root}")
    if seed.seed != expected["seed"]:
        raise SeedVerificationError(f"seedd answered {key} with seed {seed.seed}; seed64 {seed.seed64} cut to {width} bits is {expected['seed']}")
    if list(seed.state) != expected["state"] or list(seed.spawn_key) != expected["spawn_key"]:
        raise SeedVerificationError(f"seedd answered {key} with SeedSequence state {list(seed.state)} and spawn key {list(seed.spawn_key)}; "
                                    f"seedseq-v1 derives {expected['state']} and {expected['spawn_key']}")


@dataclass
class Bundle:
    """Every seed one worker needs, by (library, stream), fetched in one call and verified."""
    experiment_id: str
    worker: int
    root: int
    seeds: dict = field(default_factory=dict)
    scheme: str = SCHEME

    def get(self, library, stream=""):
        try:
            return self.seeds[(library, stream)]
        except KeyError:
            column = library + ("/" + stream if stream else "")
            raise KeyError(f"the bundle of worker {self.worker} has no seed for {column}; ask for that column in get_bundle(columns=...)") from None

    def seed(self, library, stream=""):
        return self.get(library, stream).seed

    def seed_sequence(self, library="numpy", stream=""):
        """numpy.random.SeedSequence(root, spawn_key=...) of a column: what new-style NumPy code should use."""
        np = required("numpy", "Bundle.seed_sequence()")
        return np.random.SeedSequence(self.root, spawn_key=self.get(library, stream).spawn_key)

    def numpy_generator(self, stream=""):
        """numpy.random.default_rng(SeedSequence(root, spawn_key)) of the numpy column."""
        np = required("numpy", "Bundle.numpy_generator()")
        return np.random.default_rng(self.seed_sequence("numpy", stream))

    def torch_generator(self, stream=""):
        """A new torch.Generator seeded with the (torch, stream) seed."""
        torch = required("torch", "Bundle.torch_generator()")
        return torch.Generator().manual_seed(self.seed("torch", stream))

    def jax_key(self, stream=""):
        """jax.random.key(seed) of the jax column."""
        jax = required("jax", "Bundle.jax_key()")
        return jax.random.key(self.seed("jax", stream))

    def sklearn_random_state(self, stream=""):
        """The sklearn seed, for random_state=... (scikit-learn has no global state to seed)."""
        return self.seed("sklearn", stream)

    def as_params(self, prefix="seedd."):
        """A flat dict for mlflow.log_params or wandb.config.update: experiment, root, worker, scheme and
        every column's seed ("seedd.seed.torch", "seedd.seed.torch/dataloader"). The root and every seed
        are strings, so no tracking UI rounds a 64-bit value."""
        params = {f"{prefix}experiment": self.experiment_id, f"{prefix}root": str(self.root),
                  f"{prefix}worker": self.worker, f"{prefix}scheme": self.scheme}
        for (library, stream), seed in sorted(self.seeds.items()):
            params[f"{prefix}seed.{library}{'/' + stream if stream else ''}"] = str(seed.seed)
        return params
