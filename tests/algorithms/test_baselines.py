"""Known identities and behaviours of the domain-generalisation baselines and their penalties."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from algorithm_helpers import build, draw, flat_state

from fairdg.algorithms.mixup import mix, sample_mix_weight
from fairdg.algorithms.mldg import meta_train_test_pairs
from fairdg.data.base import Batch, Domain, MultiDomainDataset
from fairdg.losses import (
    coral_penalty,
    irm_penalty,
    mmd_penalty,
    pairwise_penalty,
    relaxed_dp,
    vrex_penalty,
)

# -- penalties ------------------------------------------------------------------------------


def _irm_reference(logits, y):
    """d/dw CE(w * logits, y) at w = 1 is mean_i (sum_c p_ic l_ic - l_iy_i); product of halves."""

    def dscale(lg, yy):
        p = torch.softmax(lg, dim=1)
        return ((p * lg).sum(1) - lg.gather(1, yy[:, None])[:, 0]).mean()

    return dscale(logits[0::2], y[0::2]) * dscale(logits[1::2], y[1::2])


def test_irm_penalty_matches_closed_form():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(10, 3, generator=g, dtype=torch.float64)
    y = torch.randint(3, (10,), generator=g)
    assert torch.allclose(irm_penalty(logits, y), _irm_reference(logits, y))


def test_irm_penalty_has_a_gradient_and_handles_one_row():
    logits = torch.randn(6, 2, requires_grad=True)
    irm_penalty(logits, torch.tensor([0, 1, 0, 1, 1, 0])).backward()
    assert logits.grad is not None
    assert irm_penalty(torch.randn(1, 2), torch.tensor([1])) == 0


def test_vrex_penalty_is_population_variance():
    risks = torch.tensor([0.2, 0.5, 0.9])
    assert torch.allclose(vrex_penalty(risks), risks.var(unbiased=False))
    assert vrex_penalty(torch.full((3,), 0.7)) == 0
    with pytest.raises(ValueError, match="1-d"):
        vrex_penalty(torch.zeros(2, 2))


def test_coral_penalty_zero_for_identical_and_matches_numpy_covariance():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 4, generator=g, dtype=torch.float64)
    y = 2 * torch.randn(12, 4, generator=g, dtype=torch.float64) + 1
    assert coral_penalty(x, x.clone()) == 0
    expected = ((x.mean(0) - y.mean(0)) ** 2).mean() + (
        (torch.cov(x.t()) - torch.cov(y.t())) ** 2
    ).mean()
    assert torch.allclose(coral_penalty(x, y), expected)


def test_mmd_penalty_zero_for_identical_positive_for_shifted():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(16, 5, generator=g)
    assert abs(float(mmd_penalty(x, x.clone()))) < 1e-5
    assert float(mmd_penalty(x, x + 1.0)) > 0.1


def test_pairwise_penalty_averages_pairs_and_is_zero_for_one_domain():
    feats = [torch.zeros(4, 2), torch.ones(4, 2), 2 * torch.ones(4, 2)]
    # mean differences 1, 4, 1 (covariances all 0)
    assert torch.allclose(pairwise_penalty(feats, coral_penalty), torch.tensor(2.0))
    assert pairwise_penalty(feats[:1], coral_penalty) == 0


# -- IRM / VREx -----------------------------------------------------------------------------


def test_irm_with_lambda_zero_equals_erm(tiny_tabular):
    data = draw(tiny_tabular, 3)
    erm = build("erm", tiny_tabular)
    irm = build("irm", tiny_tabular, irm_lambda=0.0, irm_penalty_anneal_iters=0)
    for batches in data:
        a = erm.update(batches)
        b = irm.update(batches)
        assert b["loss"] == pytest.approx(a["loss"], abs=1e-6)
    expected, got = flat_state(erm), flat_state(irm)
    for key, value in expected.items():
        assert torch.allclose(value, got[key], atol=1e-6), key


def test_irm_resets_adam_at_the_anneal_switch(tiny_tabular):
    irm = build("irm", tiny_tabular, irm_penalty_anneal_iters=2)
    data = draw(tiny_tabular, 3)
    irm.update(data[0])
    irm.update(data[1])
    old = irm.optimizer
    assert old.state  # Adam has moments
    irm.update(data[2])
    assert irm.optimizer is not old
    assert all(s["step"] == 1 for s in irm.optimizer.state.values())


def test_vrex_penalty_weight_switches_after_annealing(tiny_tabular):
    vrex = build("vrex", tiny_tabular, vrex_lambda=1000.0, vrex_penalty_anneal_iters=1)
    data = draw(tiny_tabular, 2)
    first = vrex.update(data[0])
    second = vrex.update(data[1])
    assert first["loss"] == pytest.approx(first["nll"] + first["penalty"], rel=1e-5)
    assert second["loss"] == pytest.approx(second["nll"] + 1000.0 * second["penalty"], rel=1e-5)


# -- Mixup -----------------------------------------------------------------------------------


def test_mixup_with_alpha_to_zero_leaves_inputs_unchanged():
    xi, xj = torch.randn(8, 3), torch.randn(8, 3)
    torch.manual_seed(0)
    for _ in range(50):
        mixed, n = mix(xi, xj, sample_mix_weight(1e-4))
        assert n == 8
        assert torch.allclose(mixed, xi, atol=1e-5) or torch.allclose(mixed, xj, atol=1e-5)
    assert torch.equal(mix(xi, xj, 1.0)[0], xi)


@pytest.mark.parametrize("alpha", [0.2, 2.0])
def test_mix_weight_has_beta_moments(alpha):
    torch.manual_seed(0)
    lam = torch.tensor([sample_mix_weight(alpha) for _ in range(2000)], dtype=torch.float64)
    assert float(lam.mean()) == pytest.approx(0.5, abs=0.02)
    assert float(lam.var()) == pytest.approx(1 / (4 * (2 * alpha + 1)), rel=0.1)


def test_mixup_rejects_non_positive_alpha(tiny_tabular):
    with pytest.raises(ValueError, match="mixup_alpha"):
        build("mixup", tiny_tabular, mixup_alpha=0.0)


# -- GroupDRO --------------------------------------------------------------------------------


def _noisy_last_domain(seed: int = 0) -> MultiDomainDataset:
    """Three domains where y is a clean function of x, except the last whose labels are coins."""
    g = torch.Generator().manual_seed(seed)
    domains = []
    for d in range(3):
        x = torch.randn(64, 4, generator=g)
        y = (x[:, 0] > 0).long()
        if d == 2:
            y = torch.randint(2, (64,), generator=g)
        z = torch.arange(64) % 2
        domains.append(Domain(f"d{d}", x, y, z))
    return MultiDomainDataset("noisy", domains, (4,), ["0", "1"], ["a", "b"])


def test_groupdro_weights_sum_to_one_and_shift_to_the_worst_domain():
    data = _noisy_last_domain()
    dro = build("groupdro", data, groupdro_eta=0.5, lr=1e-2)
    for batches in draw(data, 40, batch_size=16):
        dro.update(batches)
        assert float(dro.q.sum()) == pytest.approx(1.0, abs=1e-6)
        assert (dro.q > 0).all()
    assert int(dro.q.argmax()) == 2 and float(dro.q[2]) > 0.5


def test_groupdro_over_domain_sensitive_pairs(tiny_tabular):
    dro = build("groupdro", tiny_tabular, groupdro_groups="domain_sensitive")
    assert dro.q.shape == (3 * 2,)
    batches = draw(tiny_tabular, 1)[0]
    # a batch without group z=1 in domain 0: that group's weight only shrinks by normalisation
    batches[0] = Batch(*(t[batches[0].z == 0] for t in batches[0]))
    dro.update(batches)
    assert float(dro.q.sum()) == pytest.approx(1.0, abs=1e-6)
    assert float(dro.q[1]) < 1 / 6 < float(dro.q.max())
    with pytest.raises(ValueError, match="groupdro_groups"):
        build("groupdro", tiny_tabular, groupdro_groups="sex")


# -- MLDG ------------------------------------------------------------------------------------


def test_mldg_pairs_meta_train_with_meta_test_domains(tiny_tabular):
    batches = draw(tiny_tabular, 1)[0]
    torch.manual_seed(0)
    pairs = meta_train_test_pairs(batches, n_meta_test=2)
    assert len(pairs) == 1  # 3 domains: 1 meta-train, 2 meta-test
    assert len(meta_train_test_pairs(batches[:2], n_meta_test=2)) == 1  # clamped to n - 1
    (xi, _), (xj, _) = meta_train_test_pairs(batches[:1], n_meta_test=2)[0]
    assert len(xi) == len(xj) == 4  # one domain: its batch in halves


def test_mldg_trains_with_a_single_domain(tiny_tabular):
    single = MultiDomainDataset(
        "one", tiny_tabular.domains[:1], tiny_tabular.input_shape, ["neg", "pos"], ["a", "b"]
    )
    mldg = build("mldg", single)
    before = flat_state(mldg)
    mldg.update(draw(single, 1)[0])
    assert any(not torch.equal(v, flat_state(mldg)[k]) for k, v in before.items())


# -- DANN / CDANN ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dann", "cdann"])
def test_adversarial_schedule_and_discriminator_step_leaves_generator(name, tiny_tabular):
    algorithm = build(name, tiny_tabular, d_steps_per_g_step=2, dann_grad_penalty=0.1)
    data = draw(tiny_tabular, 3)
    kinds = []
    for batches in data:
        generator_before = {k: v.clone() for k, v in algorithm.network.state_dict().items()}
        stats = algorithm.update(batches)
        kinds.append("gen" if "gen_loss" in stats else "disc")
        if kinds[-1] == "disc":
            for k, v in algorithm.network.state_dict().items():
                assert torch.equal(v, generator_before[k]), k
    assert kinds == ["disc", "gen", "disc"]  # updates 1, 2, 3 with 2 disc steps per gen step


def test_cdann_discriminator_loss_weighs_classes_equally(tiny_tabular):
    cdann = build("cdann", tiny_tabular)
    y = torch.tensor([0, 0, 0, 1])
    d = torch.tensor([0, 1, 2, 0])
    features = torch.randn(4, cdann.featurizer.n_outputs)
    with torch.no_grad():
        loss = cdann.disc_loss(features, y, d)
        ce = F.cross_entropy(
            cdann.discriminator(features + cdann.class_embeddings(y)), d, reduction="none"
        )
    assert torch.allclose(loss, 0.5 * ce[:3].mean() + 0.5 * ce[3], atol=1e-6)


# -- fairness option -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["erm", "irm", "mixup"])
def test_fair_lambda_lowers_relaxed_dp(name, tiny_tabular):
    data = draw(tiny_tabular, 150, batch_size=16)
    x = torch.cat([d.x for d in tiny_tabular.domains])
    z = torch.cat([d.z for d in tiny_tabular.domains])
    gaps = {}
    for weight in (0.0, 5.0):
        algorithm = build(name, tiny_tabular, fair_lambda=weight, lr=1e-2, batch_size=16)
        for batches in data:
            algorithm.update(batches)
        algorithm.eval()
        with torch.no_grad():
            scores = torch.softmax(algorithm.predict(x), dim=1)[:, 1]
        gaps[weight] = float(relaxed_dp(scores, z))
    assert gaps[5.0] < 0.5 * gaps[0.0], gaps
