"""Minibatches drawn from in-memory tensors, one batch per training domain per step.

In data-parallel training every rank draws the same indices and keeps its shard of them.

No per-sample Python work: each step draws indices with ``torch.randint`` (sampling with
replacement, as DomainBed's infinite loaders do) from a dedicated generator whose state is
checkpointed, so a resumed run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import torch

from fairdg.data.base import Batch, Domain
from fairdg.training.distributed import shard


class DomainSampler:
    """Yields a list of `Batch` (one per domain) per call, on `device`."""

    def __init__(
        self,
        domains: list[Domain],
        batch_size: int,
        seed: int,
        device: str | torch.device = "cpu",
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if batch_size % world_size:
            raise ValueError(
                f"batch_size {batch_size} is not divisible by the {world_size} processes; "
                f"use a multiple of {world_size} (--hparam batch_size=...)"
            )
        self.rank, self.world_size = rank, world_size
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.tensors = [
            (
                d.x.to(device),
                d.y.to(device),
                d.z.to(device),
                torch.full((len(d),), i, dtype=torch.long, device=device),
            )
            for i, d in enumerate(domains)
        ]
        self.device = device

    def __call__(self) -> list[Batch]:
        batches = []
        for x, y, z, d in self.tensors:
            idx = torch.randint(len(y), (self.batch_size,), generator=self.generator)
            idx = shard(idx, self.rank, self.world_size).to(self.device)
            batches.append(Batch(x[idx], y[idx], z[idx], d[idx]))
        return batches

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
