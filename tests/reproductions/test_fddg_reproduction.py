"""The FDDG reproductions: table, averages, plot (hand-made rows); the protocol on tiny data."""

from __future__ import annotations

import dataclasses
import math

import pytest

from fairdg.reproductions import REPRODUCTIONS, ReproOptions, run_reproduction
from fairdg.reproductions import fddg_protocol as protocol
from fairdg.reproductions.fddg_ccmnist import classifier_name, classifier_option, grayscale


def _rows():
    rows = []
    for method, dp in (("erm", 0.4), ("fddg", 0.6), ("fddg-no-fc", 0.5)):
        for target, shift in (("a", 0.0), ("b", 0.2)):
            for seed in range(2):
                rows.append(
                    {
                        "method": method,
                        "target": target,
                        "seed": seed,
                        "dp_ratio": dp + shift + 0.1 * seed,
                        "fairness_auc": 0.7 - dp / 4,
                        "accuracy": 0.9 - 0.01 * seed,
                    }
                )
    return rows


def test_table_cells_are_mean_and_sample_std():
    table = protocol.results_table(
        _rows(), ["erm", "fddg"], ["a", "b"], {"a": 0.1, "b": 0.9}, paper={"ERM": ["x", "y", "z"]}
    )
    lines = table.splitlines()
    assert lines[0] == "| method | a (0.10) | b (0.90) | Avg |"
    erm = lines[2].split(" | ")
    # dp over seeds 0.4, 0.5: mean 0.45, sample std 0.0707; accuracy 90 and 89 -> 89.50 ± 0.71
    assert erm[1] == "0.45 ± 0.07 / 0.60 ± 0.00 / 89.50 ± 0.71"
    assert erm[3].startswith("0.55 / 0.60 / 89.50")  # average over targets of the means
    assert lines[-1] == "| *paper: ERM* | x | y | z |"


def test_averages_and_checks():
    avg = protocol.averages(_rows(), "fddg")
    assert avg["dp_ratio"] == pytest.approx(0.75)
    assert math.isnan(protocol.averages(_rows(), "missing")["accuracy"])
    text = "\n".join(protocol.checks(_rows()))
    assert "FDDG: DP ratio 0.750 vs ERM 0.550 (difference +0.200" in text
    assert "FDDG w/o fc" in text and "worse than FDDG on: DP, AUC" in text


def test_undefined_metrics_are_skipped():
    """A run predicting one class has no DP ratio (null in its JSON record): the averages and
    the checks skip it instead of failing."""
    rows = _rows()
    rows[0]["dp_ratio"] = None  # erm, target a, seed 0
    assert protocol.averages(rows, "erm")["dp_ratio"] == pytest.approx((0.5 + 0.65) / 2)
    assert "FDDG: DP ratio" in "\n".join(protocol.checks(rows))
    assert "0.50 ± 0.00" in protocol.results_table(rows, ["erm"], ["a", "b"], {})


def test_plot_is_written(tmp_path):
    path = protocol.plot_dp_vs_dependence(_rows(), {"a": 0.1, "b": 0.9}, tmp_path / "p.png")
    assert path.stat().st_size > 0


def test_grayscale_view_keeps_labels_and_drops_colour(tiny_image):
    gray = grayscale(tiny_image)
    assert gray.input_shape == (1, 8, 8) and gray.name == "ccmnist-gray"
    for before, after in zip(tiny_image.domains, gray.domains, strict=True):
        assert after.x.shape == (len(before), 1, 8, 8)
        assert (after.y == before.y).all() and (after.z == before.z).all()


def test_registered():
    assert {"fddg-ccmnist", "fddg-nysf-synthetic"} <= set(REPRODUCTIONS.names())


def test_methods_option():
    assert protocol.methods_option({}, ("erm",)) == ("erm",)
    assert protocol.methods_option({"methods": "erm,fddg:max"}, ()) == ("erm", "fddg:max")
    with pytest.raises(ValueError, match="unknown"):
        protocol.methods_option({"methods": "erm,fdg"}, ())


def _tiny_plan(dataset, **changes) -> protocol.Plan:
    """Two seeds of 4 steps on domain d2 held out."""
    settings = {"seeds": 2, "steps": 4, "eval_every": 2, "targets": ("d2",), **changes}
    return protocol.Plan(dataset=dataset, data_options={}, **settings)


def test_run_plan_holds_out_each_target_for_every_method_and_seed(tiny_tabular, tmp_path):
    plan = _tiny_plan(
        tiny_tabular, methods=("erm", "fddg"), t_steps=2, t_config={"batch_size": 16}
    )
    rows, t_paths = protocol.run_plan(plan, tmp_path, quiet=True)
    assert [(r["target"], r["method"], r["seed"]) for r in rows] == [
        ("d2", m, s) for m in ("erm", "fddg") for s in range(2)
    ]
    assert set(t_paths) == {"d2/sf"} and all(p.exists() for p in t_paths.values())
    for row in rows:
        assert all(0 <= row[m] <= 1 or math.isnan(row[m]) for m in protocol.CELL)
        assert row["stats"] and (tmp_path / "runs").exists()
    again, _ = protocol.run_plan(plan, tmp_path, quiet=True)  # done runs are read back
    strip = [{k: v for k, v in r.items() if k != "wall_seconds"} for r in rows]
    assert strip == [{k: v for k, v in r.items() if k != "wall_seconds"} for r in again]


def test_run_plan_in_worker_processes_gives_the_rows_of_one_process(tiny_tabular, tmp_path):
    """``--workers 2`` sends the runs through the processes launcher: the same runs, the same
    rows (the dataset is in memory, handed to the workers), and a rerun in one process reads
    them back."""
    plan = _tiny_plan(
        tiny_tabular,
        methods=("erm", "irm"),
        n_hparams=2,
        selection="fair",
        steps=30,
        eval_every=10,
    )
    parallel, _ = protocol.run_plan(plan, tmp_path / "two", quiet=True, workers=2)
    serial, _ = protocol.run_plan(plan, tmp_path / "one", quiet=True)
    again, _ = protocol.run_plan(plan, tmp_path / "two", quiet=True)

    def strip(rows):  # as text: undefined metrics (nan) compare equal
        return repr([{k: v for k, v in r.items() if k != "wall_seconds"} for r in rows])

    assert strip(parallel) == strip(serial) == strip(again)
    assert all("error" not in r for r in parallel)
    # a later plan in the same folder selects among its own runs only, not the earlier ones
    short = dataclasses.replace(plan, steps=1, eval_every=1)
    rows, _ = protocol.run_plan(short, tmp_path / "two", quiet=True)
    assert {r["step"] for r in rows} == {1}
    with pytest.raises(ValueError, match="workers"):
        protocol.run_plan(plan, tmp_path / "bad", quiet=True, workers=0)


def test_workers_is_refused_by_a_reproduction_that_runs_serially(tmp_path):
    with pytest.raises(ValueError, match="--workers: affinity-mnist"):
        run_reproduction("affinity-mnist", ReproOptions(output=str(tmp_path), workers=2))


def test_options_are_checked_before_anything_runs(tmp_path):
    """A mistyped ``--option`` is an error naming the closest valid key, not ignored."""
    for name in ("fddg-ccmnist", "fddg-nysf-synthetic", "affinity-mnist"):
        with pytest.raises(ValueError, match=rf"{name}: unknown option\(s\) \['stpes'\] "):
            run_reproduction(name, ReproOptions(output=str(tmp_path), extra={"stpes": 3}))
    with pytest.raises(ValueError, match="did you mean 'backbone'"):
        run_reproduction("fddg-ccmnist", ReproOptions(output=str(tmp_path), extra={"backbon": 1}))
    assert not any(tmp_path.iterdir())


def test_ccmnist_classifier_option_selects_the_papers_resnet():
    """``--option backbone=resnet50 --option pretrained=PATH``: the paper's classifier; the
    default small CNN is named as a CPU-scale simplification in the report."""
    assert classifier_option({}) == {}
    chosen = classifier_option({"backbone": "resnet50", "pretrained": "w.pth"})
    assert chosen == {"backbone": "resnet50", "freeze": "bn", "pretrained": "w.pth"}
    assert "w.pth" in classifier_name(chosen)
    assert classifier_option({"backbone": "resnet18"})["freeze"] == "none"  # random weights learn
    assert "CPU-scale simplification" in classifier_name({"cnn_width": 16})
    with pytest.raises(ValueError, match="backbone"):
        classifier_option({"backbone": "resnet51"})
    with pytest.raises(ValueError, match="needs --option backbone"):
        classifier_option({"pretrained": "w.pth"})
    with pytest.raises(ValueError, match="freeze must be one of"):
        classifier_option({"backbone": "resnet18", "freeze": "some"})
