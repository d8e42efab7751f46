"""Re-checks a seedctl manifest from its documented definition alone (docs/audit.md): seeds with NumPy
(seedseq_oracle), the ledger chain with hashlib and struct, and (v2) the tree's root as RFC 9162 defines
MTH over the documented entries. Shares no code with seedctl.

usage: manifest_oracle.py MANIFEST   -> prints {"seeds": n, "events": n, "head": "...", "tree_root": "..."} or exits 1
"""
import base64
import hashlib
import json
import struct
import sys

import seedseq_oracle


def string(value):
    data = value.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def canonical(experiment_id, e):
    out = b"seedd-ledger-v1\n"
    out += string(experiment_id)
    out += struct.pack(">Q", e["sequence"])
    out += struct.pack(">q", e["time_unix_ms"])
    out += struct.pack(">I", e["worker"])
    out += string(e["library"]) + string(e["stream"])
    out += struct.pack(">Q", int(e["seed64"]))
    out += string(e["principal"]) + string(e["peer"]) + string(e["client_host"])
    out += struct.pack(">q", e["client_pid"])
    labels = sorted(e["client_labels"].items())
    out += struct.pack(">I", len(labels))
    for key, value in labels:
        out += string(key) + string(value)
    return out


def entry(experiment_id, e):
    """seedd-ledger-v2: kind 1, then the v1 fields without the tag and the sequence."""
    out = b"\x01" + string(experiment_id)
    out += struct.pack(">q", e["time_unix_ms"]) + struct.pack(">I", e["worker"])
    out += string(e["library"]) + string(e["stream"]) + struct.pack(">Q", int(e["seed64"]))
    out += string(e["principal"]) + string(e["peer"]) + string(e["client_host"]) + struct.pack(">q", e["client_pid"])
    labels = sorted(e["client_labels"].items())
    out += struct.pack(">I", len(labels))
    for key, value in labels:
        out += string(key) + string(value)
    return out


def mth(leaves):
    """RFC 9162 2.1.1: MTH of a list of leaf hashes, split at the largest power of two below n."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


with open(sys.argv[1], encoding="utf-8") as f:
    manifest = json.load(f)

experiment = manifest["experiment"]
root = int(experiment["root"])
for i, seed in enumerate(manifest["seeds"]):
    expected = seedseq_oracle.derive(root, seed["worker"], seed["library"], seed["stream"])
    if int(seed["seed64"]) != expected["seed64"] or seed["state"] != expected["state"] or seed["spawn_key"] != expected["spawn_key"]:
        sys.exit(f"seed {i + 1} differs from NumPy's seedseq-v1")
    if int(seed["seed"]) != expected["seed"] or seed["width"] != expected["width"]:
        sys.exit(f"seed {i + 1}: seed or width is not seed64 cut to the library's width")

previous = bytes(32)
for e in manifest["events"]:
    if e["prev_hash"] != previous.hex():
        sys.exit(f"event {e['sequence']}: prev_hash breaks the chain")
    digest = hashlib.sha256(previous + canonical(experiment["experiment_id"], e)).digest()
    if digest.hex() != e["hash"]:
        sys.exit(f"event {e['sequence']}: hash differs from SHA-256(prev || canonical)")
    expected = seedseq_oracle.derive(root, e["worker"], e["library"], e["stream"])
    if int(e["seed64"]) != expected["seed64"] or int(e["seed"]) != expected["seed"]:
        sys.exit(f"event {e['sequence']}: seed {e['seed']} / seed64 {e['seed64']} is not seedseq-v1's seed of its key")
    previous = digest

head = manifest["chain_head"]
if head["hash"] != previous.hex() or head["sequence"] != len(manifest["events"]):
    sys.exit("chain_head does not match the last event")
tree_root = None
if manifest["format"] == "seedd-manifest-v2" and manifest["events"]:
    leaves = [hashlib.sha256(b"\x00" + entry(experiment["experiment_id"], e)).digest() for e in manifest["events"]]
    tree_root = base64.b64encode(mth(leaves)).decode()
    if manifest["tree"]["tree_size"] != len(leaves) or manifest["tree"]["root"] != tree_root:
        sys.exit("tree does not match the events")
print(json.dumps({"seeds": len(manifest["seeds"]), "events": len(manifest["events"]), "head": previous.hex(), "tree_root": tree_root}))
