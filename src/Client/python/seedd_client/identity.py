"""Who this process is, from the environment: SEEDD_* and torchrun's variables."""
import os
from dataclasses import dataclass

DEFAULT_ADDRESS = "127.0.0.1:50051"
MAX_WORKER = 0xFFFFFFFF - 1  # 0xFFFFFFFF is reserved by seedseq-v1


def compose_worker(rank, sub_worker, workers_per_rank):
    """rank * workers_per_rank + sub_worker: the worker index of a DataLoader worker (or any sub-worker)
    of a rank. The same rule as the .NET SDK's WorkerIndex.Compose, with the same refusals: a
    sub-worker outside 0..workers_per_rank-1 (ValueError) and a result above 4294967294 (OverflowError)."""
    for name, value in (("rank", rank), ("sub_worker", sub_worker), ("workers_per_rank", workers_per_rank)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFFFFFF:
            raise ValueError(f"{name} must be an integer from 0 to 4294967295, got {value!r}")
    if workers_per_rank == 0:
        raise ValueError("workers_per_rank must be at least 1")
    if sub_worker >= workers_per_rank:
        raise ValueError(f"sub_worker ({sub_worker}) must be below workers_per_rank ({workers_per_rank})")
    index = rank * workers_per_rank + sub_worker
    if index > MAX_WORKER:
        raise OverflowError(f"rank {rank} x {workers_per_rank} + {sub_worker} = {index} does not fit a worker index "
                            f"(at most {MAX_WORKER}); use fewer sub-workers per rank or a second experiment")
    return index


@dataclass(frozen=True)
class WorkerIdentity:
    """SEEDD_ADDRESS (one address, or several separated by commas), SEEDD_EXPERIMENT, SEEDD_TOKEN, and the
    worker: SEEDD_WORKER, else torchrun's RANK. torchrun's LOCAL_RANK, WORLD_SIZE and LOCAL_WORLD_SIZE are
    kept for reference. SEEDD_RETRY_TIMEOUT (seconds) sets how long calls retry an unreachable daemon."""
    address: str
    experiment_id: str
    worker: int
    token: str
    worker_source: str = "default (single process)"
    local_rank: int = None
    world_size: int = None
    local_world_size: int = None
    retry_timeout: float = None

    @staticmethod
    def from_environment(env=None):
        env = os.environ if env is None else env

        def read(name):
            value = env.get(name, "").strip()
            return value or None

        def number(name, parse=int):
            text = read(name)
            if text is None:
                return None
            try:
                value = parse(text)
            except ValueError:
                raise ValueError(f"{name}={text!r} is not a number") from None
            if value < 0:
                raise ValueError(f"{name}={text!r} must not be negative")
            return value

        world_size = number("WORLD_SIZE")
        if read("SEEDD_WORKER") is not None:
            worker, source = number("SEEDD_WORKER"), "SEEDD_WORKER"
        elif read("RANK") is not None:
            worker, source = number("RANK"), "RANK"
        elif world_size is not None and world_size > 1:
            raise RuntimeError(f"WORLD_SIZE is {world_size} but neither SEEDD_WORKER nor RANK is set: every process would be worker 0. Set one of them.")
        else:
            worker, source = 0, "default (single process)"
        if worker > MAX_WORKER:
            raise ValueError(f"{source}={worker} is outside the worker range 0..{MAX_WORKER}")
        return WorkerIdentity(
            address=read("SEEDD_ADDRESS") or DEFAULT_ADDRESS,
            experiment_id=read("SEEDD_EXPERIMENT") or "",
            worker=worker,
            token=read("SEEDD_TOKEN") or "",
            worker_source=source,
            local_rank=number("LOCAL_RANK"),
            world_size=world_size,
            local_world_size=number("LOCAL_WORLD_SIZE"),
            retry_timeout=number("SEEDD_RETRY_TIMEOUT", float),
        )
