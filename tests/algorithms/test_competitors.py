"""What defines each of FDDG's fairness-aware competitors (mbdg, ddg, their -FC variants, eiil,
farconvae, fatdm), on tiny generated data; the registry-driven tests cover the contract."""

from __future__ import annotations

import pytest
import torch
from algorithm_helpers import build, draw
from sklearn.linear_model import LogisticRegression

from fairdg.algorithms.constrained import random_partners
from fairdg.algorithms.eiil import infer_environments, scale_gradients
from fairdg.algorithms.farconvae import gaussian_kl
from fairdg.algorithms.fatdm import equalized_odds_gap
from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.losses import relaxed_dp


def spurious_dataset(n: int = 200, agree: float = 0.9, seed: int = 0) -> MultiDomainDataset:
    """Two domains; feature 0 a weak signal of y, feature 1 a strong spurious copy of y that
    agrees with it in a fraction `agree` of the rows; z follows y in 80% of the rows and is
    visible in feature 2."""
    g = torch.Generator().manual_seed(seed)
    domains = []
    for d in range(2):
        y = (torch.rand(n, generator=g) < 0.5).long()
        spur = torch.where(torch.rand(n, generator=g) < agree, y, 1 - y)
        z = torch.where(torch.rand(n, generator=g) < 0.8, y, 1 - y)
        x = torch.randn(n, 4, generator=g) * 0.5
        x[:, 0] += 0.5 * y
        x[:, 1] += 3.0 * spur
        x[:, 2] += 2.0 * z
        dom = Domain(f"e{d}", x, y, z)
        dom.spurious = spur  # kept for the test's check only
        domains.append(dom)
    return MultiDomainDataset(
        name="spurious",
        domains=domains,
        input_shape=(4,),
        class_names=["0", "1"],
        group_names=["a", "b"],
        standardize=None,
        default_steps=10,
        default_hparams={},
    )


def train_steps(algorithm, dataset, steps: int, batch_size: int = 32):
    algorithm.train()
    return [algorithm.update(b) for b in draw(dataset, steps, batch_size)]


def pooled(dataset):
    return (torch.cat([getattr(d, a) for d in dataset.domains]) for a in ("x", "y", "z"))


# -- shared helper ----------------------------------------------------------------------------
def test_random_partners_respect_key_and_group():
    torch.manual_seed(0)
    key = torch.tensor([0, 0, 0, 1, 1, 2])
    group = torch.tensor([0, 1, 1, 0, 1, 0])
    for _ in range(20):
        p = random_partners(key, group)
        assert torch.equal(key[p], key)
        lonely = torch.tensor([False, False, False, False, False, True])
        assert (group[p] != group)[~lonely].all() and p[5] == 5  # no partner: itself
    assert (random_partners(key) != torch.arange(6))[:5].all()


# -- EIIL -------------------------------------------------------------------------------------
def test_environment_inference_separates_a_planted_spurious_feature():
    # a reference model that reads only the spurious feature: the rows where it disagrees with
    # y are the ones it gets wrong, and EI must put them in their own environment
    torch.manual_seed(0)
    n = 400
    y = (torch.rand(n) < 0.5).long()
    spur = torch.where(torch.rand(n) < 0.85, y, 1 - y)
    logits = torch.stack([torch.zeros(n), 4.0 * (2 * spur.float() - 1)], dim=1)
    envs = infer_environments(scale_gradients(logits, y), steps=50, lr=0.1)
    agrees = (spur == y).long()
    match = (envs == agrees).float().mean().item()
    assert max(match, 1 - match) > 0.95


def test_eiil_trains_a_reference_then_irm_on_environments_that_follow_the_spurious_feature():
    data = spurious_dataset()
    algorithm = build("eiil", data, eiil_ref_steps=150, lr=1e-2, eiil_ei_steps=300)
    algorithm.hparams["eiil_ei_lr"] = 0.05  # fewer, larger EI steps than the authors' (speed)
    stats = train_steps(algorithm, data, 150)
    assert all("ref_ce" in s for s in stats) and stats[-1]["ref_ce"] < stats[0]["ref_ce"]
    x, y, _ = pooled(data)
    spur = torch.cat([d.spurious for d in data.domains])
    torch.manual_seed(1)
    envs = algorithm.environments(x, y)
    match = (envs == (spur == y).long()).float().mean().item()
    assert max(match, 1 - match) > 0.85
    ref = {k: v.clone() for k, v in algorithm.reference.state_dict().items()}
    after = train_steps(algorithm, data, 3)  # stage 3: IRM; the reference stays frozen
    assert all({"nll", "penalty", "env1_share"} <= set(s) for s in after)
    assert all(torch.equal(v, algorithm.reference.state_dict()[k]) for k, v in ref.items())


def test_eiil_defaults_are_the_authors_schedule():
    hp = build("eiil", spurious_dataset()).hparams
    assert (hp["eiil_irm_anneal"], hp["eiil_irm_lambda"], hp["eiil_l2"]) == (100, 1e4, 1e-3)
    inference = (hp["eiil_inference"], hp["eiil_ei_steps"], hp["eiil_ei_lr"])
    assert inference == ("pooled", 10_000, 1e-3)


def _count_inferences(monkeypatch) -> list[int]:
    import fairdg.algorithms.eiil as eiil

    calls, original = [], eiil.infer_environments

    def counting(grads, steps, lr):
        calls.append(len(grads))
        return original(grads, steps, lr)

    monkeypatch.setattr(eiil, "infer_environments", counting)
    return calls


def test_eiil_infers_environments_once_on_the_pooled_rows_then_switches_the_penalty(
    monkeypatch,
):
    data = spurious_dataset()
    calls = _count_inferences(monkeypatch)
    algorithm = build(
        "eiil", data, eiil_ref_steps=2, eiil_irm_anneal=3, eiil_ei_steps=20, eiil_l2=0.0
    )
    stats = train_steps(algorithm, data, 8)
    n_pooled = sum(len(d) for d in data.domains)
    assert calls == [n_pooled]  # once, on every pooled training row, not per minibatch
    pairs = torch.cat(algorithm.env_rows)  # every (domain, row) pair exactly once
    assert len(pairs) == n_pooled and len({tuple(p) for p in pairs.tolist()}) == n_pooled
    weights = [s.get("penalty_weight") for s in stats]
    assert weights == [None, None, 1.0, 1.0, 1.0, 1e4, 1e4, 1e4]  # 2 ERM, 3 annealed, then
    last = stats[-1]  # the whole loss divided by the weight once it exceeds 1
    assert last["loss"] == pytest.approx(last["nll"] / 1e4 + last["penalty"], rel=1e-4)
    # resumed from extra_state, the environments are not inferred again
    state = algorithm.extra_state()
    again = build("eiil", data, eiil_ref_steps=2, eiil_irm_anneal=3, eiil_ei_steps=20)
    again.load_state_dict(algorithm.state_dict())
    again.load_extra(state)
    train_steps(again, data, 1)
    assert len(calls) == 1


def test_eiil_per_minibatch_inference_is_an_option(monkeypatch):
    data = spurious_dataset()
    calls = _count_inferences(monkeypatch)
    algorithm = build(
        "eiil", data, eiil_ref_steps=1, eiil_inference="batch", eiil_ei_steps=5, batch_size=16
    )
    train_steps(algorithm, data, 4, batch_size=16)
    assert calls == [32, 32, 32]  # every stage-3 minibatch (two domains of 16 rows)


def test_eiil_pooled_inference_needs_the_training_rows():
    data = spurious_dataset()
    algorithm = build("eiil", data, eiil_ref_steps=0)
    algorithm.train_domains = None
    with pytest.raises(ValueError, match="train_domains=split.train"):
        train_steps(algorithm, data, 1)


# -- MBDG / DDG: the primal-dual constraint ---------------------------------------------------
@pytest.mark.parametrize(
    ("name", "margin", "eta", "init"),
    [
        ("mbdg", "mbdg_gamma", "mbdg_dual_step_size", "mbdg_lambda_init"),
        ("ddg", "ddg_gamma", "ddg_eta", None),
    ],
)
def test_violated_constraint_raises_the_multiplier_and_lowers_the_constraint(
    name, margin, eta, init, tiny_image
):
    option = {"ddg_invariance": "kl"} if name == "ddg" else {}  # DDG's KL term is our option

    def run(step_size: float, start: float | None):
        extra = {init: start} if init and start is not None else {}
        extra.update(option)
        algorithm = build(name, tiny_image, seed=0, **{margin: 1e-6, eta: step_size}, **extra)
        if start is not None and init is None:
            algorithm.multipliers[0] = start
        torch.manual_seed(0)
        return algorithm, train_steps(algorithm, tiny_image, 40, batch_size=8)

    constrained, stats = run(5.0, None)
    lam = [s["lambda_inv"] for s in stats]
    assert lam == sorted(lam) and lam[-1] > 1.0  # violated throughout: the multiplier rises
    _, free = run(0.0, 0.0)  # the same run with the multiplier held at 0
    tail = lambda ss: sum(s["inv_constraint"] for s in ss[-10:]) / 10  # noqa: E731
    assert tail(stats) < tail(free)


def test_ddg_reconstruction_weight_is_clipped_to_one(tiny_tabular):
    algorithm = build("ddg", tiny_tabular, ddg_recon_eta=10.0, ddg_margin=0.0)
    stats = train_steps(algorithm, tiny_tabular, 3, batch_size=8)
    assert all(s["lambda_recon"] == 1.0 for s in stats)
    assert {"swap_ce", "recon_error"} <= set(stats[0])


def test_ddg_stage_one_is_the_authors_loss_with_one_dual_variable(tiny_image):
    algorithm = build("ddg", tiny_image, ddg_recon_init=0.3)
    stats = train_steps(algorithm, tiny_image, 3, batch_size=8)
    # no KL invariance term and no multiplier of its own: CE (x and its positive pair) + 0.5 CE
    # on swapped samples + lambda_rec * hinge; lambda_inv's slot never moves
    assert all("inv_constraint" not in s and "lambda_inv" not in s for s in stats)
    assert float(algorithm.multipliers[0]) == 1.0
    assert stats[0]["lambda_recon"] != 0.3  # the reconstruction weight is the dual variable


@pytest.mark.parametrize(("dataset", "margin"), [("ccmnist", 0.025), ("synthetic", 0.25)])
@pytest.mark.parametrize("hparams_seed", [0, 3])
def test_ddg_margin_is_the_authors_per_dataset_value(dataset, margin, hparams_seed):
    from fairdg.training.config import RunConfig
    from fairdg.training.loop import resolve_hparams

    config = RunConfig(dataset=dataset, algorithm="ddg", hparams_seed=hparams_seed)
    assert resolve_hparams(config)["ddg_margin"] == margin  # a fixed knob keeps the dataset's


# -- the -FC variants -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("plain", "fc", "knobs"),
    [
        ("mbdg", "mbdg-fc", {"mbdg_fair_gamma": 1e-4, "mbdg_fair_step_size": 2.0}),
        ("ddg", "ddg-fc", {"ddg_fair_gamma": 1e-4, "ddg_fair_eta": 2.0}),
    ],
)
def test_fc_variant_lowers_relaxed_dp(plain, fc, knobs):
    data = spurious_dataset()
    x, _, z = pooled(data)
    gaps = {}
    for name, extra in ((plain, {}), (fc, knobs)):
        algorithm = build(name, data, seed=0, lr=1e-2, **extra)
        torch.manual_seed(0)
        stats = train_steps(algorithm, data, 80)
        algorithm.eval()
        with torch.no_grad():
            gaps[name] = relaxed_dp(torch.softmax(algorithm.predict(x), 1)[:, 1], z).item()
        if name == fc:
            assert stats[-1]["lambda_fair"] > 1.0
    assert gaps[fc] < gaps[plain] - 0.1


# -- FarconVAE --------------------------------------------------------------------------------
def test_gaussian_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu_p, mu_q, lv_p, lv_q = (torch.randn(5, 3) for _ in range(4))
    p = torch.distributions.Normal(mu_p, (0.5 * lv_p).exp())
    q = torch.distributions.Normal(mu_q, (0.5 * lv_q).exp())
    expected = torch.distributions.kl_divergence(p, q).mean(1)
    assert torch.allclose(gaussian_kl(mu_p, lv_p, mu_q, lv_q), expected, atol=1e-5)


def _probe_z_accuracy(features: torch.Tensor, z: torch.Tensor) -> float:
    half = len(z) // 2
    f, t = features.numpy(), z.numpy()
    probe = LogisticRegression(max_iter=500).fit(f[:half], t[:half])
    return float(probe.score(f[half:], t[half:]))


def test_farconvae_row_pairing_hides_z_from_the_nonsensitive_latent():
    # ours: partners are other rows (same y, other z), so zx must not carry what differs
    data = spurious_dataset(agree=0.6)
    x, _, z = pooled(data)
    accuracy = {}
    for name, extra in (("erm", {}), ("farconvae", {"farcon_pairing": "row"})):
        algorithm = build(name, data, seed=0, lr=3e-3, **extra)
        torch.manual_seed(0)
        train_steps(algorithm, data, 150)
        algorithm.eval()
        with torch.no_grad():
            accuracy[name] = _probe_z_accuracy(algorithm.featurize(x), z)
    assert accuracy["farconvae"] < accuracy["erm"] - 0.05


def test_farconvae_flip_pairing_makes_zx_ignore_the_z_it_is_given():
    # the authors': the partner is the same x with z flipped, so zx learns to ignore the z
    # input (z information that x itself carries is untouched: docs/algorithms.md)
    data = spurious_dataset(agree=0.6)
    x, _, z = pooled(data)
    algorithm = build("farconvae", data, seed=0, lr=3e-3)
    torch.manual_seed(0)
    algorithm.eval()

    def gap() -> float:
        with torch.no_grad():
            a, b = algorithm.encode(x, z)[0][0], algorithm.encode(x, 1 - z)[0][0]
        return ((a - b).abs().mean() / a.abs().mean()).item()

    before = gap()
    train_steps(algorithm, data, 150)
    algorithm.eval()
    assert gap() < 0.5 * before


def test_farconvae_frozen_evaluation_trains_a_separate_classifier_on_a_frozen_vae():
    data = spurious_dataset()
    algorithm = build("farconvae", data, seed=0, farcon_vae_steps=3)
    train_steps(algorithm, data, 3)
    vae = {k: v.clone() for k, v in algorithm.state_dict().items() if "evaluator" not in k}
    head = algorithm.evaluator.weight.detach().clone()
    stats = train_steps(algorithm, data, 4)
    assert all(set(s) >= {"eval_ce"} and "contrast" not in s for s in stats)
    after = algorithm.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in vae.items() if k != "update_count")
    assert not torch.equal(head, algorithm.evaluator.weight)
    x = data.domains[0].x[:5]
    with torch.no_grad():
        expected = algorithm.evaluator(algorithm.featurize(x))
        assert torch.equal(algorithm.predict(x), expected)
    joint = build("farconvae", data, seed=0, farcon_eval="joint")
    assert not hasattr(joint, "evaluator")


# -- FATDM ------------------------------------------------------------------------------------
def test_equalized_odds_gap_by_hand():
    s = torch.tensor([0.9, 0.5, 0.4, 0.2, 0.1, 0.6])
    y = torch.tensor([1, 1, 1, 0, 0, 0])
    z = torch.tensor([1, 0, 0, 1, 0, 0])
    expected = (0.9 - 0.45) ** 2 + (0.2 - 0.35) ** 2
    assert equalized_odds_gap(s, y, z).item() == pytest.approx(expected)


def test_fatdm_translations_keep_class_and_cell_and_reach_other_domains(tiny_image):
    algorithm = build("fatdm", tiny_image)
    batches = draw(tiny_image, 1)[0]
    stats = algorithm.update(batches)
    assert stats["reg_y"] > 0 and stats["reg_yz"] > 0 and "eo_gap" in stats
    # no weight on invariance and fairness: FATDM's update is ERM's
    a = build("fatdm", tiny_image, fatdm_alpha=0.0, fatdm_fair_weight=0.0)
    e = build("erm", tiny_image)
    torch.manual_seed(0)
    a.update(batches)
    e.update(batches)
    assert torch.allclose(a.network[0].trunk[0].weight, e.network[0].trunk[0].weight, atol=1e-6)
