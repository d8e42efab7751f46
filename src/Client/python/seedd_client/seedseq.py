"""seedseq-v1 in pure Python (no NumPy needed), for offline re-derivation and verification.

NumPy's SeedSequence (pool size 4) on 32-bit words, then the column permutation of the low 31
bits. The tests check it against NumPy itself.
"""
import hashlib

SCHEME = "seedseq-v1"
WIDTHS = {
    "python": 64, "python.hash": 32, "numpy": 32, "torch": 64, "torch.cuda": 64,
    "tensorflow": 63, "keras": 32, "jax": 32, "sklearn": 32, "dotnet": 31,
}
RESERVED_WORKER = 0xFFFFFFFF
_MASK32 = 0xFFFFFFFF
_POOL = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def tag(name):
    """First 4 bytes of SHA-256 of the UTF-8 name, little-endian."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "little")


def _words(value):
    words = []
    while True:
        words.append(value & _MASK32)
        value >>= 32
        if value == 0:
            return words


def generate_state(root, spawn_key, n_words=4):
    """SeedSequence(entropy=root, spawn_key=spawn_key).generate_state(n_words) as ints."""
    entropy = _words(root)
    if spawn_key and len(entropy) < _POOL:
        entropy += [0] * (_POOL - len(entropy))
    entropy += list(spawn_key)

    hash_const = _INIT_A

    def hashmix(value):
        nonlocal hash_const
        value ^= hash_const
        hash_const = (hash_const * _MULT_A) & _MASK32
        value = (value * hash_const) & _MASK32
        return value ^ (value >> 16)

    def mix(x, y):
        result = (_MIX_L * x - _MIX_R * y) & _MASK32
        return result ^ (result >> 16)

    pool = [hashmix(entropy[i] if i < len(entropy) else 0) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL, len(entropy)):
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(entropy[src]))

    state, const = [], _INIT_B
    for i in range(n_words):
        value = pool[i % _POOL] ^ const
        const = (const * _MULT_B) & _MASK32
        value = (value * const) & _MASK32
        state.append(value ^ (value >> 16))
    return state


def derive(root, worker, library, stream=""):
    """The seedseq-v1 answer for a key: dict with seed, seed64, width, state and spawn_key."""
    if not 0 <= root < 2**128:
        raise ValueError("root must be 0 <= root < 2**128")
    if not 0 <= worker < RESERVED_WORKER:
        raise ValueError("worker must be 0 <= worker <= 2**32 - 2")
    column = (tag(library),) if stream == "" else (tag(library), tag(stream))
    spawn_key = (worker,) + column
    state = generate_state(root, spawn_key)
    keys = generate_state(root, (RESERVED_WORKER,) + column)
    x = worker
    for k in keys:
        k &= 0x7FFFFFFF
        x = ((x ^ k) * (k | 1)) & 0x7FFFFFFF
        x ^= x >> 15
    seed64 = ((state[0] | (state[1] << 32)) & ~0x7FFFFFFF & 0xFFFFFFFFFFFFFFFF) | x
    width = WIDTHS.get(library, 64)
    return {"seed": seed64 & ((1 << width) - 1), "seed64": seed64, "width": width, "state": state, "spawn_key": list(spawn_key)}
