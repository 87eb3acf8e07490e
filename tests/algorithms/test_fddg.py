"""FDDG: the relaxed fairness term, the dual update, the variants and an end-to-end run."""

from __future__ import annotations

import pytest
import torch
from algorithm_helpers import build, draw
from algorithm_helpers import extras as helper_extras

from fairdg.algorithms.fddg import FDDG, FDDGNoSF, FDDGNoT, dual_ascent
from fairdg.data.synthetic import load_synthetic
from fairdg.losses import relaxed_dp
from fairdg.training import RunConfig, train
from fairdg.transformation import default_config, fit_transformation, save_transformation


def test_relaxed_fairness_term_matches_hand_computation(tiny_tabular):
    # eight scores, z = 1 for the first three: mean s | z=1 = 0.6, mean s | z=0 = 0.32
    s = torch.tensor([0.9, 0.5, 0.4, 0.2, 0.1, 0.6, 0.3, 0.4])
    z = torch.tensor([1, 1, 1, 0, 0, 0, 0, 0])
    assert relaxed_dp(s, z).item() == pytest.approx(0.6 - 0.32)
    p = 3 / 8  # definition 1: | mean_i (z_i - p) s_i / (p (1 - p)) |
    definition = ((z.float() - p) * s).mean().abs() / (p * (1 - p))
    assert relaxed_dp(s, z).item() == pytest.approx(definition.item())
    # FDDG applies it to the predicted probability of class 1
    algorithm = build("fddg-no-t", tiny_tabular)
    logits = torch.stack([torch.zeros(8), torch.logit(s)], dim=1)
    assert algorithm.fairness_penalty(logits, z).item() == pytest.approx(0.6 - 0.32, abs=1e-6)


def test_dual_ascent_grows_while_violated_shrinks_when_satisfied_never_negative():
    lam = torch.tensor([1.0, 1.0])
    eta = torch.tensor([0.5, 0.5])
    grown = dual_ascent(lam, torch.tensor([0.2, 0.4]), eta)
    assert torch.allclose(grown, torch.tensor([1.1, 1.2]))
    shrunk = dual_ascent(lam, torch.tensor([-0.2, -0.4]), eta)
    assert torch.allclose(shrunk, torch.tensor([0.9, 0.8]))
    for _ in range(20):  # satisfied for long: clipped at zero, never negative
        lam = dual_ascent(lam, torch.tensor([-0.3, -1.0]), eta)
        assert (lam >= 0).all()
    assert torch.equal(lam, torch.zeros(2))


def test_multipliers_follow_the_constraints_in_updates(tiny_tabular):
    # an unreachable margin: both constraints stay violated, both multipliers grow
    algorithm = build("fddg", tiny_tabular, fddg_gamma1=0.0, fddg_gamma2=0.0)
    stats = [algorithm.update(b) for b in draw(tiny_tabular, 4)]
    assert all(
        {"ce", "inv_constraint", "fair_constraint", "lambda_inv", "lambda_fair"} <= set(s)
        for s in stats
    )
    lam_fair = [s["lambda_fair"] for s in stats]
    assert lam_fair == sorted(lam_fair) and lam_fair[-1] > 1.0
    for s, prev in zip(stats, [1.0] + lam_fair[:-1], strict=True):  # the projected update rule
        assert s["lambda_fair"] == pytest.approx(max(0.0, prev + 0.05 * s["fair_constraint"]))
    # an always-satisfied margin: the multipliers shrink to zero and stay there
    algorithm = build(
        "fddg", tiny_tabular, fddg_gamma1=20.0, fddg_gamma2=20.0, fddg_eta1=0.1, fddg_eta2=0.1
    )
    stats = [algorithm.update(b) for b in draw(tiny_tabular, 3)]
    assert [s["lambda_fair"] for s in stats] == [0.0, 0.0, 0.0]
    assert stats[-1]["lambda_inv"] == 0.0
    assert algorithm.multipliers.tolist() == [0.0, 0.0]
    assert algorithm.extra_state()["multipliers"] == [0.0, 0.0]
    assert "multipliers" in algorithm.state_dict()  # saved with the model


def test_variants_report_only_their_constraints(tiny_tabular):
    batches = draw(tiny_tabular, 1)[0]
    no_t = build("fddg-no-t", tiny_tabular).update(batches)
    assert "fair_constraint" in no_t and "inv_constraint" not in no_t
    no_fc = build("fddg-no-fc", tiny_tabular).update(batches)
    assert "inv_constraint" in no_fc and "fair_constraint" not in no_fc
    no_sf = build("fddg-no-sf", tiny_tabular).update(batches)
    assert {"inv_constraint", "fair_constraint"} <= set(no_sf)


def test_transformation_errors(tiny_tabular):
    with pytest.raises(ValueError, match="fairdg transform train"):
        FDDG(tiny_tabular.input_shape, 2, 3)
    extras = helper_extras(FDDG, tiny_tabular)
    with pytest.raises(ValueError, match="without the sensitive factor"):
        FDDGNoSF(tiny_tabular.input_shape, 2, 3, **extras)
    with pytest.raises(ValueError, match="uses no transformation model"):
        FDDGNoT(tiny_tabular.input_shape, 2, 3, **extras)
    with pytest.raises(ValueError, match="inputs of shape"):
        FDDG((7,), 2, 3, **extras)
    with pytest.raises(TypeError, match="TransformationModel"):
        FDDG(tiny_tabular.input_shape, 2, 3, transformation=torch.nn.Linear(6, 6))


def test_transformation_stays_frozen(tiny_image):
    algorithm = build("fddg", tiny_image)
    algorithm.train()
    assert not algorithm.transformation.training
    assert not any(p.requires_grad for p in algorithm.transformation.parameters())


@pytest.mark.slow
def test_end_to_end_on_synthetic_shift_data(tmp_path):
    dataset = load_synthetic(n_domains=3, n_per_domain=150, n_features=6)
    config = default_config(dataset, hidden=16, semantic_dim=8, content_dim=4)
    t_model = fit_transformation(dataset, config, test_domains=["env2"], steps=30, quiet=True)
    path = save_transformation(t_model, tmp_path / "t.pt")
    run = RunConfig(
        dataset="synthetic",
        algorithm="fddg",
        test_domains=("env2",),
        steps=12,
        eval_every=4,
        transformation=str(path),
        output_dir=str(tmp_path / "runs"),
        quiet=True,
        hparams={"batch_size": 16, "mlp_width": 16},
    )
    result = train(run, dataset=dataset)
    assert len(result.history) == 3
    for record in result.history:  # the multipliers are in every evaluation's record
        assert {"lambda_inv", "lambda_fair", "inv_constraint", "fair_constraint"} <= set(
            record["stats"]
        )
    assert 0 <= result.record["metrics"]["test"]["accuracy"] <= 1
    # a T that saw the held-out domain, or a T given to an algorithm without one, is refused
    with pytest.raises(ValueError, match="leak"):
        train(run.replace(test_domains=("env1",)), dataset=dataset)
    with pytest.raises(ValueError, match="uses no transformation model"):
        train(run.replace(algorithm="erm"), dataset=dataset)


@pytest.mark.parametrize("mode", ["pooled", "max"])
def test_fairness_constraint_on_pooled_or_separate_sets(tiny_tabular, mode, monkeypatch):
    algorithm = build("fddg-no-fc", tiny_tabular)  # reuse a T; switch the fairness term on
    algorithm = FDDG(
        tiny_tabular.input_shape,
        2,
        3,
        {"fddg_fair_sets": mode},
        transformation=algorithm.transformation,
    )
    batches = draw(tiny_tabular, 1)[0]
    x = torch.cat([b.x for b in batches])
    z = torch.cat([b.z for b in batches])
    x_syn, z_syn = x + 1.0, 1 - z  # a fixed "augmentation"
    monkeypatch.setattr(algorithm.transformation, "augment", lambda *a, **k: (x_syn, z_syn))
    with torch.no_grad():
        real, syn = algorithm.predict(x), algorithm.predict(x_syn)
        gaps = [
            algorithm.fairness_penalty(real, z).item(),
            algorithm.fairness_penalty(syn, z_syn).item(),
        ]
        pooled = algorithm.fairness_penalty(torch.cat([real, syn]), torch.cat([z, z_syn])).item()
    stats = algorithm.update(batches)
    expected = max(gaps) if mode == "max" else pooled
    assert stats["fair_constraint"] == pytest.approx(expected, abs=1e-6)
