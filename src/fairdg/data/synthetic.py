"""Synthetic tabular domains with a known causal structure, covariate and dependence shift.

Per domain e (structural equations, all noise independent):

- y ~ Bernoulli(1/2)
- z = y XOR f, f ~ Bernoulli(q_e): the dependence shift. q_e = P(z != y) in domain e; the
  dependence score (DP ratio of the labels) is q_e / (1 - q_e) for q_e <= 1/2.
- u = mu (2y - 1) w + sensitive_strength (2z - 1) v + N(0, I_k): latent features caused by the
  target (direction w) and by the sensitive attribute (direction v, a proxy of z in x).
- x = A_e u + b_e: the covariate shift, a per-domain linear map A_e = I + s R_e and offset
  b_e = s c_e with R_e, c_e standard normal (scaled by 1/sqrt(k)) and s = ``covariate_shift``.

So P(y | u) is the same in every domain (no concept shift), P(x) shifts with s, and the
correlation between y and z shifts with q_e: a model that is fair on the sources' q need not be
fair on a target domain with another q. Domains are named ``env0``, ``env1``, ...
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.datasets_info import DATASET_INFO


def _dependence_list(dependence, n_domains: int) -> list[float]:
    if dependence is None:  # from strongly dependent to independent
        return [0.1 + 0.4 * e / max(1, n_domains - 1) for e in range(n_domains)]
    values = [dependence] * n_domains if isinstance(dependence, int | float) else list(dependence)
    if len(values) != n_domains or not all(
        isinstance(v, int | float) and 0 <= v <= 1 for v in values
    ):
        raise ValueError(
            f"synthetic: dependence must be a number or {n_domains} numbers "
            f"(P(z != y) per domain) in [0, 1], got {dependence!r}"
        )
    return [float(v) for v in values]


def load_synthetic(
    root: str | None = None,
    *,
    n_domains: int = 4,
    n_per_domain: int = 2000,
    n_features: int = 10,
    covariate_shift: float = 1.0,
    dependence: Sequence[float] | float | None = None,
    signal: float = 1.0,
    sensitive_strength: float = 0.5,
    seed: int = 0,
) -> MultiDomainDataset:
    """Generate the synthetic multi-domain dataset (no files; `root` is ignored).

    Parameters
    ----------
    n_domains, n_per_domain, n_features
        Number of domains (>= 2), samples per domain (>= 10) and features (>= 2).
    covariate_shift
        Strength s >= 0 of the per-domain feature transformation (0: same P(x | y, z)).
    dependence
        P(z != y) per domain (a number for all, or one per domain); default: evenly spaced
        from 0.1 (strong dependence) to 0.5 (independent).
    signal
        Separation mu of the classes along w.
    sensitive_strength
        How strongly z shows in the features (0: x carries no trace of z beyond y).
    seed
        Seed of the whole generator.
    """
    for name, value, low in (
        ("n_domains", n_domains, 2),
        ("n_per_domain", n_per_domain, 10),
        ("n_features", n_features, 2),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"synthetic: {name} must be an integer >= {low}, got {value!r}")
    if not isinstance(covariate_shift, int | float) or covariate_shift < 0:
        raise ValueError(
            f"synthetic: covariate_shift must be a number >= 0, got {covariate_shift!r}"
        )
    flip_rates = _dependence_list(dependence, n_domains)
    g = torch.Generator().manual_seed(seed)
    k = n_features
    w = torch.randn(k, generator=g)
    w /= w.norm()
    v = torch.randn(k, generator=g)
    v -= (v @ w) * w  # orthogonal to w, so z's trace is not the class signal
    v /= v.norm()
    domains = []
    for e, q in enumerate(flip_rates):
        rot = torch.eye(k) + covariate_shift * torch.randn(k, k, generator=g) / k**0.5
        offset = covariate_shift * torch.randn(k, generator=g)
        y = (torch.rand(n_per_domain, generator=g) < 0.5).long()
        z = y ^ (torch.rand(n_per_domain, generator=g) < q).long()
        z[:2] = torch.tensor([0, 1])  # both groups present even for extreme q
        u = (
            signal * (2 * y - 1).float()[:, None] * w
            + sensitive_strength * (2 * z - 1).float()[:, None] * v
            + torch.randn(n_per_domain, k, generator=g)
        )
        x = u @ rot.T + offset
        domains.append(Domain(f"env{e}", x.float(), y, z))
    return MultiDomainDataset(
        name="synthetic",
        domains=domains,
        input_shape=(k,),
        class_names=["negative", "positive"],
        group_names=["z=0", "z=1"],
        sensitive_name="z",
        standardize=list(range(k)),
        feature_names=[f"x{i}" for i in range(k)],
        default_steps=DATASET_INFO["synthetic"].default_steps,
        default_hparams=dict(DATASET_INFO["synthetic"].default_hparams),
        meta={
            "generator": "y -> z (flip q_e), (y, z) -> u, x = A_e u + b_e",
            "flip_rates": flip_rates,
            "covariate_shift": covariate_shift,
            "seed": seed,
        },
    )
