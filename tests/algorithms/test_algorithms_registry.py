"""Registry-driven tests: every registered algorithm, on tiny tabular and tiny image data.

Each algorithm constructs (with ``algorithm_helpers.extras``), takes three updates with finite
loss terms, gives every trainable parameter a gradient at least once (except those it declares
in ``UNUSED_PARAMETERS``), predicts the right shape, resumes exactly from its state dict plus
``extra_state()``, is reproducible under a seed, and reports the relaxed-DP penalty when
``fair_lambda`` > 0. (Named apart from tests/test_registry.py, which tests the Registry class.)
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from algorithm_helpers import build, draw, flat_state

from fairdg.algorithms import ALGORITHMS

NAMES = ALGORITHMS.names()
# Switch annealed penalties on early so that optimiser resets happen inside the tests.
ANNEAL = {
    "irm_penalty_anneal_iters": 1,
    "vrex_penalty_anneal_iters": 1,
    "eiil_ref_steps": 1,
    "eiil_ei_steps": 50,
    "farcon_vae_steps": 1,
}


@pytest.mark.parametrize("name", NAMES)
def test_updates_are_finite_and_reach_every_parameter(name, tiny):
    algorithm = build(name, tiny, **ANNEAL)
    algorithm.train()
    before = flat_state(algorithm)
    reached = set()
    for batches in draw(tiny, 3):
        stats = algorithm.update(batches)
        assert stats, f"{name}: update returned no loss terms"
        for key, value in stats.items():
            assert isinstance(value, float), f"{name}: {key} is {type(value).__name__}"
            assert math.isfinite(value), f"{name}: {key} = {value}"
        for pname, p in algorithm.named_parameters():
            if p.requires_grad and p.grad is not None and bool(p.grad.abs().sum() > 0):
                reached.add(pname)
    trainable = {n for n, p in algorithm.named_parameters() if p.requires_grad}
    missing = trainable - reached - set(type(algorithm).UNUSED_PARAMETERS)
    assert not missing, f"{name}: parameters without a gradient: {sorted(missing)}"
    after = flat_state(algorithm)
    changed = [k for k, v in before.items() if not torch.equal(v, after[k])]
    assert changed, f"{name}: three updates changed nothing"


@pytest.mark.parametrize("name", NAMES)
def test_predict_and_featurize_shapes(name, tiny):
    algorithm = build(name, tiny)
    algorithm.eval()
    x = tiny.domains[0].x[:5]
    with torch.no_grad():
        logits = algorithm.predict(x)
        features = algorithm.featurize(x)
    assert logits.shape == (5, tiny.num_classes)
    assert features.shape[0] == 5 and features.dim() == 2
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", NAMES)
def test_resume_from_state_dict_and_extra_state_is_exact(name, tiny):
    data = draw(tiny, 5)
    straight = build(name, tiny, **ANNEAL)
    straight.train()
    for step in range(2):
        straight.update(data[step])
    # what a checkpoint holds, copied now (optimiser states are mutated in place later)
    state = copy.deepcopy(straight.state_dict())
    extra = copy.deepcopy(straight.extra_state())
    rng = torch.get_rng_state()
    for step in range(2, 5):
        straight.update(data[step])

    resumed = build(name, tiny, seed=123, **ANNEAL)  # a different initialisation, overwritten
    resumed.train()
    resumed.load_state_dict(state)
    resumed.load_extra(extra)
    torch.set_rng_state(rng)
    for step in range(2, 5):
        resumed.update(data[step])
    expected, got = flat_state(straight), flat_state(resumed)
    for key, value in expected.items():
        assert torch.equal(value, got[key]), f"{name}: {key} differs after resume"


@pytest.mark.parametrize("name", NAMES)
def test_reproducible_under_seed(name, tiny):
    data = draw(tiny, 3)
    runs = []
    for _ in range(2):
        algorithm = build(name, tiny, seed=7)
        algorithm.train()
        torch.manual_seed(11)
        stats = [algorithm.update(batches) for batches in data]
        runs.append((stats, flat_state(algorithm)))
    assert runs[0][0] == runs[1][0]
    for key, value in runs[0][1].items():
        assert torch.equal(value, runs[1][1][key]), f"{name}: {key} not reproducible"


# Every algorithm trained by minibatch steps takes the fairness knobs (the scikit-learn and
# fairlearn models have their own).
FAIR = [n for n in NAMES if "fair_lambda" in ALGORITHMS.get(n).declared_hparams()]


@pytest.mark.parametrize("name", FAIR)
def test_fairness_option_is_applied(name, tiny_tabular):
    algorithm = build(name, tiny_tabular, fair_lambda=1.0)
    algorithm.train()
    stats = [algorithm.update(b) for b in draw(tiny_tabular, 3)]
    penalties = [s["fair_penalty"] for s in stats if "fair_penalty" in s]
    assert penalties, f"{name}: fair_lambda > 0 but no update added the fairness penalty"
    assert all(math.isfinite(p) and p >= 0 for p in penalties)


@pytest.mark.parametrize("metric", ["dp", "eo", "eopp"])
@pytest.mark.parametrize("name", FAIR)
def test_fair_tolerance_is_a_constraint_with_a_multiplier(name, metric, tiny_tabular):
    algorithm = build(name, tiny_tabular, fair_tolerance=0.01, fair_metric=metric)
    algorithm.train()
    assert float(algorithm.fair_multiplier) == 0.0
    stats = [algorithm.update(b) for b in draw(tiny_tabular, 3)]
    gaps = [s["fair_rate_gap"] for s in stats if "fair_rate_gap" in s]
    assert gaps, f"{name}: fair_tolerance > 0 but no update measured the constrained gap"
    assert all("fair_penalty" not in s for s in stats)  # a constraint, not the fixed penalty
    # projected dual ascent on the decisions' gap: the multiplier follows the violations, >= 0
    expected = 0.0
    for gap in gaps:
        expected = max(0.0, expected + 0.5 * (gap - 0.01))
    assert float(algorithm.fair_multiplier) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    state = algorithm.state_dict()  # saved with the model and checkpoints
    assert "fair_multiplier" in state and "fair_rates" in state


@pytest.mark.parametrize("name", FAIR)
def test_resume_is_exact_with_the_fairness_constraint(name, tiny):
    knobs = {**ANNEAL, "fair_tolerance": 0.01}
    data = draw(tiny, 5)
    straight = build(name, tiny, **knobs)
    straight.train()
    for step in range(2):
        straight.update(data[step])
    state = copy.deepcopy(straight.state_dict())
    extra = copy.deepcopy(straight.extra_state())
    rng = torch.get_rng_state()
    for step in range(2, 5):
        straight.update(data[step])
    resumed = build(name, tiny, seed=123, **knobs)
    resumed.train()
    resumed.load_state_dict(state)
    resumed.load_extra(extra)
    torch.set_rng_state(rng)
    for step in range(2, 5):
        resumed.update(data[step])
    assert float(resumed.fair_multiplier) == float(straight.fair_multiplier)
    expected, got = flat_state(straight), flat_state(resumed)
    for key, value in expected.items():
        assert torch.equal(value, got[key]), f"{name}: {key} differs after resume"


def test_penalty_and_constraint_together_is_an_error(tiny_tabular):
    with pytest.raises(ValueError, match="not both"):
        build("erm", tiny_tabular, fair_lambda=1.0, fair_tolerance=0.05)
