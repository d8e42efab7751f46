"""The ledger as a transparency log, checked here: signed checkpoints (C2SP signed notes, Ed25519),
inclusion proofs of one entry (RFC 9162) and consistency proofs between two checkpoints. Everything
needs only the deployment's verifier key (`seedctl ledger key`); Ed25519 comes from the
`cryptography` package (Debian: python3-cryptography).

    bundle = json.load(open("proof.json"))                 # seedctl seeds prove ... -o proof.json
    checkpoint = verify_proof(bundle, open("seedd.vkey").read())
"""
import base64
import hashlib
import struct

from .errors import LibraryNotInstalledError, SeedVerificationError

PROOF_FORMAT = "seedd-proof-v1"
SEED_EVENT = 0x01


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def _node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def _ed25519(public_key):
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        raise LibraryNotInstalledError("cryptography", "verifying seedd's signed checkpoints (Ed25519)") from None
    return Ed25519PublicKey.from_public_bytes(public_key)


def _verifier(verifier_key):
    parts = verifier_key.strip().split("+", 2)
    if len(parts) != 3 or len(parts[1]) != 8:
        raise SeedVerificationError("the verifier key is not name+hash+key (what `seedctl ledger key` prints)")
    name, key_hash = parts[0], parts[1]
    try:
        key = base64.b64decode(parts[2], validate=True)
    except ValueError:
        raise SeedVerificationError("the verifier key's key is not base64") from None
    if len(key) != 33 or key[0] != 1:
        raise SeedVerificationError("the verifier key is not an Ed25519 key (0x01 and 32 bytes)")
    expected = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if expected.hex() != key_hash:
        raise SeedVerificationError(f"the verifier key's hash {key_hash} does not match its name and key")
    return name, expected, key[1:]


def open_checkpoint(note, verifier_key, experiment_id=None):
    """Checks a signed checkpoint with the verifier key: the signature, the checkpoint text, and its
    origin "KEYNAME/EXPERIMENT" (the experiment when given). A dict: experiment_id, tree_size, root
    (32 bytes), note. Raises SeedVerificationError naming what does not hold."""
    name, key_hash, public_key = _verifier(verifier_key)
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise SeedVerificationError("the checkpoint is not a signed note (text, a blank line, signature lines)")
    text, signatures = note[:split + 1], note[split + 2:]
    signed = False
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise SeedVerificationError(f"the checkpoint's signature line {line!r} is malformed")
        signer, _, blob = line[2:].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            raise SeedVerificationError("a signature of the checkpoint is not base64") from None
        if signer == name and raw[:4] == key_hash:
            try:
                _ed25519(public_key).verify(raw[4:], text.encode())
            except LibraryNotInstalledError:
                raise
            except Exception:
                raise SeedVerificationError(f"the checkpoint's signature does not verify with key {name}+{key_hash.hex()}") from None
            signed = True
    if not signed:
        raise SeedVerificationError(f"the checkpoint's signature does not verify with key {name}+{key_hash.hex()}: no signature of that key")
    lines = text.split("\n")
    try:
        origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    except (IndexError, ValueError):
        raise SeedVerificationError("the signed text is not a checkpoint (origin, tree size, root hash)") from None
    if len(root) != 32 or str(size) != lines[1] or size < 0:
        raise SeedVerificationError("the signed text is not a checkpoint (origin, tree size, root hash)")
    if not origin.startswith(name + "/"):
        raise SeedVerificationError(f"the checkpoint is of log '{origin}', not of a log of '{name}'")
    experiment = origin[len(name) + 1:]
    if experiment_id is not None and experiment != experiment_id:
        raise SeedVerificationError(f"the checkpoint is of experiment '{experiment}' (origin '{origin}'), not of '{experiment_id}'")
    return {"experiment_id": experiment, "tree_size": size, "root": root, "note": note}


def parse_entry(entry):
    """A seed event's entry bytes (seedd-ledger-v2) as a dict: experiment_id, time_unix_ms, worker,
    library, stream, seed64, principal, peer, client_host, client_pid, client_labels."""
    at = 0

    def take(n):
        nonlocal at
        if at + n > len(entry):
            raise SeedVerificationError("the entry ends inside a field: it is not a seedd-ledger-v2 seed event")
        at += n
        return entry[at - n:at]

    def string():
        try:
            return take(struct.unpack(">I", take(4))[0]).decode("utf-8")
        except UnicodeDecodeError:
            raise SeedVerificationError("a string of the entry is not UTF-8: it is not a seedd-ledger-v2 seed event") from None

    if take(1)[0] != SEED_EVENT:
        raise SeedVerificationError("the entry is not a seed event")
    event = {"experiment_id": string()}
    event["time_unix_ms"], event["worker"] = struct.unpack(">qI", take(12))
    event["library"], event["stream"] = string(), string()
    event["seed64"] = struct.unpack(">Q", take(8))[0]
    event["principal"], event["peer"], event["client_host"] = string(), string(), string()
    event["client_pid"], count = struct.unpack(">qI", take(12))
    labels = [(string(), string()) for _ in range(count)]
    if any(a[0] >= b[0] for a, b in zip(labels, labels[1:])):
        raise SeedVerificationError("the entry's client labels are not in ordinal key order")
    event["client_labels"] = dict(labels)
    if at != len(entry):
        raise SeedVerificationError("bytes follow the entry's last field")
    return event


def _verify_inclusion(index, size, leaf, path, root):
    if index < 0 or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def _verify_consistency(old_size, new_size, old_root, new_root, proof):
    if old_size <= 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    path = [old_root] + list(proof) if old_size & (old_size - 1) == 0 else list(proof)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def verify_proof(bundle, verifier_key):
    """Checks a proof bundle (the dict `seedctl seeds prove` writes, or SeedClient.prove_seed returns)
    with the verifier key alone. Returns the opened checkpoint (open_checkpoint's dict) with the
    entry's event under "event"; raises SeedVerificationError naming what does not match."""
    if not isinstance(bundle, dict):
        raise SeedVerificationError(f"it is not a proof bundle: give the JSON object (json.load(file)), not a {type(bundle).__name__}")
    try:
        if bundle["format"] != PROOF_FORMAT:
            raise SeedVerificationError(f"the bundle's format is {bundle['format']!r}, not {PROOF_FORMAT!r}")
        entry = base64.b64decode(bundle["entry"], validate=True)
        path = [base64.b64decode(p, validate=True) for p in bundle["audit_path"]]
        if any(len(p) != 32 for p in path):
            raise SeedVerificationError("a hash of the audit path is not 32 bytes")
        index, size, note = bundle["index"], bundle["tree_size"], bundle["checkpoint"]
        for field, value in (("index", index), ("tree_size", size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{field} must be a whole number, 0 or more, as seedctl writes it; it is {value!r}")
    except (KeyError, TypeError, ValueError) as error:
        raise SeedVerificationError(f"it is not a proof bundle: {error}") from None
    event = parse_entry(entry)
    checkpoint = open_checkpoint(note, verifier_key, event["experiment_id"])
    if checkpoint["tree_size"] != size:
        raise SeedVerificationError(f"the bundle says tree_size {size}, its signed checkpoint {checkpoint['tree_size']}")
    if not _verify_inclusion(index, size, leaf_hash(entry), path, checkpoint["root"]):
        raise SeedVerificationError(f"the audit path does not lead from entry {index} to the checkpoint's root: the entry, its index or the path was changed")
    checkpoint["event"] = event
    return checkpoint


def verify_consistency(old_note, new_note, proof, verifier_key, experiment_id=None):
    """Checks that the log of `new_note` extends the log of `old_note` (both signed checkpoints) with an
    RFC 9162 consistency proof (base64 strings or bytes). Returns the new checkpoint's dict."""
    old = open_checkpoint(old_note, verifier_key, experiment_id)
    new = open_checkpoint(new_note, verifier_key, old["experiment_id"])
    hashes = [p if isinstance(p, bytes) else base64.b64decode(p, validate=True) for p in proof]
    if any(len(h) != 32 for h in hashes):
        raise SeedVerificationError("a hash of the consistency proof is not 32 bytes")
    if old["tree_size"] > new["tree_size"]:
        raise SeedVerificationError(f"the old checkpoint has {old['tree_size']} entries, more than the new log ({new['tree_size']})")
    if not _verify_consistency(old["tree_size"], new["tree_size"], old["root"], new["root"], hashes):
        raise SeedVerificationError(f"the log of {new['tree_size']} entries does not extend the old checkpoint of {old['tree_size']}")
    return new
