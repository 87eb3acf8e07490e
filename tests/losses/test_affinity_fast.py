"""The affinity loss's neighbour search (`fairdg.losses.neighbours`) against the implementation
it replaced, kept as `affinity_reference`: the same value, gradient and statistics, bit for bit,
for every form and option, with either kernel, in blocks, with a memory bank, with ties."""

from __future__ import annotations

import itertools

import pytest
import torch
from affinity_reference import reference_affinity_loss, reference_sorted_loss

from fairdg.losses import MemoryBank, affinity_loss, neighbours

FORMS = [
    dict(distance=d, class_conditional=c, symmetric=s, paper_normalisation=p)
    for d, c, s, p in itertools.product(
        ("l1", "l2", "cosine"), (True, False), (True, False), (False, True)
    )
]


def _case(seed, n_groups, n=60, k=6, n_classes=3, integer=False, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    if integer:  # small integers: every distance exact, so many exact ties
        rep = torch.randint(0, 3, (n, k), generator=g).to(dtype)
    else:
        rep = torch.relu(torch.randn(n, k, generator=g, dtype=dtype))  # ReLU zeros, as in use
    y = torch.randint(n_classes, (n,), generator=g)
    z = torch.randint(n_groups, (n,), generator=g) * 3 - 1  # group values need not be 0, 1, ...
    y[(z == z.max()) & (y == 0)] = 1  # class 0 is missing from the last group
    return rep, y, z


def _both(rep, y, z, kernel="auto", bank_rows=None, **options):
    """(loss, gradient, stats) of the present implementation and of the reference."""
    out = []
    for fn in (affinity_loss, reference_affinity_loss):
        r = rep.clone().requires_grad_(True)
        bank = None
        if bank_rows is not None:
            bank = MemoryBank(capacity=5)
            bank.push(*bank_rows)
        if fn is affinity_loss and kernel != "auto":
            original = neighbours._cheaper_kernel
            neighbours._cheaper_kernel = lambda *args: kernel
            try:
                loss, stats = fn(r, y, z, bank=bank, return_stats=True, **options)
            finally:
                neighbours._cheaper_kernel = original
        else:
            loss, stats = fn(r, y, z, bank=bank, return_stats=True, **options)
        (3.0 * loss).backward()
        out.append((loss.detach(), r.grad, stats))
    return out


def _assert_identical(new, old):
    (loss, grad, stats), (ref_loss, ref_grad, ref_stats) = new, old
    assert torch.equal(loss, ref_loss), (loss.item(), ref_loss.item())
    assert torch.equal(grad, ref_grad), (grad - ref_grad).abs().max().item()
    assert stats.keys() == ref_stats.keys()
    for key, value in stats.items():
        assert value == ref_stats[key] or (value != value and ref_stats[key] != ref_stats[key])


@pytest.mark.parametrize("kernel", ["auto", "cells", "masked"])
@pytest.mark.parametrize("n_groups", [2, 3, 4])
@pytest.mark.parametrize("form", FORMS, ids=lambda o: "-".join(map(str, o.values())))
def test_bit_identical_to_the_replaced_implementation(form, n_groups, kernel):
    rep, y, z = _case(seed=n_groups, n_groups=n_groups)
    new, old = _both(rep, y, z, kernel=kernel, **form)
    _assert_identical(new, old)
    if form["class_conditional"]:
        assert new[2]["skipped"] > 0  # anchors without a neighbour: skipped alike


@pytest.mark.parametrize("kernel", ["cells", "masked"])
@pytest.mark.parametrize("distance", ["l1", "l2"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_ties_go_to_the_first_candidate_as_before(distance, symmetric, kernel):
    """Integer representations: distances are exact, ties abound; the first candidate in row
    order (batch before bank) wins, as it did, in either kernel and across row blocks."""
    rep, y, z = _case(seed=11, n_groups=3, n=80, k=3, n_classes=2, integer=True)
    bank_rows = _case(seed=12, n_groups=3, n=40, k=3, n_classes=2, integer=True)
    new, old = _both(rep, y, z, kernel, bank_rows, distance=distance, symmetric=symmetric)
    _assert_identical(new, old)


def test_a_tie_between_two_copies_goes_to_the_lower_row():
    rep = torch.tensor([[0.5, 0.2], [1.0, 1.0], [1.0, 1.0], [-3.0, 5.0]], requires_grad=True)
    y, z = torch.zeros(4, dtype=torch.long), torch.tensor([0, 1, 1, 1])
    for distance in ("l1", "l2", "cosine"):
        rep.grad = None
        affinity_loss(rep, y, z, distance=distance, symmetric=False).backward()
        assert rep.grad[1].abs().sum() > 0 and rep.grad[2].abs().sum() == 0


@pytest.mark.parametrize("kernel", ["cells", "masked"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_row_blocks_and_a_bank_change_nothing(monkeypatch, kernel, symmetric):
    rep, y, z = _case(seed=5, n_groups=3, n=90, k=4)
    bank_rows = _case(seed=6, n_groups=3, n=50, k=4)
    monkeypatch.setattr(neighbours, "BLOCK", 7)
    for distance in ("l1", "l2", "cosine"):
        new, old = _both(rep, y, z, kernel, bank_rows, distance=distance, symmetric=symmetric)
        _assert_identical(new, old)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scale_invariant_and_double_precision(dtype):
    rep, y, z = _case(seed=8, n_groups=2, dtype=dtype)
    for distance in ("l1", "l2", "cosine"):
        new, old = _both(rep, y, z, distance=distance, scale_invariant=True)
        _assert_identical(new, old)


def test_no_neighbour_at_all_and_a_single_group():
    rep = torch.randn(6, 3)
    y, z = torch.tensor([0, 0, 0, 1, 1, 1]), torch.tensor([0, 0, 0, 1, 1, 1])
    _assert_identical(*_both(rep, y, z))  # each class in one group only: all skipped
    _assert_identical(*_both(rep, y, torch.zeros(6, dtype=torch.long)))


@pytest.mark.parametrize("kernel", ["cells", "masked"])
def test_many_classes_and_a_real_batch_shape(kernel):
    """A batch like Adult's (512 rows, rep 20, two groups) and one like rotated MNIST's (10
    classes, 5 domains as groups)."""
    rep, y, z = _case(seed=1, n_groups=2, n=512, k=20, n_classes=2)
    _assert_identical(*_both(rep, y, z, kernel, symmetric=False, paper_normalisation=True))
    rep, y, z = _case(seed=2, n_groups=5, n=320, k=20, n_classes=10)
    _assert_identical(*_both(rep, y, z, kernel))


def test_the_cost_model_picks_cells_for_few_classes_and_masked_for_many():
    def layout(n_classes, per_cell):
        y = torch.arange(n_classes).repeat_interleave(per_cell).repeat(2)
        z = torch.arange(2).repeat_interleave(n_classes * per_cell)
        return neighbours.cell_layout(y, z, len(z))

    assert neighbours._cheaper_kernel(layout(2, 128), 0, 1, True, False, "l1", 20) == "cells"
    assert neighbours._cheaper_kernel(layout(50, 2), 0, 1, True, True, "l2", 20) == "masked"


@pytest.mark.parametrize("n_groups", [2, 3, 4])
@pytest.mark.parametrize("class_conditional", [True, False])
def test_sorted_matching_bit_identical_to_the_replaced_implementation(n_groups, class_conditional):
    rep, y, z = _case(seed=20 + n_groups, n_groups=n_groups, n=70, k=5)
    grads = []
    for fn in (affinity_loss, reference_sorted_loss):
        r = rep.clone().requires_grad_(True)
        torch.manual_seed(3)  # the same random directions
        options = dict(class_conditional=class_conditional, projections=7)
        if fn is affinity_loss:
            options["matching"] = "sorted"
        loss = fn(r, y, z, **options)
        loss.backward()
        grads.append((loss.detach(), r.grad))
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("matching", ["nearest", "sorted"])
def test_an_empty_batch_is_zero_with_a_gradient_path(matching):
    rep = torch.zeros(0, 3, requires_grad=True)
    labels = torch.zeros(0, dtype=torch.long)
    loss, stats = affinity_loss(rep, labels, labels, matching=matching, return_stats=True)
    loss.backward()
    assert loss.item() == 0.0 and stats["terms"] == 0 and stats["pairs"] == 0


def test_labels_of_any_integer_type_and_out_of_range_labels():
    rep, y, z = _case(seed=4, n_groups=2)
    expected = affinity_loss(rep, y, z)
    assert torch.equal(affinity_loss(rep, y.int(), z.to(torch.int16)), expected)
    with pytest.raises(ValueError, match=r"labels must lie in \[-2\*\*31, 2\*\*31\)"):
        affinity_loss(rep, y + 2**40, z)
