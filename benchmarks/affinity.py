"""Affinity loss: cost of a training step against ERM, peak memory of the loss, its kernels.

1. Peak memory of the loss (forward and backward) at batch 8,192 with rep 128, 2 classes and 2
   groups (target: a rise under 0.2 GiB). Measured first, in a fresh subprocess, as the rise of
   the peak resident set size over the resident size just before the call, inputs already
   allocated: the peak is reset with ``/proc/self/clear_refs`` where Linux allows it (else
   ``ru_maxrss``, which a child inherits from its parent's size at fork: so this runs before
   the datasets are loaded). An upper bound on what the loss allocates.
2. One training step of Affinity against one of ERM on the same UCI Adult batch (batch 512,
   MLP in-128-20, rep 20), interleaved, median over repeats; the ratio for the paper's loss
   (eq. 3, L1) and for L2, cosine and the sorted matching (target: at most 1.3x ERM). The same
   on one ccMNIST batch of 128 images with the small CNN (target: at most 1.15x). Needs
   ``FAIRDG_DATA``.
3. ``--kernels``: the neighbour search's two kernels (`fairdg.losses.neighbours`) timed on a
   few batch shapes, next to the kernel its cost model picks (where the constants come from).

``--clock cpu`` times with the thread's CPU clock instead of the wall clock: on a machine that
other jobs share, waiting for a core then does not count (memory contention still does). Run:

    FAIRDG_DATA=... python benchmarks/affinity.py [--repeats 200] [--threads 1] [--clock wall]
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
from fairdg.losses import affinity_loss
from fairdg.training.sampler import DomainSampler

HPARAMS = {"batch_size": 512, "mlp_width": 128, "mlp_depth": 1, "rep_dim": 20}
CNN_HPARAMS = {"batch_size": 128}
GIB = 1024**3
MEMORY_TARGET = 0.2 * GIB
VARIANTS = {
    "erm": {},
    "affinity (L1, the paper's)": {},
    "affinity (L2)": {"affinity_distance": "l2"},
    "affinity (cosine)": {"affinity_distance": "cosine"},
    "affinity (sorted matching, ours)": {"affinity_matching": "sorted"},
}
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def step_times(repeats, dataset_name, hparams, variants, clock, warmup=20) -> dict:
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
    for step in range(repeats + warmup):
        for name, algorithm in algorithms.items():  # interleaved: same machine state
            start = clock()
            algorithm.update(batches)
            if step >= warmup:
                times[name].append(clock() - start)
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


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _peak_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _reset_peak() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_child(batch: int, dim: int) -> None:
    """Run in a subprocess: print the rise of the peak RSS during one forward+backward."""
    import resource

    g = torch.Generator().manual_seed(0)
    rep = torch.randn(batch, dim, generator=g, requires_grad=True)
    y = torch.randint(2, (batch,), generator=g)
    z = torch.randint(2, (batch,), generator=g)
    affinity_loss(rep[:64], y[:64], z[:64]).backward()  # load kernels before measuring
    rep.grad = None
    reset = _reset_peak()
    before = _rss_kib()
    start = time.perf_counter()
    affinity_loss(rep, y, z).backward()
    seconds = time.perf_counter() - start
    peak = _peak_kib() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rise_bytes": max(0, peak - before) * 1024, "seconds": seconds,
                      "method": "VmHWM after clear_refs" if reset else "ru_maxrss"}))  # fmt: skip


def peak_memory(batch: int, dim: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--batch", str(batch), "--dim", str(dim)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_memory(batch: int, dim: int) -> None:
    mem = peak_memory(batch, dim)
    block = 1024  # rows per distance block (fairdg.losses.neighbours.BLOCK)
    largest = min(batch, block) * (batch // 2) * 4  # one float32 distance block
    print(
        f"loss forward+backward at batch {batch}, rep {dim}: peak RSS rise "
        f"{mem['rise_bytes'] / GIB:.3f} GiB (target < {MEMORY_TARGET / GIB} GiB): "
        f"{'met' if mem['rise_bytes'] < MEMORY_TARGET else 'MISSED'}; {mem['seconds']:.2f} s "
        f"({mem['method']})"
    )
    print(
        f"  largest tensor: a {min(batch, block)} x <= {batch // 2} float32 distance "
        f"block (<= {largest / GIB:.3f} GiB); a B x B x k difference tensor would be "
        f"{batch * batch * dim * 4 / GIB:.1f} GiB"
    )


def kernel_times(repeats: int, clock) -> None:
    """Each kernel of the neighbour search against the cost model's choice."""
    from fairdg.losses import neighbours

    shapes = [  # (batch, rep, classes, groups)
        (512, 20, 2, 2),
        (2048, 20, 2, 2),
        (128, 20, 10, 5),
        (512, 64, 10, 2),
        (512, 20, 50, 2),
    ]
    g = torch.Generator().manual_seed(0)
    print("neighbour search, median ms (cells / masked), the cost model's pick, symmetric:")
    for batch, dim, n_classes, n_groups in shapes:
        rep = torch.relu(torch.randn(batch, dim, generator=g))
        y = torch.randint(n_classes, (batch,), generator=g)
        z = torch.randint(n_groups, (batch,), generator=g)
        cells = neighbours.cell_layout(y, z, batch)
        line = []
        for distance in ("l1", "l2", "cosine"):
            times = {}
            for kernel in ("cells", "masked"):
                runs = []
                for _ in range(repeats):
                    start = clock()
                    neighbours.nearest_terms(rep, y, z, batch, True, distance, kernel)
                    runs.append(clock() - start)
                times[kernel] = statistics.median(runs) * 1e3
            pick = neighbours._cheaper_kernel(cells, 0, 1, True, True, distance, dim)
            best = min(times, key=times.get)
            line.append(
                f"{distance} {times['cells']:.2f} / {times['masked']:.2f} -> {pick}"
                f"{'' if pick == best else ' (slower)'}"
            )
        print(f"  B {batch}, k {dim}, {n_classes} classes, {n_groups} groups: " + "; ".join(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed steps per algorithm")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--batch", type=int, default=8192, help="batch of the memory test")
    parser.add_argument("--dim", type=int, default=128, help="rep size of the memory test")
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help="what a time is")
    parser.add_argument("--kernels", action="store_true", help="also time the search kernels")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _peak_child(args.batch, args.dim)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = CLOCKS[args.clock]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.clock} clock")
    print(f"load average {os.getloadavg()}")
    print_memory(args.batch, args.dim)  # first, while this process is small
    times = step_times(args.repeats, "adult", HPARAMS, VARIANTS, clock)
    print_ratios(
        f"training step, Adult batch 512, rep 20 (median of {args.repeats}, interleaved)",
        times,
        1.3,
    )
    cnn = {"erm": {}, "affinity (L1)": {}}
    n = max(args.repeats // 20, 5)  # a CNN step takes about a second on one thread
    times = step_times(n, "ccmnist", CNN_HPARAMS, cnn, clock, warmup=2)
    print_ratios(f"training step, ccMNIST small CNN, batch 128 (median of {n})", times, 1.15)
    if args.kernels:
        kernel_times(max(args.repeats // 10, 5), clock)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
