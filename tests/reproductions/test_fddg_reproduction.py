"""The FDDG reproductions: table, averages, plot (hand-made rows); the plan on the engine on tiny
data, in one process and in two; options checked before anything runs."""

from __future__ import annotations

import math

import pytest

from fairdg.reproductions import REPRODUCTIONS, ReproOptions, fddg
from fairdg.reproductions.fddg_ccmnist import classifier_name, classifier_option, grayscale
from fairdg.reproductions.fddg_nysf import Spec
from fairdg.reproductions.protocol import execute, run_reproduction


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
    paper = {"ERM": ["x", "y", "z"], "IRM": ["u", "v", "w"]}
    table = fddg.results_table(_rows(), ["erm", "fddg"], ["a", "b"], {"a": 0.1, "b": 0.9}, paper)
    lines = table.splitlines()
    assert lines[0] == "| method | a (0.10) | b (0.90) | Avg |"
    erm = lines[2].split(" | ")
    # dp over seeds 0.4, 0.5: mean 0.45, sample std 0.0707; accuracy 90 and 89 -> 89.50 ± 0.71
    assert erm[1] == "0.45 ± 0.07 / 0.60 ± 0.00 / 89.50 ± 0.71"
    assert erm[3].startswith("0.55 / 0.60 / 89.50")  # average over targets of the means
    assert lines[3] == "| *paper: ERM* | x | y | z |"  # right under our row
    assert lines[-1] == "| *paper: IRM* | u | v | w |"  # the paper's others at the end


def test_averages_and_checks():
    avg = fddg.averages(_rows(), "fddg")
    assert avg["dp_ratio"] == pytest.approx(0.75)
    assert math.isnan(fddg.averages(_rows(), "missing")["accuracy"])
    text = "\n".join(fddg.checks(_rows()))
    assert "FDDG: DP ratio 0.750 vs ERM 0.550 (difference +0.200" in text
    assert "FDDG w/o fc" in text and "worse than FDDG on: DP, AUC" in text


def test_undefined_metrics_are_skipped():
    """A run predicting one class has no DP ratio (null in its JSON record): the averages and
    the checks skip it instead of failing."""
    rows = _rows()
    rows[0]["dp_ratio"] = None  # erm, target a, seed 0
    assert fddg.averages(rows, "erm")["dp_ratio"] == pytest.approx((0.5 + 0.65) / 2)
    assert "FDDG: DP ratio" in "\n".join(fddg.checks(rows))
    assert "0.50 ± 0.00" in fddg.results_table(rows, ["erm"], ["a", "b"], {})


def test_grayscale_view_keeps_labels_and_drops_colour(tiny_image):
    gray = grayscale(tiny_image)
    assert gray.input_shape == (1, 8, 8) and gray.name == "ccmnist-gray"
    for before, after in zip(tiny_image.domains, gray.domains, strict=True):
        assert after.x.shape == (len(before), 1, 8, 8)
        assert (after.y == before.y).all() and (after.z == before.z).all()


def test_registered():
    assert {"fddg-ccmnist", "fddg-nysf-synthetic"} <= set(REPRODUCTIONS.names())


def test_methods_option_names_the_rows():
    assert Spec(methods=["erm", "fddg:max"]).rows(("x",)) == ("erm", "fddg:max")
    assert Spec().rows(("erm",)) == ("erm",)
    with pytest.raises(ValueError, match="unknown"):
        Spec(methods=["erm", "fdg"])


def tiny_plan(dataset, tmp_path, methods=("erm", "fddg"), **changes):
    """Two seeds of 4 steps on domain d2 held out."""
    eval_every = changes.pop("e", 2)
    settings = {"seeds": 2, "steps": 4, "targets": ["d2"], "t_steps": 2, "n_hparams": 1}
    settings["selection"] = "fair-threshold"  # no pair runs unless a test asks for them
    spec = Spec(name="tiny", folder=str(tmp_path), methods=list(methods), **settings | changes)
    plan = fddg.fddg_plan(
        spec, dataset, {}, methods, hparams={"batch_size": 16}, eval_every=eval_every,
        t_config={"batch_size": 16},
    )  # fmt: skip
    return spec, plan


def _strip(rows):  # as text: undefined metrics (nan) compare equal
    return repr([{k: v for k, v in r.items() if k != "run_dir"} for r in rows])


def test_plan_holds_out_each_target_for_every_method_and_seed(tiny_tabular, tmp_path):
    spec, plan = tiny_plan(tiny_tabular, tmp_path, selection="last")
    rows = fddg.rows_of(execute(plan), spec)
    assert [(r["target"], r["method"], r["seed"]) for r in rows] == [
        ("d2", m, s) for m in ("erm", "fddg") for s in range(2)
    ]
    assert set(plan.notes["t_paths"]) == {"d2/sf"}
    assert all(p.exists() for p in plan.notes["t_paths"].values())
    for row in rows:
        assert all(0 <= row[m] <= 1 or math.isnan(row[m]) for m in fddg.CELL)
        assert row["stats"] and row["selected_by"] == "last"
    again = fddg.rows_of(execute(plan), spec)  # done runs are read back
    assert _strip(again) == _strip(rows)


def test_two_workers_give_the_rows_of_one_process(tiny_tabular, tmp_path):
    """``--workers 2`` sends the runs through the processes launcher: the same runs, the same
    rows (the dataset is in memory, handed to the workers), and a rerun in one process reads
    them back."""
    changes = {"n_hparams": 2, "steps": 30, "e": 10}
    spec2, two = tiny_plan(tiny_tabular, tmp_path / "two", ("erm", "irm"), **changes)
    spec1, one = tiny_plan(tiny_tabular, tmp_path / "one", ("erm", "irm"), **changes)
    parallel = fddg.rows_of(execute(two, workers=2), spec2)
    serial = fddg.rows_of(execute(one), spec1)
    again = fddg.rows_of(execute(two), spec2)
    assert _strip(parallel) == _strip(serial) == _strip(again)
    rules = ("fair-threshold", "training")
    assert all("error" not in r and r["selected_by"] in rules for r in parallel)
    # a later plan in the same folder selects among its own runs only, not the earlier ones
    short_spec, short = tiny_plan(tiny_tabular, tmp_path / "two", ("erm", "irm"), steps=1, e=1)
    # (a 1-step model may be degenerate on validation: then nothing is selected, never a step
    # of the earlier runs)
    short_rows = fddg.rows_of(execute(short), short_spec)
    assert {r.get("step", 1) for r in short_rows} == {1}
    assert all("error" not in r for r in short_rows)


def test_quick_runs_take_a_worker_per_core_on_the_cpu():
    from fairdg.experiments.launchers import usable_cores
    from fairdg.reproductions.protocol import default_workers

    assert default_workers(ReproOptions(quick=True, workers=None)) == usable_cores()
    assert default_workers(ReproOptions(quick=True, workers=3)) == 3
    assert default_workers(ReproOptions(workers=None)) == 1  # full: as its results were measured
    assert default_workers(ReproOptions(quick=True, device="cuda", workers=None)) == 1


def test_options_are_checked_before_anything_runs(tmp_path):
    """A mistyped ``--option`` is an error naming the closest valid key, not ignored."""
    for name in ("fddg-ccmnist", "fddg-nysf-synthetic", "affinity-mnist", "affinity-da-svhn"):
        with pytest.raises(ValueError, match=rf"{name}: unknown option\(s\) \['stpes'\]"):
            run_reproduction(name, ReproOptions(output=str(tmp_path), extra={"stpes": 3}))
    with pytest.raises(ValueError, match="did you mean 'backbone'"):
        run_reproduction("fddg-ccmnist", ReproOptions(output=str(tmp_path), extra={"backbon": 1}))
    with pytest.raises(ValueError, match="selection must be one of"):
        run_reproduction("fddg-ccmnist", ReproOptions(extra={"selection": "best"}))
    with pytest.raises(ValueError, match="expects an integer"):
        run_reproduction("fddg-ccmnist", ReproOptions(extra={"steps": "many"}))
    with pytest.raises(ValueError, match="set by the reproduction's plan"):
        run_reproduction("affinity-adult", ReproOptions(extra={"hparams_seed": 2}))
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
