"""The Table 6 protocol end to end on tiny data: T variants, hyperparameter candidates, the
paper's selection rule through `fairdg.reporting.selection`, failures recorded, the table."""

from __future__ import annotations

import math

import pytest

from fairdg.reproductions import fddg_protocol as protocol
from fairdg.reproductions.fddg_paper import BASELINES, CCMNIST_TABLE6, NYSF_TABLE9, ROW_OF


def test_paper_tables_hold_every_row_and_cell():
    assert len(BASELINES) == 17 and set(ROW_OF.values()) == set(CCMNIST_TABLE6)
    assert all(len(cells) == 4 for cells in CCMNIST_TABLE6.values())
    assert CCMNIST_TABLE6["FDDG"][3] == "0.71 / 0.66 / 96.76"
    assert CCMNIST_TABLE6["EIIL"][0] == "0.15 ± 0.08 / 0.94 ± 0.03 / 81.00 ± 0.31"
    assert all(len(cells) == 6 for cells in NYSF_TABLE9.values()) and "RandAug" not in NYSF_TABLE9
    assert set(protocol.TABLE6) <= set(protocol.LABELS)


@pytest.mark.slow
def test_plan_selects_by_the_papers_rule_and_records_failures(tiny_tabular, tmp_path):
    plan = protocol.Plan(
        dataset=tiny_tabular,
        data_options={},
        seeds=1,
        steps=4,
        eval_every=2,
        hparams={"batch_size": 8},
        t_steps=2,
        t_config={"hidden": 8, "semantic_dim": 4, "content_dim": 2, "batch_size": 8},
        methods=("erm", "mbdg", "fddg:paper-t"),
        method_hparams={"mbdg": {"not_a_knob": 1}},  # the run fails
        targets=("d0",),
        n_hparams=2,
        selection="fair",
    )
    rows, t_paths = protocol.run_plan(plan, tmp_path, quiet=True)
    by = {r["method"]: r for r in rows}
    assert set(by) == {"erm", "mbdg", "fddg:paper-t"}
    assert "error" in by["mbdg"] and math.isnan(by["mbdg"]["accuracy"])
    for method in ("erm", "fddg:paper-t"):
        row = by[method]
        assert row["selected_by"] in ("fair", "training") and 0 <= row["accuracy"] <= 1
        assert row["hparams_seed"] in (0, 1) and row["step"] in (2, 4)
    # the paper-only T is its own artifact, trained without our additions
    assert {"d0/sf/fddg:paper-t", "d0/nosf"} <= set(t_paths)
    from fairdg.transformation import load_transformation

    paper_t = load_transformation(t_paths["d0/sf/fddg:paper-t"])
    assert not paper_t.config.conditional_gan
    assert paper_t.config.weights["prior"] == 0 and paper_t.config.weights["sensitive_cycle"] == 0
    assert paper_t.meta["select"] == "val_loss"
    lines = protocol.table6_checks(rows)
    assert lines[0] == "- failed runs: 1" and "mbdg" in lines[1]
    table = protocol.results_table(
        rows, plan.methods, ["d0"], {"d0": 0.5}, {"ERM": ["p", "q"]}, interleave=True
    )
    assert table.splitlines()[3] == "| *paper: ERM* | p | q |"  # right under our ERM row


def test_last_selection_takes_one_configuration(tiny_tabular):
    with pytest.raises(ValueError, match="n_hparams=1"):
        protocol.Plan(tiny_tabular, {}, 1, 2, 1, n_hparams=2, selection="last")
    with pytest.raises(ValueError, match="selection must be"):
        protocol.Plan(tiny_tabular, {}, 1, 2, 1, selection="best")
