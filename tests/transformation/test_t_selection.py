"""T is selected on the sources' validation loss (FDDG appendix C), not taken at its last step."""

from __future__ import annotations

import pytest
import torch

from fairdg.data.synthetic import load_synthetic
from fairdg.transformation import default_config, fit_transformation
from fairdg.transformation.trainer import validation_loss

SMALL = {"hidden": 16, "semantic_dim": 8, "content_dim": 4, "batch_size": 16}


def test_selected_weights_are_the_checkpoint_with_the_lowest_validation_loss():
    dataset = load_synthetic(n_domains=3, n_per_domain=40, n_features=6)
    config = default_config(dataset, **SMALL)
    model = fit_transformation(dataset, config, test_domains=["env2"], steps=30, quiet=True)
    meta = model.meta
    assert meta["select"] == "val_loss" and len(meta["selection"]) == 10
    best = min(meta["selection"], key=lambda r: r["val_loss"])
    assert meta["selected_step"] == best["step"]
    split = dataset.split(0, ["env2"])
    val_x = torch.cat([split.parts[n]["val"].x for n in split.train_domains])
    val_z = torch.cat([split.parts[n]["val"].z for n in split.train_domains])
    assert validation_loss(model, val_x, val_z, 0) == pytest.approx(best["val_loss"], rel=1e-5)
    last = fit_transformation(
        dataset, config, test_domains=["env2"], steps=30, quiet=True, select="last"
    )
    assert last.meta["selected_step"] == 30 and last.meta["selection"] == []
    with pytest.raises(ValueError, match="select must be"):
        fit_transformation(dataset, config, steps=1, select="best")
