"""Engine throughput: fairdg's sampler + ERM update against a plain torch loop and a DataLoader.

ERM on UCI Adult (MLP in-128-20-2, Adam), at batch 128, 512 and 2,048. Three loops over the
same training tensors, the same model and optimiser, timed in rounds that alternate between
them (so that all three see the same machine load), median steps per second of each:

- ``engine``: `DomainSampler` + ``ERM.update`` (what `fairdg run` does per step);
- ``plain``: ``torch.randint`` indices, ``x[idx]``, ``y[idx]``, forward, cross-entropy,
  backward, Adam step -- the strongest hand-written loop over in-memory tensors;
- ``DataLoader``: ``DataLoader(TensorDataset(x, y), shuffle=True)`` (two tensors);
- with ``--compile``, also ``compiled``: the engine with the networks torch.compiled (what
  ``fairdg run --compile`` does; its compilation is paid in the warm-up, untimed, and printed).

Prints the ratios engine / plain (target: at least 1.0x) and engine / DataLoader, and the share
of the FLOP floor reached at each batch: the step's multiply-adds (forward 2 B W, backward
4 B W for W weights) at the float32 matrix-product rate measured in the same run (target at
batch 512: at least 35 %). All loops share the algorithm's optimiser (`make_optimizer`: the
multi-tensor Adam; ``--adam-fused``: the fused one, ``--hparam adam_fused=true``).
``--clock cpu`` counts the thread's CPU time instead of the wall clock (a machine shared with
other jobs). Run:

    FAIRDG_DATA=... python benchmarks/engine.py [--steps 200] [--rounds 5] [--threads 1]
        [--compile] [--adam-fused] [--clock wall]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from fairdg.algorithms import build_algorithm
from fairdg.data import load_dataset
from fairdg.training.compiled import compile_networks
from fairdg.training.sampler import DomainSampler

BATCHES = (128, 512, 2048)


HPARAMS: dict = {}
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def _algorithm(dataset, batch: int):
    torch.manual_seed(0)
    return build_algorithm("erm", dataset.input_shape, 2, 1, {"batch_size": batch, **HPARAMS})


def engine_loop(train, dataset, batch: int, compiled: bool = False):
    algorithm = _algorithm(dataset, batch)
    if compiled:
        compile_networks(algorithm)
    sampler = DomainSampler([train], batch, seed=0, pooled=algorithm.POOLED_BATCH)
    return lambda _step: algorithm.update(sampler())


def plain_loop(train, dataset, batch: int):
    algorithm = _algorithm(dataset, batch)
    model, optimizer = algorithm.network, algorithm.optimizer
    x, y = train.x, train.y
    generator = torch.Generator().manual_seed(0)

    def step(_step: int) -> None:
        idx = torch.randint(len(y), (batch,), generator=generator)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()  # as the engine reports the loss

    return step


def dataloader_loop(train, dataset, batch: int):
    algorithm = _algorithm(dataset, batch)
    model, optimizer = algorithm.network, algorithm.optimizer
    loader = DataLoader(TensorDataset(train.x, train.y), batch, shuffle=True, drop_last=True)

    def batches():
        while True:
            yield from loader

    stream = batches()

    def step(_step: int) -> None:
        xb, yb = next(stream)
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()

    return step


def matmul_flops(seconds: float = 0.3, clock=time.perf_counter) -> float:
    """float32 multiply-add rate (FLOP/s) of a 512 x 512 x 512 matrix product."""
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    a @ b
    n, start = 0, clock()
    while clock() - start < seconds:
        a @ b
        n += 1
    return n * 2 * 512**3 / (clock() - start)


def step_flops(dataset, batch: int) -> float:
    """Forward + backward FLOPs of one step: 6 per weight of a linear layer per row."""
    model = _algorithm(dataset, batch).network
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    return 6.0 * batch * weights


def measure(
    train, dataset, batch: int, steps: int, rounds: int, compiled=False, clock=time.perf_counter
) -> dict[str, float]:
    loops = {
        "engine": engine_loop(train, dataset, batch),
        "plain": plain_loop(train, dataset, batch),
        "DataLoader": dataloader_loop(train, dataset, batch),
    }
    if compiled:
        loops["compiled"] = engine_loop(train, dataset, batch, compiled=True)
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for name, loop in loops.items():  # warm-up (the compiled loop compiles here)
        start = time.perf_counter()
        for step in range(20):
            loop(step)
        if name == "compiled":
            print(
                f"batch {batch:5d}: compilation + 20 warm-up steps "
                f"{time.perf_counter() - start:.1f} s"
            )
    for r in range(rounds):
        names = list(loops) if r % 2 == 0 else list(reversed(loops))
        for name in names:
            start = clock()
            for step in range(steps):
                loops[name](step)
            rates[name].append(steps / (clock() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per loop")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--compile", action="store_true", help="also time the engine with torch.compile"
    )
    parser.add_argument("--adam-fused", action="store_true", help="every loop: fused Adam")
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help="what a time is")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.adam_fused:
        HPARAMS["adam_fused"] = True
    clock = CLOCKS[args.clock]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.clock} clock, "
        f"Adam {'fused' if args.adam_fused else 'multi-tensor'}; {uptime}"
    )
    dataset = load_dataset("adult")
    train = dataset.split(0).train()[0]
    for batch in BATCHES:
        rates = measure(train, dataset, batch, args.steps, args.rounds, args.compile, clock)
        floor = step_flops(dataset, batch) / matmul_flops(clock=clock)  # s per step at the rate
        ratio = rates["engine"] / rates["plain"]
        print(
            f"batch {batch:5d}: engine {rates['engine']:7.1f} steps/s, plain loop "
            f"{rates['plain']:7.1f}, DataLoader {rates['DataLoader']:7.1f}; engine / plain "
            f"{ratio:.2f}x (target >= 1.0x: {'met' if ratio >= 1.0 else 'MISSED'}), engine / "
            f"DataLoader {rates['engine'] / rates['DataLoader']:.2f}x; FLOP floor reached: "
            f"engine {floor * rates['engine']:.0%}, plain {floor * rates['plain']:.0%}"
        )
        if "compiled" in rates:
            ratio = rates["compiled"] / rates["plain"]
            print(
                f"batch {batch:5d}: --compile {rates['compiled']:7.1f} steps/s; compiled / "
                f"engine {rates['compiled'] / rates['engine']:.2f}x, compiled / plain "
                f"{ratio:.2f}x; FLOP floor reached {floor * rates['compiled']:.0%}"
            )
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(uptime)


if __name__ == "__main__":
    main()
