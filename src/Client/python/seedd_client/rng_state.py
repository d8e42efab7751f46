"""RNG state for checkpoints: capture every generator a training process draws from, restore it, prove it.

The bytes use the .NET SDK's RngState container (little-endian: the magic "SRNG", a part count, then
each part's name and bytes) followed by the SHA-256 of that container, so a damaged blob is refused
rather than restored. Parts: "python" (random), "numpy" (NumPy's legacy global state), "cpu" (torch's
CPU generator, as in .NET), "cuda:N" (each CUDA device's generator), "stream:NAME" (the generators
apply_bundle made for the bundle's torch streams).
"""
import hashlib
import random
import struct

from ._modules import installed

MAGIC = 0x53524E47  # "SRNG", as the .NET RngState
_DIGEST = 32
_PYTHON_STATE = struct.Struct("<i625IBd")
_NUMPY_STATE = struct.Struct("<624IiId")


class RngStateError(ValueError):
    """The bytes are not an RNG state this client wrote, are damaged, or could not be restored here."""


def _generators(seeded):
    if seeded is None:
        return {}
    return dict(getattr(seeded, "generators", seeded))


class RngState:
    def __init__(self, parts):
        self.parts = dict(sorted(parts.items()))
        self._container = _serialize(self.parts)

    @property
    def sha256(self):
        """SHA-256 of the state, lowercase hex; the same state always hashes the same."""
        return hashlib.sha256(self._container).hexdigest()

    def to_bytes(self):
        return self._container + hashlib.sha256(self._container).digest()

    @classmethod
    def capture(cls, seeded=None):
        """Python's random, NumPy's legacy global state, torch's CPU generator, every CUDA device's
        generator when CUDA is available, and the stream generators of `seeded` (what apply_bundle
        returned, or a dict of stream -> torch.Generator). Libraries that are not installed are left out."""
        return cls(_capture(seeded, None))

    @classmethod
    def from_bytes(cls, data):
        data = bytes(data)
        if len(data) < 8 + _DIGEST or struct.unpack_from("<I", data)[0] != MAGIC:
            raise RngStateError("these bytes are not an RNG state written by seedd_client.RngState (wrong magic or too short)")
        container, digest = data[:-_DIGEST], data[-_DIGEST:]
        if hashlib.sha256(container).digest() != digest:
            raise RngStateError("the RNG state is damaged: its SHA-256 does not match its contents")
        try:
            parts = _parse(container)
        except (struct.error, UnicodeDecodeError, ValueError) as error:
            raise RngStateError(f"the RNG state is damaged: {error}") from None
        return cls(parts)

    def restore(self, seeded=None):
        """Restores every part into this process (stream parts into the generators of `seeded`), then
        captures again and checks that the result hashes the same; raises RngStateError otherwise."""
        generators = _generators(seeded)
        for name, blob in self.parts.items():
            _restore_part(name, blob, generators)
        restored = RngState(_capture(seeded, set(self.parts)))
        if restored.sha256 != self.sha256:
            raise RngStateError(f"the RNG state restore did not take: expected SHA-256 {self.sha256}, found {restored.sha256}")


def _capture(seeded, names):
    parts = {}

    def wanted(name):
        return names is None or name in names

    if wanted("python"):
        version, internal, gauss = random.getstate()
        parts["python"] = _PYTHON_STATE.pack(version, *internal, gauss is not None, gauss or 0.0)
    np = installed("numpy")
    if np is not None and wanted("numpy"):
        kind, keys, position, has_gauss, cached = np.random.get_state(legacy=True)
        parts["numpy"] = _NUMPY_STATE.pack(*keys.tolist(), position, has_gauss, cached)
    torch = installed("torch")
    if torch is not None:
        if wanted("cpu"):
            parts["cpu"] = bytes(torch.get_rng_state().numpy())
        if torch.cuda.is_available():
            for device in range(torch.cuda.device_count()):
                if wanted(f"cuda:{device}"):
                    parts[f"cuda:{device}"] = bytes(torch.cuda.get_rng_state(device).numpy())
        for stream, generator in _generators(seeded).items():
            if wanted(f"stream:{stream}"):
                parts[f"stream:{stream}"] = bytes(generator.get_state().numpy())
    return parts


def _restore_part(name, blob, generators):
    if name == "python":
        values = _PYTHON_STATE.unpack(blob)
        random.setstate((values[0], tuple(values[1:626]), values[627] if values[626] else None))
        return
    if name == "numpy":
        np = installed("numpy")
        if np is None:
            raise RngStateError("the state has NumPy's generator but NumPy is not installed here")
        values = _NUMPY_STATE.unpack(blob)
        np.random.set_state(("MT19937", np.array(values[:624], dtype=np.uint32), values[624], values[625], values[626]))
        return
    torch = installed("torch")
    if torch is None:
        raise RngStateError(f"the state has torch's generator {name!r} but torch is not installed here")
    tensor = torch.tensor(list(blob), dtype=torch.uint8)
    if name == "cpu":
        torch.set_rng_state(tensor)
    elif name.startswith("cuda:"):
        device = int(name[5:])
        if not torch.cuda.is_available() or device >= torch.cuda.device_count():
            raise RngStateError(f"the state has {name!r} but this process has no such CUDA device")
        torch.cuda.set_rng_state(tensor, device)
    elif name.startswith("stream:") and name[7:] in generators:
        generators[name[7:]].set_state(tensor)
    elif name.startswith("stream:"):
        raise RngStateError(f"the state has the generator of stream {name[7:]!r} but none was given to restore it into (pass what apply_bundle returned)")
    else:
        raise RngStateError(f"the state has an unknown part {name!r}")


def _serialize(parts):
    out = bytearray(struct.pack("<Ii", MAGIC, len(parts)))
    for name, blob in parts.items():
        encoded = name.encode("utf-8")
        out += struct.pack("<i", len(encoded)) + encoded + struct.pack("<i", len(blob)) + blob
    return bytes(out)


def _parse(container):
    _, count = struct.unpack_from("<Ii", container)
    offset, parts = 8, {}
    for _ in range(count):
        (length,) = struct.unpack_from("<i", container, offset)
        name = container[offset + 4:offset + 4 + length].decode("utf-8")
        offset += 4 + length
        (length,) = struct.unpack_from("<i", container, offset)
        if length < 0 or offset + 4 + length > len(container):
            raise ValueError(f"part {name!r} runs past the end")
        parts[name] = container[offset + 4:offset + 4 + length]
        offset += 4 + length
    if offset != len(container):
        raise ValueError(f"{len(container) - offset} stray bytes after the last part")
    return parts
