"""What the integrity checks cost: a checkpoint saved and loaded with fairdg's writer and reader
against bare torch, in the same process and in alternating order.

    python benchmarks/checkpoint_io.py [--repeats 21]

Baseline: ``torch.save`` to a temporary file and a rename (fairdg's writer before it hashed,
fsynced and kept a sidecar) and ``torch.load(weights_only=True)``. Measured:
`fairdg.checkpoint.save_checkpoint` with ``sidecar=True`` (the training loop's checkpoint.pt and
model.pt: sha256 while writing, fsync, ``<file>.sha256``) and `load_checkpoint` (regular-file
check, sha256 against the sidecar). For a training checkpoint of the Adult MLP and of the
ccMNIST CNN (weights, Adam state, best state). The saves happen once per evaluation, the loads
once per resume or `fairdg.load_model`. Absolute times depend on the disk and the load:
``uptime`` is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from fairdg.algorithms import build_algorithm
from fairdg.checkpoint import load_checkpoint, save_checkpoint


def training_state(input_shape: tuple[int, ...]) -> dict:
    algorithm = build_algorithm("erm", input_shape, 2, 2, {})
    x = torch.randn(8, *input_shape)
    algorithm.update([_batch(x)])  # the optimiser holds its state, as in a real checkpoint
    state = algorithm.state_dict()
    return {"format": 1, "model": state, "extra": algorithm.extra_state(), "best": state}


def _batch(x: torch.Tensor):
    from fairdg.data.base import Batch

    n = len(x)
    zeros = torch.zeros(n, dtype=torch.long)
    return Batch(x, torch.arange(n) % 2, torch.arange(n) % 2, zeros)


def bare_save(path: Path, state: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def timings(folder: Path, state: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each operation, the four interleaved in every repeat."""
    ops = {
        "save: torch": lambda: bare_save(folder / "a.pt", state),
        "save: fairdg": lambda: save_checkpoint(folder / "b.pt", state, sidecar=True),
        "load: torch": lambda: torch.load(folder / "a.pt", weights_only=True),
        "load: fairdg": lambda: load_checkpoint(folder / "b.pt"),
    }
    times: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(repeats):
        for name, op in ops.items():
            start = time.perf_counter()
            op()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for name, shape in (("adult MLP", (100,)), ("ccMNIST CNN", (3, 28, 28))):
        state = training_state(shape)
        with tempfile.TemporaryDirectory() as tmp:
            median = timings(Path(tmp), state, args.repeats)
            size = (Path(tmp) / "b.pt").stat().st_size / 1e6
        for op in ("save", "load"):
            base, ours = median[f"{op}: torch"], median[f"{op}: fairdg"]
            print(
                f"{name} ({size:.2f} MB) {op}: torch {base * 1e3:.1f} ms, fairdg "
                f"{ours * 1e3:.1f} ms, ratio {ours / base:.2f}"
            )


if __name__ == "__main__":
    main()
