"""Linear probes on a frozen representation (the affinity paper's Tables 1, 3 and 5).

After training, the featurizer is frozen and a new linear output layer is fitted on the
training split to predict (a) the target and (b) the sensitive attribute. A fair
representation keeps (a) high and brings (b) down to the majority rate. The probe is a
multinomial logistic regression on standardised features, fitted to convergence with L-BFGS
(a convex problem with a small L2 penalty, so the result does not depend on an initialisation
or a learning-rate schedule).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fairdg.data.base import Split
from fairdg.metrics import fairness_auc


@torch.no_grad()
def representations(algorithm, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """``algorithm.featurize(x)`` in eval mode, in chunks, on the CPU."""
    was_training = algorithm.training
    algorithm.eval()
    device = next(algorithm.parameters()).device
    out = [
        algorithm.featurize(x[i : i + batch_size].to(device)).float().cpu()
        for i in range(0, len(x), batch_size)
    ]
    algorithm.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, 0)


@dataclass
class LinearProbe:
    """A fitted linear classifier on standardised features."""

    mean: torch.Tensor
    std: torch.Tensor
    weight: torch.Tensor  # (classes, features)
    bias: torch.Tensor  # (classes,)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return ((features - self.mean) / self.std) @ self.weight.T + self.bias

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        return self.logits(features).argmax(dim=1)


def fit_linear(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int | None = None,
    *,
    l2: float = 1e-4,
    max_iter: int = 100,
) -> LinearProbe:
    """Multinomial logistic regression ``labels ~ features`` (L-BFGS, L2 penalty `l2`)."""
    if features.dim() != 2 or len(features) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"features must be (n, k) with n = len(labels) > 0; got features "
            f"{tuple(features.shape)} and labels {tuple(labels.shape)}"
        )
    x = features.double()
    labels = labels.long()
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    mean = x.mean(0)
    std = x.std(0, unbiased=False)
    std = torch.where(std > 1e-8, std, torch.ones_like(std))  # dead units stay 0
    xs = (x - mean) / std
    weight = torch.zeros(k, x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS(
        [weight, bias], max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe"
    )

    def closure():
        optimiser.zero_grad()
        loss = F.cross_entropy(xs @ weight.T + bias, labels) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimiser.step(closure)
    return LinearProbe(mean.float(), std.float(), weight.detach().float(), bias.detach().float())


def pooled(split: Split, part: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x, y, z of a part pooled over domains: ``train`` over the training domains; ``test`` as
    the evaluation does (held-out domains, or every domain when none is held out)."""
    names = (
        split.train_domains if part == "train" or not split.test_domains else (split.test_domains)
    )
    parts = [split.parts[n][part] for n in names]
    return (
        torch.cat([p.x for p in parts]),
        torch.cat([p.y for p in parts]),
        torch.cat([p.z for p in parts]),
    )


def probe_accuracies(
    train_features: torch.Tensor,
    train_y: torch.Tensor,
    train_z: torch.Tensor,
    test_features: torch.Tensor,
    test_y: torch.Tensor,
    test_z: torch.Tensor,
    group_names: list[str] | None = None,
) -> dict[str, float]:
    """Fit target and sensitive probes on train features; accuracies on test features.

    Keys: ``target_accuracy``, ``sensitive_accuracy``, ``sensitive_majority`` (accuracy of
    always predicting the largest training group: the floor of a fair representation), for two
    groups ``sensitive_auc`` (ROC AUC of the sensitive probe's score, folded to [0.5, 1] as in
    `fairdg.metrics.fairness_auc`: 0.5 when the probe finds nothing; unlike the accuracy it is
    not masked by a majority group), and per group ``g``:
    ``target_accuracy/g``, ``sensitive_accuracy/g``.
    """
    num_groups = int(max(train_z.max(), test_z.max())) + 1
    names = group_names or [str(g) for g in range(num_groups)]
    out: dict[str, float] = {}
    for label, train_t, test_t in (("target", train_y, test_y), ("sensitive", train_z, test_z)):
        k = int(max(train_t.max(), test_t.max())) + 1
        probe = fit_linear(train_features, train_t, k)
        logits = probe.logits(test_features)
        correct = (logits.argmax(dim=1) == test_t).double()
        out[f"{label}_accuracy"] = float(correct.mean())
        if label == "sensitive" and k == 2 and len(torch.unique(test_t)) == 2:
            score = torch.sigmoid(logits[:, 1] - logits[:, 0]).double().numpy()
            out["sensitive_auc"] = fairness_auc(None, score, sensitive_features=test_t.numpy())
        for g in range(num_groups):
            members = test_z == g
            if members.any():
                out[f"{label}_accuracy/{names[g]}"] = float(correct[members].mean())
    majority = int(torch.bincount(train_z, minlength=num_groups).argmax())
    out["sensitive_majority"] = float((test_z == majority).double().mean())
    return out


def representation_summary(features: torch.Tensor, active: float = 0.01) -> dict[str, float]:
    """How much of the representation is in use, on `features` (n, k).

    ``rep_active_units``: units that are nonzero on more than `active` of the samples (a ReLU
    unit can die); ``rep_rank``: singular values of the centred features above 1e-3 times the
    largest; ``rep_zero_rows``: fraction of samples whose representation is all zero;
    ``rep_scale``: mean absolute value.
    """
    x = features.double()
    singular = torch.linalg.svdvals(x - x.mean(0)) if len(x) > 1 else torch.zeros(1)
    top = float(singular.max()) if len(singular) else 0.0
    return {
        "rep_active_units": float(((x != 0).double().mean(0) > active).sum()),
        "rep_rank": float((singular > 1e-3 * top).sum()) if top > 0 else 0.0,
        "rep_zero_rows": float((x.abs().sum(1) == 0).double().mean()),
        "rep_scale": float(x.abs().mean()),
    }


def linear_probes(algorithm, split: Split) -> dict[str, float]:
    """Probe accuracies of `algorithm`'s frozen representation (fit on train, score on test),
    with `representation_summary` of the test representations."""
    x_tr, y_tr, z_tr = pooled(split, "train")
    x_te, y_te, z_te = pooled(split, "test")
    test_features = representations(algorithm, x_te)
    out = probe_accuracies(
        representations(algorithm, x_tr),
        y_tr,
        z_tr,
        test_features,
        y_te,
        z_te,
        group_names=split.dataset.group_names,
    )
    return {**out, **representation_summary(test_features)}
