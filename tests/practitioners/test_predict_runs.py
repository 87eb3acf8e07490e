"""Run folders applied to new rows (fairdg predict, fairdg.load_model), the selected model
returned by train(), and undefined metrics of small groups in records."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from people_fakes import make_people

import fairdg
from fairdg.cli import main
from fairdg.data import load_dataset
from fairdg.data.tabular import UnknownCategoryWarning
from fairdg.training import RunConfig, train
from fairdg.training.evaluate import evaluate_split, predict_proba

OPTIONS = {"target": "credit", "sensitive": "sex", "domain": "site", "positive": "good"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A csv run holding out site south; the table has a unique numeric column u that lets the
    test find each evaluated row in the file."""
    folder = tmp_path_factory.mktemp("predict")
    frame = make_people(400, seed=1)
    frame["u"] = np.random.default_rng(0).permutation(len(frame)).astype(float)
    frame.to_csv(folder / "people.csv", index=False)
    options = {"path": str(folder / "people.csv"), **OPTIONS, "drop": "race"}
    config = RunConfig(
        dataset="csv",
        data_options=options,
        algorithm="erm",
        steps=40,
        eval_every=8,
        test_domains=("south",),
        output_dir=str(folder / "runs"),
        quiet=True,
    )
    return frame, folder, train(config)


def test_train_returns_the_selected_model(run, tmp_path):
    _, folder, result = run
    # "val.n" never improves after the first evaluation: the selected step is step 8 of 40
    first = train(
        RunConfig.from_dict({**_config(result), "selection": "val.n", "output_dir": str(tmp_path)})
    )
    assert first.record["selected_step"] == 8 and first.record["steps"] == 40
    for res in (result, first):
        metrics = evaluate_split(res.algorithm, res.split, "cpu")
        for name in ("val", "test", "oracle"):
            assert metrics[name]["accuracy"] == res.record["metrics"][name]["accuracy"]
        assert metrics["test"]["dp_diff"] == res.record["metrics"]["test"]["dp_diff"]


def _config(result):
    data = json.loads((result.run_dir / "config.json").read_text())
    data.pop("run_id")
    return data


def test_predict_reproduces_evaluation_scores_row_for_row(run, tmp_path):
    frame, folder, result = run
    test_rows = result.split.parts["south"]["test"]
    scores = predict_proba(result.algorithm, test_rows.x)[:, 1].numpy()
    # find the file rows: column u (unique) is a feature, standardised with stored statistics
    u_column = result.split.dataset.feature_names.index("u")
    spec = fairdg.load_model(result.run_dir).preprocessing
    k = spec["standardize"]["columns"].index(u_column)
    u = test_rows.x[:, u_column] * spec["standardize"]["std"][k] + spec["standardize"]["mean"][k]
    rows = frame.set_index("u").loc[np.round(u.numpy().astype(np.float64))].reset_index()
    rows = rows[["u", "age", "job", "income", "site"]]  # no target, no sensitive column
    rows.to_csv(tmp_path / "new.csv", index=False)
    assert (
        main(
            [
                "predict",
                str(result.run_dir),
                "--input",
                str(tmp_path / "new.csv"),
                "--output",
                str(tmp_path / "out.csv"),
            ]
        )
        == 0
    )
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == [*rows.columns, "score", "prediction"]
    np.testing.assert_array_equal(out["score"].to_numpy(np.float32), scores)
    predicted = (out["prediction"] == "good").to_numpy()
    accuracy = (predicted == test_rows.y.numpy().astype(bool)).mean()
    assert accuracy == pytest.approx(result.record["metrics"]["test"]["accuracy"])
    model = fairdg.load_model(result.run_dir)
    np.testing.assert_array_equal(model.predict_proba(rows)[:, 1], scores)
    assert set(model.predict(rows)) <= {"good", "bad"}


def test_predict_errors_and_unknown_categories(run, tmp_path, capsys):
    frame, _, result = run
    rows = frame.drop(columns=["credit", "sex", "race"]).head(4)
    rows.drop(columns=["income"]).to_csv(tmp_path / "bad.csv", index=False)
    args = ["predict", str(result.run_dir), "--output", str(tmp_path / "out.csv")]
    assert main([*args, "--input", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "feature column 'income' is missing" in err[0]
    rows.assign(job=["pilot", "clerk", "clerk", "clerk"]).to_csv(tmp_path / "new.csv", index=False)
    assert main([*args, "--input", str(tmp_path / "new.csv")]) == 0
    assert "'job' holds value(s) ['pilot'] not seen in training" in capsys.readouterr().err
    assert main([*args, "--input", str(tmp_path / "new.csv")]) == 2  # exists: not overwritten
    assert "pass --force" in capsys.readouterr().err
    model = fairdg.load_model(result.run_dir)
    with pytest.warns(UnknownCategoryWarning, match="pilot"):
        model.predict(rows.assign(job="pilot"))


def test_small_groups_are_marked_in_records(tmp_path, caplog):
    frame = make_people(400, seed=2, one_row_group=True)
    frame.to_csv(tmp_path / "people.csv", index=False)
    options = {"path": str(tmp_path / "people.csv"), **OPTIONS, "sensitive": "race"}
    config = RunConfig(
        dataset="csv",
        data_options=options,
        algorithm="erm",
        steps=10,
        eval_every=5,
        test_domains=("south",),
        output_dir=str(tmp_path / "runs"),
        quiet=True,
        min_group_size=5,
    )
    with caplog.at_level(logging.WARNING, logger="fairdg"):
        result = train(config)
    test = result.record["metrics"]["test"]
    assert test["count/Native American"] == 1 and "count/2" not in test
    reason = "group 'Native American' has 1 row in test (min_group_size=5)"
    for key in ("dp_ratio", "dp_diff", "fairness_auc", "eodds_diff"):
        assert test[key] is None and test["undefined"][key] == reason
    assert test["accuracy/A"] is not None and test["accuracy/Native American"] is None
    lines = [r.getMessage() for r in caplog.records if "Native American" in r.getMessage()]
    assert len(lines) == 1 and "test:" in lines[0]
    # without the small group nothing is marked
    dataset = load_dataset("csv", **{**options, "sensitive_map": "Native American=A"})
    assert dataset.group_names == ["A", "B"]


def test_load_model_of_a_non_table_run_takes_encoded_rows(tmp_path, tiny_tabular):
    dataset = tiny_tabular
    config = RunConfig(dataset="tiny", steps=4, output_dir=str(tmp_path), quiet=True)
    result = train(config, dataset=dataset)
    model = fairdg.load_model(result.run_dir)
    x = result.split.parts[dataset.domain_names[0]]["test"].x
    np.testing.assert_array_equal(
        model.predict_proba(x.numpy()), predict_proba(result.algorithm, x).numpy()
    )
    with pytest.raises(ValueError, match="stores no preprocessing.json"):
        model.predict(pd.DataFrame(x.numpy()))
    with pytest.raises(FileNotFoundError, match="holds no model.pt"):
        fairdg.load_model(tmp_path)
