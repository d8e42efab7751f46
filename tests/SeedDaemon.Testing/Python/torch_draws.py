"""PyTorch's draws for a seed, printed in the TorchWorker sample's format.

usage: torch_draws.py TORCH_SEED DATALOADER_SEED
Seeds the global generator with torch.manual_seed(TORCH_SEED) and prints rand, randn, randint,
randperm and nn.Linear's initial weights in that order, then four draws from a torch.Generator
seeded with DATALOADER_SEED. Nine significant digits identify a float32 exactly.
"""
import sys

import torch


def fmt(tensor):
    return " ".join("{:.9g}".format(v) for v in tensor.flatten().tolist())


torch_seed, dataloader_seed = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(torch_seed)
print("torch.rand(8): " + fmt(torch.rand(8)))
print("torch.randn(8): " + fmt(torch.randn(8)))
print("torch.randint(0, 1000, (8,)): " + fmt(torch.randint(0, 1000, (8,))))
print("torch.randperm(10): " + fmt(torch.randperm(10)))
linear = torch.nn.Linear(4, 3)
print("nn.Linear(4, 3).weight: " + fmt(linear.weight))
print("nn.Linear(4, 3).bias: " + fmt(linear.bias))
generator = torch.Generator()
generator.manual_seed(dataloader_seed)
print("dataloader torch.rand(4): " + fmt(torch.rand(4, generator=generator)))
