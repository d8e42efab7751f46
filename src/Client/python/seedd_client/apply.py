"""Apply a bundle to the libraries this process has. Each is optional: what is absent is reported."""
import os
import random
from dataclasses import dataclass, field

from ._modules import installed

CUBLAS_WORKSPACE_VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_WORKSPACE_VALUE = ":4096:8"


@dataclass
class SeedingReport:
    """What apply_bundle did. `applied` and `not_applied` are lines for people; `switches` maps each
    determinism switch to "set", "not available: ..." or "too late: ..."; `generators` holds the
    torch.Generator made for each torch stream of the bundle (RngState captures them). It never
    claims more than was done."""
    applied: list = field(default_factory=list)
    not_applied: list = field(default_factory=list)
    switches: dict = field(default_factory=dict)
    generators: dict = field(default_factory=dict)
    bundle: object = None

    def as_params(self, prefix="seedd."):
        """The bundle's seeds as a flat dict for mlflow.log_params or wandb.config.update."""
        if self.bundle is None:
            raise ValueError("this report has no bundle; seed_everything() attaches it")
        return self.bundle.as_params(prefix)

    def generator(self, stream):
        try:
            return self.generators[stream]
        except KeyError:
            raise KeyError(f"no generator for stream {stream!r}: ask for the column ('torch', {stream!r}) in the bundle") from None

    def __str__(self):
        lines = [f"applied: {line}" for line in self.applied] + [f"not applied: {line}" for line in self.not_applied]
        lines += [f"switch {name}: {status}" for name, status in self.switches.items()]
        return "\n".join(lines)


def apply_bundle(bundle, deterministic=False, warn_only=False):
    """Seeds what the bundle has seeds for and this process has installed: random, PYTHONHASHSEED
    (for child processes), NumPy's legacy global state, torch (CPU, then every CUDA device), TensorFlow,
    Keras, and a torch.Generator per torch stream. With deterministic=True it also sets the switches
    the seed recipe sets next to the seeds: CUBLAS_WORKSPACE_CONFIG=:4096:8 (only while CUDA has not
    started: afterwards it is reported "too late"), torch.backends.cudnn.deterministic = True,
    torch.backends.cudnn.benchmark = False, torch.use_deterministic_algorithms(True, warn_only=warn_only)
    and TensorFlow's enable_op_determinism(). deterministic=False changes nothing beyond seeding."""
    report = SeedingReport()

    def has(library, stream=""):
        return (library, stream) in bundle.seeds

    torch = installed("torch") if has("torch") or deterministic else None
    if deterministic:
        _cublas_workspace(torch, report)

    # Keras's set_random_seed also seeds random, NumPy and TensorFlow: run it first, so the
    # per-library seeds below win.
    if has("keras"):
        keras = installed("keras")
        if keras is not None:
            keras.utils.set_random_seed(bundle.seed("keras"))
            report.applied.append(f"keras.utils.set_random_seed({bundle.seed('keras')})")
        else:
            report.not_applied.append("keras: not installed")
    if has("python"):
        random.seed(bundle.seed("python"))
        report.applied.append(f"random.seed({bundle.seed('python')})")
    if has("python.hash"):
        os.environ["PYTHONHASHSEED"] = str(bundle.seed("python.hash"))
        report.applied.append(f"PYTHONHASHSEED={bundle.seed('python.hash')} (child processes only; this interpreter's hash seed is fixed at its start)")
    if has("numpy"):
        np = installed("numpy")
        if np is not None:
            np.random.seed(bundle.seed("numpy"))
            report.applied.append(f"numpy.random.seed({bundle.seed('numpy')}); bundle.numpy_generator() for new-style code")
        else:
            report.not_applied.append("numpy: not installed")
    if has("torch"):
        _seed_torch(torch, bundle, report)
    if has("tensorflow"):
        tf = installed("tensorflow")
        if tf is not None:
            tf.random.set_seed(bundle.seed("tensorflow"))
            report.applied.append(f"tf.random.set_seed({bundle.seed('tensorflow')})")
        else:
            report.not_applied.append("tensorflow: not installed")
    if has("jax"):
        report.not_applied.append("jax: no global state; use bundle.jax_key()" if installed("jax") else "jax: not installed")
    if has("sklearn"):
        report.not_applied.append(f"sklearn: no global state; pass random_state=bundle.sklearn_random_state() ({bundle.seed('sklearn')})")

    if deterministic:
        _torch_switches(torch, warn_only, report)
        tf = installed("tensorflow")
        if tf is not None:
            tf.config.experimental.enable_op_determinism()
            report.switches["tf.config.experimental.enable_op_determinism()"] = "set"
        else:
            report.switches["tf.config.experimental.enable_op_determinism()"] = "not available: TensorFlow is not installed"
    return report


def _seed_torch(torch, bundle, report):
    if torch is None:
        report.not_applied.append("torch: not installed")
        return
    torch.manual_seed(bundle.seed("torch"))
    report.applied.append(f"torch.manual_seed({bundle.seed('torch')})")
    if ("torch.cuda", "") in bundle.seeds:
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(bundle.seed("torch.cuda"))
            report.applied.append(f"torch.cuda.manual_seed_all({bundle.seed('torch.cuda')}) on {torch.cuda.device_count()} CUDA device(s)")
        else:
            report.not_applied.append("torch.cuda: CUDA is not available")
    for (library, stream), seed in sorted(bundle.seeds.items()):
        if library == "torch" and stream:
            report.generators[stream] = torch.Generator().manual_seed(seed.seed)
            report.applied.append(f"torch.Generator for stream {stream!r} seeded with {seed.seed}")


def _cublas_workspace(torch, report):
    name = CUBLAS_WORKSPACE_VARIABLE
    current = os.environ.get(name)
    if current:
        report.switches[name] = f"set (already {current}; left as is)"
    elif torch is not None and torch.cuda.is_initialized():
        report.switches[name] = f"too late: CUDA has already started in this process; set {name}={CUBLAS_WORKSPACE_VALUE} before the first CUDA call"
    else:
        os.environ[name] = CUBLAS_WORKSPACE_VALUE
        report.switches[name] = f"set ({CUBLAS_WORKSPACE_VALUE}; read when CUDA starts)"


def _torch_switches(torch, warn_only, report):
    names = ["torch.backends.cudnn.deterministic", "torch.backends.cudnn.benchmark", "torch.use_deterministic_algorithms"]
    if torch is None:
        for name in names:
            report.switches[name] = "not available: torch is not installed"
        return
    torch.backends.cudnn.deterministic = True
    report.switches[names[0]] = "set (True)"
    torch.backends.cudnn.benchmark = False
    report.switches[names[1]] = "set (False)"
    torch.use_deterministic_algorithms(True, warn_only=warn_only)
    report.switches[names[2]] = f"set (True, warn_only={warn_only})"
