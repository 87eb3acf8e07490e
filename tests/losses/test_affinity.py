"""The affinity loss against a slow explicit-loop reference, its gradient and special cases."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from fairdg.losses import MemoryBank, affinity_loss, neighbours


def _dist(u: torch.Tensor, v: torch.Tensor, distance: str) -> float:
    if distance == "l1":
        return float(sum(abs(a - b) for a, b in zip(u.tolist(), v.tolist(), strict=True)))
    if distance == "l2":
        return math.sqrt(sum((a - b) ** 2 for a, b in zip(u.tolist(), v.tolist(), strict=True)))
    dot = sum(a * b for a, b in zip(u.tolist(), v.tolist(), strict=True))
    nu, nv = math.sqrt(sum(a * a for a in u.tolist())), math.sqrt(sum(b * b for b in v.tolist()))
    return 1.0 - dot / (max(nu, 1e-12) * max(nv, 1e-12))


def reference(
    rep,
    y,
    z,
    distance="l1",
    class_conditional=True,
    symmetric=True,
    paper_normalisation=False,
    extra=None,
):
    """Equation (3) with explicit loops; `extra` = (rep, y, z) of additional candidates."""
    cands = [(rep[j], int(y[j]), int(z[j])) for j in range(len(y))]
    if extra is not None:
        cands += [(extra[0][j], int(extra[1][j]), int(extra[2][j])) for j in range(len(extra[1]))]
    classes = {int(c) for c in y} if class_conditional else {0}
    anchor_groups = sorted({int(g) for g in z})
    groups = sorted({g for _, _, g in cands})
    pair_losses, terms, skipped = [], 0, 0
    for a, b in itertools.product(anchor_groups, groups):
        if a == b or (not symmetric and a > b):
            continue
        total, count, n_anchors = 0.0, 0, 0
        for i in range(len(y)):
            if int(z[i]) != a:
                continue
            n_anchors += 1
            best = math.inf
            for v, cy, cz in cands:
                if cz == b and (not class_conditional or cy == int(y[i])):
                    best = min(best, _dist(rep[i], v, distance))
            if math.isinf(best):
                skipped += 1
            else:
                total, count = total + best, count + 1
        terms += count
        if count:
            norm = len(classes) * n_anchors if paper_normalisation else count
            pair_losses.append(total / norm)
    loss = sum(pair_losses) / len(pair_losses) if pair_losses else 0.0
    return loss, terms, skipped


def _random_case(seed: int, n_groups: int, n: int = 23, k: int = 4, n_classes: int = 3):
    g = torch.Generator().manual_seed(seed)
    rep = torch.randn(n, k, generator=g, dtype=torch.float64)
    y = torch.randint(n_classes, (n,), generator=g)
    z = torch.randint(n_groups, (n,), generator=g)
    # a missing cell: class 0 never appears in the last group
    y[(z == n_groups - 1) & (y == 0)] = 1
    return rep, y, z


OPTIONS = [
    dict(distance=d, class_conditional=c, symmetric=s, paper_normalisation=p)
    for d, c, s, p in itertools.product(
        ("l1", "l2", "cosine"), (True, False), (True, False), (False, True)
    )
]


@pytest.mark.parametrize("n_groups", [2, 3, 4])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(map(str, o.values())))
def test_matches_reference(n_groups, options):
    rep, y, z = _random_case(seed=n_groups, n_groups=n_groups)
    loss, stats = affinity_loss(rep, y, z, return_stats=True, **options)
    expected, terms, skipped = reference(rep, y, z, **options)
    assert loss.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert stats["terms"] == terms
    assert stats["skipped"] == skipped
    if options["class_conditional"]:
        assert skipped > 0  # the missing cell is skipped, not an error


@pytest.mark.parametrize("distance", ["l1", "l2", "cosine"])
@pytest.mark.parametrize("class_conditional", [True, False])
def test_scale_invariant_divides_by_the_class_spread(distance, class_conditional):
    rep, y, z = _random_case(seed=5, n_groups=3)
    plain, _, _ = reference(rep, y, z, distance=distance, class_conditional=class_conditional)
    keys = y.tolist() if class_conditional else [0] * len(y)
    spread = 0.0
    for i, key in enumerate(keys):
        members = [j for j, other in enumerate(keys) if other == key]
        spread += _dist(rep[i], rep[members].mean(0), distance) / len(keys)
    loss = affinity_loss(
        rep, y, z, distance=distance, class_conditional=class_conditional, scale_invariant=True
    )
    assert loss.item() == pytest.approx(plain / spread, rel=1e-9)
    scaled = affinity_loss(
        7.0 * rep,
        y,
        z,
        distance=distance,
        class_conditional=class_conditional,
        scale_invariant=True,
    )
    assert scaled.item() == pytest.approx(loss.item(), rel=1e-9)


@pytest.mark.parametrize("distance", ["l1", "l2", "cosine"])
def test_memory_bank_matches_reference(distance):
    rep, y, z = _random_case(seed=7, n_groups=2, n=15)
    past, py, pz = _random_case(seed=8, n_groups=2, n=30)
    py[:6], pz[:6] = torch.tensor([0, 1, 2] * 2), torch.tensor([0] * 3 + [1] * 3)  # every cell
    bank = MemoryBank(capacity=4)
    bank.push(past, py, pz)
    assert len(bank) <= 4 * 6
    stored = bank.tensors()
    loss, stats = affinity_loss(rep, y, z, distance=distance, bank=bank, return_stats=True)
    expected, terms, skipped = reference(rep, y, z, distance=distance, extra=stored)
    assert loss.item() == pytest.approx(expected, rel=1e-9)
    assert stats["terms"] == terms and stats["skipped"] == skipped
    # the bank gives neighbours to the anchors of the cell missing in the batch
    _, no_bank = affinity_loss(rep, y, z, distance=distance, return_stats=True)
    assert stats["skipped"] < no_bank["skipped"]


def test_memory_bank_keeps_the_newest_rows_and_round_trips():
    bank = MemoryBank(capacity=2)
    for step in range(3):
        bank.push(
            torch.full((3, 2), float(step)),
            torch.zeros(3, dtype=torch.long),
            torch.tensor([0, 0, 1]),
        )
    rep, y, z = bank.tensors()
    assert rep[:, 0].tolist() == [2.0, 2.0, 1.0, 2.0]
    assert y.tolist() == [0, 0, 0, 0] and z.tolist() == [0, 0, 1, 1]
    other = MemoryBank(capacity=9)
    other.load_state_dict(bank.state_dict())
    assert other.capacity == 2 and torch.equal(other.tensors()[0], rep)
    with pytest.raises(ValueError, match="capacity"):
        MemoryBank(capacity=0)


@pytest.mark.parametrize("distance", ["l1", "l2", "cosine"])
def test_gradcheck(distance):
    rep, y, z = _random_case(seed=3, n_groups=3, n=9, k=3, n_classes=2)
    rep.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda r: affinity_loss(r, y, z, distance=distance), (rep,), eps=1e-6, atol=1e-5
    )


def test_zero_when_groups_coincide():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(10, 5, generator=g)
    y = torch.randint(3, (10,), generator=g)
    rep = torch.cat([base, base, base])  # three groups with identical representations
    z = torch.arange(3).repeat_interleave(10)
    for distance in ("l1", "l2", "cosine"):
        loss = affinity_loss(rep, y.repeat(3), z, distance=distance)
        assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_single_group_is_zero_with_a_gradient_path():
    rep = torch.randn(6, 3, requires_grad=True)
    loss, stats = affinity_loss(
        rep, torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.long), return_stats=True
    )
    assert loss.item() == 0.0 and stats["pairs"] == 0
    loss.backward()
    assert torch.equal(rep.grad, torch.zeros_like(rep))


def test_no_valid_neighbour_is_zero_and_counted():
    rep = torch.randn(4, 3, requires_grad=True)
    y = torch.tensor([0, 0, 1, 1])
    z = torch.tensor([0, 0, 1, 1])  # each class lives in one group only
    loss, stats = affinity_loss(rep, y, z, return_stats=True)
    assert loss.item() == 0.0 and stats["skipped"] == 4 and stats["terms"] == 0
    loss.backward()


def test_gradient_flows_through_anchor_and_neighbour():
    rep = torch.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)
    loss = affinity_loss(rep, torch.tensor([0, 0]), torch.tensor([0, 1]))
    loss.backward()
    assert loss.item() == pytest.approx(3.0)
    assert rep.grad[0].tolist() == [-1.0, -1.0] and rep.grad[1].tolist() == [1.0, 1.0]


def test_row_blocks_give_the_same_loss(monkeypatch):
    """Anchors split over many blocks of the distance matrix give the one-block loss."""
    g = torch.Generator().manual_seed(1)
    rep = torch.randn(300, 4, generator=g)
    y, z = torch.randint(2, (300,), generator=g), torch.randint(2, (300,), generator=g)
    parts = torch.cdist(rep, rep, p=1)
    same = (y[:, None] == y[None, :]) & (z[:, None] != z[None, :])
    nn = parts.masked_fill(~same, float("inf")).min(1).values
    expected = 0.5 * (nn[z == 0].mean() + nn[z == 1].mean())
    monkeypatch.setattr(neighbours, "BLOCK", 7)
    assert affinity_loss(rep, y, z).item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(distance="l3"), "distance must be one of"),
        (dict(rep=torch.zeros(4)), "rep must be"),
        (dict(y=torch.zeros(3, dtype=torch.long)), "y must be"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(
        rep=torch.zeros(4, 2), y=torch.zeros(4, dtype=torch.long), z=torch.tensor([0, 1, 0, 1])
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        affinity_loss(**args)


def test_measures_support_overlap_not_density():
    """Documented limitation: two groups on the same support with different densities score
    about as well as identical distributions, while a shift is penalised (docs/affinity.md)."""
    g = torch.Generator().manual_seed(0)
    n = 256
    anchor = torch.rand(n, 1, generator=g)
    same = torch.rand(n, 1, generator=g)
    skewed = torch.rand(n, 1, generator=g) ** 3  # [0, 1], density piled up near 0
    y, z = torch.zeros(2 * n, dtype=torch.long), torch.arange(2).repeat_interleave(n)

    def loss(other):
        return affinity_loss(torch.cat([anchor, other]), y, z).item()

    assert loss(skewed) < 2 * loss(same)  # mean gap 0.21, barely noticed
    assert loss(anchor + 0.5) > 20 * loss(same)  # a shift of 0.5 is


# -- matching="sorted" (ours): sliced one-to-one matching -------------------------------------


def sorted_reference(rep, y, z, directions, class_conditional=True):
    """Sliced quantile matching with explicit loops, for given unit `directions` (k, P)."""
    ys = [int(v) for v in y] if class_conditional else [0] * len(y)
    zs = [int(v) for v in z]
    groups = sorted(set(zs))
    pair_losses = []
    for c in sorted(set(ys)):
        for ia, a in enumerate(groups):
            for b in groups[ia + 1 :]:
                rows_a = [i for i in range(len(ys)) if ys[i] == c and zs[i] == a]
                rows_b = [i for i in range(len(ys)) if ys[i] == c and zs[i] == b]
                if not rows_a or not rows_b:
                    continue
                m = max(len(rows_a), len(rows_b))
                total = 0.0
                for p in range(directions.shape[1]):
                    w = directions[:, p].tolist()
                    proj = [
                        sum(u * v for u, v in zip(rep[i].tolist(), w, strict=True))
                        for i in range(len(ys))
                    ]
                    sa = sorted(proj[i] for i in rows_a)
                    sb = sorted(proj[i] for i in rows_b)
                    for q in range(m):
                        qa = sa[math.floor((q + 0.5) * len(sa) / m)]
                        qb = sb[math.floor((q + 0.5) * len(sb) / m)]
                        total += abs(qa - qb)
                pair_losses.append(total / (m * directions.shape[1]))
    return sum(pair_losses) / len(pair_losses) if pair_losses else 0.0


@pytest.mark.parametrize("n_groups", [2, 3, 4])
@pytest.mark.parametrize("class_conditional", [True, False])
def test_sorted_matches_reference(n_groups, class_conditional):
    rep, y, z = _random_case(seed=10 + n_groups, n_groups=n_groups)
    torch.manual_seed(0)
    loss, stats = affinity_loss(
        rep,
        y,
        z,
        matching="sorted",
        projections=5,
        class_conditional=class_conditional,
        return_stats=True,
    )
    torch.manual_seed(0)  # the same directions, drawn the same way
    directions = torch.nn.functional.normalize(torch.randn(4, 5, dtype=torch.float64), dim=0)
    expected = sorted_reference(rep, y, z, directions, class_conditional)
    assert loss.item() == pytest.approx(expected, rel=1e-9)
    assert stats["pairs"] > 0 and stats["skipped"] == 0


def test_sorted_sees_density_not_only_support():
    """Same support, different densities: the nearest-neighbour loss barely notices, the
    sorted matching does (its value is the sliced 1-Wasserstein distance)."""
    g = torch.Generator().manual_seed(0)
    n = 256
    anchor = torch.rand(n, 1, generator=g)
    same = torch.rand(n, 1, generator=g)
    skewed = torch.rand(n, 1, generator=g) ** 3
    y, z = torch.zeros(2 * n, dtype=torch.long), torch.arange(2).repeat_interleave(n)

    def loss(other):
        return affinity_loss(torch.cat([anchor, other]), y, z, matching="sorted").item()

    assert loss(skewed) > 5 * loss(same)
    assert loss(anchor[torch.randperm(n, generator=g)]) == pytest.approx(0.0, abs=1e-7)


def test_sorted_gradcheck_and_unequal_cells():
    rep, y, z = _random_case(seed=3, n_groups=2, n=11, k=3)
    rep.requires_grad_(True)

    def f(r):
        torch.manual_seed(1)
        return affinity_loss(r, y, z, matching="sorted", projections=3)

    assert torch.autograd.gradcheck(f, (rep,))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(matching="greedy"), "matching must be one of"),
        (dict(matching="sorted", projections=0), "projections must be"),
        (dict(matching="sorted", bank=MemoryBank(4)), "memory bank"),
    ],
)
def test_sorted_bad_input(kwargs, match):
    rep, y, z = torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match=match):
        affinity_loss(rep, y, z, **kwargs)
