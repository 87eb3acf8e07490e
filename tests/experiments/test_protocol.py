"""The protocol: stable run hashes and the expansion of a sweep into runs."""

from __future__ import annotations

import pytest

from fairdg.experiments.protocol import SweepSpec, expand, held_out_sets
from fairdg.training.config import SWEEP_BASE, RunConfig

DOMAINS = ["d0", "d1", "d2"]


def lookup(dataset, options):
    return list(DOMAINS)


def test_run_id_ignores_key_order_and_bookkeeping_fields():
    config = RunConfig(
        dataset="adult",
        data_options={"domain": "age", "sensitive": "sex"},
        hparams={"lr": 1e-3, "batch_size": 32},
        test_domains=("age<30",),
        seed=2,
        hparams_seed=3,
        steps=50,
    )
    reordered = RunConfig(
        dataset="adult",
        data_options={"sensitive": "sex", "domain": "age"},
        hparams={"batch_size": 32, "lr": 1e-3},
        test_domains=["age<30"],
        seed=2,
        hparams_seed=3,
        steps=50,
    )
    assert config.run_id() == reordered.run_id()
    # fields that do not change the computation stay out of the hash
    assert (
        config.replace(
            output_dir="elsewhere", device="cuda", quiet=True, save_model=False
        ).run_id()
        == config.run_id()
    )
    assert config.replace(seed=3).run_id() != config.run_id()


def test_run_id_pinned():
    # The hash is a pure function of canonical JSON (no Python hash(), no object ids), so it
    # is the same in every process and on every machine. Changing this value invalidates
    # every existing run folder (sweeps would rerun them): change RunConfig's hashed fields
    # only deliberately.
    assert RunConfig(dataset="adult", seed=1, steps=10).run_id() == "26204ce2218d"


def test_held_out_sets():
    assert held_out_sets(DOMAINS, ["all"]) == [("d0",), ("d1",), ("d2",)]
    assert held_out_sets(DOMAINS, ["none"]) == [()]
    assert held_out_sets(["only"], ["all"]) == [()]  # nothing to hold out
    assert held_out_sets(DOMAINS, ["d2+d0", "d1"]) == [("d0", "d2"), ("d1",)]
    assert held_out_sets(DOMAINS, ["all"], lodo=True) == [
        ("d0",),
        ("d1",),
        ("d2",),
        ("d0", "d1"),
        ("d0", "d2"),
        ("d1", "d2"),
    ]
    with pytest.raises(ValueError, match="unknown domain"):
        held_out_sets(DOMAINS, ["d9"])
    with pytest.raises(ValueError, match="every domain"):
        held_out_sets(DOMAINS, ["d0+d1+d2"])
    with pytest.raises(ValueError, match="at least 3 domains"):
        held_out_sets(["a", "b"], ["all"], lodo=True)


def test_expand_counts_seeds_and_overrides():
    spec = SweepSpec(
        datasets=("tiny",),
        algorithms=("erm",),
        n_hparams=2,
        n_trials=3,
        base=SWEEP_BASE.replace(steps=5, hparams={"lr": 0.01}, output_dir="out"),
    )
    configs = expand(spec, lookup)
    assert len(configs) == 3 * 2 * 3
    assert len({c.run_id() for c in configs}) == len(configs)
    assert {c.hparams_seed for c in configs} == {0, 1}
    assert {c.seed for c in configs} == {0, 1, 2}
    assert {c.test_domains for c in configs} == {("d0",), ("d1",), ("d2",)}
    assert all(c.hparams == {"lr": 0.01} and c.steps == 5 for c in configs)
    assert expand(spec, lookup) == configs  # deterministic order
    with pytest.raises(ValueError, match="declared by none"):
        expand(SweepSpec(datasets=("tiny",), base=RunConfig(hparams={"nope": 1})), lookup)
    with pytest.raises(ValueError, match="n_trials"):
        SweepSpec(datasets=("tiny",), n_trials=0)
    with pytest.raises(ValueError, match="unknown algorithm"):
        expand(SweepSpec(datasets=("tiny",), algorithms=("ermm",)), lookup)


def test_expand_registered_dataset_all_domains():
    base = SWEEP_BASE.replace(data_options={"domain": "age"})
    configs = expand(SweepSpec(datasets=("adult",), base=base))
    assert sorted(c.test_domains for c in configs) == [("age30-44",), ("age45+",), ("age<30",)]


def test_a_domain_name_with_a_plus_is_held_out_alone_or_joined():
    ages = ["age<30", "age30-44", "age45+"]  # Adult's age domains
    assert held_out_sets(ages, ["age45+"]) == [("age45+",)]
    assert held_out_sets(ages, ["age45++age<30"]) == [("age<30", "age45+")]
    with pytest.raises(ValueError, match="unknown domain"):
        held_out_sets(ages, ["age45"])
