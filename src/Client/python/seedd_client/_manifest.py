"""The manifest document (seedd-manifest-v2), written as seedctl export writes it, part by part."""
import base64
import json

FORMAT = "seedd-manifest-v2"
LEDGER_FORMAT = "seedd-ledger-v1"
TREE_FORMAT = "seedd-ledger-v2"


def time(timestamp):
    """A protobuf Timestamp as .NET's round-trip format writes it: seven fractional digits, Z."""
    if not timestamp.seconds and not timestamp.nanos:
        return ""
    text = timestamp.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{timestamp.nanos // 100:07d}Z"


def event(e):
    return {"sequence": e.sequence, "time": time(e.time), "time_unix_ms": e.time_unix_ms, "worker": e.worker, "library": e.library,
            "stream": e.stream, "seed": str(e.seed), "seed64": str(e.seed64), "principal": e.principal, "peer": e.peer,
            "client_host": e.client_host, "client_pid": e.client_pid, "client_labels": dict(sorted(e.client_labels.items())),
            "prev_hash": e.prev_hash, "hash": e.hash}


_KINDS = {1: "generator", 2: "scalar", 3: "tensor", 4: "bytes"}


def process(p):
    return {"run_id": p.run_id, "worker": p.worker, "environment": dict(sorted(p.environment.items())),
            "resumed_from": {"run_id": p.resumed_from.run_id, "step": p.resumed_from.step} if p.HasField("resumed_from") else None,
            "start_time": time(p.start_time), "first_step": p.first_step, "last_step": p.last_step, "steps": p.steps,
            "conflict_count": p.conflict_count, "conflicts": [{"step": c.step, "names": list(c.names)} for c in p.conflicts]}


def fingerprint(f):
    return {"run_id": f.run_id, "worker": f.step.worker, "step": f.step.step,
            "digests": [{"name": d.name, "kind": _KINDS.get(d.kind, "unspecified"), "value": d.value.hex()} for d in f.step.digests]}


def seed(s):
    return {"worker": s.worker, "library": s.library, "stream": s.stream, "seed": str(s.seed), "seed64": str(s.seed64), "width": s.width,
            "state": list(s.state), "spawn_key": list(s.spawn_key), "first_issue_time": time(s.first_issue_time),
            "first_requester": s.first_requester, "issue_count": s.issue_count}


class Writer:
    """The document's parts in the order ExportManifest streams them: experiment, seeds, events, chain head."""

    def __init__(self, out):
        import datetime
        self._out = out
        self._open = None  # the array being written: "seeds" or "events"
        self._done = set()
        self._first = True
        self.seeds = self.events = 0
        out.write("{\n")
        self._field("format", FORMAT)
        self._field("ledger_format", LEDGER_FORMAT)
        self._field("exported_at", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def write(self, part):
        kind = part.WhichOneof("part")
        if kind == "experiment":
            x = part.experiment
            self._field("experiment", {"experiment_id": x.experiment_id, "root": x.root, "scheme": x.scheme, "create_time": time(x.create_time),
                                       "frozen": x.frozen, "root_generated": x.root_generated, "labels": dict(sorted(x.labels.items()))})
        elif kind == "seed":
            self._item("seeds", seed(part.seed))
            self.seeds += 1
        elif kind == "event":
            self._item("events", event(part.event))
            self.events += 1
        elif kind == "chain_head":
            self._close_arrays()
            self._field("chain_head", {"sequence": part.chain_head.sequence, "hash": part.chain_head.hash})
        elif kind == "checkpoint":
            c = part.checkpoint
            self._field("tree", {"format": TREE_FORMAT, "tree_size": c.tree_size, "root": base64.b64encode(c.root_hash).decode(), "checkpoint": c.note})
        elif kind == "run_process":
            self._item("runs", process(part.run_process))
        elif kind == "fingerprint":
            self._item("fingerprints", fingerprint(part.fingerprint))
        else:
            raise ValueError(f"unexpected manifest part {kind!r}")

    def close(self):
        self._close_arrays()
        self._close_arrays(("runs", "fingerprints"))
        self._out.write("\n}\n")

    def _field(self, name, value):
        self._end_array()
        self._out.write(("" if self._first else ",\n") + f"  {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)}")
        self._first = False

    def _item(self, array, value):
        # Arrays come in order, seeds, events, then (after the chain head) runs and fingerprints; an empty one is still written.
        if self._open != array:
            self._end_array()
            before = {"events": "seeds", "fingerprints": "runs"}.get(array)
            if before is not None and before not in self._done:
                self._start(before)
                self._end_array()
            self._start(array)
            self._out.write("\n    " + json.dumps(value, ensure_ascii=False))
        else:
            self._out.write(",\n    " + json.dumps(value, ensure_ascii=False))

    def _start(self, array):
        self._out.write(("" if self._first else ",\n") + f"  {json.dumps(array)}: [")
        self._first = False
        self._open = array

    def _end_array(self):
        if self._open is not None:
            self._out.write("\n  ]")
            self._done.add(self._open)
            self._open = None

    def _close_arrays(self, arrays=("seeds", "events")):
        self._end_array()
        for array in arrays:
            if array not in self._done:
                self._start(array)
                self._out.write("]")
                self._done.add(array)
                self._open = None
