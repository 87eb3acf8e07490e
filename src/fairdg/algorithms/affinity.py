"""Affinity: cross-entropy plus the affinity loss on the representation layer.

"Learning what to ignore" (the affinity paper), equation (1):
``L = CE + affinity_lambda * L_affinity``, where ``L_affinity`` (`fairdg.losses.affinity_loss`,
equation (3) by default: anchors from the first group, normalised by ``|Y| |X1|``; `FORMS` names
it and the symmetric per-pair mean) pulls each sample's nearest same-class neighbour from another
group towards it in the representation (``featurize``, ``rep_dim`` units). One
update pools the minibatches of all training domains, computes the representation once, and takes
one Adam step on CE + lambda * affinity (+ the optional relaxed-DP penalty, ``fair_lambda``).

The groups are the sensitive attribute (``affinity_on="sensitive"``: fair representations) or
the domain index (``affinity_on="domain"``: domain adaptation, section 4 of the paper).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import Choice, HParam, Interval, LogUniform, OneOf
from fairdg.losses import MemoryBank, affinity_loss
from fairdg.losses.affinity import DISTANCES, MATCHINGS

AFFINITY_ON = ("sensitive", "domain")
# Named forms of the loss's anchors and normalisation (hyperparameter overrides).
# "eq3" (the default): anchors from the first group only, normalised by |Y| |X1|, as equation (3)
# is written. "symmetric": anchors from every group, each pair averaged over the anchors that
# have a neighbour (fairdg's default before; its lambda is about |Y| times stronger).
FORMS: dict[str, dict[str, bool]] = {
    "eq3": {"affinity_symmetric": False, "affinity_paper_norm": True},
    "symmetric": {"affinity_symmetric": True, "affinity_paper_norm": False},
}


def loss_options(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of `affinity_loss` that an Affinity run's hyperparameters select
    (everything but the bank); the domain-adaptation reproductions reuse them."""
    return {
        "distance": hparams["affinity_distance"],
        "class_conditional": bool(hparams["affinity_class_conditional"]),
        "symmetric": bool(hparams["affinity_symmetric"]),
        "paper_normalisation": bool(hparams["affinity_paper_norm"]),
        "scale_invariant": bool(hparams["affinity_scale_invariant"]),
        "matching": hparams["affinity_matching"],
        "projections": int(hparams["affinity_projections"]),
    }


class Affinity(FeaturizerClassifier):
    """ERM plus ``affinity_lambda`` times the affinity loss of the representation."""

    HPARAMS = {
        "affinity_lambda": HParam(
            0.01, LogUniform(-4, -1), "weight of the affinity loss", Interval(0)
        ),
        "affinity_distance": HParam(
            "l1", Choice(("l1",)), f"distance, one of {DISTANCES}", OneOf(DISTANCES)
        ),
        "affinity_on": HParam(
            "sensitive",
            Choice(("sensitive",)),
            "groups of the loss: 'sensitive' (z) or 'domain' (domain index)",
            OneOf(AFFINITY_ON),
        ),
        "affinity_class_conditional": HParam(
            True, Choice((True,)), "neighbours share the anchor's class (eq. 3)"
        ),
        "affinity_symmetric": HParam(
            False, Choice((False,)), "anchors from every group (False: X1 only, eq. 3)"
        ),
        "affinity_paper_norm": HParam(
            True, Choice((True,)), "normalise by |Y| |X_1| as eq. 3 (False: per-pair mean)"
        ),
        "affinity_scale_invariant": HParam(
            False, Choice((False,)), "divide by the within-class spread of the batch"
        ),
        "affinity_matching": HParam(
            "nearest",
            Choice(("nearest",)),
            f"one of {MATCHINGS}: nearest neighbour (eq. 3) or sliced one-to-one matching (ours)",
            OneOf(MATCHINGS),
        ),
        "affinity_projections": HParam(
            32,
            Choice((32,)),
            "random directions of affinity_matching='sorted'",
            Interval(1, integer=True),
        ),
        "affinity_bank": HParam(
            0,
            Choice((0,)),
            "memory bank rows per (class, group) cell (0 = no bank)",
            Interval(0, integer=True),
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        capacity = int(self.hparams["affinity_bank"])
        self.bank = MemoryBank(capacity) if capacity > 0 else None

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        x, y, z, d = cat(batches)
        groups = z if self.hparams["affinity_on"] == "sensitive" else d
        rep = self.featurize(x)
        logits = self.classifier(rep)
        ce = F.cross_entropy(logits, y)
        aff, aff_stats = affinity_loss(
            rep,
            y,
            groups,
            bank=self.bank,
            return_stats=True,
            **loss_options(self.hparams),
        )
        if self.bank is not None:
            self.bank.push(rep, y, groups)
        stats = {
            "loss": ce.item(),
            "affinity": aff.item(),
            "affinity_skipped": aff_stats["skipped"],
        }
        total = ce + float(self.hparams["affinity_lambda"]) * aff
        total = self.add_fairness(total, logits, z, stats, y)
        self.step(total)
        return stats

    def extra_state(self) -> dict[str, Any]:
        state = super().extra_state()
        if self.bank is not None:
            state["bank"] = self.bank.state_dict()
        return state

    def load_extra(self, state: Mapping[str, Any]) -> None:
        super().load_extra(state)
        if self.bank is not None and "bank" in state:
            self.bank.load_state_dict(state["bank"])
