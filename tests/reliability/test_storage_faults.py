"""Storage faults and moved run folders (issue 27, cases 7 and 8 and the extra ones): a full disk
is one line naming the file with nothing lost, a complete run on read-only storage is shown, a
run predicts after its folder moved away from its transformation model, and messages name the
run (not a temporary folder) and quote what a shell would split."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from run_helpers import cli, fails_with_one_line, rewrite_model

import fairdg
from fairdg import checkpoint, records
from fairdg.records import NoSpaceError
from fairdg.training import RunConfig, train
from fairdg.transformation import (
    TransformationModel,
    check_compatible,
    default_config,
    fit_transformation,
    save_transformation,
)

FULL = "nothing was lost; free space and run the same command"


def _full_disk_after(monkeypatch, n_saves: int, budget: int = 300) -> None:
    """Checkpoint saves after the first `n_saves` find the disk full `budget` bytes in, as
    a real write would (torch turns the error into a C++ message without the errno)."""
    real_init, saves = checkpoint._HashingWriter.__init__, []

    class FullDisk:
        def __init__(self, handle):
            self.handle, self.left = handle, budget

        def write(self, data):
            self.left -= len(data)
            if self.left < 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.handle.write(data)

        def flush(self):
            self.handle.flush()

    def init(self, handle):
        saves.append(1)
        real_init(self, FullDisk(handle) if len(saves) > n_saves else handle)

    monkeypatch.setattr(checkpoint._HashingWriter, "__init__", init)


# -- case 7: a full disk --------------------------------------------------------------------------
def test_full_disk_while_checkpointing_is_one_line_and_loses_nothing(
    table_run, tmp_path, monkeypatch
):
    argv = table_run.run_argv(tmp_path / "runs")
    run_dir = tmp_path / "runs" / table_run.run_dir.name
    _full_disk_after(monkeypatch, 1)
    line = fails_with_one_line(argv, f"no space left writing {run_dir / 'checkpoint.pt'}; {FULL}")
    assert "enforce fail" not in line and "Errno" not in line
    monkeypatch.undo()
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert cli(argv)[0] == 0  # resumed from the first checkpoint
    done = json.loads((run_dir / "done.json").read_text())
    assert done["metrics"] == table_run.result.record["metrics"]


def _fsync_fails_for(monkeypatch, name: str) -> None:
    real = os.fsync

    def fsync(fd):
        if name in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name the file")
@pytest.mark.parametrize("name", ["done.json", "results.jsonl", "config.json"])
def test_full_disk_writing_records_is_one_line(table_run, tmp_path, monkeypatch, name):
    argv = table_run.run_argv(tmp_path / "runs")
    run_dir = tmp_path / "runs" / table_run.run_dir.name
    _fsync_fails_for(monkeypatch, f"{run_dir.name}/.{name}" if name != "results.jsonl" else name)
    fails_with_one_line(argv, f"no space left writing {run_dir / name}; {FULL}")
    monkeypatch.undo()
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert cli(argv)[0] == 0
    done = json.loads((run_dir / "done.json").read_text())
    assert done["metrics"] == table_run.result.record["metrics"]


def test_a_line_cut_short_by_a_full_disk_is_removed(tmp_path, monkeypatch):
    path = tmp_path / "results.jsonl"
    records.append_jsonl(path, {"step": 1})
    real = os.write

    def half_then_full(fd, data):
        real(fd, bytes(data[:7]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(NoSpaceError, match=f"no space left writing {path}; {FULL}"):
        records.append_jsonl(path, {"step": 2})
    monkeypatch.undo()
    records.append_jsonl(path, {"step": 3})
    assert records.load_jsonl(path) == ([{"step": 1}, {"step": 3}], [])


# -- case 8: a complete run on read-only storage ------------------------------------------------
def _read_only(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "unlink", refuse)  # even of a file that is not there
    monkeypatch.setattr(records, "append_jsonl", refuse)


def test_complete_run_on_read_only_storage_is_shown(table_run, tmp_path, monkeypatch, caplog):
    table_run.copy(tmp_path / "runs")
    shutil.copy(Path(table_run.result.run_dir).parent / "results.jsonl", tmp_path / "runs")
    argv = table_run.run_argv(tmp_path / "runs")
    _read_only(monkeypatch)
    code, out, err = cli(argv)
    assert code == 0 and "erm on csv: 30 steps" in out and not err
    code, _, _ = cli(table_run.predict_argv(tmp_path / "runs" / table_run.run_dir.name, tmp_path))
    assert code == 0


def test_read_only_run_with_leftovers_is_shown_with_a_warning(
    table_run, tmp_path, monkeypatch, caplog
):
    run_dir = table_run.copy(tmp_path / "runs")
    (run_dir / "checkpoint.pt").write_bytes(b"left by a kill after done.json")
    _read_only(monkeypatch)  # and no summary file: appending it fails too
    with caplog.at_level(logging.WARNING, logger="fairdg"):
        code, out, _ = cli(table_run.run_argv(tmp_path / "runs"))
    assert code == 0 and "erm on csv: 30 steps" in out
    assert "is complete but its folder is read-only" in caplog.text


# -- also seen: a run folder moved away from its transformation model ---------------------------
@pytest.fixture
def fddg_run(tmp_path, tiny_tabular, monkeypatch):
    """An FDDG run trained with ``transformation="t.pt"`` typed relative to the working folder."""
    monkeypatch.chdir(tmp_path)
    t_config = default_config(tiny_tabular, use_sensitive=True, batch_size=16)
    t = fit_transformation(tiny_tabular, t_config, test_domains=["d2"], steps=2, quiet=True)
    save_transformation(t, "t.pt")
    config = RunConfig(dataset="tiny", algorithm="fddg", steps=4, quiet=True, output_dir="runs")
    result = train(config.replace(transformation="t.pt", test_domains=("d2",)), tiny_tabular)
    return result, tmp_path


def _moved(fddg_run, monkeypatch):
    """The output folder moved elsewhere, the transformation model left behind and deleted."""
    result, home = fddg_run
    moved = home / "elsewhere"
    shutil.move(home / "runs", moved / "runs")
    (home / "t.pt").unlink()
    monkeypatch.chdir(moved)
    return moved / "runs" / result.run_dir.name


def test_moved_fddg_run_predicts_without_its_transformation_file(fddg_run, monkeypatch):
    result, home = fddg_run
    state = torch.load(result.run_dir / "model.pt", weights_only=True)
    assert state["transformation"]["path"] == str(home / "t.pt")  # absolute, for the record
    x = result.split.parts["d2"]["test"].x
    expected = fairdg.load_model(result.run_dir).predict_proba(x.numpy())
    run_dir = _moved(fddg_run, monkeypatch)
    np.testing.assert_array_equal(fairdg.load_model(run_dir).predict_proba(x.numpy()), expected)


def test_older_fddg_run_finds_its_transformation_relative_to_the_run(fddg_run, monkeypatch):
    result, home = fddg_run
    shutil.copy(home / "t.pt", home / "t-copy.pt")
    rewrite_model(result.run_dir, lambda state: state.pop("transformation"))  # as before
    run_dir = _moved(fddg_run, monkeypatch)
    with pytest.raises(FileNotFoundError) as info:
        fairdg.load_model(run_dir)
    text = str(info.value)
    assert "was trained with the transformation model 't.pt', found at none of" in text
    assert "copy that file to one of these places" in text and "transform train" not in text
    shutil.copy(home / "t-copy.pt", run_dir.parent.parent / "t.pt")  # moved with its output
    assert fairdg.load_model(run_dir).algorithm.transformation is not None


# -- also seen: warnings name the run, suggestions are quoted ------------------------------------
def test_small_group_warning_names_the_run_not_a_temporary_folder(tmp_path, tiny_tabular, caplog):
    config = RunConfig(dataset="tiny", steps=4, quiet=True, output_dir=str(tmp_path))
    train(config, dataset=tiny_tabular)
    with caplog.at_level(logging.WARNING, logger="fairdg"):
        train(config, dataset=tiny_tabular, force=True)  # trains in .<run id>.force/
    lines = [r.getMessage() for r in caplog.records if "undefined" in r.getMessage()]
    assert lines and all(line.startswith(f"{config.run_id()}: ") for line in lines)


def test_suggested_test_domains_are_quoted(tiny_tabular):
    model = TransformationModel(default_config(tiny_tabular))
    model.meta = {"train_domains": ["Less than 25", "25-45"]}
    with pytest.raises(ValueError, match="train T with --test-domains 'Less than 25'$"):
        check_compatible(model, None, tiny_tabular.input_shape, ["Less than 25"])
