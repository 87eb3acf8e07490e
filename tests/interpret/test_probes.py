"""Linear probes, re-attachment (eq. 4), run loading and pictures on tiny data."""

from __future__ import annotations

import pytest
import torch

from fairdg.interpret import (
    fit_linear,
    fit_reattachment,
    linear_probes,
    load_run,
    plot_r_histograms,
    probe_accuracies,
    reattach,
    representation_summary,
    representations,
    subsample,
)
from fairdg.training import RunConfig, train


def _gaussian(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=g), g


def test_probe_separates_separable_classes():
    x, _ = _gaussian(400, 0)
    y = (x @ torch.tensor([[1.0, 0.0, -1.0], [0.5, -1.0, 0.0], [0.0, 1.0, 1.0]])).argmax(1)
    probe = fit_linear(x, y)
    assert probe.weight.shape == (3, 3)
    assert (probe.predict(x) == y).double().mean() > 0.95


def test_probe_accuracies_target_and_sensitive():
    x, g = _gaussian(1200, 1)
    y = (x[:, 0] > 0).long()
    z = (torch.rand(1200, generator=g) < 0.3).long()  # independent of x
    out = probe_accuracies(
        x[:800], y[:800], z[:800], x[800:], y[800:], z[800:], group_names=["a", "b"]
    )
    assert out["target_accuracy"] > 0.95
    # z is unpredictable: the probe labels (almost) everyone with the majority group
    assert out["sensitive_accuracy"] == pytest.approx(out["sensitive_majority"], abs=0.03)
    assert out["sensitive_accuracy/a"] > 0.95 and out["sensitive_accuracy/b"] < 0.05
    assert 0.5 <= out["sensitive_auc"] < 0.56  # folded AUC: no information about z
    assert set(out) >= {"target_accuracy/a", "target_accuracy/b"}


def test_reattachment_recovers_the_weights():
    """y ~ Bernoulli(sigmoid(w_r r + w_z z + b)) with r independent of z: weights come back."""
    g = torch.Generator().manual_seed(2)
    n = 20000
    features = torch.randn(n, 4, generator=g)
    r = features @ torch.tensor([1.0, -2.0, 0.5, 0.0])
    r = (r - r.mean()) / r.std(unbiased=False)
    z = (torch.rand(n, generator=g) < 0.4).long()
    y = (torch.rand(n, generator=g) < torch.sigmoid(1.5 * r + 3.0 * z - 1.0)).long()
    fit = fit_reattachment(
        features[:15000],
        y[:15000],
        z[:15000],
        features[15000:],
        y[15000:],
        z[15000:],
        group_names=["f", "m"],
    )
    assert fit.w_r == pytest.approx(1.5, abs=0.15)
    assert fit.w_z["m"] == pytest.approx(3.0, abs=0.25)
    assert fit.b == pytest.approx(-1.0, abs=0.15)
    assert fit.r_test.shape == (5000,) and fit.z_test.shape == (5000,)
    assert 0.0 <= fit.metrics["dp_diff"] <= 1.0 and fit.metrics["accuracy"] > 0.7


def test_reattachment_rejects_multiclass():
    x, _ = _gaussian(30, 3)
    y, z = torch.arange(30) % 3, torch.arange(30) % 2
    with pytest.raises(ValueError, match="binary target"):
        fit_reattachment(x, y, z, x, y, z)


@pytest.fixture
def tiny_run(tmp_path, tiny_tabular):
    config = RunConfig(
        dataset="tiny",
        algorithm="affinity",
        steps=10,
        quiet=True,
        output_dir=str(tmp_path / "runs"),
    )
    return train(config, dataset=tiny_tabular), tiny_tabular


def test_load_run_restores_the_selected_model(tiny_run):
    result, dataset = tiny_run
    run = load_run(result.run_dir, dataset=dataset)
    assert run.config.algorithm == "affinity" and run.hparams["affinity_lambda"] == 0.01
    test = run.split.parts["d0"]["test"]
    from fairdg.training.evaluate import evaluate_split

    metrics = evaluate_split(run.algorithm, run.split, "cpu")
    assert metrics["test"]["accuracy"] == pytest.approx(
        result.record["metrics"]["test"]["accuracy"]
    )
    assert representations(run.algorithm, test.x).shape == (len(test), 20)


def test_load_run_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no model.pt"):
        load_run(tmp_path)


def test_probes_reattach_and_pictures_on_a_run(tiny_run, tmp_path):
    result, dataset = tiny_run
    run = load_run(result.run_dir, dataset=dataset)
    probes = linear_probes(run.algorithm, run.split)
    assert 0.0 <= probes["target_accuracy"] <= 1.0 and 0.0 <= probes["sensitive_accuracy"] <= 1.0
    fit = reattach(run.algorithm, run.split)
    assert set(fit.w_z) == {"b"} and fit.sensitive_probe["sensitive_accuracy"] == 1.0
    hist = plot_r_histograms(
        [("affinity", fit.r_test, fit.z_test)], tmp_path / "hist.png", group_names=["a", "b"]
    )
    assert hist.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # t-SNE: tests/cli/test_run.py


def test_subsample():
    assert subsample(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = subsample(100, 10, seed=1)
    assert len(picked) == 10 and len(set(picked.tolist())) == 10
    assert torch.equal(picked, subsample(100, 10, seed=1))


def test_representation_summary():
    g = torch.Generator().manual_seed(4)
    features = torch.zeros(100, 4)
    features[:, 0] = torch.rand(100, generator=g)
    features[:, 1] = 2 * features[:, 0]  # active but collinear: rank 1
    features[0] = 0.0
    features[5, 3] = 1.0  # nonzero on 1% of the samples only: not counted as active
    out = representation_summary(features)
    assert out["rep_active_units"] == 2.0 and out["rep_zero_rows"] == pytest.approx(0.01)
    assert out["rep_rank"] == 2.0  # the lone value in unit 3 adds a direction
    assert out["rep_scale"] > 0
