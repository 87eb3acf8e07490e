"""RunConfig's val_fraction and test_fraction: checked, out of the run id at their defaults,
applied by the split, and a run without test rows (FairClassifier's)."""

from __future__ import annotations

import pytest

from fairdg.training import RunConfig, train


def test_fractions_are_checked():
    for bad in ({"val_fraction": 0}, {"val_fraction": 1.0}, {"test_fraction": -0.1}):
        with pytest.raises(ValueError, match="fraction"):
            RunConfig(**bad)
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction below 1"):
        RunConfig(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="val_fraction must be a number"):
        RunConfig(val_fraction=True)


def test_default_fractions_keep_run_ids():
    config = RunConfig(dataset="adult")
    assert "val_fraction" not in config.hashed_dict()
    assert "test_fraction" not in config.hashed_dict()
    assert config.run_id() != config.replace(test_fraction=0.0).run_id()
    assert config.replace(val_fraction=0.3).hashed_dict()["val_fraction"] == 0.3


def test_split_follows_the_fractions(tiny_tabular):
    rows = len(tiny_tabular.domains[0].y)
    split = RunConfig(val_fraction=0.25, test_fraction=0.0).split_data(tiny_tabular)
    parts = split.parts[tiny_tabular.domain_names[0]]
    assert len(parts["test"].y) == 0 and len(parts["val"].y) == rows // 4
    assert len(parts["train"].y) == rows - rows // 4


def test_a_run_without_test_rows_evaluates_validation_only(tmp_path, tiny_tabular):
    config = RunConfig(
        dataset="tiny",
        steps=4,
        eval_every=2,
        quiet=True,
        output_dir=str(tmp_path),
        test_fraction=0,
    )
    metrics = train(config, dataset=tiny_tabular).record["metrics"]
    assert metrics["test"] == {"n": 0.0}  # no test rows: a count, no metrics
    assert all(metrics[f"{d}/test"] == {"n": 0.0} for d in tiny_tabular.domain_names)
    assert metrics["val"]["n"] > 0
    held_out = train(config.replace(test_domains=("d2",)), dataset=tiny_tabular)
    assert {"test", "oracle", "d2/test"} <= set(held_out.record["metrics"])  # all of d2's rows
