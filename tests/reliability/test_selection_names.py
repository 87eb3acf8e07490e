"""A selection criterion naming a set or metric that evaluation never produces is refused."""

from __future__ import annotations

import pytest

from fairdg.cli import main
from fairdg.training import RunConfig, train
from fairdg.training.evaluate import evaluate_split, metric_names
from fairdg.training.loop import prepare


def test_misspelled_metric_is_refused_before_training(tmp_path, tiny_tabular):
    config = RunConfig(
        dataset="tiny",
        algorithm="erm",
        steps=4,
        quiet=True,
        output_dir=str(tmp_path),
        test_domains=("d2",),
        selection="val.acuracy",
    )
    with pytest.raises(ValueError, match="unknown metric 'acuracy'.*did you mean 'accuracy'"):
        train(config, dataset=tiny_tabular)
    assert not any(tmp_path.iterdir())  # nothing written
    bad_set = config.replace(selection="vall.accuracy")
    with pytest.raises(ValueError, match="unknown set 'vall'.*valid sets: val, test, oracle"):
        train(bad_set, dataset=tiny_tabular)


@pytest.mark.parametrize("criterion", ["val.accuracy", "val.dp_diff", "d0/val.tpr/b", "oracle.n"])
def test_valid_criteria_are_accepted(tmp_path, tiny_tabular, criterion):
    config = RunConfig(
        dataset="tiny",
        algorithm="erm",
        steps=2,
        quiet=True,
        output_dir=str(tmp_path),
        test_domains=("d2",),
        selection=criterion,
    )
    assert train(config, dataset=tiny_tabular).record["selection"] == criterion


def test_metric_names_are_what_evaluation_produces(tmp_path, tiny_tabular):
    config = RunConfig(dataset="tiny", algorithm="erm", test_domains=("d2",))
    _, split, _, algorithm = prepare(config, tiny_tabular)
    produced = set().union(*evaluate_split(algorithm, split, "cpu").values())
    produced -= {"undefined", "degenerate"}  # reasons, not metrics
    names = tiny_tabular.group_names  # per-group keys name groups by value (tpr/b)
    assert produced == metric_names(tiny_tabular.num_classes, tiny_tabular.num_groups, names)


def test_cli_lists_valid_names(tmp_path, capsys):
    argv = ["run", "--dataset", "synthetic", "--algorithm", "erm", "--compare", "none"]
    argv += ["--steps", "2", "--quiet", "--output", str(tmp_path), "--selection", "val.acuracy"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "valid metrics: accuracy," in err
