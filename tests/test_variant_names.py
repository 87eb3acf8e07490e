"""Variant names cannot collide: a penalty or constraint variant is named by its option and never
equals a registered algorithm's name (issue 25, point 3)."""

from __future__ import annotations

import pytest

from fairdg.algorithms import ALGORITHMS
from fairdg.records import variant_name

VARIANTS = [
    {"fair_lambda": 1.0},
    {"fair_lambda": 0.1, "fair_metric": "eo"},
    {"fair_tolerance": 0.05},
    {"fair_tolerance": 0.02, "fair_metric": "eopp"},
    {"fair_metric": "eo"},
]


@pytest.mark.parametrize("hparams", VARIANTS)
def test_no_variant_of_any_algorithm_is_a_registered_name(hparams):
    names = set(ALGORITHMS.names())
    for algorithm in names:
        name = variant_name(algorithm, hparams)
        assert name != algorithm and name not in names
        assert name.startswith(algorithm + "+")


def test_registered_names_never_hold_the_variant_separator():
    assert not [n for n in ALGORITHMS.names() if "+" in n]


def test_names_say_the_option():
    assert variant_name("mbdg", {"fair_lambda": 1}) == "mbdg+fair_lambda"  # not mbdg-fc
    assert variant_name("erm", {"fair_tolerance": 0.05, "fair_metric": "dp"}) == (
        "erm+fair_tolerance=0.05"
    )
    assert variant_name("fairlearn-expgrad", {"fair_metric": "eo"}) == (
        "fairlearn-expgrad+fair_metric=eo"
    )
    plain = {"fair_lambda": 0.0, "fair_tolerance": 0.0, "fair_metric": "dp"}
    assert variant_name("erm", plain) == "erm" and variant_name("erm", None) == "erm"
    # penalty weights share a row (a tuned knob); tolerances do not (a stated requirement)
    assert variant_name("erm", {"fair_lambda": 1}) == variant_name("erm", {"fair_lambda": 5})
    assert variant_name("erm", {"fair_tolerance": 0.05}) != variant_name(
        "erm", {"fair_tolerance": 0.02}
    )
