"""One typed parser for option and hyperparameter values (`fairdg.parsing`)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from fairdg.cli import main
from fairdg.data import load_dataset
from fairdg.data.adult import load_adult
from fairdg.hparams import HParam, resolve
from fairdg.parsing import OptionValueError, coerce, typed_options


@pytest.mark.parametrize("text", ["true", "True", "TRUE", "yes", "Yes", "1", 1, True])
def test_true_spellings(text):
    assert coerce(text, bool, "option 'x'") is True


@pytest.mark.parametrize("text", ["false", "False", "FALSE", "no", "NO", "0", 0, False])
def test_false_spellings(text):
    assert coerce(text, bool, "option 'x'") is False


@pytest.mark.parametrize("text", ["Flase", "", "2", 2, "on", "none", 0.5, [1]])
def test_anything_else_is_an_error_naming_the_option(text):
    with pytest.raises(OptionValueError, match="option 'x' expects true/false"):
        coerce(text, bool, "option 'x'")


def test_unions_sequences_and_numbers():
    assert coerce("none", int | None, "n") is None and coerce("12", int | None, "n") == 12
    assert coerce("race", str | None, "d") == "race" and coerce(3, str | None, "d") == "3"
    assert coerce("a,b", Sequence[str] | str | None, "c") == "a,b"  # the loader splits text
    assert coerce('["a", "b"]', Sequence[str] | str | None, "c") == ["a", "b"]
    assert coerce("0.1,0.2", Sequence[float] | float, "w") == [0.1, 0.2]
    assert coerce("0.5", Sequence[float] | float, "w") == 0.5
    for bad, kind in [("abc", float), ("inf", float), ("2.5", int), (True, int), ("x", int)]:
        with pytest.raises(OptionValueError, match="'k' expects"):
            coerce(bad, kind, "'k'")


def test_loader_options_are_typed_from_the_signature():
    typed = typed_options(load_adult, {"download": "False", "include_sensitive": "no"}, "opt")
    assert typed == {"download": False, "include_sensitive": False}
    with pytest.raises(ValueError, match="data option 'download' expects true/false"):
        load_dataset("adult", download="nein")


def _csv(tmp_path):
    rows = ["a,b,sex,y"] + [f"{i},{i % 3},{'FM'[i % 2]},{i // 2 % 2}" for i in range(40)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    return {"path": str(tmp_path / "p.csv"), "target": "y", "sensitive": "sex"}


@pytest.mark.parametrize("spelling", ["False", "false", "0", "no"])
def test_include_sensitive_false_drops_the_column_however_spelled(tmp_path, spelling):
    base = _csv(tmp_path)
    off = load_dataset("csv", **base, include_sensitive=spelling)
    on = load_dataset("csv", **base, include_sensitive="True")
    assert off.input_shape == load_dataset("csv", **base).input_shape == (2,)
    assert on.input_shape == (4,)  # plus sex one-hot


DECLARED = {"lr": HParam(1e-3), "batch_size": HParam(32), "flag": HParam(False)}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"lr": "abc"}, "hyperparameter 'lr' expects a number, got 'abc'"),
        ({"batch_size": True}, "hyperparameter 'batch_size' expects an integer, got True"),
        ({"batch_size": "true"}, "hyperparameter 'batch_size' expects an integer"),
        ({"flag": "maybe"}, "hyperparameter 'flag' expects true/false"),
    ],
)
def test_hparam_values_typed_from_the_default(override, message):
    with pytest.raises(ValueError, match=message):
        resolve(DECLARED, override)


def test_hparams_typed_values():
    out = resolve(DECLARED, {"lr": "0.01", "batch_size": "16.0", "flag": "YES"})
    assert out == {"lr": 0.01, "batch_size": 16, "flag": True}


def test_cli_names_the_option(tmp_path, capsys):
    argv = ["run", "--dataset", "synthetic", "--algorithm", "erm", "--compare", "none"]
    argv += ["--steps", "2", "--quiet", "--output", str(tmp_path)]
    assert main(argv + ["--hparam", "lr=abc"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "fairdg: error: hyperparameter 'lr' expects a number, got 'abc'"
    assert main(argv + ["--data-option", "n_domains=3", "--hparam", "batch_size=true"]) == 2
    assert "'batch_size' expects an integer, got True" in capsys.readouterr().err
