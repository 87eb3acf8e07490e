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
- The gradient flows through the anchor and its neighbour. The nearest neighbour is searched
  without autograd, for each pair of groups, from one distance matrix between the two groups
  (every class at once, the pairs of different classes masked out) computed in row blocks (its
  row minima serve one direction, its column minima the other); the selected distances are then
  recomputed with autograd: the gradient is that of ``min`` and the memory is
  ``O(block * N + B * k)``, never ``B x B x k``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

DISTANCES = ("l1", "l2", "cosine")
MATCHINGS = ("nearest", "sorted")
_BLOCK = 1024  # anchor rows per block of the no-grad distance matrix


def _pairwise(a: torch.Tensor, b: torch.Tensor, distance: str) -> torch.Tensor:
    """Distance matrix ``(len(a), len(b))``."""
    if distance == "l1":
        return torch.cdist(a, b, p=1.0)
    if distance == "l2":  # through a matrix product (BLAS); only the argmin is used
        return torch.cdist(a, b, p=2.0, compute_mode="use_mm_for_euclid_dist")
    return 1.0 - F.normalize(a, dim=1) @ F.normalize(b, dim=1).T


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
        self.cells = {tuple(int(v) for v in k.split(",")): r for k, r in state["cells"].items()}


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


def _block_argmin(a, b, ya, yb, n_rows, n_cols, want_cols, distance):
    """Nearest row of `b` of the same class for each of the first `n_rows` rows of `a`, and
    (when `want_cols`) nearest row of `a` of the same class for each of the first `n_cols` rows
    of `b`, from one distance matrix computed in row blocks of `a`, the pairs of different
    classes (`ya`, `yb`) masked out. Returns ``(rows, row_found, cols, col_found)``: indices and
    whether a neighbour exists (a class absent from the other side has none)."""
    stop = len(a) if want_cols else n_rows
    row_idx, row_ok = [], []
    col_val = torch.full((n_cols,), float("inf"), dtype=a.dtype, device=a.device)
    col_idx = torch.zeros(n_cols, dtype=torch.long, device=a.device)
    for start in range(0, stop, _BLOCK):
        end = min(start + _BLOCK, stop)
        dist = _pairwise(a[start:end], b, distance)
        dist.masked_fill_(ya[start:end, None] != yb[None, :], float("inf"))
        if start < n_rows:
            val, idx = dist[: n_rows - start].min(dim=1)
            row_idx.append(idx)
            row_ok.append(val < float("inf"))
        if want_cols and n_cols:
            val, idx = dist[:, :n_cols].min(dim=0)
            if start == 0:
                col_val, col_idx = val, idx
            else:
                better = val < col_val
                col_val = torch.where(better, val, col_val)
                col_idx = torch.where(better, idx + start, col_idx)
    if row_idx:
        rows, rows_ok = torch.cat(row_idx), torch.cat(row_ok)
    else:
        rows, rows_ok = col_idx[:0], col_val[:0] < 0
    return rows, rows_ok, col_idx, col_val < float("inf")


def _nearest(cand, cand_y, cand_zi, batch, n_groups, symmetric, distance):
    """For each anchor (one of the first `batch` candidates) and each target group b: the index
    of the nearest candidate of group b with the anchor's class (``cand_y``; the unconditional
    loss has a single class; ``cand_zi``: group codes 0, 1, ...).

    Candidates are sorted by (group, batch rows first), so every group is a slice; for each
    pair of groups a < b one distance matrix between the two groups, pairs of different
    classes masked out, serves both directions (row minima: anchors of a, column minima:
    anchors of b) -- one pass for two groups, whatever the number of classes. No autograd.
    Returns ``(anchor, target_group, neighbour)`` index tensors of the valid terms; an anchor
    whose class has no candidate in b gives no term.
    """
    is_bank = (torch.arange(len(cand_zi), device=cand_zi.device) >= batch).long()
    order = torch.argsort(cand_zi * 2 + is_bank, stable=True)
    counts = torch.bincount(cand_zi, minlength=n_groups).tolist()
    in_batch = torch.bincount(cand_zi[:batch], minlength=n_groups).tolist()
    starts = [0]
    for n in counts[:-1]:
        starts.append(starts[-1] + n)
    pool, pool_y = cand.detach()[order], cand_y[order]
    anchors, targets, neighbours, valid = [], [], [], []

    def add(a, b, b_group, found, ok):
        anchors.append(order[starts[a] : starts[a] + in_batch[a]])
        targets.append(torch.full_like(found, b_group))
        neighbours.append(order[starts[b] + found])
        valid.append(ok)

    with torch.no_grad():
        for a in range(n_groups):
            for b in range(a + 1, n_groups):
                n_a, n_b = in_batch[a], in_batch[b]
                if not counts[a] or not counts[b] or not (n_a or (symmetric and n_b)):
                    continue
                ga = slice(starts[a], starts[a] + counts[a])
                gb = slice(starts[b], starts[b] + counts[b])
                rows, rows_ok, cols, cols_ok = _block_argmin(
                    pool[ga], pool[gb], pool_y[ga], pool_y[gb], n_a, n_b, symmetric, distance
                )
                if n_a:
                    add(a, b, b, rows, rows_ok)
                if symmetric and n_b:
                    add(b, a, a, cols, cols_ok)
    if not anchors:
        empty = torch.zeros(0, dtype=torch.long, device=cand.device)
        return empty, empty, empty
    ok = torch.cat(valid)
    return torch.cat(anchors)[ok], torch.cat(targets)[ok], torch.cat(neighbours)[ok]


def _sorted_matching(
    rep: torch.Tensor, yi: torch.Tensor, zi: torch.Tensor, n_groups: int, projections: int
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
    losses, terms = [], 0
    for c in torch.unique(yi).tolist():
        in_class = yi == c
        cells = [proj[in_class & (zi == g)] for g in range(n_groups)]
        for a in range(n_groups):
            for b in range(a + 1, n_groups):
                pa, pb = cells[a], cells[b]
                if not len(pa) or not len(pb):
                    continue
                m = max(len(pa), len(pb))
                grid = torch.arange(m, device=rep.device, dtype=rep.dtype) + 0.5
                qa = pa.sort(dim=0).values[(grid * len(pa) / m).long()]
                qb = pb.sort(dim=0).values[(grid * len(pb) / m).long()]
                losses.append((qa - qb).abs().mean())
                terms += m
    if not losses:
        return rep.sum() * 0.0, 0, 0
    return torch.stack(losses).mean(), terms, len(losses)


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
        groups, zi = torch.unique(z, return_inverse=True)
        yi = torch.unique(y, return_inverse=True)[1]
        loss, n_terms, n_pairs = _sorted_matching(rep, yi, zi, len(groups), projections)
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
        if not class_conditional:
            b_y = torch.zeros_like(b_y)
        cand = torch.cat([rep, b_rep.to(rep.dtype)])
        cand_y, cand_z = torch.cat([y, b_y]), torch.cat([z, b_z])
    # codes 0, 1, ... of the groups (values may be any integers); classes are only compared
    groups, cand_zi = torch.unique(cand_z, return_inverse=True)
    n_groups, batch = len(groups), len(z)
    zi = cand_zi[:batch]  # the batch comes first among the candidates
    # ordered pairs (a, b) of groups whose anchors count
    n_anchors = torch.bincount(zi, minlength=n_groups)
    a_code = torch.arange(n_groups, device=z.device)
    allowed = (a_code[:, None] != a_code[None, :]) & (n_anchors[:, None] > 0)
    if not symmetric:
        allowed &= a_code[:, None] < a_code[None, :]
    allowed = allowed.flatten()
    zero = rep.sum() * 0.0
    if not bool(allowed.any()):
        stats = {"terms": 0.0, "skipped": 0.0, "pairs": 0.0, "mean_distance": float("nan")}
        return (zero, stats) if return_stats else zero

    anchor, target, neighbour = _nearest(
        cand, cand_y, cand_zi, batch, n_groups, symmetric, distance
    )
    dists = _rowwise(rep.index_select(0, anchor), cand.index_select(0, neighbour), distance)
    # one scalar per ordered group pair: sum of its terms / its normaliser, then their mean
    pair = zi[anchor] * n_groups + target
    sums = torch.zeros(n_groups * n_groups, dtype=rep.dtype, device=rep.device)
    sums = sums.index_add(0, pair, dists)
    counts = torch.bincount(pair, minlength=n_groups * n_groups)
    used = counts > 0
    if paper_normalisation:
        n_classes = len(torch.unique(y))
        norm = (n_classes * n_anchors).repeat_interleave(n_groups).to(rep.dtype)
    else:
        norm = counts.to(rep.dtype)
    n_pairs = int(used.sum())
    loss = (sums[used] / norm[used]).mean() if n_pairs else zero
    if scale_invariant and n_pairs:
        loss = loss / _spread(rep, y, distance).clamp_min(1e-8)
    if not return_stats:
        return loss
    total = int((n_anchors.repeat_interleave(n_groups) * allowed).sum())
    n_terms = len(anchor)
    stats = {
        "terms": float(n_terms),
        "skipped": float(total - n_terms),
        "pairs": float(n_pairs),
        "mean_distance": dists.detach().mean().item() if n_terms else float("nan"),
    }
    return loss, stats
