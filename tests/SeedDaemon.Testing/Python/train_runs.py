"""A small real PyTorch training job (CPU) that fingerprints every step into a seedd run.

One rank per process (RANK, WORLD_SIZE, SEEDD_RUN, SEEDD_ADDRESS, SEEDD_EXPERIMENT from the
environment, as a launcher gives them). Seeds come from seedd (seed_everything; the DataLoader's
workers and shuffling through DataLoaderSeeding). An MLP with dropout learns a synthetic regression
over epochs of 6 batches; every step fingerprints the generators, the loss, the model and the sample
indices of the batch. Switches change one thing on purpose, so the tests can check what
`seedctl runs diff` finds:

  --extra-draw-step S   this rank draws torch.rand(1) once more after step S's update (--on-rank R)
  --lr-ulp-step S       this rank's learning rate is one float32 ulp larger at step S (--on-rank R)
  --threads T           torch's intra-op threads (--on-rank R)
  --checkpoint DIR      saves model, optimizer and RngState at the end of every epoch
  --resume-from RUN:S   loads DIR's checkpoint of step S, restores RngState (unless --no-restore),
                        checks it against RUN's fingerprint at S, and continues at S + 1
  --device D            trains on D (cuda: with seed_everything's deterministic switches)
  --die-at-step S       (--on-rank R) flushes the run at step S, fingerprints two more steps, then kills itself (SIGKILL)

Prints one JSON line at the end (or before dying): {"rank", "run", "sent", "dropped", "resume_check"}.
"""
import argparse
import json
import math
import os
import signal
import sys
import warnings

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

import seedd_client
from seedd_client import DataLoaderSeeding, RngState, SeedClient

EPOCH_STEPS = 6
BATCH = 4


class Regression(Dataset):
    """24 samples; each item draws noise in the loader worker (random, NumPy and torch)."""

    def __len__(self):
        return EPOCH_STEPS * BATCH

    def __getitem__(self, index):
        x = torch.linspace(-1, 1, 8) * (index + 1) / 24
        x = x + torch.from_numpy(np.random.normal(0, 0.01, size=8).astype(np.float32)) + 0.01 * torch.rand(8)
        y = torch.sin(x.sum()).reshape(1)
        return x, y, index


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--on-rank", type=int, default=-1)
    parser.add_argument("--extra-draw-step", type=int, default=-1)
    parser.add_argument("--lr-ulp-step", type=int, default=-1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--resume-from", default=None)
    parser.add_argument("--no-restore", action="store_true")
    parser.add_argument("--die-at-step", type=int, default=-1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    report = seedd_client.seed_everything(deterministic=args.device != "cpu")
    rank = report.bundle.worker
    mine = args.on_rank == rank
    torch.set_num_threads(args.threads if mine else 1)
    client = SeedClient.from_environment()
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Dropout(0.2), torch.nn.Linear(16, 1)).to(args.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    seeding = DataLoaderSeeding(client, num_workers=2)
    loader = DataLoader(Regression(), batch_size=BATCH, shuffle=True, num_workers=2,
                        worker_init_fn=seeding.worker_init_fn, generator=seeding.generator)
    streams = {"dataloader.sampler": seeding.generator}

    step, resumed_from, state = 0, None, None
    if args.resume_from:
        original, at = args.resume_from.rsplit(":", 1)
        checkpoint = torch.load(os.path.join(args.checkpoint, f"rank{rank}-step{at}.pt"))
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        state = RngState.from_bytes(checkpoint["rng"])
        if not args.no_restore:
            state.restore(streams)
        step, resumed_from = int(at) + 1, (original, int(at))

    run = client.start_run(seeded=streams, resumed_from=resumed_from)
    resume_check, resume_check_state = None, None
    if resumed_from:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            resume_check = run.check_restored(None, on_mismatch="warn")
            # The documented call: the checkpoint's state, which is the original's whether or not it was restored.
            resume_check_state = run.check_restored(state, on_mismatch="warn")

    def done(extra=None):
        line = {"rank": rank, "run": run.run_id, "sent": run.sent, "dropped": run.dropped, "resume_check": resume_check, "resume_check_state": resume_check_state}
        line.update(extra or {})
        print(json.dumps(line), flush=True)

    while step < args.steps:
        seeding.set_epoch(step // EPOCH_STEPS)
        for inputs, targets, indices in loader:
            lr = 0.05
            if mine and step == args.lr_ulp_step:
                lr = float(np.nextafter(np.float32(lr), np.float32(math.inf)))
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = inputs.to(args.device), targets.to(args.device)
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(inputs), targets)
            loss.backward()
            optimizer.step()
            if mine and step == args.extra_draw_step:
                torch.rand(1)
            run.fingerprint(step, values={"loss": loss.item(), "model": model, "indices": indices.tolist()})
            if args.checkpoint and (step + 1) % EPOCH_STEPS == 0:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": RngState.capture(streams).to_bytes()},
                           os.path.join(args.checkpoint, f"rank{rank}-step{step}.pt"))
            if mine and step == args.die_at_step:
                run.flush()
                done({"flushed": step})
            if mine and args.die_at_step >= 0 and step == args.die_at_step + 2:
                os.kill(os.getpid(), signal.SIGKILL)
            step += 1
    run.close()
    done()


if __name__ == "__main__":
    sys.exit(main())
