"""The Affinity algorithm: lambda 0 is ERM, the groups it aligns, its bank, its errors."""

from __future__ import annotations

import pytest
import torch
from algorithm_helpers import build, draw, flat_state

import fairdg.algorithms.affinity as affinity_module
from fairdg.losses import affinity_loss


def test_defaults_are_the_papers(tiny_tabular):
    algorithm = build("affinity", tiny_tabular)
    assert algorithm.hparams["affinity_lambda"] == 0.01
    assert algorithm.hparams["affinity_distance"] == "l1"
    assert algorithm.featurizer.n_outputs == 20 and algorithm.bank is None


def test_default_loss_is_equation_3_as_written(tiny_tabular, monkeypatch):
    """The algorithm's loss, by default, is eq. (3) computed literally: anchors of the first
    group X1 only, each to its nearest same-class neighbour in the other group (L1), the sum
    divided by |Y| |X1| (|Y|: classes of the batch); the former form stays available."""
    seen = {}

    def spy(rep, y, groups, **kwargs):
        seen.update(rep=rep.detach().clone(), y=y, groups=groups)
        loss, stats = affinity_loss(rep, y, groups, **kwargs)
        seen["loss"] = loss.item()
        return loss, stats

    monkeypatch.setattr(affinity_module, "affinity_loss", spy)
    algorithm = build("affinity", tiny_tabular)
    algorithm.update(draw(tiny_tabular, 1)[0])
    rep, y, g = seen["rep"], seen["y"].tolist(), seen["groups"].tolist()
    first = min(g)
    anchors = [i for i in range(len(y)) if g[i] == first]
    total = 0.0
    for i in anchors:
        distances = [
            float((rep[i] - rep[j]).abs().sum())
            for j in range(len(y))
            if g[j] != first and y[j] == y[i]
        ]
        total += min(distances, default=0.0)
    assert seen["loss"] == pytest.approx(total / (len(set(y)) * len(anchors)), rel=1e-5)
    assert affinity_module.FORMS["symmetric"] == {
        "affinity_symmetric": True,
        "affinity_paper_norm": False,
    }


def test_lambda_zero_trains_exactly_like_erm(tiny_tabular):
    affinity = build("affinity", tiny_tabular, affinity_lambda=0.0)
    erm = build("erm", tiny_tabular)
    for batches in draw(tiny_tabular, 4):
        a, e = affinity.update(batches), erm.update(batches)
        assert a["loss"] == pytest.approx(e["loss"])
    for (name, p), q in zip(flat_state(affinity).items(), flat_state(erm).values(), strict=True):
        assert torch.allclose(p, q), name


@pytest.mark.parametrize("on, field", [("sensitive", "z"), ("domain", "d")])
def test_groups_are_the_sensitive_attribute_or_the_domain(tiny_tabular, monkeypatch, on, field):
    seen = {}

    def spy(rep, y, groups, **kwargs):
        seen["groups"] = groups
        return affinity_loss(rep, y, groups, **kwargs)

    monkeypatch.setattr(affinity_module, "affinity_loss", spy)
    algorithm = build("affinity", tiny_tabular, affinity_on=on)
    batches = draw(tiny_tabular, 1)[0]
    algorithm.update(batches)
    assert torch.equal(seen["groups"], torch.cat([getattr(b, field) for b in batches]))


def test_the_loss_lowers_the_affinity_term(tiny_tabular):
    """Trained with a large lambda, the cross-group nearest-neighbour distance falls more than
    under ERM (both measured relative to the spread of the representation)."""
    x = torch.cat([d.x for d in tiny_tabular.domains])
    y = torch.cat([d.y for d in tiny_tabular.domains])
    z = torch.cat([d.z for d in tiny_tabular.domains])

    def measured(algorithm):
        with torch.no_grad():
            return affinity_loss(algorithm.featurize(x), y, z, scale_invariant=True).item()

    runs = {}
    for lam in (0.0, 1.0):
        algorithm = build(
            "affinity", tiny_tabular, affinity_lambda=lam, affinity_scale_invariant=True
        )
        for batches in draw(tiny_tabular, 60, batch_size=16):
            algorithm.update(batches)
        runs[lam] = measured(algorithm)
    assert runs[1.0] < runs[0.0]


def test_sorted_matching_lowers_its_term(tiny_tabular):
    """The density-matching variant, trained with a large lambda, ends with a smaller sliced
    1-Wasserstein distance between the groups (relative to the spread) than ERM."""
    x = torch.cat([d.x for d in tiny_tabular.domains])
    y = torch.cat([d.y for d in tiny_tabular.domains])
    z = torch.cat([d.z for d in tiny_tabular.domains])
    runs = {}
    for lam in (0.0, 3.0):
        algorithm = build(
            "affinity",
            tiny_tabular,
            affinity_lambda=lam,
            affinity_matching="sorted",
            affinity_scale_invariant=True,
        )
        for batches in draw(tiny_tabular, 60, batch_size=16):
            stats = algorithm.update(batches)
        assert stats["affinity_skipped"] == 0
        torch.manual_seed(0)
        with torch.no_grad():
            rep = algorithm.featurize(x)
            runs[lam] = affinity_loss(
                rep, y, z, matching="sorted", scale_invariant=True, projections=64
            ).item()
    assert runs[3.0] < runs[0.0]


def test_memory_bank_fills_and_round_trips(tiny_tabular):
    algorithm = build("affinity", tiny_tabular, affinity_bank=5)
    for batches in draw(tiny_tabular, 3):
        stats = algorithm.update(batches)
    assert 0 < len(algorithm.bank) <= 5 * 4 and stats["affinity_skipped"] >= 0
    state = algorithm.extra_state()
    other = build("affinity", tiny_tabular, affinity_bank=5)
    other.load_extra(state)
    assert torch.equal(other.bank.tensors()[0], algorithm.bank.tensors()[0])


@pytest.mark.parametrize(
    "hparams, match",
    [
        ({"affinity_distance": "l3"}, "'affinity_distance' must be one of"),
        ({"affinity_on": "class"}, "'affinity_on' must be one of"),
        ({"affinity_lambda": -1.0}, "'affinity_lambda' must be a number >= 0"),
        ({"affinity_bank": -2}, "'affinity_bank' must be an integer >= 0"),
        ({"affinity_matching": "greedy"}, "'affinity_matching' must be one of"),
    ],
)
def test_bad_hparams(tiny_tabular, hparams, match):
    with pytest.raises(ValueError, match=match):
        build("affinity", tiny_tabular, **hparams)
