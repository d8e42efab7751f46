"""A DataLoader seeded through seedd, with real worker processes and random augmentation.

python3 -m seedd_client.dataloader_sample --address A --experiment E --rank R --num-workers N --epochs K [--root ROOT]
Prints one line per batch: "epoch <e> batch <b> <sha256 hex of the batch bytes>". The same
experiment and rank print the same lines on every run; epochs differ from each other.
"""
import argparse
import hashlib
import random
import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .client import SeedClient
from .dataloader import DataLoaderSeeding
from .errors import SeeddError
from .identity import WorkerIdentity


class AugmentedImages(Dataset):
    """Small synthetic images whose augmentation draws from random, NumPy and torch in the worker."""

    def __init__(self, count=24):
        self.count = count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        image = torch.arange(48, dtype=torch.float32).reshape(3, 4, 4) / 48 + index
        if random.random() < 0.5:                                   # random horizontal flip
            image = image.flip(-1)
        image = image + torch.from_numpy(np.random.normal(0.0, 0.1, size=(3, 4, 4)).astype(np.float32))   # noise
        return image * (0.8 + 0.4 * torch.rand(1))                 # random brightness


def main():
    identity = WorkerIdentity.from_environment()
    parser = argparse.ArgumentParser(prog="python3 -m seedd_client.dataloader_sample")
    parser.add_argument("--address", default=identity.address)
    parser.add_argument("--experiment", default=identity.experiment_id)
    parser.add_argument("--rank", type=int, default=identity.worker)
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--root", default=None, help="create the experiment with this root first (needs the admin role under auth)")
    args = parser.parse_args()
    if not args.experiment:
        parser.error("--experiment (or SEEDD_EXPERIMENT) is required")

    try:
        with SeedClient.from_environment(address=args.address) as client:
            if args.root is not None:
                client.create_experiment(args.experiment, args.root)
            seeding = DataLoaderSeeding(client, args.num_workers, args.experiment, args.rank)
            loader = DataLoader(AugmentedImages(), batch_size=args.batch_size, shuffle=True, num_workers=args.num_workers,
                                worker_init_fn=seeding.worker_init_fn, generator=seeding.generator)
            for epoch in range(args.epochs):
                seeding.set_epoch(epoch)
                for number, batch in enumerate(loader):
                    print(f"epoch {epoch} batch {number} {hashlib.sha256(batch.numpy().tobytes()).hexdigest()}", flush=True)
    except SeeddError as error:
        sys.exit(f"dataloader_sample: {error}")


if __name__ == "__main__":
    main()
