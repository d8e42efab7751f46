"""Optional libraries (NumPy, torch, TensorFlow, Keras, JAX): used when importable, never required."""
import importlib

from .errors import LibraryNotInstalledError


def installed(name):
    """The module, or None when it is not installed (for helpers that report what they skipped)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def required(name, purpose):
    """The module, or LibraryNotInstalledError naming it and what needed it (never ImportError)."""
    module = installed(name)
    if module is None:
        raise LibraryNotInstalledError(name, purpose)
    return module
