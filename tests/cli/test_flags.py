"""Shared flags: each defined once in src/fairdg/cli, and the same meaning in every command."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from fairdg.cli import build_parser, flags, main

CLI = Path(__file__).resolve().parents[2] / "src" / "fairdg" / "cli"

# Two different flags that share a name: `run --selection <set>.<metric>` (the criterion that
# picks a run's checkpoint) and `report --selection training|lodo|oracle|fair` (the method that
# picks among runs). Renaming either would break existing commands.
SAME_NAME_DIFFERENT_FLAG = {"--selection": 2}


def flag_definitions() -> Counter:
    """How often each ``--flag`` string is passed to ``add_argument`` in the cli package."""
    found: Counter = Counter()
    for path in CLI.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"
            ):
                names = {
                    c.value
                    for arg in node.args
                    for c in ast.walk(arg)
                    if isinstance(c, ast.Constant) and str(c.value).startswith("--")
                }
                found.update(names)
    return found


def test_no_flag_is_defined_twice():
    twice = {
        flag: n
        for flag, n in flag_definitions().items()
        if n > 1 and SAME_NAME_DIFFERENT_FLAG.get(flag) != n
    }
    assert not twice, f"define these once in fairdg/cli/flags.py: {twice}"
    assert flag_definitions()["--data-option"] == 1


def _subparser(parser, *path):
    for name in path:
        action = next(a for a in parser._actions if a.dest in ("command", "action"))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize(
    "command",
    [("run",), ("sweep",), ("transform", "train"), ("transform", "show"), ("datasets",)],
)
def test_every_data_command_names_its_dataset_with_dataset(command):
    parser = _subparser(build_parser(), *command)
    options = {s for a in parser._actions for s in a.option_strings}
    assert {"--dataset", "--data-option"} <= options


def test_device_auto_resolves_to_an_available_device():
    import torch

    parser = build_parser()
    args = parser.parse_args(["run", "--device", "auto"])
    assert args.device == ("cuda" if torch.cuda.is_available() else "cpu")
    # a sweep passes `auto` on: each worker resolves it where it runs
    assert parser.parse_args(["sweep", "--dataset", "adult", "--device", "auto"]).device == "auto"
    assert parser.parse_args(["sweep", "--dataset", "a", "--datasets", "b", "c"]).datasets == [
        "b",
        "c",
    ]


def test_hparams_go_to_the_algorithms_that_declare_them():
    split = flags.split_hparams(["erm", "irm"], {"lr": 0.01, "irm_lambda": 3.0})
    assert split == {"erm": {"lr": 0.01}, "irm": {"lr": 0.01, "irm_lambda": 3.0}}
    with pytest.raises(ValueError, match=r"unknown hyperparameter\(s\) \['nope'\]"):
        flags.split_hparams(["erm", "irm"], {"nope": 1})


def test_datasets_show_takes_the_name_either_way(capsys):
    assert main(["datasets", "--show", "--dataset", "synthetic"]) == 0
    by_flag = capsys.readouterr().out
    assert main(["datasets", "--show", "synthetic"]) == 0
    assert capsys.readouterr().out == by_flag and "synthetic" in by_flag
    assert main(["datasets", "--show"]) == 2
    assert "--show needs a dataset" in capsys.readouterr().err
