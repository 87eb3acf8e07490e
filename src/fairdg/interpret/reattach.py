"""Re-attachment of the sensitive attribute (the affinity paper, section 3, eq. (4), figure 4).

On a frozen representation g(x), a single linear unit combines g into a scalar r and the
sensitive attribute z is fed back as a second input:

    y_hat = sigmoid(w_r * r + w_z . onehot(z) + b),    r = standardise(v . g(x)).

Both are fitted together (logistic regression of y on [g(x), onehot(z)], L-BFGS), then r is
standardised with training statistics, so ``w_r`` is the change of the log-odds per standard
deviation of r and ``w_z[g]`` the change for group g against the first group. Because a fair r is
(nearly) independent of z, the two weights compare the influence of z with that of everything
else. The fitted model is the "z reattached" column of Table 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from fairdg.data.base import Split
from fairdg.interpret.probes import fit_linear, pooled, probe_accuracies, representations
from fairdg.metrics import evaluate as evaluate_metrics


@dataclass
class Reattachment:
    """The fitted eq. (4) model and its test metrics.

    ``w_z`` maps each non-reference group name to its weight (reference: the first group);
    ``metrics`` is `fairdg.metrics.evaluate` of the model on the test split; ``r_test`` and
    ``z_test`` are the standardised r and the groups of the test samples (for histograms).
    """

    w_r: float
    w_z: dict[str, float]
    b: float
    direction: torch.Tensor  # v: r_raw = v . (g - mean) / std
    metrics: dict[str, Any]
    sensitive_probe: dict[str, float] = field(default_factory=dict)
    r_test: torch.Tensor | None = None
    z_test: torch.Tensor | None = None


def _onehot(z: torch.Tensor, num_groups: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(z.long(), num_groups)[:, 1:].float()


def fit_reattachment(
    train_features: torch.Tensor,
    train_y: torch.Tensor,
    train_z: torch.Tensor,
    test_features: torch.Tensor,
    test_y: torch.Tensor,
    test_z: torch.Tensor,
    group_names: list[str] | None = None,
) -> Reattachment:
    """Fit eq. (4) on training features and evaluate it on test features (binary y)."""
    if int(max(train_y.max(), test_y.max())) > 1:
        raise ValueError("re-attachment needs a binary target (y in {0, 1}); got more classes")
    num_groups = int(max(train_z.max(), test_z.max())) + 1
    names = group_names or [str(g) for g in range(num_groups)]
    k = train_features.shape[1]
    inputs = torch.cat([train_features.float(), _onehot(train_z, num_groups)], 1)
    probe = fit_linear(inputs, train_y, 2)
    # binary logit = difference of the two class scores, on standardised inputs
    weight = probe.weight[1] - probe.weight[0]
    bias = float(probe.bias[1] - probe.bias[0])
    v = weight[:k]
    w_groups = weight[k:] / probe.std[k:]  # back to raw one-hot units

    def raw_r(features):
        return ((features.float() - probe.mean[:k]) / probe.std[:k]) @ v

    r_train = raw_r(train_features)
    r_mean, r_std = float(r_train.mean()), float(r_train.std(unbiased=False)) or 1.0
    # logit = r_raw + (w_groups . (onehot - mean_z)) + bias = w_r r + w_z . onehot + b
    b = bias + r_mean - float((w_groups * probe.mean[k:]).sum())
    r_test = (raw_r(test_features) - r_mean) / r_std
    scores = torch.sigmoid(r_std * r_test + _onehot(test_z, num_groups) @ w_groups + b)
    metrics = evaluate_metrics(
        test_y.numpy(), scores.numpy(), sensitive_features=test_z.numpy(), on_undefined="ignore"
    )
    return Reattachment(
        w_r=r_std,
        w_z={names[g]: float(w_groups[g - 1]) for g in range(1, num_groups)},
        b=b,
        direction=v,
        metrics=metrics,
        r_test=r_test,
        z_test=test_z.clone(),
    )


def reattach(algorithm, split: Split, *, probe_sensitive: bool = True) -> Reattachment:
    """Eq. (4) on `algorithm`'s frozen representation: fit on train, metrics on test.

    With `probe_sensitive`, also the sensitive-attribute probe on the re-attached model's
    inputs [g(x), z] (Table 3's last column: z is an input, so the probe reads it off).
    """
    x_tr, y_tr, z_tr = pooled(split, "train")
    x_te, y_te, z_te = pooled(split, "test")
    g_tr, g_te = representations(algorithm, x_tr), representations(algorithm, x_te)
    names = split.dataset.group_names
    result = fit_reattachment(g_tr, y_tr, z_tr, g_te, y_te, z_te, group_names=names)
    if probe_sensitive:
        groups = len(names)
        result.sensitive_probe = probe_accuracies(
            torch.cat([g_tr, _onehot(z_tr, groups)], 1),
            y_tr,
            z_tr,
            torch.cat([g_te, _onehot(z_te, groups)], 1),
            y_te,
            z_te,
            group_names=names,
        )
    return result
