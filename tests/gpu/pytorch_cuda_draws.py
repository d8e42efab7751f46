"""PyTorch's CUDA draws for one worker of an experiment, seeded the way the SDK seeds TorchSharp.

usage: pytorch_cuda_draws.py ROOT WORKER
The seeds come from seedseq-v1 (the NumPy oracle), then torch.manual_seed(torch seed) and
torch.cuda.manual_seed_all(torch.cuda seed), with CUBLAS_WORKSPACE_CONFIG set first. Prints lines
in the TorchWorker sample's format plus a cuBLAS matmul checksum.
"""
import os
import sys

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "SeedDaemon.Testing", "Python"))

import seedseq_oracle  # noqa: E402
import torch  # noqa: E402


def fmt(tensor):
    return " ".join("{:.9g}".format(v) for v in tensor.flatten().tolist())


root, worker = int(sys.argv[1]), int(sys.argv[2])
cpu_seed = seedseq_oracle.derive(root, worker, "torch", "")["seed"]
cuda_seed = seedseq_oracle.derive(root, worker, "torch.cuda", "")["seed"]
torch.manual_seed(cpu_seed)
torch.cuda.manual_seed_all(cuda_seed)
print(f"seed torch: {cpu_seed}")
print(f"seed torch.cuda: {cuda_seed}")
print("cuda torch.rand(8): " + fmt(torch.rand(8, device="cuda").cpu()))
print("cuda torch.randn(8): " + fmt(torch.randn(8, device="cuda").cpu()))
a = torch.randn(512, 512, device="cuda")
b = torch.randn(512, 512, device="cuda")
print("cuda matmul checksum: " + "{:.9g}".format((a @ b).double().sum().item()))
print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
