"""Data-parallel training of one run over several processes (``torch.distributed``).

Started by ``torchrun --nproc-per-node N -m fairdg run ...`` (or across nodes, see
docs/scale.md): `init_from_env` joins the process group that torchrun's environment describes
(gloo on CPU, NCCL on CUDA, one GPU per local rank). Every rank builds the same model (rank 0's
parameters are broadcast), draws the same minibatch indices and keeps its own shard of every
domain's batch (`shard`); after each backward pass the gradients are averaged across ranks just
before every optimiser step (`sync_gradients`), so the ranks stay identical and match one process
on the full batch for losses that are means over samples (penalties computed on a shard, such
as IRM's or a batch statistic, see only that shard). Training statistics are averaged
(`reduce_stats`); only rank 0 evaluates and writes records and checkpoints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """``(rank, world size)``; ``(0, 1)`` outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Whether this process is rank 0 (or the only one)."""
    return world()[0] == 0


def init_from_env(device: str) -> str:
    """Join the process group torchrun describes (WORLD_SIZE > 1); returns the device to use
    (``cuda`` becomes this process's ``cuda:LOCAL_RANK``). Without torchrun: nothing."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or world()[1] > 1:
        return device
    if not dist.is_available():
        raise RuntimeError("this torch build has no torch.distributed; run one process")
    cuda = torch.device(device).type == "cuda"
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    return device


def shard(index: torch.Tensor, rank: int, size: int) -> torch.Tensor:
    """The equal share of a batch's indices that belongs to `rank`."""
    if size == 1:
        return index
    if len(index) % size:
        raise ValueError(
            f"batch_size {len(index)} is not divisible by the {size} processes; "
            f"use a multiple of {size} (--hparam batch_size=...)"
        )
    return index.view(size, -1)[rank]


def _optimizers(module: torch.nn.Module) -> list[torch.optim.Optimizer]:
    """The optimisers an algorithm holds as attributes (directly, or in a list or dict)."""
    found = []
    for value in vars(module).values():
        items = value.values() if isinstance(value, Mapping) else value
        if isinstance(value, torch.optim.Optimizer):
            found.append(value)
        elif isinstance(value, list | tuple | Mapping):
            found += [v for v in items if isinstance(v, torch.optim.Optimizer)]
    return found


def sync_gradients(algorithm: torch.nn.Module) -> None:
    """Broadcast rank 0's parameters and buffers, then average gradients across ranks before
    every step of every optimiser the algorithm holds."""
    rank, size = world()
    if size == 1:
        return
    with torch.no_grad():
        for tensor in [*algorithm.parameters(), *algorithm.buffers()]:
            dist.broadcast(tensor, src=0)

    def average(optimizer, args, kwargs):
        params = [p for group in optimizer.param_groups for p in group["params"]]
        params = [p for p in params if p.requires_grad]
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        dist.all_reduce(flat)
        flat /= size
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
            offset += p.numel()

    for optimizer in _optimizers(algorithm):
        optimizer.register_step_pre_hook(average)


def reduce_stats(stats: dict[str, float], device: str | torch.device = "cpu") -> dict[str, float]:
    """Training statistics averaged over ranks (unchanged in one process)."""
    if world()[1] == 1 or not stats:
        return stats
    keys = sorted(stats)
    values = torch.tensor([float(stats[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(values)
    values /= world()[1]
    return dict(zip(keys, values.tolist(), strict=True))


def barrier() -> None:
    """Wait for every rank (nothing in one process)."""
    if world()[1] > 1:
        dist.barrier()
