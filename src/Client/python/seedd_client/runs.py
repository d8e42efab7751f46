"""Runs: did this training run reproduce, and where did it first go apart?

    run = client.start_run(seeded=report)            # the run id from SEEDD_RUN, torchrun or Slurm
    for step in range(steps):
        loss = train_step()
        run.fingerprint(step, values={"loss": loss, "model": model})   # digests now, sent in the background
    run.close()                                       # flushes; `with client.start_run() as run:` too

A fingerprint holds a digest of every generator RngState captures (Python random, NumPy, torch CPU,
each CUDA device, the stream generators of `seeded`) and of the values named: a number is compared
by its exact bits, a tensor or a model by a digest of its bytes computed where it lives, bytes (say,
the sample indices a sampler yielded) by their digest. Only digests travel. `seedctl runs diff`
compares two runs step by step.
"""
import base64
import collections
import datetime
import hashlib
import logging
import operator
import os
import platform
import re
import secrets
import socket
import struct
import sys
import threading
import time
import warnings

import grpc

from . import errors
from ._proto import run_service_pb2 as run_pb
from .rng_state import RngState

log = logging.getLogger("seedd_client")

GENERATOR, SCALAR, TENSOR, BYTES = (run_pb.DIGEST_KIND_GENERATOR, run_pb.DIGEST_KIND_SCALAR,
                                    run_pb.DIGEST_KIND_TENSOR, run_pb.DIGEST_KIND_BYTES)
DIGEST_BYTES = 16  # of SHA-256: collisions are not a concern at 2^64 work, and a step's report stays small
MAX_STEPS_PER_REPORT = 1000  # the daemon's limit
_CHUNK_BYTES = 1 << 20  # a device digest works through a tensor 1 MiB at a time (about 40 MiB of device memory for its temporaries)
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}")
_ENV_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,62}")


class RunResumeError(RuntimeError):
    """The state a resumed process restored is not the one the original run recorded at that step."""


def run_id_from_environment(env=None, world_size=None):
    """(run id, where it came from). SEEDD_RUN, else torchrun's TORCHELASTIC_RUN_ID (not its default
    "none"), else Slurm's SLURM_JOB_ID (with SLURM_ARRAY_TASK_ID for an array job's task); every
    process of one launch reads the same value without talking to the others. A launch of several
    processes with none of them is an error; a single process generates an id."""
    env = os.environ if env is None else env
    if env.get("SEEDD_RUN", "").strip():
        return env["SEEDD_RUN"].strip(), "SEEDD_RUN"
    torchrun = env.get("TORCHELASTIC_RUN_ID", "").strip()
    if torchrun and torchrun != "none":
        # An elastic restart runs the steps since its checkpoint again: a run of its own.
        return _restarted(torchrun, env.get("TORCHELASTIC_RESTART_COUNT")), "TORCHELASTIC_RUN_ID"
    if env.get("SLURM_JOB_ID", "").strip():
        job = env["SLURM_JOB_ID"].strip()
        task = env.get("SLURM_ARRAY_TASK_ID", "").strip()
        return _restarted(f"slurm-{job}-{task}" if task else f"slurm-{job}", env.get("SLURM_RESTART_COUNT")), "SLURM_JOB_ID"
    if world_size is None:
        try:
            world_size = int(env.get("WORLD_SIZE", "1") or "1")
        except ValueError:
            world_size = 1
    if world_size > 1:
        raise RuntimeError(f"WORLD_SIZE is {world_size} but no run id is set: the processes of one launch must share it. "
                           "Set SEEDD_RUN to the same value in every process (a job name, a date), or launch with torchrun "
                           "(TORCHELASTIC_RUN_ID) or Slurm (SLURM_JOB_ID).")
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("run-%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    return generated, "generated"


def _restarted(run_id, count):
    count = (count or "").strip()
    return f"{run_id}-restart-{count}" if count.isdigit() and int(count) > 0 else run_id


def check_run_id(run_id):
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"run id {run_id!r} must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,127}}$ (as an experiment id)")


# What a script asked for and seedd refused: start_run raises these; any other failure is retried in the background.
_REFUSED_AT_START = ("NOT_FOUND", "PERMISSION_DENIED", "UNAUTHENTICATED", "INVALID_ARGUMENT", "FAILED_PRECONDITION")


def _resumed_from(value):
    """resumed_from=(run id, step), checked at the call: seedd would refuse the process's record later, in the background."""
    try:
        run, step = value
    except (TypeError, ValueError):
        raise ValueError(f"resumed_from must be (run id, step), got {value!r}") from None
    check_run_id(run)
    try:
        index = None if isinstance(step, bool) else operator.index(step)  # NumPy's integers too
    except TypeError:
        index = None
    if index is None or not 0 <= index < 2 ** 63:
        raise ValueError(f"resumed_from's step must be an int from 0 to 2**63 - 1 (the checkpoint's step in run {run!r}), got {step!r}")
    return run, index


def environment(world_size=None, extra=None):
    """What this process runs on, as flat strings: host, versions, devices, and the determinism
    switches as they are now. Only libraries already imported are asked (nothing is imported here)."""
    env = {"host": socket.gethostname(), "os": f"{platform.system()} {platform.release()}",
           "python": platform.python_version(), "pid": str(os.getpid())}
    for name in ("PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_DETERMINISTIC_OPS", "CUDA_VISIBLE_DEVICES"):
        env[f"env.{name}"] = os.environ.get(name, "(unset)")
    if world_size is not None:
        env["world_size"] = str(world_size)
    np = sys.modules.get("numpy")
    if np is not None:
        env["numpy"] = np.__version__
    torch = sys.modules.get("torch")
    if torch is not None:
        env["torch"] = torch.__version__
        env["torch.threads"] = str(torch.get_num_threads())
        env["torch.interop_threads"] = str(torch.get_num_interop_threads())
        env["torch.deterministic_algorithms"] = str(torch.are_deterministic_algorithms_enabled())
        env["torch.cudnn.deterministic"] = str(torch.backends.cudnn.deterministic)
        env["torch.cudnn.benchmark"] = str(torch.backends.cudnn.benchmark)
        env["torch.cuda"] = str(torch.version.cuda)
        if torch.cuda.is_available():
            env["torch.cudnn"] = str(torch.backends.cudnn.version())
            for device in range(torch.cuda.device_count()):
                env[f"torch.device.{device}"] = torch.cuda.get_device_name(device)
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        env["tensorflow"] = tf.__version__
        try:
            env["tensorflow.op_determinism"] = str(tf.config.experimental.is_op_determinism_enabled())
        except AttributeError:
            pass
    jax = sys.modules.get("jax")
    if jax is not None:
        env["jax"] = jax.__version__
    for key in (extra or {}):
        if not isinstance(key, str) or not _ENV_KEY.fullmatch(key):
            raise ValueError(f"environment key {key!r} must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,62}}$")
    env.update(extra or {})
    return {key: str(value)[:256] for key, value in env.items()}


def generator_digests(seeded=None):
    """{name: digest} of every generator RngState captures: rng.python, rng.numpy, rng.torch.cpu,
    rng.torch.cuda.N, rng.stream.NAME."""
    return state_digests(RngState.capture(seeded))


def state_digests(state):
    """The generator digests of a captured (or restored) RngState, named as fingerprints name them."""
    names = {"python": "rng.python", "numpy": "rng.numpy", "cpu": "rng.torch.cpu"}
    digests = {}
    for part, blob in state.parts.items():
        if part.startswith("cuda:"):
            name = "rng.torch.cuda." + part[5:]
        elif part.startswith("stream:"):
            name = "rng.stream." + part[7:]
            if not _NAME.fullmatch(name):
                raise ValueError(f"stream generator {part[7:]!r} gives the digest name {name!r}, which must match ^[a-z0-9][a-z0-9._-]{{0,63}}$")
        else:
            name = names.get(part, "rng." + part)
        digests[name] = hashlib.sha256(blob).digest()[:DIGEST_BYTES]
    return digests


def _scalar(value):
    """A number's digest: its IEEE double. An integer a double does not hold exactly would share its digest with its neighbours."""
    if isinstance(value, complex):
        raise TypeError(f"cannot fingerprint the complex number {value!r} as a scalar: give its real and imaginary parts as two values")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2 ** 53:
        raise ValueError(f"the integer {value} is beyond 2**53, which a scalar digest (an IEEE double) holds exactly: give it as [{value}] "
                         "(up to 2**63 - 1) or as str(value).encode()")
    return SCALAR, struct.pack("<d", float(value))


def value_digest(value):
    """(kind, digest bytes) of a value a user names in a fingerprint."""
    if isinstance(value, (bool, int, float)):
        return _scalar(value)
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(value, torch.nn.Module):
            return TENSOR, module_digest(value)
        if isinstance(value, torch.Tensor):
            if value.is_complex():
                raise TypeError(f"cannot fingerprint a {value.dtype} tensor: give torch.view_as_real(tensor)")
            if value.dim() == 0:
                return _scalar(value.item())
            return TENSOR, tensor_digest(value)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.generic) and value.size == 1 and (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
            return _scalar(value.item())
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            return BYTES, _sha(str(array.dtype).encode(), str(array.shape).encode(), memoryview(array).cast("B"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BYTES, _sha(bytes(value))
    if isinstance(value, (list, tuple, range)):
        ints = _ints(value)
        if ints is not None:
            return BYTES, _sha(b"ints", struct.pack(f"<{len(ints)}q", *ints))
    raise TypeError(f"cannot fingerprint a {type(value).__name__}: give a number, a torch tensor or module, a NumPy array, bytes, or a list of ints")


def _ints(values):
    """The list's items as Python ints (NumPy's integers too), or None when one is not an integer; each must fit 64 bits."""
    np = sys.modules.get("numpy")
    integers = (int, np.integer) if np is not None else (int,)
    ints = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, integers):
            return None
        v = int(v)
        if not -2 ** 63 <= v < 2 ** 63:
            raise ValueError(f"the integer {v} in a list of ints does not fit 64 bits: give the list as bytes")
        ints.append(v)
    return ints


def tensor_digest(tensor):
    """A digest of a tensor's dtype, shape and bytes in row-major order. On the CPU, SHA-256 of the
    bytes; on a device, computed there (device_digest), so a GPU model is never copied to the host."""
    tensor = tensor.detach()
    if tensor.device.type != "cpu":
        return device_digest(tensor)
    flat = tensor.contiguous().reshape(-1)
    raw = flat.view(_same_size_int(flat)).numpy()
    return _sha(str(tensor.dtype).encode(), str(tuple(tensor.shape)).encode(), memoryview(raw).cast("B"))


def device_digest(tensor):
    """A digest computed on the tensor's device, 16 MiB at a time: the bytes as integers, summed with
    two sets of position-dependent odd weights (wrapping int64 arithmetic); only two numbers per chunk
    come to the host, then hashed with SHA-256. Any change of one byte changes both sums. Runs on the
    CPU too (for tests), but tensor_digest uses SHA-256 there."""
    torch = sys.modules["torch"]
    flat = tensor.detach().contiguous().reshape(-1)
    raw = flat.view(torch.uint8) if flat.element_size() == 1 else flat.view(_same_size_int(flat)).view(torch.uint8)
    sums = []
    for start in range(0, raw.numel(), _CHUNK_BYTES):
        chunk = raw[start:start + _CHUNK_BYTES].to(torch.int64)
        position = torch.arange(start, start + chunk.numel(), device=chunk.device, dtype=torch.int64)
        first = (position * 6364136223846793005 + 1442695040888963407) | 1
        second = (position * 2862933555777941757 + 3037000493) | 1
        sums.append(torch.stack(((chunk * first).sum(), (chunk * second).sum())))
    values = torch.stack(sums).cpu().tolist() if sums else []
    return _sha(b"device", str(tensor.dtype).encode(), str(tuple(tensor.shape)).encode(),
                struct.pack(f"<{2 * len(values)}q", *[v for pair in values for v in pair]))


def module_digest(module):
    """A digest of a model's parameters and buffers in state_dict order (names included)."""
    parts = []
    for name, tensor in module.state_dict().items():
        parts.append(name.encode())
        parts.append(tensor_digest(tensor))
    return _sha(*parts)


def _same_size_int(tensor):
    torch = sys.modules["torch"]
    return {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[tensor.element_size()]


def _sha(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()[:DIGEST_BYTES]


class Run:
    """One process of one run. fingerprint() takes its digests at the call and returns at once;
    reports go to seedd in batches on a background thread. The queue is bounded (queue_size steps):
    when it is full the oldest step is dropped, counted (`dropped`) and logged — never silently. An
    unreachable daemon is logged once and retried; training goes on. close() flushes."""

    def __init__(self, client, experiment_id, worker, run_id, seeded=None, resumed_from=None, environment_extra=None,
                 queue_size=10_000, world_size=None, source=""):
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.client, self.experiment_id, self.worker, self.run_id = client, experiment_id, worker, run_id
        self.run_id_source = source
        self.seeded = seeded
        self.resumed_from = _resumed_from(resumed_from) if resumed_from else None
        self.queue_size = queue_size
        self.dropped = 0
        self.sent = 0
        self.rejected = 0
        self.last_error = None
        # The experiment's signed checkpoint at close(): what a tracker keeps to pin every seed the run used.
        self.checkpoint = None
        self._last_step = None
        self._queue = collections.deque()
        self._wake = threading.Condition()
        self._closing = False
        self._in_flight = 0
        request = run_pb.RecordProcessRequest(experiment_id=experiment_id, run_id=run_id, worker=worker,
                                              environment=environment(world_size, environment_extra))
        if self.resumed_from:
            request.resumed_from.run_id, request.resumed_from.step = self.resumed_from
        self._process_request = request
        self._recorded = False
        self._record_at_start()
        self._thread = threading.Thread(target=self._send_loop, name=f"seedd-run-{run_id}", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fingerprint(self, step, values=None, generators=True):
        """Digests of every generator (unless generators=False) and of `values` ({name: value}) at
        `step`, taken now; queued for seedd. Steps go up (an int, 0 or more, above the last one)."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be an int, 0 or more, got {step!r}")
        if self._last_step is not None and step <= self._last_step:
            raise ValueError(f"step {step} is not above the last step fingerprinted ({self._last_step}): steps go up within a run")
        if self._closing:
            raise RuntimeError(f"run {self.run_id!r} is closed")
        digests = []
        if generators:
            digests.extend(run_pb.Digest(name=name, kind=GENERATOR, value=value) for name, value in generator_digests(self.seeded).items())
        taken = {d.name for d in digests}
        for name, value in (values or {}).items():
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise ValueError(f"value name {name!r} must match ^[a-z0-9][a-z0-9._-]{{0,63}}$ (say 'loss', 'val.loss', 'model')")
            if name in taken:
                raise ValueError(f"value name {name!r} is taken by a generator's digest; name it otherwise")
            kind, digest = value_digest(value)
            digests.append(run_pb.Digest(name=name, kind=kind, value=digest))
        if not digests:
            raise ValueError("a fingerprint needs at least one digest: generators=False and no values")
        entry = run_pb.StepFingerprint(step=step, digests=digests)
        self._last_step = step
        with self._wake:
            if len(self._queue) >= self.queue_size:
                self._queue.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("run %s: the fingerprint queue is full (%d steps; seedd is not keeping up or not answering): "
                                "%d oldest step(s) dropped so far", self.run_id, self.queue_size, self.dropped)
            self._queue.append(entry)
            self._wake.notify()

    def check_restored(self, state=None, step=None, on_mismatch="raise"):
        """The resume check: compares the generator state restored here (an RngState, or what this
        process has now) with the fingerprint the original run recorded at `step` (default: the
        step of resumed_from). on_mismatch="raise" raises RunResumeError, "warn" warns; returns the
        names that differ (empty when equal). Given a state, it also checks that this process's
        generators are that state (restored, and nothing drawn since)."""
        if on_mismatch not in ("raise", "warn"):
            raise ValueError(f"on_mismatch must be 'raise' or 'warn', got {on_mismatch!r}")
        if not self.resumed_from and step is None:
            raise ValueError("check_restored needs resumed_from=(run, step) at start_run, or step=")
        original, at = self.resumed_from or (self.run_id, step)
        at = at if step is None else step
        mine = state_digests(state) if state is not None else generator_digests(self.seeded)
        try:
            recorded = self.client._call("GetFingerprint", run_pb.GetFingerprintRequest(
                experiment_id=self.experiment_id, run_id=original, worker=self.worker, step=at), service="runs")
        except errors.SeeddError as error:
            if error.code == "NOT_FOUND":
                raise RunResumeError(f"run {original!r} recorded no fingerprint for worker {self.worker} at step {at}: "
                                     "nothing to check the restored state against") from None
            raise
        theirs = {d.name: d.value for d in recorded.digests if d.kind == GENERATOR}
        if not theirs.keys() & mine.keys():
            raise RunResumeError(f"run {original!r} recorded no generator of worker {self.worker} at step {at} that this process has "
                                 f"(recorded: {', '.join(sorted(theirs)) or 'none'}; here: {', '.join(sorted(mine)) or 'none'}): nothing to check")
        # A generator the original had and this process did not restore differs too.
        differing = sorted(name for name in theirs if mine.get(name) != theirs[name])
        # A state checked but not restored (or drawn from since): the process's own generators are what the rerun draws from.
        here = generator_digests(self.seeded) if state is not None else mine
        not_restored = sorted(name for name in mine.keys() & here.keys() if here[name] != mine[name])
        problems = []
        if differing:
            problems.append(f"the restored state is not the one run {original!r} had at step {at} (worker {self.worker}): "
                            f"{', '.join(differing)} differ")
        if not_restored:
            problems.append(f"this process's {', '.join(not_restored)} {'is' if len(not_restored) == 1 else 'are'} not the state checked: "
                            "restore it (state.restore(seeded)) before check_restored, and draw nothing in between")
        differing = sorted(set(differing) | set(not_restored))
        if differing:
            message = "; ".join(problems) + ". The rerun will not reproduce it from there."
            if on_mismatch == "raise":
                raise RunResumeError(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        return differing

    def flush(self, timeout=60.0):
        """Waits until every queued step is sent (or timeout); True when the queue is empty."""
        deadline = time.monotonic() + timeout
        with self._wake:
            self._wake.notify()
            while (self._queue or self._in_flight) and self._thread.is_alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(min(remaining, 0.1))
        return not self._queue

    def close(self, timeout=60.0):
        """Flushes (up to timeout seconds), stops the sender, and asks for the experiment's signed
        checkpoint with the time left (one attempt at least; none when seedd did not take the steps).
        Logs what could not be sent."""
        if self._closing:
            return
        deadline = time.monotonic() + timeout
        flushed = self.flush(timeout)
        with self._wake:
            self._closing = True
            left = len(self._queue) + self._in_flight
            self._wake.notify_all()
        self._thread.join(timeout=5)
        if not flushed or left:
            log.warning("run %s: %d step(s) could not be sent to seedd before close (%s)", self.run_id, left, self.last_error or "timeout")
        if self.dropped:
            log.warning("run %s: %d step(s) were dropped because the queue was full", self.run_id, self.dropped)
        if not flushed or left or not self._recorded:
            log.warning("run %s: no signed checkpoint of '%s' at close: seedd did not take the run within %g s", self.run_id, self.experiment_id, timeout)
            return
        try:
            self.checkpoint = self.client._checkpoint(self.experiment_id, deadline=deadline)
        except Exception as error:  # training is over; say why there is no checkpoint, do not fail the job
            log.warning("run %s: no signed checkpoint of '%s' at close: %s", self.run_id, self.experiment_id, error)

    def as_params(self, prefix="seedd."):
        """The run for mlflow.log_params or wandb.config.update: its id and worker and, after close(),
        the experiment's signed checkpoint (tree size, root and the note itself, about 200 bytes): with
        the verifier key it proves every seed issued before it, offline (seedctl verify-proof)."""
        params = {f"{prefix}run": self.run_id, f"{prefix}experiment": self.experiment_id, f"{prefix}worker": self.worker}
        if self.checkpoint is not None:
            params[f"{prefix}ledger.tree_size"] = str(self.checkpoint["tree_size"])
            params[f"{prefix}ledger.root"] = base64.b64encode(self.checkpoint["root"]).decode()
            params[f"{prefix}ledger.checkpoint"] = self.checkpoint["note"]
        return params

    def _send_loop(self):
        if not self._recorded:
            self._send_with_retry("RecordProcess", self._process_request)
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue and self._closing:
                    return
                batch = []
                while self._queue and len(batch) < MAX_STEPS_PER_REPORT:
                    batch.append(self._queue.popleft())
                self._in_flight = len(batch)
            for request in self._requests(batch):
                self._send_with_retry("ReportFingerprints", request)
            with self._wake:
                self._in_flight = 0
                self._wake.notify_all()

    def _requests(self, batch):
        """The batch as reports within the daemon's message size (the client's max_message_bytes)."""
        budget = max(1024, getattr(self.client, "_max_message_bytes", 1024 * 1024) - 1024)
        request = run_pb.ReportFingerprintsRequest(experiment_id=self.experiment_id, run_id=self.run_id, worker=self.worker)
        size = request.ByteSize()
        for step in batch:
            step_size = step.ByteSize() + 8
            if request.steps and size + step_size > budget:
                yield request
                request = run_pb.ReportFingerprintsRequest(experiment_id=self.experiment_id, run_id=self.run_id, worker=self.worker)
                size = request.ByteSize()
            request.steps.append(step)
            size += step_size
        if request.steps:
            yield request

    def _answered(self, method, request, answer):
        """Counts what seedd took, and says when its answer shows this launch reuses a run id."""
        self.last_error = None
        if method == "RecordProcess":
            self._recorded = True
        if method == "ReportFingerprints":
            self.sent += len(request.steps)
            if answer.repeats or answer.conflicts:
                log.warning("run %s: seedd already had %d of these %d step(s) (%d with other digests, kept out): this launch "
                            "reuses its run id, so its steps count as repeats or conflicts of an earlier one. Set SEEDD_RUN to a new id "
                            "for a new run.", self.run_id, answer.repeats + answer.conflicts, len(request.steps), answer.conflicts)
        elif answer.environment.get("pid") != str(os.getpid()) or answer.environment.get("host") != socket.gethostname():
            log.warning("run %s: worker %d was recorded before, by pid %s on %s: another process of this launch has the same worker "
                        "(RANK set twice?), or this launch reuses its run id; either way its steps count as repeats or conflicts of "
                        "the other's. Give each process its own worker, and set SEEDD_RUN to a new id for a new run.",
                        self.run_id, self.worker, answer.environment.get("pid", "?"), answer.environment.get("host", "?"))

    def _record_at_start(self):
        """The process's record, one attempt per address at start_run: seedd's refusal of what the script asked (an unknown
        experiment, a role the token lacks) raises there, where the script hears it; anything else (no answer, a fault of
        seedd's own) leaves the record to the sender, which retries and logs, and training goes on."""
        try:
            answer = self.client._call("RecordProcess", self._process_request, service="runs", max_attempts=len(self.client.addresses))
        except errors.SeeddError as error:
            if error.code in _REFUSED_AT_START:
                raise
            self.last_error = str(error)
            log.warning("run %s: seedd did not record this process at start_run (%s); it is retried in the background", self.run_id, error)
            return
        self._answered("RecordProcess", self._process_request, answer)

    def _send_with_retry(self, method, request):
        """Sends until it is answered; a refusal (bad input) is logged and the request dropped."""
        logged = False
        while True:
            try:
                self._answered(method, request, self.client._call(method, request, service="runs"))
                return
            except errors.SeeddUnavailableError as error:
                self.last_error = str(error)
                if not logged:
                    log.warning("run %s: seedd is not answering; fingerprints wait in the queue and are retried (%s)", self.run_id, error)
                    logged = True
                if self._closing:
                    return
                time.sleep(1.0)
            except errors.SeeddError as error:
                self.last_error = str(error)
                self.rejected += len(getattr(request, "steps", []))
                log.error("run %s: seedd refused %s: %s", self.run_id, method, error)
                return
