"""Damaged or inconsistent run files are detected and named (issue 27, cases 1, 3, 4, 5, 6 and 9).

Each test damages a copy of a finished run the way a trial did and asserts the new outcome:
exit code 2 and one line naming the file, the field and the fix. The sha256 of model.pt and
checkpoint.pt is recorded when written and checked when read; run files must be regular files;
done.json, config.json, preprocessing.json and model.pt's stored config are checked against
their schema and against the model before any network is allocated.
"""

from __future__ import annotations

import json
import logging
import os
import signal

import pytest
import torch
from run_helpers import (
    cli,
    edit_json,
    fails_with_one_line,
    flip_tensor_bytes,
    interrupt_at_evaluation,
    rewrite_model,
)

import fairdg
from fairdg import predict as predict_module
from fairdg.checkpoint import CorruptCheckpointError, load_checkpoint, save_checkpoint
from fairdg.records import CorruptRunError
from fairdg.training import RunConfig, train


def _predict(table_run, tmp_path, change=None):
    """A copy of the run (changed by `change(run_dir)`) and its predict arguments."""
    run_dir = table_run.copy(tmp_path / "runs")
    if change is not None:
        change(run_dir)
    return run_dir, table_run.predict_argv(run_dir, tmp_path)


# -- case 1: a bit-flipped model.pt ------------------------------------------------------------
def test_bit_flipped_model_is_refused(table_run, tmp_path):
    run_dir, argv = _predict(table_run, tmp_path)
    before = torch.load(run_dir / "model.pt", weights_only=True)["model"]
    flip_tensor_bytes(run_dir / "model.pt")
    after = torch.load(run_dir / "model.pt", weights_only=True)["model"]  # torch: no complaint
    assert any(not torch.equal(before[k], after[k]) for k in before)
    fails_with_one_line(
        argv, f"{run_dir / 'model.pt'} is damaged: its sha256", "recorded in model.pt.sha256"
    )
    assert not (tmp_path / "out.csv").exists()
    # a run recorded before fairdg kept the sha256: the zip CRC of the member catches it
    (run_dir / "model.pt.sha256").unlink()
    fails_with_one_line(argv, "model.pt is damaged: its member", "fails its CRC check")


def _interrupted(tmp_path, tiny_tabular, monkeypatch, at=3):
    """A tiny run stopped at its `at`-th evaluation: a checkpoint and its sidecar remain."""
    config = RunConfig(
        dataset="tiny", steps=20, eval_every=5, quiet=True, output_dir=str(tmp_path)
    ).replace(test_domains=("d2",))
    interrupt_at_evaluation(monkeypatch, at)
    with pytest.raises(KeyboardInterrupt):
        train(config, dataset=tiny_tabular)
    monkeypatch.undo()
    return config, tmp_path / config.run_id()


@pytest.mark.kill_resume
def test_bit_flipped_checkpoint_is_refused_on_resume(tmp_path, tiny_tabular, monkeypatch):
    config, run_dir = _interrupted(tmp_path, tiny_tabular, monkeypatch)
    assert (run_dir / "checkpoint.pt.sha256").is_file()
    flip_tensor_bytes(run_dir / "checkpoint.pt")
    with pytest.raises(CorruptCheckpointError) as info:
        train(config, dataset=tiny_tabular)
    text = str(info.value)
    assert "checkpoint.pt is damaged: its sha256" in text and "checkpoint.pt.sha256" in text
    assert text.endswith("delete it to start the run again from step 0") and "\n" not in text
    (run_dir / "checkpoint.pt").unlink()  # the fix the message gives
    assert train(config, dataset=tiny_tabular).record["steps"] == 20


@pytest.mark.kill_resume
def test_a_kill_between_sidecar_and_checkpoint_renames_still_resumes(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"format": 1, "step": 1}, sidecar=True)
    real, renames = os.replace, []

    def killed_at_the_checkpoint_rename(src, dst):
        renames.append(dst)
        if str(dst) == str(path):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", killed_at_the_checkpoint_rename)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"format": 1, "step": 2}, sidecar=True)
    monkeypatch.undo()
    assert [str(r) for r in renames] == [f"{path}.sha256", str(path)]
    assert load_checkpoint(path)["step"] == 1  # the new sidecar lists the old file too
    save_checkpoint(path, {"format": 1, "step": 3}, sidecar=True)
    assert load_checkpoint(path)["step"] == 3


# -- case 3: done.json of the wrong shape --------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "says"),
    [
        ([], "done.json: the file must be an object, got []"),
        ({}, "done.json: field 'run_id' is missing"),
        ({"run_id": "x"}, "done.json: field 'dataset' is missing"),
        ("metrics", "done.json: the file must be an object, got 'metrics'"),
    ],
)
def test_done_json_of_the_wrong_shape(table_run, tmp_path, content, says):
    run_dir = table_run.copy(tmp_path / "runs")
    argv = table_run.run_argv(tmp_path / "runs")
    assert cli(argv)[0] == 0  # the very run: shown, not trained again
    (run_dir / "done.json").write_text(json.dumps(content))
    fails_with_one_line(argv, says, "delete the run folder (or rerun with --force)")
    fails_with_one_line(table_run.predict_argv(run_dir, tmp_path), says)


def test_done_json_of_another_run(table_run, tmp_path):
    run_dir = table_run.copy(tmp_path / "runs")
    edit_json(run_dir / "done.json", lambda done: done.update(run_id="0123456789ab"))
    fails_with_one_line(
        table_run.run_argv(tmp_path / "runs"),
        "field 'run_id' is '0123456789ab' but the folder holds run",
    )


def test_config_json_of_the_wrong_shape_is_named(tmp_path, tiny_tabular, monkeypatch):
    config, run_dir = _interrupted(tmp_path, tiny_tabular, monkeypatch)
    (run_dir / "config.json").write_text("[1, 2]")
    with pytest.raises(CorruptRunError, match=r"config.json: the file must be an object, got"):
        train(config, dataset=tiny_tabular)


# -- cases 4 and 5: preprocessing.json malformed or inconsistent; model.pt without config ------
def _spec(change):
    return lambda run_dir: edit_json(run_dir / "preprocessing.json", change)


def _content(value):
    return lambda run_dir: (run_dir / "preprocessing.json").write_text(json.dumps(value))


def _set(key, value):
    return lambda spec: spec.update({key: value})


def _standardize(key, value):
    return lambda spec: spec["standardize"].update({key: value})


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_content({}), "field 'format' is missing"),
        (_content([]), "the file must be an object, got []"),
        (_spec(_set("columns", "age,income")), "field 'columns' must be a list, got 'age,income'"),
        (_spec(lambda s: s["columns"].pop()), "'columns' gives 2 features, 'feature_names'"),
        (_spec(_set("class_names", ["0"])), "'class_names' lists 1 class name(s); the model"),
        (_spec(_standardize("std", [0, 0])), "'standardize.std[0]' must be a finite number > 0"),
        (_spec(_standardize("std", [1.0])), "field 'standardize' has 2 columns, 2 means and 1"),
        (_spec(_set("class_names", ["0", "1", "2"])), "field 'class_names' lists 3 class name(s)"),
        (_spec(_set("format", 99)), "'format' must be 1 (the format this fairdg reads), got 99"),
        (_spec(lambda s: s["columns"][2].pop("categories")), "'columns[2].categories' is missing"),
    ],
)  # fmt: skip
def test_preprocessing_json_malformed_or_inconsistent(table_run, tmp_path, change, says):
    run_dir, argv = _predict(table_run, tmp_path, change)
    fails_with_one_line(argv, f"{run_dir / 'preprocessing.json'}: ", says, "rerun the run")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda state: state.pop("config"), "model.pt: field 'config' is missing"),
        (lambda state: state.update(num_classes=1), "field 'num_classes' must be an integer >= 2"),
        (lambda state: state.update(input_shape=[]), "field 'input_shape' must be a non-empty"),
        (lambda state: state["config"].update(algorithm="nope"), "field 'config' is not a run"),
        (lambda state: state.update(format=7), "model.pt: field 'format' must be 1, got 7"),
        (lambda state: state["hparams"].update(lr=-1.0), "field 'hparams': hyperparameter 'lr'"),
        (lambda state: state.update(input_shape=[9]), "'featurizer"),
    ],
)
def test_model_file_without_config_or_with_a_wrong_one(table_run, tmp_path, change, says):
    run_dir, argv = _predict(table_run, tmp_path, lambda d: rewrite_model(d, change))
    fails_with_one_line(argv, says, "rerun the run with --force")


# -- case 6: a crafted config that describes a huge network --------------------------------------
def test_huge_network_in_stored_config_is_refused_before_allocation(
    table_run, tmp_path, monkeypatch
):
    def huge(state):
        state["hparams"]["mlp_width"] = 1e9

    run_dir, argv = _predict(table_run, tmp_path, lambda d: rewrite_model(d, huge))
    devices, real = [], predict_module.build_algorithm

    def build(*args, **kwargs):
        devices.append(torch.get_default_device().type)
        return real(*args, **kwargs)

    monkeypatch.setattr(predict_module, "build_algorithm", build)
    line = fails_with_one_line(argv, "model.pt: its stored config", "does not fit its weights")
    assert "(1000000000, 5)" in line and "the file holds (128, 5)" in line
    assert devices == ["meta"]  # only the shapes were built, never the 20 GB of weights


# -- case 9: a FIFO in place of a run file --------------------------------------------------------
@pytest.fixture
def no_hang():
    """Fail instead of waiting forever on a FIFO."""

    def timeout(*_):
        raise TimeoutError("blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.kill_resume
def test_fifo_checkpoint_does_not_hang_a_resume(tmp_path, tiny_tabular, monkeypatch, no_hang):
    config, run_dir = _interrupted(tmp_path, tiny_tabular, monkeypatch)
    for name in ("checkpoint.pt", "checkpoint.pt.sha256"):
        (run_dir / name).unlink()
    os.mkfifo(run_dir / "checkpoint.pt")
    with pytest.raises(CorruptCheckpointError, match="checkpoint.pt is not a regular file but a"):
        train(config, dataset=tiny_tabular)


@pytest.mark.kill_resume
def test_fifo_history_does_not_hang_a_resume(tmp_path, tiny_tabular, monkeypatch, no_hang, caplog):
    config, run_dir = _interrupted(tmp_path, tiny_tabular, monkeypatch)
    (run_dir / "results.jsonl").unlink()
    os.mkfifo(run_dir / "results.jsonl")
    with caplog.at_level(logging.WARNING, logger="fairdg"):
        result = train(config, dataset=tiny_tabular)  # the history is lost, and said so
    assert "results.jsonl: not a regular file, skipped" in caplog.text
    assert [r["step"] for r in result.history] == [15, 20]


@pytest.mark.parametrize("name", ["model.pt", "done.json", "preprocessing.json"])
def test_fifo_run_files_are_refused(table_run, tmp_path, name, no_hang):
    run_dir, argv = _predict(table_run, tmp_path)
    (run_dir / name).unlink()
    os.mkfifo(run_dir / name)
    fails_with_one_line(argv, f"{run_dir / name} is not a regular file but a FIFO")


# -- the loader holds for every algorithm ----------------------------------------------------
def test_load_model_rebuilds_from_stored_hparams_when_defaults_change(tmp_path, tiny_tabular):
    """Issue 25 point 4: a run keeps loading after a default changed (interpret's old loader
    raised a raw size mismatch)."""
    result = train(RunConfig(dataset="tiny", steps=4, output_dir=str(tmp_path), quiet=True),
                   dataset=tiny_tabular)  # fmt: skip
    from fairdg.interpret import load_run

    tiny_tabular.default_hparams["mlp_width"] = 64  # the dataset's default, changed since
    run = load_run(result.run_dir, dataset=tiny_tabular)
    assert run.hparams["mlp_width"] == 128
    x = result.split.parts["d0"]["test"].x
    assert torch.equal(run.algorithm.predict(x), result.algorithm.predict(x))
    assert fairdg.load_model(result.run_dir).hparams == run.hparams


@pytest.mark.slow  # a ResNet-18 trained one step, saved and loaded: about 3 s
def test_backbone_run_with_pretrained_weights_loads(tmp_path, tiny_image):
    """The meta-device build of the shape check reads the pretrained file like the real one
    (torch's "copy to a meta parameter is a no-op" warning stays out of the way)."""
    from fairdg.networks.backbones import BACKBONES

    torch.save(BACKBONES["resnet18"]().state_dict(), tmp_path / "r18.pt")
    hparams = {"backbone": "resnet18", "pretrained": str(tmp_path / "r18.pt"), "batch_size": 4}
    config = RunConfig(dataset="tiny-image", steps=1, quiet=True, output_dir=str(tmp_path))
    result = train(config.replace(hparams=hparams), dataset=tiny_image)
    x = result.split.parts["d0"]["test"].x[:4]
    model = fairdg.load_model(result.run_dir)
    assert torch.equal(model.algorithm.predict(x), result.algorithm.eval().predict(x))
