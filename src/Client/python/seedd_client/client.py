"""A worker's view of seedd: one channel per daemon address, deadlines, retries, verification."""
import base64
import json
import logging
import operator
import os
import random
import re
import socket
import time

import grpc

from . import _manifest, errors, proofs
from ._proto import seed_service_pb2 as pb
from ._proto import audit_service_pb2 as audit_pb
from ._proto import audit_service_pb2_grpc as audit_rpc
from ._proto import run_service_pb2 as run_pb
from ._proto import run_service_pb2_grpc as run_rpc
from ._proto import seed_service_pb2_grpc as rpc
from .bundle import Bundle, IssuedSeed, verify
from .identity import DEFAULT_ADDRESS, MAX_WORKER, WorkerIdentity

DEFAULT_COLUMNS = [("python", ""), ("python.hash", ""), ("numpy", ""), ("torch", ""), ("torch.cuda", ""),
                   ("tensorflow", ""), ("keras", ""), ("jax", ""), ("sklearn", "")]
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a 10,000-key batch answer is a few MB, above gRPC's 4 MB default
_RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

log = logging.getLogger("seedd_client")

# The client's own draws (which replica first, the retries' jitter), seeded by the OS: a draw from the module-level
# random would move the sequence of the generator a training script just seeded, so a daemon outage changed its run.
_OWN_RANDOM = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_OWN_RANDOM.seed)  # as random's own: forked ranks must not share their choices


def _left(deadline):
    """The retry window until a time.monotonic() deadline (None: the client's own)."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def parse_addresses(address):
    """"a:50051,b:50051", a list, "http://h:p", "https://h:p", "unix:/path" or "dns:///name:port" -> [(text, target, tls)]."""
    texts = address if isinstance(address, (list, tuple)) else str(address).split(",")
    parsed = []
    for text in (t.strip() for t in texts):
        if not text:
            continue
        if "://" in text and not text.startswith(("http://", "https://", "dns://")):
            raise ValueError(f"{text!r} is not a daemon address: the scheme must be http://, https:// or dns:/// "
                             "(or none: HOST:PORT), or unix:/path.sock")
        tls = text.startswith("https://")
        target = text.split("://", 1)[1] if text.startswith(("http://", "https://")) else text
        parsed.append((text, target.rstrip("/"), tls))
    if not parsed:
        raise ValueError(f"no daemon address in {address!r}; expected HOST:PORT, http://HOST:PORT, https://..., unix:/path.sock, or several separated by commas")
    return parsed


class _Target:
    def __init__(self, text, target, tls, root_certificates):
        self.address = text
        options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES), ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
        if tls:
            self.channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates), options)
        else:
            self.channel = grpc.insecure_channel(target, options)
        self.seeds = rpc.SeedServiceStub(self.channel)
        self.audit = audit_rpc.AuditServiceStub(self.channel)
        self.runs = run_rpc.RunServiceStub(self.channel)


_LABEL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,62}")


def _labels_header(labels):
    """x-seedd-client-labels: "key=value,...". Refuses what that header cannot carry unchanged (the daemon
    would record a value with a comma as two labels, trim spaces, or refuse every call)."""
    if len(labels) > 16:
        raise ValueError(f"labels holds {len(labels)} labels; the daemon records at most 16")
    pairs = []
    for key, value in labels.items():
        value = str(value)
        if not isinstance(key, str) or not _LABEL_KEY.fullmatch(key):
            raise ValueError(f"client label key {key!r} must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,62}}$")
        if len(value) > 256 or value != value.strip() or any(c == "," or not " " <= c <= "~" for c in value):
            raise ValueError(f"client label {key!r} has the value {value!r}: a value is at most 256 printable ASCII "
                             "characters, without commas or leading or trailing spaces (labels travel as one key=value,... header)")
        pairs.append(f"{key}={value}")
    return ",".join(pairs)


def _check_key(experiment_id, worker, library, stream="", where=""):
    """What protobuf would refuse with "Value out of range: -1" or a TypeError, named by field, before any call.
    (0xFFFFFFFF fits the message: the daemon refuses it as reserved, naming the field.)"""
    try:
        index = None if isinstance(worker, bool) else operator.index(worker)  # int, numpy.int64, a torch integer...
    except TypeError:
        index = None
    if index is None or not 0 <= index <= MAX_WORKER + 1:
        raise ValueError(f"{where}worker must be an integer from 0 to {MAX_WORKER}, got {worker!r}")
    for name, value in (("experiment_id", experiment_id), ("library", library), ("stream", stream)):
        if not isinstance(value, str):
            raise ValueError(f"{where}{name} must be a string, got {value!r}")


def _run_summary(run):
    return {"run_id": run.run_id, "processes": run.processes, "start_time": run.start_time.ToDatetime().isoformat() + "Z",
            "first_step": run.first_step, "last_step": run.last_step, "fingerprints": run.fingerprints, "conflicts": run.conflicts,
            "resumed_from": (run.resumed_from.run_id, run.resumed_from.step) if run.HasField("resumed_from") else None}


class SeedClient:
    """Talks to seedd. Every attempt has a deadline (`timeout`, 10 s); UNAVAILABLE and DEADLINE_EXCEEDED are
    retried with jittered backoff for up to `retry_timeout` (60 s) — every call of the contract is
    idempotent — moving to the next address when several are given (a replica that died). The first
    failed attempt logs one warning ("seedd at ... is not answering; retrying for up to N s") on the
    "seedd_client" logger. Every seed is re-derived here and a difference raises SeedVerificationError;
    refusals raise SeeddError subclasses that name the problem."""

    def __init__(self, address=DEFAULT_ADDRESS, token="", timeout=10.0, retry_timeout=60.0, verify=True, labels=None, identity=None, ca_certificate_path=None,
                 max_batch_keys=10_000, max_message_bytes=1024 * 1024, ledger_key=None):
        if timeout <= 0 or retry_timeout < 0:
            raise ValueError(f"timeout must be positive and retry_timeout not negative, got {timeout} and {retry_timeout}")
        if max_batch_keys < 1 or max_message_bytes < 1024:
            raise ValueError(f"max_batch_keys must be at least 1 and max_message_bytes at least 1024, got {max_batch_keys} and {max_message_bytes}")
        # The daemon's Seedd:MaxBatchKeys and Seedd:MaxMessageBytes (their defaults): get_seeds splits to stay within both.
        self._max_batch_keys, self._max_message_bytes = max_batch_keys, max_message_bytes
        root_certificates = open(ca_certificate_path, "rb").read() if ca_certificate_path else None
        self._targets = [_Target(text, target, tls, root_certificates) for text, target, tls in parse_addresses(address)]
        self._current = _OWN_RANDOM.randrange(len(self._targets))  # spread a fleet over the replicas
        self._timeout, self._retry_timeout, self._verify = timeout, retry_timeout, verify
        # The deployment's verifier key, pinned: checkpoints and proofs are checked with it, not with the one seedd serves.
        self._ledger_key = ledger_key
        self.identity = identity
        self._outage = False  # a "not answering" line was logged and no call has succeeded since
        metadata = [("x-seedd-client-host", socket.gethostname()), ("x-seedd-client-pid", str(os.getpid()))]
        if labels:
            metadata.append(("x-seedd-client-labels", _labels_header(labels)))
        if token:
            metadata.append(("authorization", f"Bearer {token}"))
        self._metadata = metadata

    @classmethod
    def from_environment(cls, env=None, address=None, **options):
        """A client for SEEDD_ADDRESS (or `address`) with SEEDD_TOKEN, remembering the worker (SEEDD_WORKER
        or RANK) and SEEDD_EXPERIMENT for get_bundle(). SEEDD_RETRY_TIMEOUT overrides the retry window."""
        identity = WorkerIdentity.from_environment(env)
        if identity.retry_timeout is not None:
            options.setdefault("retry_timeout", identity.retry_timeout)
        return cls(address or identity.address, identity.token, identity=identity, **options)

    @property
    def addresses(self):
        return [t.address for t in self._targets]

    def close(self):
        for target in self._targets:
            target.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request, service="seeds", retry_timeout=None, max_attempts=None):
        """The call, retried on UNAVAILABLE and DEADLINE_EXCEEDED across the addresses for retry_timeout seconds (the
        client's by default), or for at most max_attempts attempts with no wait between them."""
        retry_timeout = (0 if max_attempts else self._retry_timeout) if retry_timeout is None else retry_timeout
        give_up = time.monotonic() + retry_timeout
        backoff, attempts = 0.1, 0
        while True:
            target = self._targets[self._current]
            try:
                # Each attempt has its own deadline, as in the .NET SDK: retry_timeout=0 means one attempt, not a 0 s one.
                answer = getattr(getattr(target, service), method)(request, timeout=self._timeout, metadata=self._metadata)
                self._outage = False
                return answer
            except grpc.RpcError as error:
                if error.code() not in _RETRIED:
                    raise errors.from_rpc_error(error, target.address) from None
                attempts += 1
                if not self._outage and retry_timeout > 0:
                    # One line as soon as seedd stops answering (once until it answers again): not a silent hang.
                    log.warning("seedd at %s is not answering (%s); retrying for up to %g s", ", ".join(self.addresses), error.code().name, retry_timeout)
                    self._outage = True
                self._current = (self._current + 1) % len(self._targets)
                remaining = give_up - time.monotonic()
                if max_attempts is not None and attempts < max_attempts:
                    continue
                if remaining <= 0:
                    raise errors.SeeddUnavailableError(
                        f"seedd at {', '.join(self.addresses)} did not answer within {retry_timeout:g} s ({attempts} attempts; last: "
                        f"{error.code().name}: {error.details()}). Is it running, and is SEEDD_ADDRESS right?",
                        error.code().name, target.address) from None
                if attempts % len(self._targets) == 0:  # every address tried once more: back off
                    time.sleep(min(backoff * (0.5 + _OWN_RANDOM.random() / 2), remaining))
                    backoff = min(backoff * 2, 2.0)

    def create_experiment(self, experiment_id, root=None, labels=None):
        """Creates the experiment, or returns it when it exists with the same root (needs the admin role
        when the daemon has tokens). root=None lets the daemon draw one."""
        request = pb.CreateExperimentRequest(experiment_id=experiment_id, root="" if root is None else str(root), labels=labels or {})
        return self._call("CreateExperiment", request)

    def get_experiment(self, experiment_id):
        return self._call("GetExperiment", pb.GetExperimentRequest(experiment_id=experiment_id))

    def get_seed(self, experiment_id, worker, library, stream=""):
        _check_key(experiment_id, worker, library, stream)
        answer = self._call("GetSeed", pb.GetSeedRequest(experiment_id=experiment_id, worker=worker, library=library, stream=stream))
        return self._checked(answer, experiment_id, worker, library, stream)

    def get_bundle(self, experiment_id=None, worker=None, columns=None):
        """All columns of one worker in one BatchGetSeeds call (experiment and worker default to the
        environment's: SEEDD_EXPERIMENT, SEEDD_WORKER or RANK)."""
        experiment_id = experiment_id or (self.identity.experiment_id if self.identity else "")
        worker = worker if worker is not None else (self.identity.worker if self.identity else 0)
        if not experiment_id:
            raise ValueError("no experiment: pass experiment_id or set SEEDD_EXPERIMENT")
        columns = list(dict.fromkeys(columns or DEFAULT_COLUMNS))
        seeds = self.get_seeds([(experiment_id, worker, library, stream) for library, stream in columns])
        bundle = Bundle(experiment_id, worker, seeds[0].root if seeds else 0)
        bundle.seeds = {(s.library, s.stream): s for s in seeds}
        return bundle

    def get_seeds(self, keys):
        """(experiment, worker, library, stream) keys, verified, in order: in one BatchGetSeeds call, or in
        as few as the daemon's limits allow (max_batch_keys keys and max_message_bytes bytes a call)."""
        keys = list(keys)
        for index, key in enumerate(keys):
            _check_key(*key, where=f"keys[{index}]: ")
        seeds = []
        for batch in self._batches(keys):
            request = pb.BatchGetSeedsRequest(requests=[pb.GetSeedRequest(experiment_id=e, worker=w, library=l, stream=s) for e, w, l, s in batch])
            response = self._call("BatchGetSeeds", request)
            if len(response.seeds) != len(batch):
                raise errors.SeedVerificationError(f"asked for {len(batch)} seeds, seedd answered {len(response.seeds)}")
            seeds += [self._checked(answer, *key) for answer, key in zip(response.seeds, batch)]
        return seeds

    # Audit: read-only questions (the auditor or admin role under auth). Nothing here issues a seed.

    def list_seeds(self, experiment_id, worker=None, worker_min=None, worker_max=None, library=None, stream=None):
        """The issued seeds of an experiment, filtered (a worker, a worker range, a library, a stream;
        stream "" is the default stream), in (worker, library, stream) order, each verified."""
        if worker is not None:
            worker_min = worker_max = worker
        filters = {k: v for k, v in (("worker_min", worker_min), ("worker_max", worker_max), ("library", library), ("stream", stream)) if v is not None}
        seeds, token = [], ""
        while True:
            page = self._call("ListIssuedSeeds", audit_pb.ListIssuedSeedsRequest(experiment_id=experiment_id, page_size=1000, page_token=token, **filters), "audit")
            seeds += [self._checked(s, experiment_id, s.worker, s.library, s.stream) for s in page.seeds]
            token = page.next_page_token
            if not token:
                return seeds

    def list_events(self, experiment_id, worker=None, worker_min=None, worker_max=None, library=None, stream=None, since=None, until=None):
        """The ledger events of an experiment in chain order, filtered as list_seeds, and by time
        (datetime, since inclusive, until exclusive). Each is a dict with the manifest's field names."""
        if worker is not None:
            worker_min = worker_max = worker
        filters = {k: v for k, v in (("worker_min", worker_min), ("worker_max", worker_max), ("library", library), ("stream", stream)) if v is not None}
        request = audit_pb.ListEventsRequest(experiment_id=experiment_id, page_size=1000, **filters)
        if since is not None:
            request.start_time.FromDatetime(since)
        if until is not None:
            request.end_time.FromDatetime(until)
        events = []
        while True:
            page = self._call("ListEvents", request, "audit")
            events += [_manifest.event(e) for e in page.events]
            if not page.next_page_token:
                return events
            request.page_token = page.next_page_token

    def verify_seed(self, experiment_id, worker, library, seed, stream=""):
        """Is `seed` (the library's width or the full 64 bits) seedseq-v1's seed for the key? A dict:
        match, expected_seed, expected_seed64, width, issued, issue_count."""
        _check_key(experiment_id, worker, library, stream)
        answer = self._call("VerifySeed", audit_pb.VerifySeedRequest(experiment_id=experiment_id, worker=worker, library=library, stream=stream, seed=seed), "audit")
        return {"match": answer.match, "expected_seed": answer.expected_seed, "expected_seed64": answer.expected_seed64,
                "width": answer.width, "issued": answer.issued, "issue_count": answer.issue_count}

    def verify_ledger(self, experiment_id):
        """The daemon recomputes the experiment's hash chain. A dict: ok, events_checked, head_sequence,
        head_hash, first_broken_sequence, reason."""
        answer = self._call("VerifyLedger", audit_pb.VerifyLedgerRequest(experiment_id=experiment_id), "audit")
        return {"ok": answer.ok, "events_checked": answer.events_checked, "head_sequence": answer.chain_head.sequence,
                "head_hash": answer.chain_head.hash, "first_broken_sequence": answer.first_broken_sequence, "reason": answer.reason}

    def ledger_key(self):
        """The verifier key of the deployment's signed checkpoints (signed-note format): the pinned
        `ledger_key` when given, else the one seedd serves."""
        return self._verifier_key()

    def _verifier_key(self, deadline=None):
        if self._ledger_key is None:
            self._ledger_key = self._call("GetLedgerKey", audit_pb.GetLedgerKeyRequest(), "audit", _left(deadline)).verifier_key
        return self._ledger_key

    def checkpoint(self, experiment_id):
        """The experiment's signed checkpoint as it is now, verified with the ledger key: a dict with
        experiment_id, tree_size, root (bytes) and note (the signed text to keep). A few hundred bytes
        that pin every seed issued so far."""
        return self._checkpoint(experiment_id)

    def _checkpoint(self, experiment_id, deadline=None):
        """checkpoint(), its calls retried until `deadline` (time.monotonic()) at most, one attempt each at least."""
        answer = self._call("GetCheckpoint", audit_pb.GetCheckpointRequest(experiment_id=experiment_id), "audit", _left(deadline))
        return proofs.open_checkpoint(answer.note, self._verifier_key(deadline), experiment_id)

    def prove_seed(self, experiment_id, worker, library, stream="", path=None):
        """The proof that the event that first issued the key is in the experiment's signed log (the
        auditor role): the bundle `seedctl seeds prove` writes, as a dict, verified here before it is
        returned (SeedVerificationError if not). With `path`, also written there as JSON."""
        _check_key(experiment_id, worker, library, stream)
        request = audit_pb.ProveInclusionRequest(experiment_id=experiment_id, key=audit_pb.ProofKey(worker=worker, library=library, stream=stream))
        answer = self._call("ProveInclusion", request, "audit")
        bundle = {"format": proofs.PROOF_FORMAT, "entry": base64.b64encode(answer.entry).decode(), "index": answer.leaf_index,
                  "tree_size": answer.tree_size, "audit_path": [base64.b64encode(p).decode() for p in answer.audit_path],
                  "checkpoint": answer.checkpoint}
        event = proofs.verify_proof(bundle, self.ledger_key())["event"]
        if (event["experiment_id"], event["worker"], event["library"], event["stream"]) != (experiment_id, worker, library, stream):
            raise errors.SeedVerificationError(f"seedd proved the entry of ({event['experiment_id']}, {event['worker']}, {event['library']}, {event['stream']!r}) "
                                               f"for ({experiment_id}, {worker}, {library}, {stream!r})")
        if path is not None:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(bundle, out, indent=2)
                out.write("\n")
        return bundle

    def consistency(self, experiment_id, old_note):
        """Proves that the experiment's log today extends a checkpoint kept earlier (its note): returns
        the new checkpoint's dict, or raises SeedVerificationError naming what does not hold."""
        old = proofs.open_checkpoint(old_note, self.ledger_key(), experiment_id)
        try:
            answer = self._call("ProveConsistency", audit_pb.ProveConsistencyRequest(experiment_id=experiment_id, old_size=old["tree_size"]), "audit")
        except errors.SeeddError as error:
            if getattr(error, "code", None) == "OUT_OF_RANGE":
                raise errors.SeedVerificationError(f"today's log of '{experiment_id}' does not extend the old checkpoint: {error}") from None
            raise
        return proofs.verify_consistency(old_note, answer.checkpoint, list(answer.proof), self.ledger_key(), experiment_id)

    def export_manifest(self, experiment_id, path):
        """Writes the experiment's manifest to `path`: the same document `seedctl export` writes
        (seedd-manifest-v2), streamed, so memory stays bounded. Written to PATH.partial and renamed
        when whole. Returns (seeds, events)."""
        target = self._targets[self._current]
        partial = f"{path}.partial"
        try:
            with open(partial, "w", encoding="utf-8") as out:
                writer = _manifest.Writer(out)
                for part in target.audit.ExportManifest(audit_pb.ExportManifestRequest(experiment_id=experiment_id, include_runs=True), timeout=max(self._timeout, 600), metadata=self._metadata):
                    writer.write(part)
                writer.close()
            os.replace(partial, path)
            return writer.seeds, writer.events
        except grpc.RpcError as error:
            raise errors.from_rpc_error(error, target.address) from None
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    def start_run(self, run_id=None, experiment_id=None, worker=None, seeded=None, resumed_from=None, environment=None, queue_size=10_000):
        """This process's part of a run (see seedd_client.runs): records its environment, then takes
        fingerprints with run.fingerprint(step, values={...}). The run id is `run_id`, else SEEDD_RUN,
        torchrun's TORCHELASTIC_RUN_ID or Slurm's SLURM_JOB_ID; a single process without any
        generates one and logs it. `seeded` (what apply_bundle or seed_everything returned) adds its
        stream generators; resumed_from=(run, step) records what a resumed process continues."""
        from . import runs
        identity = self.identity or WorkerIdentity.from_environment()
        experiment_id = experiment_id or identity.experiment_id
        if not experiment_id:
            raise ValueError("start_run needs an experiment: pass experiment_id= or set SEEDD_EXPERIMENT")
        worker = identity.worker if worker is None else worker
        source = "argument"
        if run_id is None:
            run_id, source = runs.run_id_from_environment(world_size=identity.world_size)
            if source == "generated":
                log.warning("seedd_client: run id %s generated for this single process (set SEEDD_RUN to name it)", run_id)
        _check_key(experiment_id, worker, "run")
        runs.check_run_id(run_id)
        worker = operator.index(worker)
        return runs.Run(self, experiment_id, worker, run_id, seeded=seeded, resumed_from=resumed_from,
                        environment_extra=environment, queue_size=queue_size, world_size=identity.world_size, source=source)

    def list_runs(self, experiment_id):
        """The runs of an experiment as dicts (run_id, processes, first_step, last_step, fingerprints, ...)."""
        answer = self._call("ListRuns", run_pb.ListRunsRequest(experiment_id=experiment_id), service="runs")
        return [_run_summary(r) for r in answer.runs]

    def get_run(self, experiment_id, run_id):
        """A run with its processes (worker, environment, first_step, last_step, steps, conflicts)."""
        answer = self._call("GetRun", run_pb.GetRunRequest(experiment_id=experiment_id, run_id=run_id), service="runs")
        run = _run_summary(answer.summary)
        run["processes"] = [{"worker": p.worker, "environment": dict(p.environment), "first_step": p.first_step, "last_step": p.last_step,
                             "steps": p.steps, "conflict_count": p.conflict_count,
                             "resumed_from": (p.resumed_from.run_id, p.resumed_from.step) if p.HasField("resumed_from") else None}
                            for p in answer.processes]
        return run

    def _batches(self, keys):
        """Consecutive slices of keys, each within max_batch_keys and (with the message's framing) max_message_bytes."""
        budget = self._max_message_bytes - 64
        batch, size = [], 0
        for key in keys:
            e, w, l, s = key
            # A key's bytes in BatchGetSeedsRequest: its own fields plus the field's tag and length.
            key_size = pb.GetSeedRequest(experiment_id=e, worker=w, library=l, stream=s).ByteSize() + 4
            if batch and (len(batch) == self._max_batch_keys or size + key_size > budget):
                yield batch
                batch, size = [], 0
            batch.append(key)
            size += key_size
        if batch:
            yield batch

    def _checked(self, answer, experiment_id, worker, library, stream):
        seed = IssuedSeed.of(answer)
        if self._verify:
            verify(seed, experiment_id, worker, library, stream)
        return seed
