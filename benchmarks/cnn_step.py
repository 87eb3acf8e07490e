"""ccMNIST small-CNN training step: its share of the machine's FLOP floor, and what raises it.

The step: ERM on ccMNIST (real data, ``FAIRDG_DATA``) with DomainBed's MNIST CNN (four 3 x 3
convolutions with GroupNorm; ``--width 64`` is DomainBed's and the issue's setting, 16 the
dataset's default), batch 128. Its floating-point operations are counted with
`torch.utils.flop_counter` (forward and backward of the convolutions and matrix products). The
floor is the rate of a 2,048 x 2,048 x 2,048 float32 matrix product on the same threads (and of
a bfloat16 one, which AMX or AVX-512 BF16 units run several times faster). Variants, timed in
interleaved rounds (median steps/s), each with its ratio to the default and its share of the
floor:

- ``fp32`` (the default): float32, NCHW;
- ``channels_last``: the networks and each batch in channels-last memory format (oneDNN's
  preferred layout for convolutions), converted once, outside the timed step;
- ``bf16``: bfloat16 autocast on the CPU (``fairdg run --precision bf16``): different
  arithmetic, so an option; ``--accuracy STEPS`` measures what it does to accuracy;
- ``bf16 + channels_last``;
- with ``--compile``, ``compiled``: torch.compile of the networks (``fairdg run --compile``);
  its compilation is paid in the warm-up, untimed, and printed.

``--accuracy STEPS`` also trains ERM on ccMNIST for STEPS steps in fp32 and in bf16 (same seed,
the dataset's defaults but ``--width``) and prints both runs' accuracies and times. Run:

    FAIRDG_DATA=... python benchmarks/cnn_step.py [--threads 1 2] [--width 64] [--steps 5]
        [--rounds 3] [--clock wall] [--compile] [--accuracy 300]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from fairdg.algorithms import build_algorithm
from fairdg.data import load_dataset
from fairdg.training.compiled import compile_networks
from fairdg.training.sampler import DomainSampler

BATCH = 128
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}  # cpu: all threads' time


def matmul_rate(dtype: torch.dtype, clock, seconds: float = 1.0, n: int = 2048) -> float:
    """FLOP/s of an n x n x n matrix product in `dtype` on the current threads."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    count, start = 0, clock()
    while clock() - start < seconds:
        a @ b
        count += 1
    return count * 2 * n**3 / (clock() - start)


def _variant(dataset, width: int, channels_last: bool, bf16: bool, compiled: bool):
    torch.manual_seed(0)
    hparams = {"batch_size": BATCH, "cnn_width": width}
    algorithm = build_algorithm("erm", dataset.input_shape, dataset.num_classes, 1, hparams)
    if channels_last:
        algorithm = algorithm.to(memory_format=torch.channels_last)
    if compiled:
        compile_networks(algorithm)
    sampler = DomainSampler(dataset.split(0).train()[:1], BATCH, seed=0)
    batches = sampler()
    if channels_last:  # the layout the first convolution wants, made before the step
        batches = [
            b._replace(x=b.x.contiguous(memory_format=torch.channels_last)) for b in batches
        ]
    context = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else None

    def step() -> None:
        with context() if context else contextlib.nullcontext():
            algorithm.update(batches)

    return step


def step_flops(dataset, width: int) -> float:
    step = _variant(dataset, width, False, False, False)
    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


def measure(dataset, width, steps, rounds, compiled, clock) -> dict[str, float]:
    variants = {
        "fp32": (False, False, False),
        "channels_last": (True, False, False),
        "bf16": (False, True, False),
        "bf16 + channels_last": (True, True, False),
    }
    if compiled:
        variants["compiled"] = (False, False, True)
    loops = {}
    for name, (layout, bf16, comp) in variants.items():
        loops[name] = _variant(dataset, width, layout, bf16, comp)
        start = time.perf_counter()
        for _ in range(2):  # warm-up (oneDNN primitives; the compilation)
            loops[name]()
        if comp:
            print(f"  compilation + 2 warm-up steps: {time.perf_counter() - start:.1f} s")
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for r in range(rounds):
        for name in list(loops) if r % 2 == 0 else list(reversed(loops)):
            start = clock()
            for _ in range(steps):
                loops[name]()
            rates[name].append(steps / (clock() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def accuracy(width: int, steps: int) -> None:
    """Train ERM on ccMNIST in fp32 and bf16 (same seed) and print their accuracies."""
    from fairdg.training import train
    from fairdg.training.config import RunConfig

    with tempfile.TemporaryDirectory() as folder:
        for precision in ("fp32", "bf16"):
            config = RunConfig(
                dataset="ccmnist",
                algorithm="erm",
                hparams={"cnn_width": width},
                steps=steps,
                precision=precision,
                output_dir=f"{folder}/{precision}",
                quiet=True,
            )
            record = train(config).record
            val, test = record["metrics"]["val"], record["metrics"]["test"]
            print(
                f"  {precision}: {steps} steps in {record['wall_seconds']:.0f} s; selected step "
                f"{record['selected_step']}: val accuracy {val['accuracy']:.4f}, test accuracy "
                f"{test['accuracy']:.4f}, test dp_diff {test.get('dp_diff', float('nan')):.4f} "
                f"(positive rate {test.get('positive_rate', float('nan')):.3f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads")
    parser.add_argument("--width", type=int, default=64, help="cnn_width (DomainBed: 64)")
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help="what a time is")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--accuracy", type=int, default=0, help="steps of the accuracy runs")
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    print(f"torch {torch.__version__}, {args.clock} clock; load average {os.getloadavg()}")
    dataset = load_dataset("ccmnist")
    flops = step_flops(dataset, args.width)
    print(f"ccMNIST CNN width {args.width}, batch {BATCH}: {flops / 1e9:.1f} GFLOP a step")
    for threads in args.threads:
        torch.set_num_threads(threads)
        fp32, bf16 = matmul_rate(torch.float32, clock), matmul_rate(torch.bfloat16, clock)
        print(
            f"{threads} thread(s): floor {fp32 / 1e9:.0f} GFLOP/s float32, {bf16 / 1e9:.0f} "
            "bfloat16 (2,048^3 matrix product)"
        )
        rates = measure(dataset, args.width, args.steps, args.rounds, args.compile, clock)
        for name, rate in rates.items():
            ratio = rate / rates["fp32"]
            share = f"{rate * flops / fp32:.0%} of the float32 floor"
            if "bf16" in name:
                share += f", {rate * flops / bf16:.0%} of the bfloat16 floor"
            print(
                f"  {name:22s} {rate:6.2f} steps/s, {ratio:.2f}x fp32 (target >= 1.5x: "
                f"{'met' if ratio >= 1.5 else 'MISSED'}); {share}"
            )
    if args.accuracy:
        torch.set_num_threads(args.threads[0])
        accuracy(args.width, args.accuracy)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
