"""The metric catalogue covers every key `evaluate` returns and drives every direction."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from fairdg.metrics import evaluate
from fairdg.metrics.catalogue import CATALOGUE, SUMMARY_KEYS, entry, is_minimised, short_name

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_every_evaluate_key_is_catalogued():
    rng = np.random.default_rng(0)
    y, z = rng.integers(0, 2, 200), rng.integers(0, 3, 200)
    binary = evaluate(y, rng.random(200), sensitive_features=z, on_undefined="ignore")
    probs = rng.dirichlet(np.ones(4), 200)
    multi = evaluate(rng.integers(0, 4, 200), probs, sensitive_features=z, on_undefined="ignore")
    for key in [*binary, *multi]:
        assert entry(key) is not None, f"{key} is missing from fairdg.metrics.catalogue"


def test_directions_and_labels():
    assert is_minimised("dp_diff") and is_minimised("fairness_auc") and is_minimised("loss")
    assert not is_minimised("dp_ratio") and not is_minimised("accuracy")
    assert not is_minimised("unknown_metric")
    assert short_name("accuracy") == "accuracy (%)" and short_name("dp_ratio") == "DP"
    assert short_name("tpr/1") == "TPR/1" and short_name("other") == "other"
    assert all(CATALOGUE[k].direction in ("max", "min") for k in SUMMARY_KEYS)


def test_docs_table_lists_every_summary_key():
    text = DOCS.read_text()
    for key in SUMMARY_KEYS:
        if key != "loss":
            assert f"`{key}`" in text, f"docs/metrics.md does not describe {key}"


def test_catalogue_and_reporting_import_without_torch():
    code = (
        "import sys, fairdg.metrics.catalogue, fairdg.reporting.tables, fairdg.reporting.plots;"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
