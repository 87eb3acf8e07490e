"""The sampler: per-domain and pooled batches draw the same rows; ERM learns the same from both."""

import torch

from fairdg.algorithms.erm import ERM
from fairdg.data.base import Domain
from fairdg.training.sampler import DomainSampler


def _domains():
    g = torch.Generator().manual_seed(0)
    sizes = (30, 17, 45)
    return [
        Domain(
            f"d{i}",
            torch.randn(n, 5, generator=g),
            torch.randint(2, (n,), generator=g),
            torch.randint(2, (n,), generator=g),
        )
        for i, n in enumerate(sizes)
    ]


def test_pooled_batch_is_the_per_domain_batches_concatenated():
    domains = _domains()
    per_domain, pooled = (
        DomainSampler(domains, 8, seed=3),
        DomainSampler(domains, 8, 3, pooled=True),
    )
    for _ in range(3):
        batches, (one,) = per_domain(), pooled()
        for field in range(4):
            assert torch.equal(one[field], torch.cat([b[field] for b in batches]))
        assert batches[1].d.tolist() == [1] * 8


def test_erm_learns_the_same_from_pooled_and_per_domain_batches():
    domains = _domains()
    models = []
    for pooled in (False, True):
        torch.manual_seed(0)
        model = ERM((5,), 2, 3, {"batch_size": 8})
        sampler = DomainSampler(domains, 8, seed=1, pooled=pooled)
        losses = [model.update(sampler())["loss"] for _ in range(5)]
        models.append((losses, torch.cat([p.flatten() for p in model.parameters()])))
    assert models[0][0] == models[1][0]
    assert torch.equal(models[0][1], models[1][1])
