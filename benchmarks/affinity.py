"""Affinity loss: cost of a training step against ERM, and peak memory of the loss.

1. One training step of Affinity against one of ERM on the same UCI Adult batch (batch 512,
   MLP in-128-20, rep 20), measured in the same run, interleaved, median over repeats; prints
   the ratio (target: Affinity at most 1.3x ERM). The same on one ccMNIST batch of 128 images
   with the small CNN (target: at most 1.15x). Needs ``FAIRDG_DATA``.
2. Peak memory of the loss (forward and backward) at batch 8,192 with rep 128, 2 classes and 2
   groups (target: under 1 GiB). Measured in a fresh subprocess as the rise of the peak resident
   set size (``ru_maxrss``) over the resident size just before the call, inputs already
   allocated: an upper bound on what the loss allocates (the allocator may keep freed blocks).
   Printed next to the size of the largest tensors the implementation creates and of the
   B x B x k tensor a naive implementation would build.

Run: ``FAIRDG_DATA=... python benchmarks/affinity.py [--repeats 200] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

from fairdg.algorithms import build_algorithm
from fairdg.data import load_dataset
from fairdg.training.sampler import DomainSampler

HPARAMS = {"batch_size": 512, "mlp_width": 128, "mlp_depth": 1, "rep_dim": 20}
CNN_HPARAMS = {"batch_size": 128}
GIB = 1024**3
VARIANTS = {
    "erm": {},
    "affinity (L1, the paper's)": {},
    "affinity (L2)": {"affinity_distance": "l2"},
    "affinity (cosine)": {"affinity_distance": "cosine"},
    "affinity (sorted matching, ours)": {"affinity_matching": "sorted"},
}


def step_times(repeats: int, dataset_name: str, hparams: dict, variants: dict) -> dict:
    """Median seconds of one training step per variant on one fixed batch, interleaved."""
    dataset = load_dataset(dataset_name)
    split = dataset.split(0)
    batches = DomainSampler(split.train()[:1], hparams["batch_size"], seed=0)()
    algorithms = {}
    for name, extra in variants.items():
        torch.manual_seed(0)
        algorithm = "erm" if name == "erm" else "affinity"
        algorithms[name] = build_algorithm(
            algorithm, dataset.input_shape, dataset.num_classes, 1, {**hparams, **extra}
        )
    times: dict[str, list[float]] = {name: [] for name in algorithms}
    for step in range(repeats + 20):
        for name, algorithm in algorithms.items():  # interleaved: same machine state
            start = time.perf_counter()
            algorithm.update(batches)
            if step >= 20:  # warm-up
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def print_ratios(title: str, times: dict, target: float) -> None:
    print(f"{title}: ERM {times['erm'] * 1e3:.2f} ms")
    for name, seconds in times.items():
        if name != "erm":
            ratio = seconds / times["erm"]
            print(
                f"  {name}: {seconds * 1e3:.2f} ms, ratio {ratio:.2f}x (target <= {target}x): "
                f"{'met' if ratio <= target else 'MISSED'}"
            )


def _peak_child(batch: int, dim: int) -> None:
    """Run in a subprocess: print the rise of the peak RSS during one forward+backward."""
    import resource

    from fairdg.losses import affinity_loss

    g = torch.Generator().manual_seed(0)
    rep = torch.randn(batch, dim, generator=g, requires_grad=True)
    y = torch.randint(2, (batch,), generator=g)
    z = torch.randint(2, (batch,), generator=g)
    affinity_loss(rep[:64], y[:64], z[:64]).backward()  # load kernels before measuring
    rep.grad = None

    def rss_kib() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() // 1024

    before = rss_kib()
    start = time.perf_counter()
    affinity_loss(rep, y, z).backward()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"rise_bytes": max(0, peak - before) * 1024, "seconds": seconds}))


def peak_memory(batch: int, dim: int) -> dict[str, float]:
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--batch", str(batch), "--dim", str(dim)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed steps per algorithm")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--batch", type=int, default=8192, help="batch of the memory test")
    parser.add_argument("--dim", type=int, default=128, help="rep size of the memory test")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _peak_child(args.batch, args.dim)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")

    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    # first, while this process is small: a child's ru_maxrss starts at its parent's resident
    # size at fork (Linux), which the loaded datasets would inflate
    times = step_times(args.repeats, "adult", HPARAMS, VARIANTS)
    print_ratios(
        f"training step, Adult batch 512, rep 20 (median of {args.repeats}, interleaved)",
        times,
        1.3,
    )
    times = step_times(args.repeats, "ccmnist", CNN_HPARAMS, {"erm": {}, "affinity (L1)": {}})
    print_ratios(
        f"training step, ccMNIST small CNN, batch 128 (median of {args.repeats}, interleaved)",
        times,
        1.15,
    )
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    mem = peak_memory(args.batch, args.dim)
    b, k = args.batch, args.dim
    block = min(b, 1024)
    largest = block * (b // 2) * 4  # one float32 block of the per-cell distance matrix
    naive = b * b * k * 4
    print(
        f"loss forward+backward at batch {b}, rep {k}: peak RSS rise "
        f"{mem['rise_bytes'] / GIB:.3f} GiB (target < 1 GiB): "
        f"{'met' if mem['rise_bytes'] < GIB else 'MISSED'}; {mem['seconds']:.2f} s"
    )
    print(
        f"  largest tensor of the implementation: a {block} x ~{b // 2} float32 distance "
        f"block ({largest / GIB:.3f} GiB); a B x B x k difference tensor would be "
        f"{naive / GIB:.1f} GiB"
    )


if __name__ == "__main__":
    main()
