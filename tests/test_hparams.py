import numpy as np
import pytest

from fairdg.hparams import (
    Choice,
    Fixed,
    HParam,
    LogUniform,
    Uniform,
    parse_assignments,
    resolve,
    sample,
)

DECLARED = {
    "lr": HParam(1e-3, LogUniform(-4, -2)),
    "batch_size": HParam(32, LogUniform(3, 9, base=2, integer=True)),
    "width": HParam(128, Choice((64, 128, 256))),
    "dropout": HParam(0.0, Uniform(0.0, 0.5)),
    "flag": HParam(False, Fixed()),
}


def test_seed_zero_gives_defaults():
    assert sample(DECLARED, 0) == {k: hp.default for k, hp in DECLARED.items()}


def test_samples_lie_in_their_spaces_and_are_reproducible():
    for seed in range(1, 50):
        values = sample(DECLARED, seed)
        assert 1e-4 <= values["lr"] <= 1e-2
        assert 8 <= values["batch_size"] <= 512 and isinstance(values["batch_size"], int)
        assert values["width"] in (64, 128, 256)
        assert 0 <= values["dropout"] <= 0.5
        assert values["flag"] is False
        assert values == sample(DECLARED, seed)
    assert sample(DECLARED, 1) != sample(DECLARED, 2)


def test_adding_a_knob_does_not_change_the_others():
    more = {**DECLARED, "extra": HParam(1.0, Uniform(0, 1))}
    for seed in (1, 7):
        a, b = sample(DECLARED, seed), sample(more, seed)
        assert all(a[k] == b[k] for k in DECLARED)


def test_resolution_order_and_coercion():
    values = resolve(
        DECLARED,
        {"lr": "0.5", "batch_size": "64", "flag": "true"},
        hparams_seed=3,
        dataset_overrides={"width": 64, "not_mine": 1},
    )
    assert values["lr"] == 0.5 and values["batch_size"] == 64 and values["flag"] is True
    assert resolve(DECLARED, dataset_overrides={"width": 64})["width"] == 64


def test_a_fixed_knob_keeps_the_dataset_value_under_a_random_draw():
    # only searched knobs are drawn; a fixed one the dataset tunes (DDG's margin on MNIST-like
    # data) must not fall back to the algorithm's default when hparams_seed > 0
    for seed in (0, 1, 5):
        values = resolve(DECLARED, hparams_seed=seed, dataset_overrides={"flag": True})
        assert values["flag"] is True


def test_unknown_and_bad_overrides():
    with pytest.raises(ValueError, match="unknown hyperparameter.*'nope'.*valid keys: batch_size"):
        resolve(DECLARED, {"nope": 1})
    with pytest.raises(ValueError, match="expects an integer"):
        resolve(DECLARED, {"batch_size": 1.5})
    with pytest.raises(ValueError, match="true/false"):
        resolve(DECLARED, {"flag": "maybe"})


def test_parse_assignments():
    assert parse_assignments(["a=1", "b=x", "c=[1, 2]", "d=true"], "--hparam") == {
        "a": 1,
        "b": "x",
        "c": [1, 2],
        "d": True,
    }
    with pytest.raises(ValueError, match="--hparam expects KEY=VALUE"):
        parse_assignments(["oops"], "--hparam")


def test_log_uniform_distribution_is_log_spread():
    rng = np.random.default_rng(0)
    draws = np.array([LogUniform(-4, 0).sample(rng) for _ in range(2000)])
    assert abs(np.mean(np.log10(draws) < -2) - 0.5) < 0.05
