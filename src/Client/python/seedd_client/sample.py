"""The Python twin of the TorchWorker sample.

python3 -m seedd_client.sample --address HOST:PORT --experiment ID --worker N [--root R] [--deterministic]
Uses an existing experiment (or creates it with --root R). The token comes from SEEDD_TOKEN.
Prints the seeds, then torch.rand(8), torch.randn(8) (nine significant digits, as TorchWorker)
and the NumPy Generator's first four doubles (full precision).
"""
import argparse
import sys

from .apply import apply_bundle
from .client import DEFAULT_COLUMNS, SeedClient
from .errors import SeeddError
from .identity import WorkerIdentity


def main():
    identity = WorkerIdentity.from_environment()
    parser = argparse.ArgumentParser(prog="python3 -m seedd_client.sample")
    parser.add_argument("--address", default=identity.address)
    parser.add_argument("--experiment", default=identity.experiment_id)
    parser.add_argument("--worker", type=int, default=identity.worker)
    parser.add_argument("--root", default=None, help="create the experiment with this root first (needs the admin role under auth)")
    parser.add_argument("--deterministic", action="store_true", help="also set cuDNN/torch/TensorFlow determinism switches")
    args = parser.parse_args()
    if not args.experiment:
        parser.error("--experiment (or SEEDD_EXPERIMENT) is required")

    columns = DEFAULT_COLUMNS + [("dotnet", ""), ("torch", "dataloader"), ("torch", "augment")]
    try:
        with SeedClient.from_environment(address=args.address) as client:
            if args.root is not None:
                client.create_experiment(args.experiment, args.root)
            bundle = client.get_bundle(args.experiment, args.worker, columns)
    except SeeddError as error:
        sys.exit(f"sample: {error}")
    print(f"experiment: {bundle.experiment_id}")
    print(f"worker: {bundle.worker}")
    print(f"root: {bundle.root}")
    for (library, stream), seed in sorted(bundle.seeds.items(), key=lambda s: s[0][0] + ("/" + s[0][1] if s[0][1] else "")):
        print(f"seed {library}{'/' + stream if stream else ''}: {seed.seed}")
    print(apply_bundle(bundle, deterministic=args.deterministic))

    import torch
    fmt = lambda t: " ".join("{:.9g}".format(v) for v in t.flatten().tolist())  # noqa: E731
    print("torch.rand(8): " + fmt(torch.rand(8)))
    print("torch.randn(8): " + fmt(torch.randn(8)))
    print("numpy.generator.random(4): " + " ".join(repr(v) for v in bundle.numpy_generator().random(4).tolist()))


if __name__ == "__main__":
    main()
