"""Apply a bundle to the libraries this process has. Each is optional: absent ones are reported."""
import importlib
import os
import random


def _module(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def apply_bundle(bundle):
    """Seeds what the bundle has seeds for and this process has installed; returns a report
    {"applied": [...], "skipped": [...]} that never claims more than was done."""
    applied, skipped = [], []

    def has(library):
        return (library, "") in bundle.seeds

    # Keras's set_random_seed also seeds random, NumPy and TensorFlow: run it first, so the
    # per-library seeds below win.
    if has("keras"):
        keras = _module("keras")
        if keras is not None:
            keras.utils.set_random_seed(bundle.seed("keras"))
            applied.append(f"keras.utils.set_random_seed({bundle.seed('keras')})")
        else:
            skipped.append("keras: not installed")
    if has("python"):
        random.seed(bundle.seed("python"))
        applied.append(f"random.seed({bundle.seed('python')})")
    if has("python.hash"):
        os.environ["PYTHONHASHSEED"] = str(bundle.seed("python.hash"))
        applied.append(f"PYTHONHASHSEED={bundle.seed('python.hash')} (child processes only; this interpreter's hash seed is fixed at its start)")
    if has("numpy"):
        np = _module("numpy")
        if np is not None:
            np.random.seed(bundle.seed("numpy"))
            applied.append(f"numpy.random.seed({bundle.seed('numpy')}); bundle.numpy_generator() for new-style code")
        else:
            skipped.append("numpy: not installed")
    if has("torch"):
        torch = _module("torch")
        if torch is not None:
            torch.manual_seed(bundle.seed("torch"))
            applied.append(f"torch.manual_seed({bundle.seed('torch')})")
            if has("torch.cuda") and torch.cuda.is_available():
                torch.cuda.manual_seed_all(bundle.seed("torch.cuda"))
                applied.append(f"torch.cuda.manual_seed_all({bundle.seed('torch.cuda')})")
            elif has("torch.cuda"):
                skipped.append("torch.cuda: CUDA not available")
        else:
            skipped.append("torch: not installed")
    if has("tensorflow"):
        tf = _module("tensorflow")
        if tf is not None:
            tf.random.set_seed(bundle.seed("tensorflow"))
            applied.append(f"tf.random.set_seed({bundle.seed('tensorflow')})")
        else:
            skipped.append("tensorflow: not installed")
    if has("jax"):
        skipped.append("jax: no global state; use bundle.jax_key()") if _module("jax") else skipped.append("jax: not installed")
    if has("sklearn"):
        skipped.append(f"sklearn: no global state; pass random_state=bundle.sklearn_random_state() ({bundle.seed('sklearn')})")
    return {"applied": applied, "skipped": skipped}
