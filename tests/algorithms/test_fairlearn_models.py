"""The scikit-learn and fairlearn models: the tensors they keep decide as the fitted objects do
(against scikit-learn's and fairlearn's own predictions), decisions are seeded, post-processing
needs the groups, and a missing fairlearn is a one-line install hint."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from algorithm_helpers import build

from conftest import make_tiny
from fairdg.algorithms import sklearn_adapter
from fairdg.algorithms.fairlearn_threshold import CONSTRAINTS, _Scores, plan_probability
from fairdg.algorithms.lr import logistic_regression
from fairdg.data.base import Batch
from fairdg.training.evaluate import predict_proba

fairlearn = pytest.importorskip("fairlearn")
from fairlearn.postprocessing import ThresholdOptimizer  # noqa: E402
from fairlearn.reductions import DemographicParity, ExponentiatedGradient  # noqa: E402


@pytest.fixture
def data():
    return make_tiny(n_per_domain=120)


def pooled(dataset):
    x = torch.cat([d.x for d in dataset.domains])
    y = torch.cat([d.y for d in dataset.domains])
    z = torch.cat([d.z for d in dataset.domains])
    return x, y, z


def batches(dataset):
    return [Batch(d.x, d.y, d.z, torch.full_like(d.y, i)) for i, d in enumerate(dataset.domains)]


def test_lr_predicts_what_scikit_learn_predicts(data):
    algorithm = build("lr", data)
    stats = algorithm.update(batches(data))
    x, y, _ = pooled(data)
    reference = logistic_regression(algorithm.hparams).fit(x.double().numpy(), y.numpy())
    ours = predict_proba(algorithm, x).double().numpy()
    np.testing.assert_allclose(ours, reference.predict_proba(x.double().numpy()), atol=1e-5)
    assert stats["loss"] > 0


def test_expgrad_mixture_is_fairlearns(data):
    algorithm = build("fairlearn-expgrad", data, expgrad_max_iter=10)
    algorithm.update(batches(data))
    x, y, z = pooled(data)
    reference = ExponentiatedGradient(
        logistic_regression(algorithm.hparams), constraints=DemographicParity(), max_iter=10
    )
    with sklearn_adapter.quiet_fairlearn():
        reference.fit(x.double().numpy(), y.numpy(), sensitive_features=z.numpy())
        expected = reference._pmf_predict(x.double().numpy())[:, 1]
    np.testing.assert_allclose(algorithm.positive_probability(x).numpy(), expected, atol=1e-9)


@pytest.mark.parametrize("metric", ["dp", "eo", "eopp"])
def test_threshold_plan_is_fairlearns(data, metric):
    algorithm = build("fairlearn-threshold", data, fair_metric=metric)
    algorithm.update(batches(data))
    algorithm.fit_postprocessing(batches(data))
    x, y, z = pooled(data)
    scores = algorithm.scores(x).detach().double().numpy()
    reference = ThresholdOptimizer(
        estimator=_Scores(), constraints=CONSTRAINTS[metric], prefit=True, predict_method="predict"
    )
    with sklearn_adapter.quiet_fairlearn():
        reference.fit(scores[:, None], y.numpy(), sensitive_features=z.numpy())
        expected = reference._pmf_predict(scores[:, None], sensitive_features=z.numpy())[:, 1]
    ours = algorithm.positive_probability(x, z).detach().numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-9)


def test_threshold_decisions_are_seeded_and_follow_the_plan(data):
    algorithm = build("fairlearn-threshold", data)
    algorithm.fit_postprocessing(batches(data))
    x, _, z = pooled(data)
    first = predict_proba(algorithm, x, z=z)
    again = predict_proba(algorithm, x, z=z)
    assert torch.equal(first, again)
    pmf = algorithm.positive_probability(x, z).detach()
    decided = (first[:, 1] > 0.5).double()
    random = (pmf > 0) & (pmf < 1)
    assert torch.equal(decided[~random], pmf[~random])  # certain rows are decided as planned
    with pytest.raises(ValueError, match="sensitive group"):
        predict_proba(algorithm, x)  # post-processing without the groups


def test_an_unfitted_plan_keeps_the_erm_decision(data):
    algorithm = build("fairlearn-threshold", data)
    x, _, z = pooled(data)
    erm = torch.softmax(algorithm.predict(x), 1)[:, 1] > 0.5
    assert torch.equal(predict_proba(algorithm, x, z=z)[:, 1] > 0.5, erm)
    assert torch.equal(plan_probability(algorithm.plan, algorithm.scores(x), z).bool(), erm)


def test_mixture_of_another_size_loads(data):
    algorithm = build("fairlearn-expgrad", data, expgrad_max_iter=10)
    algorithm.update(batches(data))
    fresh = build("fairlearn-expgrad", data, expgrad_max_iter=10)
    fresh.load_state_dict(algorithm.state_dict())
    x, _, _ = pooled(data)
    assert torch.equal(fresh.positive_probability(x), algorithm.positive_probability(x))


@pytest.mark.parametrize("name", ["fairlearn-expgrad", "fairlearn-threshold"])
def test_without_fairlearn_the_error_says_how_to_install_it(name, data, monkeypatch):
    real = importlib.import_module

    def no_fairlearn(module, *args):
        if module.startswith("fairlearn"):
            raise ModuleNotFoundError(f"No module named {module!r}")
        return real(module, *args)

    monkeypatch.setattr(sklearn_adapter.importlib, "import_module", no_fairlearn)
    with pytest.raises(ImportError, match=r"pip install 'fairdg\[fairlearn\]'") as err:
        build(name, data)
    assert isinstance(err.value, RuntimeError)  # the CLI's one-line user errors
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["fairlearn-expgrad", "fairlearn-threshold"])
def test_multiclass_targets_are_refused(name):
    data = make_tiny()
    with pytest.raises(ValueError, match="binary target"):
        build(name, data.__class__(**{**data.__dict__, "class_names": ["a", "b", "c"]}))
