"""Deterministic stratified splits with exact sizes."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def _largest_remainder(total: int, weights: torch.Tensor) -> torch.Tensor:
    """Integers proportional to `weights` summing to `total` (Hamilton's method, stable)."""
    share = weights.double() / weights.sum() * total
    base = share.floor().long()
    short = total - int(base.sum())
    if short > 0:
        order = torch.argsort(-(share - base), stable=True)
        base[order[:short]] += 1
    return base


def stratified_split(
    strata: torch.Tensor, fractions: Sequence[float], generator: torch.Generator
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Split row indices into a remainder and one part per fraction, stratified by `strata`.

    Part ``k`` gets ``floor(fractions[k] * n)`` rows in total (so 32,561 rows at 0.2 give
    6,512, as in the affinity paper's Adult split), spread over the strata in proportion to
    their sizes. Returns ``(remainder, [part_1, ...])``, each a sorted index tensor.
    """
    n = int(strata.shape[0])
    if any(f < 0 for f in fractions) or sum(fractions) >= 1:
        raise ValueError(f"split fractions must be >= 0 and sum below 1, got {list(fractions)}")
    values, inverse, sizes = torch.unique(strata, return_inverse=True, return_counts=True)
    order = torch.argsort(inverse, stable=True)
    starts = torch.cumsum(sizes, 0) - sizes
    # shuffle within each stratum
    shuffled = []
    for s in range(len(values)):
        members = order[starts[s] : starts[s] + sizes[s]]
        shuffled.append(members[torch.randperm(len(members), generator=generator)])
    taken = torch.zeros(len(values), dtype=torch.long)
    parts = []
    for fraction in fractions:
        per = _largest_remainder(int(fraction * n), sizes)
        per = torch.minimum(per, sizes - taken)
        chunk = [shuffled[s][taken[s] : taken[s] + per[s]] for s in range(len(values))]
        taken += per
        parts.append(torch.sort(torch.cat(chunk)).values)
    rest = [shuffled[s][taken[s] :] for s in range(len(values))]
    return torch.sort(torch.cat(rest)).values, parts
