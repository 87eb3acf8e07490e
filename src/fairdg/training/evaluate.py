"""Evaluation: one inference pass per (domain, split), every metric derived from it."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fairdg.data.base import Split
from fairdg.metrics.catalogue import FAIR_METRIC_KEYS, is_minimised
from fairdg.metrics.degenerate import DEFAULT_MIN_POSITIVE_RATE, degenerate_reason
from fairdg.metrics.evaluate import evaluate_with_reasons
from fairdg.training.config import MIN_GROUP_SIZE

# Bytes of one layer's activations per inference chunk. Chunks of a fixed image count (4,096)
# allocated ~200 MB per CNN layer, which the allocator maps and page-faults afresh every chunk;
# chunks whose layers fit in a few MiB reuse warm memory and run 2-3x faster on a CPU.
EVAL_LAYER_BUDGET = 16 * 2**20


def check_groups(algorithm, z: torch.Tensor | None) -> None:
    """Refuse to predict without the groups for an algorithm that decides with them."""
    if z is None and getattr(algorithm, "USES_GROUPS_AT_PREDICTION", False):
        raise ValueError(
            f"{type(algorithm).__name__} decides with each row's sensitive group "
            "(post-processing): pass the groups (z); for `fairdg predict` and "
            "FairClassifier.predict, the sensitive column / sensitive_features"
        )


def _logits(algorithm, x: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
    if z is not None and getattr(algorithm, "USES_GROUPS_AT_PREDICTION", False):
        return algorithm.predict_with_groups(x, z)
    return algorithm.predict(x)


def chunk_size(
    algorithm, x: torch.Tensor, budget: int = EVAL_LAYER_BUDGET, z: torch.Tensor | None = None
) -> int:
    """Rows per inference chunk such that no layer's output exceeds `budget` bytes.

    One row of `x` is passed through ``algorithm.predict`` with forward hooks that record the
    largest output of any module (and the row itself); the chunk is ``budget // that size``.
    """
    if len(x) == 0:
        return 1
    largest = [x[:1].element_size() * x[:1].numel()]

    def hook(_module, _inputs, output) -> None:
        if isinstance(output, torch.Tensor):
            largest[0] = max(largest[0], output.element_size() * output.numel())

    handles = [m.register_forward_hook(hook) for m in algorithm.modules()]
    try:
        with torch.inference_mode():
            _logits(algorithm, x[:1], None if z is None else z[:1])
    finally:
        for handle in handles:
            handle.remove()
    return max(1, budget // largest[0])


def predict_proba(
    algorithm,
    x: torch.Tensor,
    batch_size: int | None = None,
    budget: int = EVAL_LAYER_BUDGET,
    z: torch.Tensor | None = None,
) -> torch.Tensor:
    """Class probabilities for `x`, on the CPU.

    Runs under ``torch.inference_mode`` in chunks of `batch_size` rows (default: as many as
    keep every layer's output within `budget` bytes, see `chunk_size`), each written into one
    preallocated output tensor. An algorithm that decides with each row's sensitive group
    (``USES_GROUPS_AT_PREDICTION``, e.g. post-processing) needs their ids `z` and is called
    through ``predict_with_groups``; without `z` it is an error.
    """
    check_groups(algorithm, z)
    if batch_size is None:
        batch_size = chunk_size(algorithm, x, budget, z)
    out = torch.empty(0, getattr(algorithm, "num_classes", 0))  # an empty part: no rows
    for i in range(0, len(x), batch_size):
        part = None if z is None else z[i : i + batch_size]
        with torch.inference_mode():
            probs = torch.softmax(_logits(algorithm, x[i : i + batch_size], part).float(), dim=1)
        if i == 0:  # allocated outside inference mode: callers get an ordinary tensor
            out = torch.empty(len(x), probs.shape[1])
        out[i : i + len(probs)] = probs
    return out


Pair = tuple[str, str]


def evaluation_sets(split: Split) -> tuple[list[Pair], dict[str, list[Pair]]]:
    """The (domain, part) pairs to predict and the pooled sets built from them.

    Pooled sets: ``val`` (training domains' validation rows: model selection), ``test``
    (held-out domains' test rows, or every domain's test rows when none is held out) and
    ``oracle`` (held-out domains' validation rows; test-domain selection, reference only).
    """
    pairs = [(name, part) for name in split.train_domains for part in ("val", "test")]
    pairs += [(name, part) for name in split.test_domains for part in ("val", "test")]
    pooled = {"val": [(n, "val") for n in split.train_domains]}
    if split.test_domains:
        pooled["test"] = [(n, "test") for n in split.test_domains]
        pooled["oracle"] = [(n, "val") for n in split.test_domains]
    else:
        pooled["test"] = [(n, "test") for n in split.train_domains]
    return pairs, pooled


def evaluate_split(
    algorithm,
    split: Split,
    device: str | torch.device,
    min_group_size: int = MIN_GROUP_SIZE,
    min_positive_rate: float = DEFAULT_MIN_POSITIVE_RATE,
) -> dict[str, dict]:
    """Metrics for every domain part (key ``"<domain>/<part>"``) and every pooled set.

    Per-group keys name groups by value (``count/female``). Each set whose metrics hold
    undefined (NaN) values carries ``"undefined": {key: reason}``; a metric comparing a group
    with fewer than `min_group_size` rows there is one of them (see `evaluate_with_reasons`).
    A set whose predictions are degenerate (`fairdg.metrics.degenerate`: positive rate outside
    ``[min_positive_rate, 1 - min_positive_rate]`` or no score spread) carries
    ``"degenerate": reason``; its metrics are still computed.
    """
    names = np.asarray([str(g) for g in split.dataset.group_names], dtype=object)
    pairs, pooled = evaluation_sets(split)
    was_training = algorithm.training
    algorithm.eval()
    cache: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
    for name, part in pairs:
        data = split.parts[name][part]
        cache[(name, part)] = (
            data.y.cpu(),
            predict_proba(algorithm, data.x.to(device), z=data.z.to(device)),
            data.z.cpu(),
        )
    algorithm.train(was_training)
    metrics: dict[str, dict[str, Any]] = {}
    for key, members in pooled.items():
        ys, ps, zs = zip(*(cache[m] for m in members), strict=True)
        y, p, z = torch.cat(ys), torch.cat(ps), torch.cat(zs)
        metrics[key] = _metrics(y, p, names[z.numpy()], min_group_size, key, min_positive_rate)
    for (name, part), (y, p, z) in cache.items():
        where = f"{name}/{part}"
        metrics[where] = _metrics(y, p, names[z.numpy()], min_group_size, where, min_positive_rate)
    return metrics


def _metrics(
    y: torch.Tensor,
    probs: torch.Tensor,
    groups: np.ndarray,
    min_group_size: int,
    where: str,
    min_positive_rate: float = DEFAULT_MIN_POSITIVE_RATE,
) -> dict[str, Any]:
    if len(y) == 0:
        return {"n": 0.0}
    if len(set(groups.tolist())) < 2:  # fairness is undefined; accuracy is not
        out: dict[str, Any] = {
            "n": float(len(y)),
            "accuracy": float((probs.argmax(1) == y).double().mean()),
            "undefined": {"fairness": f"one sensitive group only in {where}"},
        }
        if probs.shape[1] == 2:
            out["positive_rate"] = float((probs[:, 1] > 0.5).double().mean())
    else:
        results, reasons = evaluate_with_reasons(
            y.numpy(),
            probs.numpy(),
            sensitive_features=groups,
            min_group_size=min_group_size,
            where=where,
        )
        out = dict(results)
        if reasons:
            out["undefined"] = reasons
    reason = _degenerate(probs, out.get("positive_rate"), min_positive_rate)
    if reason:
        out["degenerate"] = reason
    return out


def _degenerate(
    probs: torch.Tensor, positive_rate: float | None, min_positive_rate: float
) -> str | None:
    """`fairdg.metrics.degenerate_reason` of one set's predictions."""
    if probs.shape[1] == 2:
        return degenerate_reason(
            probs[:, 1].numpy(), positive_rate=positive_rate, min_positive_rate=min_positive_rate
        )
    return degenerate_reason(probs.numpy(), predicted_classes=len(torch.unique(probs.argmax(1))))


def degenerate_warnings(metrics: dict[str, dict], sets=("val", "test")) -> list[str]:
    """One line per pooled set whose predictions are degenerate (`evaluate_split`)."""
    return [
        f"{name}: {metrics[name]['degenerate']}; its fairness metrics describe a model that "
        "does not decide, not a fair one"
        for name in sets
        if metrics.get(name, {}).get("degenerate")
    ]


def degenerate_line(metrics: dict[str, dict], sets=("val", "test")) -> str | None:
    """The degenerate sets of an evaluation as one line (sets sharing a reason named once),
    or None when none is degenerate."""
    by_reason: dict[str, list[str]] = {}
    for name in sets:
        reason = metrics.get(name, {}).get("degenerate")
        if reason:
            by_reason.setdefault(reason, []).append(name)
    if not by_reason:
        return None
    parts = [f"{' and '.join(names)}: {reason}" for reason, names in by_reason.items()]
    return "; ".join(parts) + "; its fairness figures describe a model that does not decide"


def small_group_warnings(metrics: dict[str, dict], sets=("val", "test", "oracle")) -> list[str]:
    """One line per pooled set whose metrics are undefined because of a small group."""
    lines = []
    for name in sets:
        reasons = metrics.get(name, {}).get("undefined", {})
        small = sorted({r for r in reasons.values() if "min_group_size" in r})
        if small:
            lines.append(f"{name}: metrics comparing groups are undefined: {small[0]}")
    return lines


def check_evaluable(split: Split, test: bool = True) -> None:
    """Refuse a split whose pooled validation set (or, with `test`, test set) is empty (every
    metric would be NaN), before training."""
    _, pooled = evaluation_sets(split)
    for key in ("val", "test") if test else ("val",):
        if not sum(len(split.parts[n][p].y) for n, p in pooled[key]):
            rows = {n: sum(len(d.y) for d in split.parts[n].values()) for n in split.parts}
            raise ValueError(
                f"dataset {split.dataset.name!r} has too few rows for a {key} set (rows per "
                f"domain: {rows}); every domain needs at least ~10 rows: add rows, or merge "
                "small domains"
            )


def metric_names(
    num_classes: int, num_groups: int, group_names: list[str] | None = None
) -> set[str]:
    """The metric keys an evaluation produces for this many classes and groups (read off an
    evaluation of a small balanced sample, so the list cannot drift from the code); per-group
    keys name the groups by `group_names` (default: their indices)."""
    n = 4 * num_classes * num_groups
    index = torch.arange(n)
    y, z = index % num_classes, (index // num_classes) % num_groups
    logits = torch.sin(index.view(-1, 1) * (1.0 + torch.arange(num_classes)))
    names = np.asarray(group_names or [str(g) for g in range(num_groups)], dtype=object)
    metrics = _metrics(y, torch.softmax(logits.double(), 1), names[z.numpy()], 0, "names")
    return set(metrics) - {"undefined", "degenerate"}


def check_selection(criterion: str, split: Split, num_classes: int, num_groups: int) -> None:
    """Refuse a selection criterion naming a set or metric that evaluation never produces.

    Raises
    ------
    ValueError
        Listing the valid sets or metrics (and the closest one).
    """
    pairs, pooled = evaluation_sets(split)
    sets = list(pooled) + [f"{n}/{p}" for n, p in pairs]
    set_name, _, metric = criterion.partition(".")
    if set_name not in sets:
        raise ValueError(_unknown("set", set_name, criterion, sets))
    group_names = [str(g) for g in split.dataset.group_names]
    names = sorted(metric_names(num_classes, num_groups, group_names))
    if metric not in names:
        raise ValueError(_unknown("metric", metric, criterion, names))


def _unknown(kind: str, name: str, criterion: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"--selection {criterion!r}: unknown {kind} {name!r}{hint}; valid {kind}s: "
        f"{', '.join(valid)}"
    )


def lookup(metrics: dict[str, dict], criterion: str) -> float:
    """Value of ``"<set>.<metric>"`` in an evaluation (NaN when absent)."""
    set_name, _, metric = criterion.partition(".")
    value = metrics.get(set_name, {}).get(metric)
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class Selection:
    """How a run chooses its checkpoint: the criterion ``"<set>.<metric>"`` and, for a run
    with a fairness constraint (``fair_tolerance`` > 0), the key and tolerance it must meet on
    the same set.

    Evaluations are ranked in tiers, best first: (2) not degenerate and meeting the constraint
    (or unconstrained), by the criterion; (1) not degenerate, constrained but not meeting it, by
    the smallest gap (the closest); (0) degenerate (a constant predictor), by the criterion. A
    degenerate evaluation is thus chosen only when every evaluation of the run is degenerate.
    """

    criterion: str
    constraint_metric: str | None = None
    tolerance: float = 0.0

    @classmethod
    def of(cls, criterion: str, hparams: dict[str, Any]) -> Selection:
        """The selection of a run with these resolved hyperparameters."""
        tolerance = float(hparams.get("fair_tolerance") or 0.0)
        if tolerance <= 0:
            return cls(criterion)
        return cls(criterion, FAIR_METRIC_KEYS[hparams.get("fair_metric", "dp")], tolerance)

    @property
    def set_name(self) -> str:
        return self.criterion.partition(".")[0]

    def rank(self, metrics: dict[str, dict]) -> tuple[int, float]:
        """(tier, score) of one evaluation: larger is better (see the class docstring)."""
        value = lookup(metrics, self.criterion)
        if math.isnan(value):
            score = -math.inf
        else:
            score = -value if is_minimised(self.criterion.partition(".")[2]) else value
        if metrics.get(self.set_name, {}).get("degenerate"):
            return 0, score
        if self.constraint_metric is None:
            return 2, score
        gap = lookup(metrics, f"{self.set_name}.{self.constraint_metric}")
        if gap <= self.tolerance:  # NaN (undefined) never meets it
            return 2, score
        return 1, -math.inf if math.isnan(gap) else -gap

    def note(self, metrics: dict[str, dict] | None) -> dict[str, Any]:
        """Record entries saying how the selected evaluation `metrics` was chosen:
        ``selection_note`` (one line, when the choice is not plainly the best criterion) and,
        for a constrained run, ``constraint`` (key, tolerance, value, met)."""
        if metrics is None:
            return {}
        tier, _ = self.rank(metrics)
        out: dict[str, Any] = {}
        where = self.set_name
        if self.constraint_metric is not None:
            key = f"{where}.{self.constraint_metric}"
            gap = lookup(metrics, key)
            out["constraint"] = {
                "metric": key,
                "tolerance": self.tolerance,
                "value": None if math.isnan(gap) else gap,
                "met": tier == 2,
            }
            out["selection_note"] = (
                f"best {self.criterion} among the evaluations with {key} <= {self.tolerance:g} "
                "that are not degenerate"
                if tier == 2
                else f"no evaluation met {key} <= {self.tolerance:g} without being degenerate: "
                f"the closest one ({key} {gap:.4f}) is selected"
            )
        if tier == 0:
            out["selection_note"] = (
                f"every evaluation is degenerate on {where} "
                f"({metrics[where]['degenerate']}): the selected one is a constant predictor"
            )
        return out
