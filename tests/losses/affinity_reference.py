"""The affinity loss's nearest-neighbour path as it was before it was made cheap (fairdg
main of 2026-12, commit 3a5c62d): a slow reference that `test_affinity_fast.py` holds the
present implementation to, value, gradient and neighbour choice."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairdg.losses import MemoryBank
from fairdg.losses.affinity import _spread

_BLOCK = 1024


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


def reference_affinity_loss(
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
    return_stats: bool = False,
):
    """`affinity_loss` with ``matching="nearest"`` as it was before the step was made cheap."""
    y = y.long() if class_conditional else torch.zeros_like(z, dtype=torch.long)
    z = z.long()
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


def reference_sorted_loss(rep, y, z, *, class_conditional=True, projections=32):
    """`affinity_loss(matching="sorted")` as it was (boolean masks per cell, every quantile
    gathered), without the statistics."""
    y = y.long() if class_conditional else torch.zeros_like(z, dtype=torch.long)
    groups, zi = torch.unique(z.long(), return_inverse=True)
    yi = torch.unique(y, return_inverse=True)[1]
    return _sorted_matching(rep, yi, zi, len(groups), projections)[0]


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
