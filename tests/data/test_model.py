"""The data model: validation errors, splits, standardisation."""

import pytest
import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.splits import stratified_split


def _domain(name="a", n=20, z=None, x=None, y=None):
    return Domain(
        name,
        torch.randn(n, 3) if x is None else x,
        torch.arange(n) % 2 if y is None else y,
        (torch.arange(n) // 2) % 2 if z is None else z,
    )


def _dataset(*domains, **kw):
    return MultiDomainDataset("t", list(domains), (3,), ["n", "p"], ["g0", "g1"], **kw)


def test_valid_dataset_and_counts():
    ds = _dataset(_domain("a"), _domain("b"))
    assert ds.num_classes == 2 and ds.domain_names == ["a", "b"] and len(ds) == 40
    assert ds.domain("a").counts(2, 2).sum() == 20
    summary = ds.summary()
    assert summary["domains"]["a"]["dependence"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "domain, message",
    [
        (_domain(y=torch.zeros(19, dtype=torch.long)), "lengths disagree"),
        (_domain(x=torch.full((20, 3), float("nan"))), "NaN or inf in 20 row"),
        (_domain(y=torch.arange(20) % 3), r"y values must lie in \[0, 1\]"),
        (
            _domain(z=torch.zeros(20, dtype=torch.long)),
            "only sensitive group 'g0'.*missing: \\['g1'\\]",
        ),
        (_domain(x=torch.randn(20, 4)), "sample shape"),
    ],
)
def test_validation_errors_name_the_problem(domain, message):
    with pytest.raises(ValueError, match=message):
        _dataset(domain)


def test_integer_labels_required():
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        _dataset(_domain(y=(torch.arange(20) % 2).float()))


def test_duplicate_domain_names():
    with pytest.raises(ValueError, match="duplicate domain names"):
        _dataset(_domain("a"), _domain("a"))


def test_stratified_split_exact_sizes_and_strata():
    strata = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    rest, (val, test) = stratified_split(strata, [0.2, 0.1], torch.Generator().manual_seed(0))
    assert (len(rest), len(val), len(test)) == (70, 20, 10)
    assert torch.bincount(strata[val]).tolist() == [10, 6, 4]
    everything = torch.sort(torch.cat([rest, val, test])).values
    assert torch.equal(everything, torch.arange(100))


def test_split_is_deterministic_and_standardises_with_train_only(tiny_tabular):
    a = tiny_tabular.split(seed=3, test_domains=["d2"])
    b = tiny_tabular.split(seed=3, test_domains=["d2"])
    c = tiny_tabular.split(seed=4, test_domains=["d2"])
    assert torch.equal(a.parts["d0"]["train"].x, b.parts["d0"]["train"].x)
    assert not torch.equal(a.parts["d0"]["train"].x, c.parts["d0"]["train"].x)
    assert a.train_domains == ["d0", "d1"] and a.test_domains == ["d2"]
    pooled = torch.cat([p.x for p in a.train()])
    assert torch.allclose(pooled.mean(0), torch.zeros(6), atol=1e-5)
    assert torch.allclose(pooled.std(0), torch.ones(6), atol=1e-5)
    # a held-out domain keeps val for oracle selection and everything else as test
    held = a.parts["d2"]
    assert "train" not in held and len(held["val"]) + len(held["test"]) == 48


def test_split_errors(tiny_tabular):
    with pytest.raises(ValueError, match="unknown test domain.*'zz'"):
        tiny_tabular.split(test_domains=["zz"])
    with pytest.raises(ValueError, match="leave at least one"):
        tiny_tabular.split(test_domains=["d0", "d1", "d2"])
