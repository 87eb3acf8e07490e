"""What a user sees: a collapsed setting is named on one warning line and flagged in the table,
a reused run says so, post-processing needs the groups, and a missing fairlearn is one line."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from people_fakes import make_people

from fairdg import FairClassifier
from fairdg.algorithms import sklearn_adapter
from fairdg.cli import main
from fairdg.metrics.degenerate import DegeneratePredictorWarning


@pytest.fixture
def people_csv(tmp_path):
    path = tmp_path / "people.csv"
    make_people(400).drop(columns=["race", "site"]).to_csv(path, index=False)
    return path


def run_args(path, runs, *extra):
    return [
        "run", "--dataset", "csv", "--data-option", f"path={path}",
        "--data-option", "target=credit", "--data-option", "sensitive=sex",
        "--steps", "60", "--eval-every", "20", "--quiet", "--output", str(runs), *extra,
    ]  # fmt: skip


def test_a_collapsed_setting_is_named_and_flagged(people_csv, tmp_path, capsys):
    args = run_args(people_csv, tmp_path / "runs", "--algorithm", "erm", "--compare", "none")
    collapse = ["--hparam", "fair_lambda=200", "--hparam", "lr=0.05"]
    assert main(args + collapse) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "constant predictor" in line]
    assert len(warnings) == 1 and warnings[0].startswith("fairdg: warning: erm+fair_lambda on")
    table = captured.out.split("\n\n")[-2]
    assert "positive_rate" in table.splitlines()[0]
    test_row = next(
        line for line in table.splitlines() if line.split()[:2] == ["erm+fair_lambda", "test"]
    )
    assert "†" in test_row and test_row.split()[3] in ("0.0000", "1.0000")  # the positive rate
    assert "† constant predictor" in captured.out
    # the same command again: nothing trains, and the line says when it did
    assert main(args + collapse) == 0
    assert "reused (trained 20" in capsys.readouterr().out


def test_a_sound_model_has_no_mark(people_csv, tmp_path, capsys):
    args = run_args(people_csv, tmp_path / "runs", "--algorithm", "erm", "--compare", "none")
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "†" not in captured.out and "constant predictor" not in captured.err


def test_fit_warns_in_one_line_about_a_constant_model():
    frame = make_people(300)
    clf = FairClassifier(fair_lambda=200.0, lr=0.05, steps=60, eval_every=20)
    with pytest.warns(DegeneratePredictorWarning, match="constant predictor") as caught:
        clf.fit(frame[["age", "income", "job"]], frame["credit"], sensitive_features=frame["sex"])
    assert len(caught) == 1 and "\n" not in str(caught[0].message)


def test_post_processing_predicts_with_the_groups():
    pytest.importorskip("fairlearn")
    frame = make_people(300)
    x, s = frame[["age", "income", "job"]], frame["sex"]
    clf = FairClassifier(algorithm="fairlearn-threshold", steps=40, eval_every=20)
    clf.fit(x, frame["credit"], sensitive_features=s)
    with pytest.raises(ValueError, match="sensitive group"):
        clf.predict(x)
    predictions = clf.predict(x, sensitive_features=s)
    assert set(predictions) <= set(clf.classes_)
    assert np.array_equal(predictions, clf.predict(x, sensitive_features=s))  # seeded
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.predict(x, sensitive_features=np.full(len(x), "other"))


def test_without_fairlearn_the_command_says_how_to_install_it(
    people_csv, tmp_path, capsys, monkeypatch
):
    real = importlib.import_module

    def no_fairlearn(module, *args):
        if module.startswith("fairlearn"):
            raise ModuleNotFoundError(f"No module named {module!r}")
        return real(module, *args)

    monkeypatch.setattr(sklearn_adapter.importlib, "import_module", no_fairlearn)
    args = run_args(people_csv, tmp_path / "runs", "--algorithm", "fairlearn-expgrad")
    assert main(args + ["--compare", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'fairdg[fairlearn]'" in err[0]


def test_fairdg_predict_reads_the_sensitive_column_for_post_processing(
    people_csv, tmp_path, capsys
):
    pytest.importorskip("fairlearn")
    runs = tmp_path / "runs"
    args = run_args(people_csv, runs, "--algorithm", "fairlearn-threshold", "--compare", "none")
    assert main(args) == 0
    run_dir = next(p for p in runs.iterdir() if p.is_dir())
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(run_dir), "--input", str(people_csv), "--output", str(out)]) == 0
    first = out.read_text()
    out.unlink()
    assert main(["predict", str(run_dir), "--input", str(people_csv), "--output", str(out)]) == 0
    assert out.read_text() == first  # the randomised decisions are seeded
    no_sex = tmp_path / "no_sex.csv"
    make_people(20).drop(columns=["race", "site", "sex"]).to_csv(no_sex, index=False)
    capsys.readouterr()
    code = main(["predict", str(run_dir), "--input", str(no_sex), "--output", str(out) + "2"])
    assert code == 2 and "no sensitive column 'sex'" in capsys.readouterr().err
