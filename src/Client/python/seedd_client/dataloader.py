"""Seeding a torch DataLoader's worker processes through seedd.

    seeding = DataLoaderSeeding(client, num_workers=4)              # rank and experiment from the environment
    loader = DataLoader(dataset, batch_size=32, shuffle=True, num_workers=4,
                        worker_init_fn=seeding.worker_init_fn, generator=seeding.generator)
    for epoch in range(epochs):
        seeding.set_epoch(epoch)                                     # one BatchGetSeeds call, in this process
        for batch in loader:
            ...

The rule (documented in docs/python.md, the same in every release):
  - loader worker w of rank r is worker compose_worker(r, w, num_workers) = r * num_workers + w, the .NET
    SDK's WorkerIndex.Compose; its seeds in epoch e are those of the columns
    (python, "dataloader.epoch-<e>"), (numpy, "dataloader.epoch-<e>") and (torch, "dataloader.epoch-<e>"),
    applied in the worker process with random.seed, numpy.random.seed and torch.manual_seed;
  - the loader's own generator (shuffling, and the base seed torch draws for its workers) is seeded
    with the seed of worker r, column (torch, "dataloader.sampler.epoch-<e>").
Every one of these seeds is issued by seedd, so it is in the ledger. They live in their own
columns, so no (rank, loader worker) pair shares a seed with another, nor with any rank's own
seeds, as long as every rank of the experiment uses the same num_workers (the composition depends
on it: give a job with another num_workers its own experiment). Only the training process talks
to seedd: the worker processes get their seeds through worker_init_fn (pickled or forked with the
DataLoader when an epoch's iterator starts), so keep persistent_workers=False (the default), or
their seeds never change between epochs.
"""
import random

from ._modules import required
from .identity import compose_worker

LIBRARIES = ("python", "numpy", "torch")


def worker_stream(epoch):
    return f"dataloader.epoch-{epoch}"


def sampler_stream(epoch):
    return f"dataloader.sampler.epoch-{epoch}"


class LoaderWorkerSeeds:
    """The DataLoader's worker_init_fn: seeds random, NumPy and torch in each loader worker process
    with that worker's seeds for the current epoch. Holds no connection (it is pickled into workers)."""

    def __init__(self):
        self.epoch = None
        self.seeds = {}

    def __call__(self, worker_id):
        if self.epoch is None:
            raise RuntimeError("the DataLoader started its workers before DataLoaderSeeding.set_epoch(epoch) was called; call it at the start of every epoch")
        seeds = self.seeds[worker_id]
        random.seed(seeds["python"])
        try:
            import numpy
            numpy.random.seed(seeds["numpy"])
        except ImportError:
            pass
        import torch
        torch.manual_seed(seeds["torch"])


class DataLoaderSeeding:
    """Seeds for a DataLoader of one rank: its generator, and its worker processes' seeds per epoch."""

    def __init__(self, client, num_workers, experiment_id=None, rank=None):
        torch = required("torch", "DataLoaderSeeding")
        identity = client.identity
        self.experiment_id = experiment_id or (identity.experiment_id if identity else "")
        self.rank = rank if rank is not None else (identity.worker if identity else 0)
        if not self.experiment_id:
            raise ValueError("no experiment: pass experiment_id or set SEEDD_EXPERIMENT")
        if num_workers < 1:
            raise ValueError("num_workers must be at least 1: with 0 the dataset draws from the training process's own generators, which apply_bundle seeds")
        for w in (0, num_workers - 1):
            compose_worker(self.rank, w, num_workers)  # refuses a rank whose loader workers overflow the worker range
        self.num_workers = num_workers
        self._client = client
        self.generator = torch.Generator()
        self.worker_init_fn = LoaderWorkerSeeds()

    def worker_index(self, loader_worker):
        """The seedd worker index of one of this rank's loader workers."""
        return compose_worker(self.rank, loader_worker, self.num_workers)

    def set_epoch(self, epoch):
        """Fetches (and so records) this epoch's seeds in one call and arms the generator and worker_init_fn.
        Returns {loader worker: {library: seed}}."""
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        keys = [(self.experiment_id, self.rank, "torch", sampler_stream(epoch))]
        keys += [(self.experiment_id, self.worker_index(w), library, worker_stream(epoch))
                 for w in range(self.num_workers) for library in LIBRARIES]
        seeds = self._client.get_seeds(keys)
        self.generator.manual_seed(seeds[0].seed)
        per_worker = {w: {library: seeds[1 + w * len(LIBRARIES) + i].seed for i, library in enumerate(LIBRARIES)}
                      for w in range(self.num_workers)}
        self.worker_init_fn.seeds = per_worker
        self.worker_init_fn.epoch = epoch
        return per_worker
