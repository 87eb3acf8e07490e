"""The shared Adam: multi-tensor by default (bit for bit torch's per-tensor loop), fused as an
option whose results agree only to rounding."""

from __future__ import annotations

import pytest
import torch
from algorithm_helpers import build, draw, flat_state


def _train(dataset, steps, **overrides):
    algorithm = build("erm", dataset, weight_decay=1e-3, **overrides)
    for batches in draw(dataset, steps):
        algorithm.update(batches)
    return algorithm


def test_default_adam_is_multi_tensor_and_bit_identical_to_the_per_tensor_loop(tiny, monkeypatch):
    algorithm = _train(tiny, 8)
    assert algorithm.optimizer.defaults["foreach"] is True
    original = torch.optim.Adam.__init__

    def per_tensor(self, params, *args, **kwargs):
        kwargs["foreach"] = False  # torch's default on a CPU
        original(self, params, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "__init__", per_tensor)
    reference = _train(tiny, 8)
    assert reference.optimizer.defaults["foreach"] is False
    for (name, value), other in zip(
        flat_state(algorithm).items(), flat_state(reference).values(), strict=True
    ):
        assert torch.equal(value, other), name


def test_fused_adam_is_an_option_that_agrees_to_rounding(tiny_tabular):
    fused = _train(tiny_tabular, 8, adam_fused=True)
    assert fused.optimizer.defaults["fused"] is True
    default = _train(tiny_tabular, 8)
    for (name, value), other in zip(
        flat_state(fused).items(), flat_state(default).values(), strict=True
    ):
        if value.is_floating_point():
            torch.testing.assert_close(value, other, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize("name", ["dann", "cdann"])
def test_the_discriminators_adam_follows_the_option(tiny_tabular, name):
    algorithm = build(name, tiny_tabular, adam_fused=True)
    assert algorithm.disc_optimizer.defaults["fused"] is True
