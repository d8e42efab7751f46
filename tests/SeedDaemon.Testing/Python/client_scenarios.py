"""Scenarios of the installed seedd_client package, run by the C# tests with the test venv's Python.

usage: client_scenarios.py SCENARIO ARGS...   (prints one JSON document; exits non-zero on a failed check)
The tests compare what this prints with independent oracles (NumPy, the daemon's ledger, the .NET SDK).
"""
import dataclasses
import json
import os
import random
import sys
import time

import seedd_client
from seedd_client import (DataLoaderSeeding, InvalidArgumentError, RngState, RngStateError, SeedClient, SeeddError,
                          SeedVerificationError, apply_bundle, compose_worker, derive, verify)


def fail(message):
    sys.exit(f"client_scenarios: {message}")


def scenario_checks(address, experiment, rng_seed):
    """Pure-Python seedseq-v1 equals NumPy for 1,000 random keys; a bundle verifies; a tampered one does not;
    the NumPy Generator and scikit-learn seed behave as documented."""
    import numpy as np
    import seedseq_oracle
    rng = random.Random(int(rng_seed))
    libraries = list(seedseq_oracle.WIDTHS) + ["lightgbm", "x"]
    for _ in range(1000):
        key = (rng.randrange(2**128) >> rng.randrange(128), rng.randrange(2**32 - 1), rng.choice(libraries), rng.choice(["", "dataloader", "epoch-3"]))
        if derive(*key) != seedseq_oracle.derive(*key):
            fail(f"pure-Python seedseq-v1 differs from NumPy for {key}")
    with SeedClient(address, labels={"job": "python-checks"}) as client:
        client.create_experiment(experiment, 20261126)
        bundle = client.get_bundle(experiment, 3_000_000_000)
    numpy_seed = bundle.get("numpy")
    for change in ({"seed64": numpy_seed.seed64 ^ 1}, {"seed": numpy_seed.seed ^ 1}, {"width": 64}, {"state": (1, 2, 3, 4)}, {"scheme": "seedseq-v2"}):
        try:
            verify(dataclasses.replace(numpy_seed, **change), experiment, 3_000_000_000, "numpy", "")
            fail(f"a tampered answer was accepted: {change}")
        except SeedVerificationError:
            pass
    expected = np.random.default_rng(np.random.SeedSequence(20261126, spawn_key=(3_000_000_000, seedseq_oracle.tag("numpy")))).random(4)
    if bundle.numpy_generator().random(4).tolist() != expected.tolist():
        fail("the bundle's NumPy Generator draws differently from default_rng(SeedSequence(root, spawn_key))")
    from sklearn.model_selection import train_test_split
    state = bundle.sklearn_random_state()
    if train_test_split(list(range(100)), random_state=state) != train_test_split(list(range(100)), random_state=state):
        fail("scikit-learn split differently with the same random_state")
    return {"keys_checked": 1000, "bundle": len(bundle.seeds), "version": seedd_client.__version__}


def scenario_package():
    """What an installed package looks like from the outside."""
    import importlib.metadata
    import pathlib
    import shutil
    package = pathlib.Path(seedd_client.__file__).parent
    return {"version": seedd_client.__version__, "metadata_version": importlib.metadata.version("seedd-client"),
            "location": str(package), "py_typed": (package / "py.typed").exists(), "protoc_on_path": shutil.which("protoc"),
            "requires": importlib.metadata.requires("seedd-client"), "cwd": os.getcwd()}


def scenario_fork_support():
    """gRPC's fork support as seedd_client leaves it for the process (imported above, before any channel)."""
    return {"GRPC_ENABLE_FORK_SUPPORT": os.environ.get("GRPC_ENABLE_FORK_SUPPORT")}


def scenario_determinism(address, experiment, mode):
    """apply_bundle with deterministic=False/True (and warn_only), from a fresh process; 'too_late' pretends
    CUDA has started (this machine has no GPU), to check the report says so instead of claiming the switch."""
    import torch
    if mode == "too_late":
        torch.cuda.is_initialized = lambda: True
    before = _switch_state(torch)
    with SeedClient(address) as client:
        bundle = client.get_bundle(experiment, 5, [("python", ""), ("numpy", ""), ("torch", ""), ("torch.cuda", ""), ("tensorflow", "")])
    report = apply_bundle(bundle, deterministic=mode != "off", warn_only=mode == "warn_only")
    return {"before": before, "after": _switch_state(torch), "switches": report.switches, "applied": report.applied, "not_applied": report.not_applied,
            "torch_draw": torch.rand(1).item()}


def _switch_state(torch):
    return {"cudnn.deterministic": torch.backends.cudnn.deterministic, "cudnn.benchmark": torch.backends.cudnn.benchmark,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(), "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG")}


def scenario_rng(address, experiment):
    """Capture, draw, restore from bytes, draw again: the same numbers. Damaged and foreign blobs are refused."""
    import numpy as np
    import torch
    with SeedClient(address) as client:
        bundle = client.get_bundle(experiment, 7, [("python", ""), ("numpy", ""), ("torch", ""), ("torch", "augment")])
    seeded = apply_bundle(bundle)

    def draws():
        return [random.random(), np.random.random(), torch.rand(2).tolist(), torch.rand(2, generator=seeded.generator("augment")).tolist()]

    draws()
    state = RngState.capture(seeded)
    first = draws()
    blob = state.to_bytes()
    RngState.from_bytes(blob).restore(seeded)
    again = draws()
    refusals = {}
    damaged = bytearray(blob)
    damaged[len(damaged) // 2] ^= 0x40
    for name, data in {"damaged": bytes(damaged), "foreign": b"PK\x03\x04" + bytes(100), "truncated": blob[:-40]}.items():
        try:
            RngState.from_bytes(data)
            refusals[name] = None
        except RngStateError as error:
            refusals[name] = str(error)
    try:
        RngState.from_bytes(blob).restore()
        refusals["no_generators"] = None
    except RngStateError as error:
        refusals["no_generators"] = str(error)
    return {"parts": sorted(state.parts), "sha256": state.sha256, "same_draws": first == again, "first": first, "again": again, "refusals": refusals}


def scenario_errors(address, unreachable, auth_address):
    """Each failure raises an exception that names the problem; never a raw gRPC repr."""
    out = {}

    def attempt(name, call):
        started = time.monotonic()
        try:
            call()
            out[name] = {"type": None}
        except (SeeddError, ValueError) as error:
            out[name] = {"type": type(error).__name__, "message": str(error), "field": getattr(error, "field", None),
                         "code": getattr(error, "code", None), "seconds": round(time.monotonic() - started, 2)}

    with SeedClient(unreachable, retry_timeout=2, timeout=1) as client:
        attempt("unreachable", lambda: client.get_seed("errors/x", 1, "torch"))
    with SeedClient(address) as client:
        attempt("missing_experiment", lambda: client.get_seed("errors/none", 1, "torch"))
        attempt("invalid_library", lambda: client.get_seed("errors/none", 1, "Bad Lib"))
        attempt("reserved_worker", lambda: client.get_seed("errors/none", 2**32 - 1, "torch"))
        attempt("negative_worker", lambda: client.get_seed("errors/none", -1, "torch"))
        import numpy as np
        attempt("numpy_worker", lambda: client.get_seed("errors/none", np.int64(1), "torch"))
        attempt("negative_worker_in_batch", lambda: client.get_seeds([("errors/none", 1, "torch", ""), ("errors/none", -1, "torch", "")]))
    with SeedClient(auth_address, token="not-a-token") as client:
        attempt("wrong_token", lambda: client.get_seed("errors/none", 1, "torch"))
    with SeedClient(auth_address) as client:
        attempt("no_token", lambda: client.get_seed("errors/none", 1, "torch"))
    attempt("label_with_comma", lambda: SeedClient(address, labels={"job": "a,b=c"}))
    attempt("label_not_ascii", lambda: SeedClient(address, labels={"note": "h\u00e9llo"}))
    attempt("label_key", lambda: SeedClient(address, labels={"bad key": "x"}))
    attempt("unknown_scheme", lambda: SeedClient("htps://127.0.0.1:1"))
    return out


def scenario_compose(grid_json):
    """compose_worker over the grid the .NET test passes; errors as 'range' or 'overflow'."""
    results = []
    for rank, sub, per in json.loads(grid_json):
        try:
            results.append(str(compose_worker(rank, sub, per)))
        except OverflowError:
            results.append("overflow")
        except ValueError:
            results.append("range")
    return results


def scenario_loader_seeds(address, experiment, rank, num_workers, epochs):
    """The seeds the DataLoader's worker processes really used (torch.initial_seed() and their first random and
    NumPy draws, in the worker), next to what set_epoch fetched, with this process's pid."""
    import numpy as np
    import torch
    from torch.utils.data import DataLoader, Dataset

    class Probe(Dataset):
        def __len__(self):
            return 4 * int(num_workers)

        def __getitem__(self, index):
            info = torch.utils.data.get_worker_info()
            return torch.tensor([info.id, os.getpid(), torch.initial_seed() & 0xFFFFFFFF, torch.initial_seed() >> 32], dtype=torch.int64)

    class Draws(Dataset):
        def __len__(self):
            return int(num_workers)

        def __getitem__(self, index):
            info = torch.utils.data.get_worker_info()
            return (info.id, random.random(), float(np.random.random()))

    with SeedClient(address) as client:
        seeding = DataLoaderSeeding(client, int(num_workers), experiment, int(rank))
        probe = DataLoader(Probe(), batch_size=1, num_workers=int(num_workers), worker_init_fn=seeding.worker_init_fn, generator=seeding.generator)
        draws = DataLoader(Draws(), batch_size=None, num_workers=int(num_workers), worker_init_fn=seeding.worker_init_fn, generator=seeding.generator,
                           sampler=[[i] for i in range(int(num_workers))])
        epochs_out = []
        for epoch in range(int(epochs)):
            fetched = seeding.set_epoch(epoch)
            sampler_seed = seeding.generator.initial_seed()
            used = {}
            for row in probe:
                worker, pid, low, high = row[0].tolist()
                used[str(worker)] = {"torch": str(low | (high << 32)), "pid": pid}
            firsts = {}
            for item in draws:
                worker, first_random, first_numpy = item
                firsts[str(int(worker))] = {"random": float(first_random), "numpy": float(first_numpy)}
            expected = {str(w): {"random": random.Random(s["python"]).random(), "numpy": float(np.random.RandomState(s["numpy"]).random_sample())}
                        for w, s in fetched.items()}
            epochs_out.append({"fetched": {str(w): {k: str(v) for k, v in s.items()} for w, s in fetched.items()}, "used": used, "sampler_seed": str(sampler_seed),
                               "first_draws": firsts, "expected_first_draws": expected,
                               "worker_index": {str(w): seeding.worker_index(w) for w in range(int(num_workers))}})
    return {"pid": os.getpid(), "epochs": epochs_out}


def scenario_torchrun_worker():
    """One worker under torchrun's environment: identity from the environment, its bundle applied, then the
    ranks compare their seeds over a real torch.distributed (gloo) process group."""
    import torch
    import torch.distributed as dist
    with SeedClient.from_environment() as client:
        identity = client.identity
        bundle = client.get_bundle(columns=[("python", ""), ("numpy", ""), ("torch", ""), ("torch.cuda", "")])
    apply_bundle(bundle)
    dist.init_process_group("gloo")
    mine = torch.tensor([bundle.worker, bundle.seed("torch") & 0xFFFFFFFF, bundle.seed("torch") >> 32, torch.initial_seed() & 0xFFFFFFFF], dtype=torch.int64)
    gathered = [torch.zeros(4, dtype=torch.int64) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, mine)
    dist.destroy_process_group()
    return {"rank": int(os.environ["RANK"]), "worker": identity.worker, "source": identity.worker_source, "local_rank": identity.local_rank,
            "world_size": identity.world_size, "local_world_size": identity.local_world_size, "experiment": bundle.experiment_id,
            "torch_seed": str(bundle.seed("torch")), "root": str(bundle.root),
            "all": [{"worker": int(t[0]), "torch_seed": str(int(t[1]) | (int(t[2]) << 32)), "initial_seed_low": int(t[3])} for t in gathered]}


def scenario_seed_everything(mode, experiment="", root=""):
    """seedd_client.seed_everything() in a fresh process, its identity from the environment the test
    sets (SEEDD_ADDRESS, SEEDD_EXPERIMENT, RANK, WORLD_SIZE): what it seeded, as the libraries see it."""
    import numpy as np
    import random
    import torch
    import seedd_client
    if mode == "missing_experiment":
        try:
            seedd_client.seed_everything()
        except ValueError as error:
            return {"error": str(error)}
        fail("seed_everything without an experiment did not raise")
    kwargs = {"deterministic": mode == "deterministic"}
    if mode == "worker2":
        kwargs["worker"] = 2
    if mode == "offline":
        kwargs.update(offline=True)
    if root:
        kwargs["root"] = int(root)
    report = seedd_client.seed_everything(experiment or None, **kwargs)
    bundle = report.bundle
    expected_random = random.Random(bundle.seed("python")).random()
    np_state = np.random.get_state()
    np.random.seed(bundle.seed("numpy"))
    expected_numpy = np.random.random()
    np.random.set_state(np_state)
    return {"experiment": bundle.experiment_id, "worker": bundle.worker, "root": str(bundle.root),
            "seeds": {f"{l}/{s}" if s else l: str(seed.seed) for (l, s), seed in bundle.seeds.items()},
            "torch_initial_seed": str(torch.initial_seed()), "random_matches": random.random() == expected_random,
            "numpy_matches": np.random.random() == expected_numpy, "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(), "params": report.as_params()}


def scenario_split(address, experiment):
    """get_seeds over the daemon's limits: 6,000 keys against a daemon taking 2,500 a call; and how
    1,000 long keys are cut to stay under a 64 KiB message limit."""
    from seedd_client._proto import seed_service_pb2 as pb
    keys = [(experiment, 5999 - w, "numpy", "") for w in range(6000)]
    with SeedClient(address, max_batch_keys=2500) as client:
        seeds = client.get_seeds(keys)
    long_keys = [("x" * 128, w, "l" * 64, "s" * 64) for w in range(1000)]
    small = SeedClient(address, max_message_bytes=65536)
    batches = list(small._batches(long_keys))
    sizes = [pb.BatchGetSeedsRequest(requests=[pb.GetSeedRequest(experiment_id=e, worker=w, library=l, stream=s) for e, w, l, s in b]).ByteSize() for b in batches]
    small.close()
    return {"workers": [s.worker for s in seeds], "seeds": [str(s.seed) for s in seeds], "batch_sizes": sizes,
            "batched_keys": sum(len(b) for b in batches), "in_order": [k for b in batches for k in b] == long_keys}


def scenario_audit(address, experiment, manifest_path):
    """The audit questions from Python: seeds and events filtered, a seed and the ledger verified, the
    manifest exported as seedctl writes it."""
    with SeedClient(address) as client:
        seeds = client.list_seeds(experiment, worker=3)
        events = client.list_events(experiment, worker_min=3, worker_max=4, library="torch")
        right = client.verify_seed(experiment, 3, "torch", next(s.seed for s in seeds if s.library == "torch"))
        wrong = client.verify_seed(experiment, 3, "torch", 12345)
        ledger = client.verify_ledger(experiment)
        counts = client.export_manifest(experiment, manifest_path)
        try:
            client.list_seeds("audit/none")
            missing = None
        except SeeddError as error:
            missing = type(error).__name__
    return {"seeds": [{"worker": s.worker, "library": s.library, "stream": s.stream, "seed": str(s.seed)} for s in seeds],
            "events": events, "right": right, "wrong": wrong, "ledger": ledger, "counts": list(counts), "missing": missing}


def scenario_params(address, experiment):
    with SeedClient(address) as client:
        bundle = client.get_bundle(experiment, 11, [("python", ""), ("numpy", ""), ("torch", ""), ("torch", "dataloader")])
    return {"params": bundle.as_params(), "custom_prefix": sorted(bundle.as_params(prefix="run.seeds."))}


def scenario_optional_helpers(address, experiment):
    """Helpers of libraries that are not installed raise an error naming the library, never ImportError."""
    with SeedClient(address) as client:
        bundle = client.get_bundle(experiment, 1, [("jax", ""), ("numpy", "")])
    try:
        bundle.jax_key()
        return {"jax": "installed"}
    except ImportError as error:
        return {"jax": f"ImportError: {error}"}
    except seedd_client.LibraryNotInstalledError as error:
        return {"jax": type(error).__name__, "library": error.library, "message": str(error)}


def scenario_invalid_field(address):
    with SeedClient(address) as client:
        try:
            client.get_seeds([("x/y", 1, "torch", ""), ("x/y", 1, "Bad", "")])
        except InvalidArgumentError as error:
            return {"field": error.field, "message": str(error)}
    return {"field": None}


def scenario_user_generators(address, unreachable):
    """A training script seeds random, NumPy and torch, then uses the client: over two replicas (one of them down,
    so calls are retried with backoff) and a daemon that never answers. Its next draws are those of the seeds alone."""
    import numpy as np
    import torch

    def seed():
        random.seed(1234)
        np.random.seed(1234)
        torch.manual_seed(1234)

    def draws():
        return {"random": [random.random() for _ in range(3)], "numpy": np.random.random(3).tolist(), "torch": torch.rand(3).tolist()}

    seed()
    expected = draws()
    seed()
    with SeedClient(f"{unreachable},{address}", retry_timeout=5, timeout=1) as client:
        for worker in range(4):
            client.get_seed("generators/x", worker, "torch")
    with SeedClient(unreachable, retry_timeout=1.5, timeout=1) as client:
        try:
            client.get_seed("generators/x", 1, "torch")
            fail("an unreachable daemon answered")
        except SeeddError:
            pass
    return {"expected": expected, "after": draws()}


def scenario_no_retries(address):
    """retry_timeout=0: one attempt, which still has the call's own deadline (timeout, 10 s)."""
    with SeedClient(address, retry_timeout=0) as client:
        return {"seed": client.get_seed("adversary/x", 3, "numpy").seed}


def scenario_tampering(address):
    """The real client against adversary_server.py: what get_seed, get_seeds and get_bundle say of its answer."""
    outcomes = {}
    with SeedClient(address, retry_timeout=0) as client:
        for name, call in (("get_seed", lambda: client.get_seed("adversary/x", 3, "numpy")),
                           ("get_seeds", lambda: client.get_seeds([("adversary/x", 3, "numpy", ""), ("adversary/x", 4, "torch", "dataloader")])),
                           ("get_bundle", lambda: client.get_bundle("adversary/x", 3))):
            try:
                call()
                outcomes[name] = "accepted"
            except SeedVerificationError as error:
                outcomes[name] = "refused: " + str(error)
    return outcomes


def scenario_ride_through(addresses, experiment, kill_pid):
    """One client over several replicas; after 10 calls the first replica is killed (SIGKILL) and the
    calls go on. Returns every answer, in order."""
    import signal
    answers = []
    with SeedClient(addresses, retry_timeout=30) as client:
        for worker in range(40):
            if worker == 10:
                os.kill(int(kill_pid), signal.SIGKILL)
            seed = client.get_seed(experiment, worker, "torch")
            answers.append({"worker": seed.worker, "seed64": str(seed.seed64), "issue_count": seed.issue_count})
    return answers


def scenario_proofs(address, experiment, bundle_path, key_path):
    """The transparency log from Python: the checkpoint and a proof off the wire, verified here; a bundle
    seedctl wrote, verified here; changed bundles and a pinned key that did not sign refused; today's log
    shown to extend the first checkpoint; a run's checkpoint at close in as_params()."""
    import base64
    import hashlib
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    key = open(key_path, encoding="utf-8").read().strip()
    refused = {}
    with SeedClient(address) as client:
        if client.ledger_key() != key:
            fail("the served key is not seedctl's")
        first = client.checkpoint(experiment)
        bundle = client.prove_seed(experiment, 5, "torch")
        mine = seedd_client.verify_proof(bundle, key)
        theirs = seedd_client.verify_proof(json.load(open(bundle_path, encoding="utf-8")), key)

        def refuse(name, changed, verifier=key):
            try:
                seedd_client.verify_proof(changed, verifier)
                fail(f"{name}: a changed bundle verified")
            except SeedVerificationError as error:
                refused[name] = str(error)

        entry = bytearray(base64.b64decode(bundle["entry"]))
        entry[1 + 4 + len(experiment) + 8 + 3] ^= 1
        refuse("entry", dict(bundle, entry=base64.b64encode(bytes(entry)).decode()))
        refuse("index", dict(bundle, index=bundle["index"] + 1))
        refuse("path", dict(bundle, audit_path=bundle["audit_path"][:-1]))
        refuse("index-text", dict(bundle, index=str(bundle["index"])))
        refuse("index-bool", dict(bundle, index=False))
        refuse("as-text", json.dumps(bundle))
        name = key.split("+")[0]
        public = b"\x01" + Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        key_hash = hashlib.sha256(name.encode() + b"\n" + public).digest()[:4].hex()
        forged = f"{name}+{key_hash}+{base64.b64encode(public).decode()}"
        refuse("key", bundle, forged)
        for worker in range(100, 400):
            client.get_seed(experiment, worker, "numpy")
        extended = client.consistency(experiment, first["note"])
        run = client.start_run(run_id="proofs-run", experiment_id=experiment, worker=0)
        run.fingerprint(0, values={"loss": 0.5}, generators=False)
        run.close()
        params = run.as_params()
    with SeedClient(address, ledger_key=forged) as pinned:
        for call, what in ((lambda: pinned.prove_seed(experiment, 5, "torch"), "prove"), (lambda: pinned.checkpoint(experiment), "checkpoint")):
            try:
                call()
                fail(f"{what}: a proof signed by another key than the pinned one was accepted")
            except SeedVerificationError as error:
                refused[f"pinned-{what}"] = str(error)
    return {"first_size": first["tree_size"], "mine": {"index": bundle["index"], "worker": mine["event"]["worker"], "seed64": str(mine["event"]["seed64"])},
            "theirs": {"worker": theirs["event"]["worker"], "tree_size": theirs["tree_size"]}, "refused": refused,
            "extended_size": extended["tree_size"], "params": params}


SCENARIOS = {name[len("scenario_"):]: value for name, value in globals().items() if name.startswith("scenario_")}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in SCENARIOS:
        fail(f"usage: client_scenarios.py {{{'|'.join(SCENARIOS)}}} ARGS...")
    print(json.dumps(SCENARIOS[sys.argv[1]](*sys.argv[2:])))
