"""The affinity loss ("Learning what to ignore", equation (3) of the affinity paper).

For every anchor, the distance from its representation to the nearest representation of a
sample with the same class in another sensitive group, averaged. Pulling these nearest
neighbours together makes the groups indistinguishable in representation space.

Our choices where the paper is silent (see ``docs/affinity.md``):

- More than two groups: every ordered pair of groups ``(a, b)``, ``a != b``, contributes the mean
  over the anchors of ``a`` of their nearest-neighbour distance into ``b``; the loss is the mean
  over the pairs that have at least one valid anchor.
- ``symmetric=False`` keeps only the pairs ``a < b`` (by group value): with two groups, only the
  anchors of the first group, as the paper writes equation (3).
- Anchors whose class has no sample in the other group (within the batch and the memory bank) are
  skipped and counted. With ``paper_normalisation=True`` the sum over valid anchors of a pair is
  instead divided by ``|Y| * |X_a|`` (classes present in the batch times all anchors of ``a``),
  the literal factor of equation (3); this rescales the effective lambda by about ``1 / |Y|``.
- The gradient flows through the anchor and its neighbour. The nearest neighbours are searched
  without autograd (`fairdg.losses.neighbours`: candidates sorted by group and class, distance
  matrices per pair of groups in row blocks, one kernel or another chosen by a cost model);
  the selected distances are then recomputed with autograd: the gradient is that of ``min``,
  the backward is ``O(B * k)`` and the memory ``O(block * N + B * k)``, never ``B x B x k``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping
from typing import Any, Literal, overload

import torch
import torch.nn.functional as F

from fairdg.losses.neighbours import cell_layout, nearest_terms

DISTANCES = ("l1", "l2", "cosine")
MATCHINGS = ("nearest", "sorted")


def _rowwise(a: torch.Tensor, b: torch.Tensor, distance: str) -> torch.Tensor:
    """Distance between matching rows of `a` and `b` (differentiable)."""
    if distance == "l1":
        return (a - b).abs().sum(dim=1)
    if distance == "l2":
        return torch.linalg.vector_norm(a - b, dim=1)
    return 1.0 - (F.normalize(a, dim=1) * F.normalize(b, dim=1)).sum(dim=1)


class MemoryBank:
    """Detached past representations per (class, group), first in first out.

    Rare cells (few high-income women in an Adult batch) then still find neighbours. The bank
    holds at most `capacity` rows per cell; `push` adds a batch after the loss was computed.
    Neighbours taken from the bank pass no gradient (they are constants).
    """

    def __init__(self, capacity: int = 128) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = capacity
        self.cells: dict[tuple[int, int], torch.Tensor] = {}

    def push(self, rep: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> None:
        rep = rep.detach()
        for c, g in torch.unique(torch.stack([y, z], 1), dim=0).tolist():
            rows = rep[(y == c) & (z == g)]
            old = self.cells.get((c, g))
            if old is not None:
                rows = torch.cat([old.to(rows.device), rows])
            self.cells[(c, g)] = rows[-self.capacity :].clone()

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """All stored rows as ``(rep, y, z)``, or None when empty."""
        if not self.cells:
            return None
        keys = sorted(self.cells)
        reps = [self.cells[k] for k in keys]
        device = reps[0].device
        ys = [
            torch.full((len(r),), k[0], dtype=torch.long, device=device)
            for k, r in zip(keys, reps, strict=True)
        ]
        zs = [
            torch.full((len(r),), k[1], dtype=torch.long, device=device)
            for k, r in zip(keys, reps, strict=True)
        ]
        return torch.cat(reps), torch.cat(ys), torch.cat(zs)

    def __len__(self) -> int:
        return sum(len(r) for r in self.cells.values())

    def state_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "cells": {f"{c},{g}": r.cpu() for (c, g), r in self.cells.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.capacity = int(state["capacity"])
        cells = {tuple(int(v) for v in k.split(",")): r for k, r in state["cells"].items()}
        self.cells = {(c, g): r for (c, g), r in cells.items()}


def _spread(rep: torch.Tensor, y: torch.Tensor, distance: str) -> torch.Tensor:
    """Mean distance of each row of `rep` to the centroid of its class in `y`."""
    classes, inverse = torch.unique(y, return_inverse=True)
    sums = torch.zeros(len(classes), rep.shape[1], dtype=rep.dtype, device=rep.device)
    sums = sums.index_add(0, inverse, rep)
    counts = torch.bincount(inverse, minlength=len(classes)).to(rep.dtype)
    centroids = sums / counts[:, None]
    return _rowwise(rep, centroids[inverse], distance).mean()


def _check(rep, y, z, distance) -> None:
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
    if not isinstance(rep, torch.Tensor) or rep.dim() != 2 or not rep.is_floating_point():
        got = tuple(rep.shape) if isinstance(rep, torch.Tensor) else type(rep).__name__
        raise ValueError(f"rep must be a float tensor of shape (batch, features), got {got}")
    for name, t in (("y", y), ("z", z)):
        if not isinstance(t, torch.Tensor) or t.shape != (rep.shape[0],):
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a tensor of shape ({rep.shape[0]},), got {got}")


def _sorted_matching(
    rep: torch.Tensor, y: torch.Tensor | None, z: torch.Tensor, projections: int
) -> tuple[torch.Tensor, int, int]:
    """Sliced one-to-one matching (``matching="sorted"``, ours): for each class and each pair
    of groups, both cells are projected on the same `projections` random unit directions, each
    projection is sorted, and the two sorted lists are compared quantile by quantile (the
    smaller cell is read at the quantiles of the larger), L1. This is the sliced 1-Wasserstein
    distance between the two cells: unlike the nearest neighbour, which a few samples of one
    group can serve for all of the other group, every sample has exactly one partner, so the
    loss is zero only when the cells' distributions agree, not merely their supports.

    Returns ``(loss, terms, pairs)``: the mean over (class, group pair) of the mean absolute
    quantile difference, the number of matched quantiles, the number of pairs used.
    """
    directions = F.normalize(
        torch.randn(rep.shape[1], projections, device=rep.device, dtype=rep.dtype), dim=0
    )
    proj = rep @ directions
    layout = cell_layout(y, z, len(z))
    n_groups, n_classes = len(layout.size), len(layout.size[0]) if layout.size else 0
    cells = proj.index_select(0, layout.order).split(sum(layout.size, []))
    losses, terms = [], 0
    for c in range(n_classes):
        for a, b in itertools.combinations(range(n_groups), 2):
            pa, pb = cells[a * n_classes + c], cells[b * n_classes + c]
            if not len(pa) or not len(pb):
                continue
            m = max(len(pa), len(pb))
            qa, qb = pa.sort(dim=0).values, pb.sort(dim=0).values
            if len(pa) < m:  # the larger cell is read whole: its quantile i is its row i
                qa = qa[_quantile_rows(len(pa), m, rep.dtype, rep.device)]
            if len(pb) < m:
                qb = qb[_quantile_rows(len(pb), m, rep.dtype, rep.device)]
            losses.append((qa - qb).abs().mean())
            terms += m
    if not losses:
        return rep.sum() * 0.0, 0, 0
    return torch.stack(losses).mean(), terms, len(losses)


@functools.lru_cache(maxsize=4096)
def _quantile_rows(n: int, m: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Rows of a sorted cell of `n` read at the `m` quantiles ``(i + 0.5) / m`` (computed in
    `dtype`, as they always were; cached: the same few sizes recur batch after batch)."""
    grid = torch.arange(m, device=device, dtype=dtype) + 0.5
    return (grid * n / m).long()


@overload
def affinity_loss(
    rep: torch.Tensor,
    y: torch.Tensor,
    z: torch.Tensor,
    *,
    distance: str = ...,
    class_conditional: bool = ...,
    symmetric: bool = ...,
    paper_normalisation: bool = ...,
    scale_invariant: bool = ...,
    bank: MemoryBank | None = ...,
    matching: str = ...,
    projections: int = ...,
    return_stats: Literal[False] = ...,
) -> torch.Tensor: ...


@overload
def affinity_loss(
    rep: torch.Tensor,
    y: torch.Tensor,
    z: torch.Tensor,
    *,
    distance: str = ...,
    class_conditional: bool = ...,
    symmetric: bool = ...,
    paper_normalisation: bool = ...,
    scale_invariant: bool = ...,
    bank: MemoryBank | None = ...,
    matching: str = ...,
    projections: int = ...,
    return_stats: Literal[True],
) -> tuple[torch.Tensor, dict[str, float]]: ...


def affinity_loss(
    rep: torch.Tensor,
    y: torch.Tensor,
    z: torch.Tensor,
    *,
    distance: str = "l1",
    class_conditional: bool = True,
    symmetric: bool = True,
    paper_normalisation: bool = False,
    scale_invariant: bool = False,
    bank: MemoryBank | None = None,
    matching: str = "nearest",
    projections: int = 32,
    return_stats: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, dict[str, float]]:
    """Affinity loss of a minibatch (equation (3); equation (2) when not class-conditional).

    Parameters
    ----------
    rep : Tensor (B, k)
        Representations (the layer the loss acts on).
    y : Tensor (B,)
        Class labels; ignored when ``class_conditional=False`` (any target type then works:
        regression, autoencoders).
    z : Tensor (B,)
        Group labels (sensitive attribute, or domain index for domain adaptation), any number.
        Labels (``y`` and ``z``) are integers in ``[-2**31, 2**31)``.
    distance : {"l1", "l2", "cosine"}
        ``d`` of equation (3): L1 (the paper's), Euclidean, or ``1 - cosine similarity``.
    class_conditional : bool
        Neighbours must share the anchor's class (equation (3)); False: any class (eq. (2)).
    symmetric : bool
        Anchors from every group (default); False: only pairs ``a < b`` (paper's literal form).
    paper_normalisation : bool
        Divide each pair's sum by ``|Y| |X_a|`` (equation (3)) instead of averaging over anchors
        that have a neighbour.
    scale_invariant : bool
        Divide by the spread of the batch: the mean distance of each representation to the
        centroid of its class (of the batch when not class-conditional), with autograd. The loss
        is then invariant to a rescaling of ``rep``, which the plain loss rewards (a network can
        shrink its representation and grow its classifier instead of aligning the groups).
    bank : MemoryBank, optional
        Extra detached candidate neighbours; the caller pushes new batches into it.
    matching : {"nearest", "sorted"}
        ``"nearest"``: equation (3). ``"sorted"`` (ours): one-to-one matching by quantiles of
        `projections` random 1-D projections per class and pair of groups (the sliced
        1-Wasserstein distance, see `_sorted_matching`): it matches the groups' densities, not
        only their supports. Ignores `distance` (1-D), `symmetric` (it is symmetric),
        `paper_normalisation` and `bank` (not supported: an error).
    projections : int
        Number of random directions of ``matching="sorted"`` (drawn from torch's global
        generator at every call).
    return_stats : bool
        Also return a dict: ``terms`` (anchor-pair terms used), ``skipped`` (eligible anchor-pair
        terms without a neighbour), ``pairs`` (group pairs used), ``mean_distance``.

    Returns
    -------
    Tensor (scalar), or ``(loss, stats)``. 0 (with a gradient path) when the batch holds a
    single group or no anchor has a neighbour.
    """
    _check(rep, y, z, distance)
    if matching not in MATCHINGS:
        raise ValueError(f"matching must be one of {MATCHINGS}, got {matching!r}")
    y = y.long() if class_conditional else torch.zeros_like(z, dtype=torch.long)
    z = z.long()
    if matching == "sorted":
        if bank is not None:
            raise ValueError("matching='sorted' does not use a memory bank: pass bank=None")
        if isinstance(projections, bool) or not isinstance(projections, int) or projections < 1:
            raise ValueError(f"projections must be a positive integer, got {projections!r}")
        loss, n_terms, n_pairs = _sorted_matching(
            rep, y if class_conditional else None, z, projections
        )
        if scale_invariant and n_pairs:
            loss = loss / _spread(rep, y, distance).clamp_min(1e-8)
        if not return_stats:
            return loss
        stats = {
            "terms": float(n_terms),
            "skipped": 0.0,
            "pairs": float(n_pairs),
            "mean_distance": loss.item() if n_pairs else float("nan"),
        }
        return loss, stats
    cand, cand_y, cand_z = rep, y, z
    stored = bank.tensors() if bank is not None else None
    if stored is not None:
        b_rep, b_y, b_z = (t.to(rep.device) for t in stored)
        cand = torch.cat([rep, b_rep.to(rep.dtype)])
        cand_y, cand_z = torch.cat([y, b_y]), torch.cat([z, b_z])
    found = nearest_terms(
        cand, cand_y if class_conditional else None, cand_z, len(z), symmetric, distance
    )
    return _nearest_loss(
        rep, cand, found, distance, paper_normalisation, scale_invariant, y, return_stats
    )


def _nearest_loss(rep, cand, found, distance, paper_normalisation, scale_invariant, y, stats):
    """Equation (3) from the terms found: one scalar per ordered group pair (the sum of its
    terms over its normaliser), then their mean; autograd through anchor and neighbour."""
    slots = sorted(found.terms)
    total = sum(found.anchors.values())
    n_terms = sum(found.terms.values())
    if not slots:
        zero = rep.sum() * 0.0
        empty = {"terms": 0.0, "skipped": float(total), "pairs": 0.0, "mean_distance": math.nan}
        return (zero, empty) if stats else zero
    anchor, neighbour = found.anchor, found.neighbour
    dists = _rowwise(rep.index_select(0, anchor), cand.index_select(0, neighbour), distance)
    sums = torch.zeros(found.n_groups**2, dtype=rep.dtype, device=rep.device)
    sums = sums.index_add(0, found.slot, dists)  # in term order: the sum of each pair
    if paper_normalisation:
        norm = [found.batch_classes * found.anchors[s] for s in slots]
    else:
        norm = [found.terms[s] for s in slots]
    if len(slots) == 1:  # the mean of one pair is the pair (bit for bit)
        loss = sums[slots[0]] / float(norm[0])
    else:
        used = torch.tensor(slots, device=rep.device)
        loss = (sums[used] / torch.tensor(norm, dtype=rep.dtype, device=rep.device)).mean()
    if scale_invariant:
        loss = loss / _spread(rep, y, distance).clamp_min(1e-8)
    if not stats:
        return loss
    return loss, {
        "terms": float(n_terms),
        "skipped": float(total - n_terms),
        "pairs": float(len(slots)),
        "mean_distance": dists.detach().mean().item(),
    }
