"""The paper's selection rule (our reading of FDDG appendix C.6-C.7) on hand-written records:
leave-one-domain-out scores against a hand computation (tests/fixtures/lodo-paper/README.md),
planted degenerate evaluations never chosen, by this rule or by any rule of the FDDG
reproductions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairdg.reporting import collect
from fairdg.reporting.paper_selection import fold_metrics, paper_scores, select_paper
from fairdg.reporting.selection import lodo_scores
from fairdg.reproductions.fddg_select import SELECTIONS, pick

STORED = Path(__file__).resolve().parents[1] / "fixtures" / "lodo-paper" / "out"


@pytest.fixture(scope="module")
def evals() -> pd.DataFrame:
    return collect(STORED).evaluations()


def _by_candidate(frame: pd.DataFrame, evals: pd.DataFrame) -> dict[tuple[int, int], pd.Series]:
    return {
        (int(evals.loc[i, "hparams_seed"]), int(evals.loc[i, "step"])): frame.loc[i]
        for i in frame.index
    }


def test_lodo_scores_agree_with_the_hand_computation(evals):
    scored = _by_candidate(paper_scores(evals), evals)
    expected = {(0, 5): 0.7625, (0, 10): 0.65, (1, 5): 0.925, (1, 10): 1.0}
    for key, accuracy in expected.items():
        assert scored[key]["lodo_accuracy"] == pytest.approx(accuracy)
    best = scored[(0, 5)]
    assert best["lodo_dp_ratio"] == pytest.approx((0.55 / 0.8 + 0.45 / 0.55) / 2)
    assert best["lodo_positive_rate"] == pytest.approx((0.675 + 0.5) / 2)
    # the same accuracies as DomainBed's leave-one-domain-out score of reporting.selection
    main = evals[(evals["status"] == "done") & (evals["n_test"] <= 1)]
    domainbed = _by_candidate(lodo_scores(main, evals).to_frame("score"), evals)
    assert all(domainbed[k]["score"] == pytest.approx(v) for k, v in expected.items())


def test_planted_degenerate_evaluations_are_not_eligible(evals):
    scored = _by_candidate(paper_scores(evals), evals)
    assert bool(scored[(1, 5)]["lodo_degenerate"])  # its fold c predicts 99 % positive
    assert math.isnan(scored[(1, 5)]["score"]) and math.isnan(scored[(1, 10)]["score"])
    assert scored[(0, 5)]["score"] == pytest.approx(0.7625)


def test_the_rule_picks_the_best_non_degenerate_evaluation(evals):
    chosen = select_paper(evals)
    assert len(chosen) == 1
    row = chosen.iloc[0]
    assert (row["hparams_seed"], row["step"], row["selection"]) == (0, 5, "paper")
    assert row["test.accuracy"] == pytest.approx(0.61)
    assert row["lodo_dp_ratio"] == pytest.approx(0.75284, abs=1e-5)


def test_no_rule_of_the_reproductions_picks_a_planted_degenerate_evaluation(evals):
    """Candidate 1 at step 10 has the best validation, leave-one-domain-out and oracle scores
    and is degenerate on validation: no rule selects it."""
    for rule in (r for r in SELECTIONS if r != "last"):
        chosen = pick(evals, rule)
        assert len(chosen) == 1, rule
        picked = (int(chosen.iloc[0]["hparams_seed"]), int(chosen.iloc[0]["step"]))
        assert picked != (1, 10), rule
    assert (int(pick(evals, "training").iloc[0]["step"])) == 5  # h1 step 5: val 0.80


def test_fold_metrics_of_nothing_is_empty():
    empty = collect(STORED).evaluations().iloc[0:0]
    assert fold_metrics(empty).empty and select_paper(empty).empty


def test_a_group_with_only_degenerate_evaluations_has_no_selection(evals):
    everything_bad = evals.assign(**{"val.degenerate": np.where(evals["n_test"] == 1, 1.0, 0.0)})
    assert select_paper(everything_bad).empty
    assert all(pick(everything_bad, rule).empty for rule in SELECTIONS if rule != "last")
