"""RunConfig is built in one place: every field reaches every entry point, with one default.

The test reads RunConfig's fields, so a field added later is checked here at once: it needs a
help line, and `fairdg run`, `fairdg sweep`, `fairdg reproduce --option` and FairClassifier
must each reach it (the flags and options are generated from the fields; only the axes that a
sweep or a reproduction's plan varies are theirs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys

import pytest

from fairdg.cli import build_parser, flags, main
from fairdg.training.config import (
    FIELDS,
    RunConfig,
    build_config,
    check_registered,
)


def _parser(command: str) -> argparse.ArgumentParser:
    parser = build_parser(command)
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices[command]


def _reached(parser: argparse.ArgumentParser) -> set[str]:
    """The RunConfig fields a command's flags set (`flags.config_of` reads them back)."""
    dests = {a.dest for a in parser._actions}
    forms = {name: form[0] for name, form in flags._FORMS.items()}
    return {name for name in FIELDS if forms.get(name, name) in dests}


def test_every_field_has_help():
    assert all(f.metadata.get("help") for f in dataclasses.fields(RunConfig))


def test_run_reaches_every_field():
    assert _reached(_parser("run")) == set(FIELDS)


def test_sweep_reaches_every_field_it_does_not_sweep():
    from fairdg.cli.sweep import SWEPT

    parser = _parser("sweep")
    assert _reached(parser) | set(SWEPT) == set(FIELDS)
    options = {s for a in parser._actions for s in a.option_strings}
    assert {"--datasets", "--algorithms", "--n-hparams", "--n-trials", "-q"} <= options


def test_reproduce_option_reaches_every_field_its_plan_does_not_set():
    from fairdg.reproductions.protocol import PLANNED, run_options

    free = set(FIELDS) - set(PLANNED)
    values = {name: getattr(RunConfig(), name) for name in free}
    assert set(run_options(values)) == free
    with pytest.raises(ValueError, match="set by the reproduction's plan"):
        run_options({"seed": 3})


def test_estimator_reaches_every_field():
    from fairdg.estimator import FairClassifier

    own = FairClassifier(min_group_size=7)._config("out")
    assert own.min_group_size == 7 and own.dataset == "estimator" and not own.save_model
    own = set(FairClassifier().get_params()) | {"dataset", "data_options", "test_domains"}
    own |= {"val_fraction", "test_fraction"}  # from validation_fraction; no test split
    for name in FIELDS:
        try:  # a field of run_options ...
            config = FairClassifier(run_options={name: RunConfig().to_dict()[name]})._config("o")
            assert isinstance(config, RunConfig)
        except ValueError as err:  # ... or one the estimator sets from its own parameters
            assert "set by FairClassifier's own parameters" in str(err)
            assert name in own | {"save_model"}
    with pytest.raises(ValueError, match="did you mean 'min_positive_rate'"):
        FairClassifier(run_options={"min_positve_rate": 0.1})._config("o")


def test_defaults_are_written_once():
    """The CLI shows the field's default; the estimator takes RunConfig's."""
    from fairdg.estimator import FairClassifier

    assert FairClassifier().get_params()["min_group_size"] == RunConfig().min_group_size
    help_text = _parser("run").format_help()
    assert f"(default: {RunConfig().min_group_size})" in help_text


def test_builder_types_text_and_names_the_closest_field():
    config = build_config({"min_group_size": "10", "steps": "none", "test_domains": "a,b"})
    assert (config.min_group_size, config.steps, config.test_domains) == (10, None, ("a", "b"))
    with pytest.raises(ValueError, match="did you mean 'min_group_size'"):
        build_config({"min_grup_size": 3})
    with pytest.raises(ValueError, match="precision must be one of"):
        build_config({"precision": "fp16"})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dataset": "adlt"}, "Did you mean 'adult'"),
        ({"algorithm": "ermm"}, "Did you mean 'erm'"),
        ({"data_options": {"domian": "age"}}, "did you mean 'domain'"),
        ({"selection": "vall.accuracy"}, "unknown set 'vall'"),
        ({"selection": "val.acuracy"}, "did you mean 'accuracy'"),
    ],
)
def test_names_are_checked_without_torch(changes, message):
    with pytest.raises(ValueError, match=message):
        check_registered(RunConfig().replace(**changes))


PROBE = """
import sys
from fairdg.cli import main
code = main(sys.argv[1:])
print("TORCH=" + str("torch" in sys.modules))
sys.exit(code)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--dataset", "nope"],
        ["run", "--algorithm", "ermm"],
        ["run", "--data-option", "domian=age"],
        ["run", "--selection", "val.acuracy"],
        ["run", "--min-group-size", "many"],
        ["sweep", "--datasets", "adult", "--algorithms", "nope"],
        ["sweep", "--datasets", "ccmnist", "--test-domains", "x"],
        ["reproduce", "afinity-adult"],
    ],
)
def test_errors_come_before_torch(argv):
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("fairdg: error:") and len(out.stderr.splitlines()) == 1
    assert out.stdout.strip().splitlines()[-1] == "TORCH=False", out.stderr


def test_verbosity_flags_after_the_command():
    args = build_parser("run").parse_args(["run", "-q", "-v"])
    assert args.quiet and args.verbose
    args = build_parser("sweep").parse_args(["-q", "sweep", "--datasets", "adult"])
    assert args.quiet and not args.verbose
    assert flags.config_of(build_parser("run").parse_args(["run", "-q"]), RunConfig()).quiet


@pytest.mark.slow
def test_replay_reruns_the_same_run_and_prints_its_record(tmp_path, capsys):
    out = str(tmp_path / "runs")
    argv = ["run", "--algorithm", "erm", "--compare", "none", "--steps", "4", "--output", out]
    assert main([*argv, "--json", "-q", "--hparam", "lr=0.01"]) == 0
    record = json.loads(capsys.readouterr().out)
    run_dir = tmp_path / "runs" / record["run_id"]
    assert record["hparams"]["lr"] == 0.01 and (run_dir / "done.json").exists()
    # the recorded config reruns as the same run (found complete), its record printed
    assert main(["run", "--config", str(run_dir / "config.json"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again == record
    # elsewhere, it is computed again, with the same id and the same numbers
    other = str(tmp_path / "other")
    assert main(["run", "--config", str(run_dir), "--json", "--output", other, "-q"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    assert fresh["run_id"] == record["run_id"]
    assert fresh["metrics"]["test"]["accuracy"] == record["metrics"]["test"]["accuracy"]


def test_reproduction_options_are_checked_before_data(capsys):
    assert main(["reproduce", "affinity-adult", "--option", "stpes=3"]) == 2
    assert "did you mean 'steps'" in capsys.readouterr().err
    assert main(["reproduce", "affinity-adult", "--option", "min_group_size=many"]) == 2
    assert "expects an integer" in capsys.readouterr().err
