"""Model files are read with ``weights_only=True``: a crafted pickle is refused and runs nothing,
whether it sits in a run's ``checkpoint.pt``, its ``model.pt`` or a ``--transformation`` file."""

from __future__ import annotations

import inspect
import os

import pytest
import torch

from fairdg.algorithms import ALGORITHMS
from fairdg.checkpoint import (
    CorruptCheckpointError,
    UnsafeCheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from fairdg.cli import main
from fairdg.reproductions.fddg import NEEDS_T
from fairdg.training import RunConfig, train
from fairdg.training.loop import prepare
from fairdg.training.run_files import save_state
from fairdg.training.sampler import DomainSampler
from fairdg.transformation import default_config, fit_transformation, save_transformation


class _Payload:
    """Unpickling this calls ``os.mkdir(marker)``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _evil(path, marker, **fields):
    torch.save({"format": 1, **fields, "payload": _Payload(marker)}, path)
    return path


def _config(tmp_path, **kw):
    base = dict(dataset="tiny", algorithm="erm", steps=4, eval_every=2, quiet=True)
    return RunConfig(
        **{**base, "output_dir": str(tmp_path / "runs"), "test_domains": ("d2",), **kw}
    )


def test_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path, tiny_tabular):
    config = _config(tmp_path)
    run_dir = tmp_path / "runs" / config.run_id()
    run_dir.mkdir(parents=True)
    _evil(run_dir / "checkpoint.pt", tmp_path / "ran")
    with pytest.raises(UnsafeCheckpointError, match=r"checkpoint.pt was refused.*posix.mkdir"):
        train(config, dataset=tiny_tabular)
    assert not (tmp_path / "ran").exists()


def test_crafted_model_file_is_refused_by_interpret(tmp_path, tiny_tabular, capsys):
    result = train(_config(tmp_path), dataset=tiny_tabular)
    _evil(result.run_dir / "model.pt", tmp_path / "ran", model={})
    from fairdg.interpret.runs import load_run

    # its sha256 is not the one recorded: refused before a byte is unpickled
    with pytest.raises(CorruptCheckpointError, match="model.pt is damaged: its sha256"):
        load_run(result.run_dir, dataset=tiny_tabular)
    # a run recorded before fairdg kept the sha256: refused as unsafe when unpickled
    (result.run_dir / "model.pt.sha256").unlink()
    with pytest.raises(UnsafeCheckpointError, match="model.pt was refused"):
        load_run(result.run_dir, dataset=tiny_tabular)
    assert not (tmp_path / "ran").exists()


def test_crafted_transformation_is_refused_by_fairdg_run(tmp_path, capsys):
    evil = _evil(tmp_path / "evil.pt", tmp_path / "ran", kind="fairdg-transformation")
    argv = ["run", "--dataset", "synthetic", "--algorithm", "fddg", "--transformation", str(evil)]
    argv += ["--steps", "2", "--compare", "none", "--quiet", "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "evil.pt was refused" in err and "never runs code" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "ran").exists()


def test_damaged_file_is_corrupt_not_unsafe(tmp_path):
    path = tmp_path / "c.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptCheckpointError, match="corrupt") as info:
        load_checkpoint(path)
    assert not isinstance(info.value, UnsafeCheckpointError)


def _transformation(name: str, dataset, folder) -> str:
    """A T trained for 2 steps on the sources, with the sensitive factor when `name` needs it."""
    sensitive = NEEDS_T[name]
    config = default_config(dataset, use_sensitive=sensitive, batch_size=16)
    model = fit_transformation(dataset, config, test_domains=["d2"], steps=2, quiet=True)
    return str(save_transformation(model, folder / f"t-{sensitive}.pt"))


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_every_algorithm_checkpoint_loads_weights_only(name, tmp_path, tiny_tabular):
    """Each algorithm's checkpoint (weights, optimiser, extra state, sampler, RNG) holds only
    plain data, so the safe loader reads it back."""
    config = _config(tmp_path, algorithm=name)
    if ALGORITHMS.get(name).USES_TRANSFORMATION:  # FDDG, MBDG, DDG, FATDM and variants
        config = config.replace(transformation=_transformation(name, tiny_tabular, tmp_path))
    _, split, hparams, algorithm = prepare(config, tiny_tabular)
    sampler = DomainSampler(split.train(), int(hparams.get("batch_size", 8)), 0, "cpu")
    takes_step = "step" in inspect.signature(algorithm.update).parameters
    algorithm.update(sampler(), *([0] if takes_step else []))
    best = {"value": 0.5, "step": 1, "metrics": {"val": {"accuracy": 0.5}}}
    save_state(tmp_path / "c.pt", algorithm, sampler, 1, 1, {**best, "state": None})
    state = load_checkpoint(tmp_path / "c.pt")
    algorithm.load_state_dict(state["model"])
    algorithm.load_extra(state["extra"])
    save_checkpoint(tmp_path / "m.pt", {"format": 1, "model": state["model"], "hparams": hparams})
    assert load_checkpoint(tmp_path / "m.pt")["hparams"] == hparams
