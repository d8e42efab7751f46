"""A stand-in seedd that lies, for testing the SDKs' answer checks off the wire.

usage: adversary_server.py MODE   -> prints "listening PORT", then serves until its stdin closes
It serves the contract's SeedService (with the installed seedd_client's generated stubs). Every
GetSeed/BatchGetSeeds answer is the true seedseq-v1 answer, computed with the NumPy oracle, then
altered as MODE says:
  honest  unaltered (a client that refuses everything must not pass the test)
  slow    unaltered, after 0.5 s (a client without retries must still wait its call's deadline)
  seed64  seed64 with its lowest bit flipped (seed recomputed to match it)
  seed    the truncated seed flipped, seed64 left alone
  width   width 64 for a narrower library
  state   one word of generate_state(4) flipped
  scheme  scheme "seedseq-v2"
  key     the seed of another worker
The root it reports is ROOT below for every experiment.
"""
import sys
import time
from concurrent import futures

import grpc
import seedseq_oracle
from seedd_client._proto import seed_service_pb2 as pb
from seedd_client._proto import seed_service_pb2_grpc as rpc

ROOT = 20261202
MODES = ("honest", "slow", "seed64", "seed", "width", "state", "scheme", "key")


def answer(mode, request):
    if mode == "slow":
        time.sleep(0.5)
    worker = request.worker + 1 if mode == "key" else request.worker
    truth = seedseq_oracle.derive(ROOT, worker, request.library, request.stream)
    seed64, seed, width, state = truth["seed64"], truth["seed"], truth["width"], list(truth["state"])
    if mode == "seed64":
        seed64 ^= 1
        seed = seed64 & ((1 << width) - 1)
    elif mode == "seed":
        seed ^= 1
    elif mode == "width":
        width = 64
    elif mode == "state":
        state[2] ^= 1
    return pb.IssuedSeed(
        experiment_id=request.experiment_id, worker=request.worker, library=request.library, stream=request.stream,
        seed=seed, seed64=seed64, width=width, state=state, spawn_key=list(truth["spawn_key"]), root=str(ROOT),
        scheme="seedseq-v2" if mode == "scheme" else "seedseq-v1", issue_count=1, first_requester="adversary")


class Adversary(rpc.SeedServiceServicer):
    def __init__(self, mode):
        self.mode = mode

    def _experiment(self, experiment_id):
        return pb.Experiment(experiment_id=experiment_id, root=str(ROOT), scheme="seedseq-v1")

    def CreateExperiment(self, request, context):
        return self._experiment(request.experiment_id)

    def GetExperiment(self, request, context):
        return self._experiment(request.experiment_id)

    def GetSeed(self, request, context):
        return answer(self.mode, request)

    def BatchGetSeeds(self, request, context):
        return pb.BatchGetSeedsResponse(seeds=[answer(self.mode, r) for r in request.requests])


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: adversary_server.py {{{'|'.join(MODES)}}}")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    rpc.add_SeedServiceServicer_to_server(Adversary(sys.argv[1]), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"listening {port}", flush=True)
    sys.stdin.read()
    server.stop(0)


if __name__ == "__main__":
    main()
