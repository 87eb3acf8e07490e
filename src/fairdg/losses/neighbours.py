"""Nearest same-class neighbours across groups, without autograd: the search of the affinity loss.

The candidates (the batch, then the memory bank's rows) are sorted once by (group, class),
batch rows before bank rows and each in row order within a cell, so that every (group, class)
cell and every group is a slice. For each pair of groups ``a < b`` one of two kernels finds,
for each anchor of ``a`` (a row of the batch), the nearest candidate of ``b`` with the anchor's
class, and (``symmetric``) the converse from the same distances:

- ``cells``: one distance matrix per class, between the two cells (only same-class pairs are
  computed);
- ``masked``: one distance matrix between the two groups, the pairs of different classes set
  to infinity slice by slice (the cells are contiguous).

`_COST` models the time of each (constants measured on one CPU thread with
``benchmarks/affinity.py --kernels``): the cells kernel wins when there are few classes or
when a distance is dear (L1, a sequential sum per pair), the masked one when there are many
small cells. Matrices are computed in blocks of `BLOCK` rows: memory is ``O(BLOCK * N)``.

Ties: an anchor's neighbour is the first candidate, in that sorted order, at the smallest
computed distance. The L1 distance of a pair is computed alike whatever the other rows (a
sequential sum over the features), so equidistant candidates tie exactly and the batch row of
lowest index wins (then the bank, in its order), as before this search was written. The L2
and cosine distances come from a matrix product whose last bit can depend on the block
layout: candidates at equal distance in exact arithmetic may be told apart by rounding.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

BLOCK = 1024  # rows per block of a distance matrix
_SHIFT, _HALF = 2**32, 2**31  # the sort key z * 2**32 + y
# Seconds of one kernel call, and per (row, column, feature) of a distance matrix, 1 thread
# (benchmarks/affinity.py --kernels): L1 is a scalar loop per pair, L2 and cosine a product.
_COST = {
    "call": 20e-6,  # a distance matrix, its minima and the slicing around them
    "mask": 12e-6,  # per class of a masked block (two slice fills)
    "l1": 0.30e-9,
    "l2": 0.04e-9,
    "cosine": 0.04e-9,
}


class Terms(NamedTuple):
    """The anchor-neighbour terms of the loss and what normalises them.

    ``anchor``, ``neighbour``, ``slot``: one entry per term (batch row, candidate row, ordered
    group pair ``a * n_groups + b``), in the order of the slots' first appearance and then of
    the anchor's row. ``terms``: terms per slot; ``anchors``: anchors of the slot's first group
    (all of them, with a neighbour or not), per slot; ``n_groups``; ``batch_classes``:
    classes present in the batch.
    """

    anchor: torch.Tensor
    neighbour: torch.Tensor
    slot: torch.Tensor
    terms: dict[int, int]
    anchors: dict[int, int]
    n_groups: int
    batch_classes: int


class Layout(NamedTuple):
    """Cells of candidates: see `cell_layout`."""

    order: torch.Tensor  # candidate rows sorted by (group, class), batch first in a cell
    size: list[list[int]]  # [group][class] candidates
    in_batch: list[list[int]]  # [group][class] rows of the batch (the first of the cell)
    start: list[list[int]]  # [group][class] position of the cell in `order`


def cell_layout(cand_y: torch.Tensor | None, cand_z: torch.Tensor, batch: int) -> Layout:
    """Candidates sorted by (group, class) (`cand_y` None: one class), the first `batch`
    before the others and each in row order within a cell; with the cells' sizes.

    One stable sort of the key ``z * 2**32 + y`` (labels must lie in ``[-2**31, 2**31)``,
    checked) and one synchronisation for all the sizes."""
    if not len(cand_z):
        return Layout(cand_z.new_zeros(0, dtype=torch.long), [], [], [])
    cand_z = cand_z.long()
    if cand_y is None:
        key = cand_z
        bounds = torch.aminmax(cand_z)
    else:
        cand_y = cand_y.long()
        key = torch.add(cand_y, cand_z, alpha=_SHIFT)
        bounds = torch.aminmax(torch.stack([cand_y, cand_z]).view(-1))
    sorted_key, order = torch.sort(key, stable=True)
    parts = [*bounds, *torch.unique_consecutive(sorted_key, return_counts=True)]
    if len(key) > batch:  # a memory bank: the batch's own rows per cell too
        parts += torch.unique_consecutive(torch.sort(key[:batch]).values, return_counts=True)
    flat = torch.cat([t.view(-1) for t in parts]).tolist()
    if not -_HALF <= flat[0] <= flat[1] < _HALF:
        raise ValueError(
            f"group and class labels must lie in [-2**31, 2**31), got values in "
            f"[{flat[0]}, {flat[1]}]; map them to 0, 1, ... first"
        )
    n_cells = len(parts[2])
    cells = _decode(flat[2 : 2 + 2 * n_cells], cand_y is None)
    in_batch = _decode(flat[2 + 2 * n_cells :], cand_y is None) if len(key) > batch else cells
    groups = sorted({g for g, _ in cells})
    classes = sorted({c for _, c in cells})
    size = [[cells.get((g, c), 0) for c in classes] for g in groups]
    starts = list(itertools.accumulate(sum(size, []), initial=0))
    start = [starts[i * len(classes) : (i + 1) * len(classes)] for i in range(len(groups))]
    rows = [[in_batch.get((g, c), 0) for c in classes] for g in groups]
    return Layout(order, size, rows, start)


def _decode(flat: list[int], one_class: bool) -> dict[tuple[int, int], int]:
    """{(group, class): count} from the distinct sorted keys followed by their counts."""
    n = len(flat) // 2
    if one_class:
        return {(v, 0): count for v, count in zip(flat[:n], flat[n:], strict=True)}
    out = {}
    for v, count in zip(flat[:n], flat[n:], strict=True):
        g = (v + _HALF) // _SHIFT
        out[(g, v - g * _SHIFT)] = count
    return out


def _points(pool: torch.Tensor, distance: str) -> tuple[torch.Tensor, torch.Tensor]:
    """What the kernels read, prepared once: the rows (L1), unit rows (cosine), or the
    augmented rows that `torch.cdist` builds for its matrix product (L2)."""
    if distance == "l1":
        return pool, pool
    if distance == "cosine":
        unit = F.normalize(pool, dim=1)
        return unit, unit
    sq = pool.pow(2).sum(1, keepdim=True)
    one = torch.ones_like(sq)
    return torch.cat([pool.mul(-2), sq, one], 1), torch.cat([pool, one, sq], 1)


def _distances(left: torch.Tensor, right: torch.Tensor, distance: str) -> torch.Tensor:
    if distance == "l1":
        return torch.cdist(left, right, p=1.0)
    product = torch.mm(left, right.t())
    if distance == "cosine":
        return torch.rsub(product, 1.0)
    return product.clamp_min_(0).sqrt_()


def _rows(points: tuple[torch.Tensor, torch.Tensor], start: int, n: int):
    """Rows [start, start + n) of both forms of the points (one slice when they coincide)."""
    first = points[0][start : start + n]
    return (first, first) if points[1] is points[0] else (first, points[1][start : start + n])


Mask = Callable[[torch.Tensor, int, int], None]


def _block_argmin(left, right, distance, row_stop, col_stop, mask: Mask | None = None):
    """Nearest row of `right` for each of the first `row_stop` rows of `left`, and nearest row
    of `left` for each of the first `col_stop` rows of `right`, from one distance matrix
    computed in blocks of rows of `left` (`mask` sets a block's excluded pairs to inf).
    Returns ``(row indices or None, column indices or None)``; ties go to the lower index."""
    stop = len(left[0]) if col_stop else row_stop
    rows, col_val, col_idx = [], None, None
    for start in range(0, stop, BLOCK):
        end = min(start + BLOCK, stop)
        part = left[0] if end - start == len(left[0]) else left[0][start:end]
        dist = _distances(part, right[1], distance)
        if mask is not None:
            mask(dist, start, end)
        if start < row_stop:
            mine = dist if row_stop >= end else dist[: row_stop - start]
            rows.append(mine.min(1).indices)  # faster than argmin; ties: the first
        if col_stop:
            val, idx = (dist if col_stop == len(right[1]) else dist[:, :col_stop]).min(0)
            if col_val is None or col_idx is None:  # the first block (both are set together)
                col_val, col_idx = val, idx
            else:  # strictly better only: the earlier block keeps a tie
                better = val < col_val
                col_val = torch.where(better, val, col_val)
                col_idx = torch.where(better, idx + start, col_idx)
    row_idx = (rows[0] if len(rows) == 1 else torch.cat(rows)) if rows else None
    return row_idx, col_idx


def _class_mask(row_cells, col_cells) -> Mask:
    """Set the pairs of different classes of a block to inf; `row_cells` and `col_cells`: the
    (start, stop) of each class within the rows and the columns."""

    def mask(dist: torch.Tensor, start: int, end: int) -> None:
        for (r0, r1), (c0, c1) in zip(row_cells, col_cells, strict=True):
            lo, hi = max(r0, start) - start, min(r1, end) - start
            if lo < hi:
                dist[lo:hi, :c0] = float("inf")
                dist[lo:hi, c1:] = float("inf")

    return mask


def _cell_ranges(layout: Layout, g: int) -> list[tuple[int, int]]:
    base = layout.start[g][0]
    return [(s - base, s - base + n) for s, n in zip(layout.start[g], layout.size[g], strict=True)]


def _segments_masked(layout, points, a, b, want_ab, want_ba, distance):
    """Both directions of groups (a, b) from one masked matrix between the groups."""
    ga, gb = layout.start[a][0], layout.start[b][0]
    na, nb = sum(layout.size[a]), sum(layout.size[b])
    left, right = _rows(points, ga, na), _rows(points, gb, nb)
    mask = _class_mask(_cell_ranges(layout, a), _cell_ranges(layout, b))
    rows, cols = _block_argmin(left, right, distance, na if want_ab else 0, nb * want_ba, mask)
    out = []
    for src, dst, found, base in ((a, b, rows, ga), (b, a, cols, gb)):
        if found is None:
            continue
        offset = layout.start[dst][0]
        for c, n in enumerate(layout.in_batch[src]):
            if n and layout.size[dst][c]:
                at = layout.start[src][c] - base
                out.append((src, dst, layout.start[src][c], n, found[at : at + n], offset))
    return out


def _segments_cells(layout, points, a, b, want_ab, want_ba, distance):
    """Both directions of groups (a, b), one matrix per class between the two cells."""
    out = []
    for c in range(len(layout.size[a])):
        ia, ib = layout.in_batch[a][c], layout.in_batch[b][c]
        sa, sb = layout.size[a][c], layout.size[b][c]
        rows, cols = bool(want_ab and ia and sb), bool(want_ba and ib and sa)
        if not (rows or cols):
            continue
        pa, pb = layout.start[a][c], layout.start[b][c]
        cell_a, cell_b = _rows(points, pa, sa), _rows(points, pb, sb)
        if rows:
            found_ab, found_ba = _block_argmin(cell_a, cell_b, distance, ia, ib * cols)
        else:  # only b's anchors: b's rows against a's cell, no column merge
            found_ba, _ = _block_argmin(cell_b, cell_a, distance, ib, 0)
        if rows:
            out.append((a, b, pa, ia, found_ab, pb))
        if cols:
            out.append((b, a, pb, ib, found_ba, pa))
    return out


def _cheaper_kernel(layout, a, b, want_ab, want_ba, distance, k) -> str:
    """Which kernel, ``cells`` or ``masked``, `_COST` predicts is faster for groups (a, b)."""
    per_pair = _COST[distance] * k
    cells, n_classes = 0.0, len(layout.size[a])
    for c in range(n_classes):
        ia, ib = layout.in_batch[a][c] * want_ab, layout.in_batch[b][c] * want_ba
        sa, sb = layout.size[a][c], layout.size[b][c]
        if (ia and sb) or (ib and sa):
            rows = sa if ib and sa else ia
            cells += _COST["call"] + rows * sb * per_pair
    masked = _COST["call"] + _COST["mask"] * n_classes
    masked += sum(layout.size[a]) * sum(layout.size[b]) * per_pair
    return "cells" if cells <= masked else "masked"


def nearest_terms(
    cand: torch.Tensor,
    cand_y: torch.Tensor | None,
    cand_z: torch.Tensor,
    batch: int,
    symmetric: bool,
    distance: str,
    kernel: str = "auto",
) -> Terms:
    """For each anchor (one of the first `batch` candidates) of group a and each other group b
    (only b > a unless `symmetric`), its nearest candidate of b with its class (`cand_y`; None:
    any class). Anchors whose class has no candidate in b give no term. `kernel`: "auto" (by
    `_COST`), "cells" or "masked". No autograd."""
    layout = cell_layout(cand_y, cand_z, batch)
    n_groups = len(layout.size)
    anchors_of = [sum(row) for row in layout.in_batch]
    segments, pairs = [], []
    with torch.inference_mode():  # cheaper than no_grad: no autograd bookkeeping at all
        points = _points(cand.detach().index_select(0, layout.order), distance)
        for a, b in itertools.combinations(range(n_groups), 2):
            want_ab, want_ba = anchors_of[a] > 0, symmetric and anchors_of[b] > 0
            pairs += [(a, b)] * want_ab + [(b, a)] * want_ba
            if not (want_ab or want_ba):
                continue
            choice = kernel
            if choice == "auto":
                choice = _cheaper_kernel(layout, a, b, want_ab, want_ba, distance, cand.shape[1])
            find = _segments_cells if choice == "cells" else _segments_masked
            segments += find(layout, points, a, b, want_ab, want_ba, distance)
        found = _assemble(layout, segments, pairs, anchors_of, batch, cand.device)
    # out of inference mode: the loss's autograd saves these indices for its backward
    return found._replace(
        anchor=found.anchor.clone(), neighbour=found.neighbour.clone(), slot=found.slot.clone()
    )


def _assemble(layout, segments, pairs, anchors_of, batch, device) -> Terms:
    """The terms of every segment, in the order of `pairs` and then of the anchor's row."""
    n_groups = len(layout.size)
    by_pair: dict[tuple[int, int], list] = {}
    for segment in segments:
        by_pair.setdefault(segment[:2], []).append(segment)
    terms = {a * n_groups + b: sum(s[3] for s in segs) for (a, b), segs in by_pair.items()}
    anchors = {a * n_groups + b: anchors_of[a] for a, b in pairs}
    n_classes = len(layout.size[0]) if layout.size else 0
    batch_classes = sum(any(row[c] for row in layout.in_batch) for c in range(n_classes))
    parts = [_in_row_order(layout.order, by_pair[p], batch) for p in pairs if p in by_pair]
    if not parts:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return Terms(empty, empty, empty, terms, anchors, n_groups, batch_classes)
    slots = [a * n_groups + b for a, b in pairs if (a, b) in by_pair]
    slot_ids = [torch.full_like(rows, s) for (rows, _), s in zip(parts, slots, strict=True)]
    anchor, position = (torch.cat(t) if len(t) > 1 else t[0] for t in zip(*parts, strict=True))
    slot = torch.cat(slot_ids) if len(slot_ids) > 1 else slot_ids[0]
    return Terms(
        anchor, layout.order.index_select(0, position), slot, terms, anchors, n_groups,
        batch_classes,
    )  # fmt: skip


def _in_row_order(order, segments, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The anchors of one pair of groups (batch rows, in row order) and their neighbours'
    positions in `order`, from its segments (one per class)."""
    if len(segments) == 1:
        _, _, start, n, found, offset = segments[0]
        return order[start : start + n], found + offset
    slots = torch.full((batch,), -1, dtype=torch.long, device=order.device)
    for _, _, start, n, found, offset in segments:
        slots[order[start : start + n]] = found + offset
    rows = torch.nonzero(slots >= 0).flatten()
    return rows, slots[rows]
