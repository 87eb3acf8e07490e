"""Declared valid values: checked once, at resolution, before any data is loaded."""

import pytest

from fairdg.algorithms import ALGORITHMS
from fairdg.algorithms.base import Algorithm
from fairdg.cli import main
from fairdg.hparams import (
    HParam,
    Interval,
    OneOf,
    ResolvedHParams,
    check_overrides,
    declared_subset,
    resolve,
)


def test_interval_and_one_of():
    count = Interval(1, integer=True)
    assert count.contains(1) and count.contains(512) and not count.contains(0)
    assert not count.contains(True) and not count.contains(1.5)
    rate = Interval(0, 10, low_open=True, high_open=True)
    assert rate.contains(1e-3) and not rate.contains(0) and not rate.contains(10.0)
    assert not rate.contains(float("nan"))
    assert str(rate) == "a number in (0, 10)" and str(count) == "an integer >= 1"
    choice = OneOf(("l1", "l2"))
    assert choice.contains("l2") and not choice.contains("l3")
    assert str(choice) == "one of 'l1', 'l2'"


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("rep_dim", 0, "'rep_dim' must be an integer >= 1; got 0"),
        ("mlp_width", 0, "'mlp_width' must be an integer >= 1; got 0"),
        ("batch_size", True, "'batch_size' expects"),
        ("lr", 1e4, "'lr' must be a number in (0, 10); got 10000.0"),
    ],
)
def test_bad_values_name_the_hparam_allowed_and_received(key, value, message):
    declared = ALGORITHMS.get("erm").declared_hparams()
    with pytest.raises(ValueError) as err:
        resolve(declared, {key: value})
    assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError):
        check_overrides(declared, {key: value})


def test_algorithm_checks_are_declared_values():
    with pytest.raises(ValueError, match="'affinity_distance' must be one of 'l1'"):
        resolve(ALGORITHMS.get("affinity").declared_hparams(), {"affinity_distance": "l3"})
    with pytest.raises(ValueError, match="'groupdro_groups' must be one of"):
        resolve(ALGORITHMS.get("groupdro").declared_hparams(), {"groupdro_groups": "x"})
    with pytest.raises(ValueError, match=r"'mixup_alpha' must be a number > 0; got 0.0"):
        resolve(ALGORITHMS.get("mixup").declared_hparams(), {"mixup_alpha": 0})
    with pytest.raises(ValueError, match="'disc_depth' must be an integer >= 2; got 1"):
        resolve(ALGORITHMS.get("dann").declared_hparams(), {"disc_depth": 1})


def test_every_default_is_valid():
    for name in ALGORITHMS:
        assert isinstance(resolve(ALGORITHMS.get(name).declared_hparams()), ResolvedHParams)


def test_prepare_hands_records_a_plain_dict(tiny_tabular):
    """model.pt and the records get a plain dict (the safe loader refuses other classes)."""
    from fairdg.training import RunConfig
    from fairdg.training.loop import prepare

    _, _, hparams, algorithm = prepare(RunConfig(algorithm="erm"), tiny_tabular)
    assert type(hparams) is dict and type(algorithm.hparams) is dict


def test_resolved_values_are_used_as_is():
    class Probe(Algorithm):
        HPARAMS = {"probe": HParam(1, valid=Interval(0, integer=True))}

    given = ResolvedHParams(resolve(Probe.declared_hparams(), {"probe": 3}))
    assert Probe((2,), 2, 1, given).hparams == given
    assert Probe((2,), 2, 1, {"probe": 2}).hparams["probe"] == 2  # direct use still resolves


def test_declared_subset():
    declared = ALGORITHMS.get("erm").declared_hparams()
    assert declared_subset(declared, {"lr": 0.1, "irm_lambda": 3}) == {"lr": 0.1}


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("rep_dim=0", "'rep_dim' must be an integer >= 1; got 0"),
        ("mlp_width=0", "'mlp_width' must be an integer >= 1; got 0"),
        ("batch_size=true", "'batch_size' expects"),
        ("lr=1e4", "'lr' must be a number in (0, 10)"),
    ],
)
def test_cli_rejects_bad_values_before_loading_data(
    capsys, tmp_path, monkeypatch, assignment, message
):
    from fairdg.training import loop

    def no_data(*args, **kwargs):
        raise AssertionError("data loaded before the hyperparameters were checked")

    monkeypatch.setattr(loop, "load_dataset", no_data)
    argv = [
        "run",
        "--hparam",
        assignment,
        "--quiet",
        "--output",
        str(tmp_path),
        "--compare",
        "none",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not any(tmp_path.iterdir())


def test_sweep_refuses_bad_values_before_any_run():
    from fairdg.experiments.protocol import SweepSpec, expand
    from fairdg.training.config import SWEEP_BASE

    base = SWEEP_BASE.replace(hparams={"lr": 1e4})
    spec = SweepSpec(datasets=("synthetic",), algorithms=("erm", "irm"), base=base)
    with pytest.raises(ValueError, match=r"'lr' must be a number in \(0, 10\)"):
        expand(spec)
