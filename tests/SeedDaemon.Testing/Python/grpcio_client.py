"""A non-.NET client: Python stubs generated from protos/ by Debian's protoc, grpcio, and the NumPy oracle.

usage: grpcio_client.py ADDRESS STUB_DIR KEYS RANDOM_SEED
Creates an experiment, asks for KEYS random keys one by one and in a batch, and checks every
answer against seedseq-v1 computed with NumPy (seedseq_oracle.py). Prints a JSON summary; exits
non-zero on the first mismatch.
"""
import json
import os
import random
import sys

address, stub_dir, count, rng_seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, stub_dir)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402
import seedseq_oracle  # noqa: E402
from seeddaemon.v1 import seed_service_pb2 as pb  # noqa: E402
from seeddaemon.v1 import seed_service_pb2_grpc as rpc  # noqa: E402

rng = random.Random(rng_seed)
root = rng.randrange(2**128)
experiment_id = f"python/grpcio-{rng_seed}"
libraries = list(seedseq_oracle.WIDTHS) + ["lightgbm", "my-lib"]
streams = ["", "dataloader", "augment"]

channel = grpc.insecure_channel(address.replace("http://", ""))
stub = rpc.SeedServiceStub(channel)
experiment = stub.CreateExperiment(pb.CreateExperimentRequest(experiment_id=experiment_id, root=str(root)))
assert experiment.root == str(root), experiment
assert experiment.scheme == "seedseq-v1", experiment


def check(answer, worker, library, stream):
    expected = seedseq_oracle.derive(root, worker, library, stream)
    got = {"seed": answer.seed, "seed64": answer.seed64, "width": answer.width,
           "state": list(answer.state), "spawn_key": list(answer.spawn_key)}
    if got != expected:
        sys.exit(f"mismatch for worker={worker} library={library} stream={stream!r}: got {got}, NumPy says {expected}")
    if answer.root != str(root) or answer.scheme != "seedseq-v1":
        sys.exit(f"wrong root or scheme in {answer}")


keys = [(rng.choice([rng.randrange(1024), rng.randrange(2**32 - 1)]), rng.choice(libraries), rng.choice(streams)) for _ in range(count)]
for worker, library, stream in keys:
    check(stub.GetSeed(pb.GetSeedRequest(experiment_id=experiment_id, worker=worker, library=library, stream=stream)), worker, library, stream)

batch = stub.BatchGetSeeds(pb.BatchGetSeedsRequest(requests=[
    pb.GetSeedRequest(experiment_id=experiment_id, worker=w, library=l, stream=s) for w, l, s in keys]))
assert len(batch.seeds) == len(keys)
for answer, (worker, library, stream) in zip(batch.seeds, keys):
    check(answer, worker, library, stream)
    assert answer.issue_count >= 2, answer

codes = {}
for name, request in {
    "bad_library": pb.GetSeedRequest(experiment_id=experiment_id, worker=1, library="Bad Lib"),
    "reserved_worker": pb.GetSeedRequest(experiment_id=experiment_id, worker=2**32 - 1, library="torch"),
    "unknown_experiment": pb.GetSeedRequest(experiment_id="python/none", worker=1, library="torch"),
}.items():
    try:
        stub.GetSeed(request)
        codes[name] = "OK"
    except grpc.RpcError as error:
        codes[name] = error.code().name

print(json.dumps({"checked": 2 * len(keys), "codes": codes}))
