"""Run folders: one process at a time (lock), --force replaces a run only when complete, and a
resumed run says when its history has unreadable lines."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading

import pytest
from run_helpers import interrupt_at_evaluation

from fairdg import records
from fairdg.experiments.sweep import run_state, run_sweep
from fairdg.reporting.collect import collect
from fairdg.runlock import RunLockedError, is_locked, lock_path, run_lock
from fairdg.training import RunConfig, train


def _config(tmp_path, **kw):
    base = dict(dataset="tiny", algorithm="erm", steps=20, eval_every=5, quiet=True)
    return RunConfig(**{**base, "output_dir": str(tmp_path), "test_domains": ("d2",), **kw})


def _steps(run_dir):
    return [r["step"] for r in records.load_jsonl(run_dir / "results.jsonl")[0]]


def test_second_process_gets_a_clear_error(tmp_path, tiny_tabular):
    config = _config(tmp_path)
    run_dir = tmp_path / config.run_id()
    with run_lock(run_dir):  # flock conflicts between open files, even in one process
        assert is_locked(run_dir) and run_state(config) == "locked"
        with pytest.raises(RunLockedError, match=rf"pid {os.getpid()} on host .*wait for it"):
            train(config, dataset=tiny_tabular)
        assert not (run_dir / "results.jsonl").exists()
    assert not is_locked(run_dir) and not lock_path(run_dir).exists()
    assert _steps(train(config, dataset=tiny_tabular).run_dir) == [5, 10, 15, 20]


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, tiny_tabular, caplog):
    config = _config(tmp_path)
    path = lock_path(tmp_path / config.run_id())
    path.write_text(json.dumps({"pid": 999999999, "host": "gone", "since": "then"}))
    with caplog.at_level(logging.WARNING, logger="fairdg"):
        result = train(config, dataset=tiny_tabular)
    assert "stale lock" in caplog.text and "999999999" in caplog.text
    assert _steps(result.run_dir) == [5, 10, 15, 20] and not path.exists()


@pytest.mark.kill_resume
def test_two_identical_runs_at_once_write_each_evaluation_once(tmp_path, tiny_tabular):
    config = _config(tmp_path, steps=40)
    outcomes = []

    def one():
        try:
            train(config, dataset=tiny_tabular)
            outcomes.append("ok")
        except RunLockedError:
            outcomes.append("locked")

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "ok" in outcomes and set(outcomes) <= {"ok", "locked"}
    assert _steps(tmp_path / config.run_id()) == list(range(5, 41, 5))
    summary = records.load_jsonl(tmp_path / "results.jsonl")[0]
    assert [r["run_id"] for r in summary] == [config.run_id()]


def test_sweep_skips_a_locked_run(tmp_path, tiny_tabular):
    config = _config(tmp_path)
    with run_lock(tmp_path / config.run_id()):
        result = run_sweep([config], "local", datasets={"tiny": tiny_tabular}, progress=False)
    assert (result.skipped_locked, result.completed) == (1, 0)
    assert "1 being trained by another process" in result.summary()
    assert not (tmp_path / config.run_id()).exists()


@pytest.mark.kill_resume
def test_interrupted_force_rerun_loses_nothing(tmp_path, tiny_tabular, monkeypatch):
    config = _config(tmp_path)
    run_dir = train(config, dataset=tiny_tabular).run_dir
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    interrupt_at_evaluation(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        train(config, dataset=tiny_tabular, force=True)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before
    assert [r.run_id for r in collect(tmp_path).runs] == [config.run_id()]  # hidden folder
    again = train(config, dataset=tiny_tabular)  # plain: the old complete run stands
    assert again.record == json.loads(before["done.json"])
    forced = train(config, dataset=tiny_tabular, force=True)
    assert forced.run_dir == run_dir and _steps(run_dir) == [5, 10, 15, 20]
    assert sorted(p.name for p in tmp_path.iterdir()) == [config.run_id(), "results.jsonl"]


@pytest.mark.kill_resume
def test_replacement_cut_between_its_renames_is_completed(tmp_path, tiny_tabular):
    config = _config(tmp_path)
    run_dir = train(config, dataset=tiny_tabular).run_dir
    old, work = tmp_path / f".{run_dir.name}.old", tmp_path / f".{run_dir.name}.force"
    shutil.copytree(run_dir, work)
    new = {**records.read_json(run_dir / "done.json"), "marker": "new"}
    records.write_json(work / "done.json", new)
    os.replace(run_dir, old)  # killed right after the first rename
    assert train(config, dataset=tiny_tabular).record == new
    assert not old.exists() and not work.exists()


@pytest.mark.kill_resume
def test_resume_reports_unreadable_history_lines(tmp_path, tiny_tabular, monkeypatch, caplog):
    config = _config(tmp_path)
    interrupt_at_evaluation(monkeypatch, 4)  # checkpoint after 3 evaluations
    with pytest.raises(KeyboardInterrupt):
        train(config, dataset=tiny_tabular)
    monkeypatch.undo()
    history = tmp_path / config.run_id() / "results.jsonl"
    lines = history.read_text().splitlines()
    history.write_text("\n".join([lines[0], "{garbage", lines[2]]) + "\n")
    with caplog.at_level(logging.WARNING, logger="fairdg"):
        result = train(config, dataset=tiny_tabular)
    assert "has 1 unreadable line(s)" in caplog.text
    assert "holds 2 readable evaluation(s) of the 3" in caplog.text and "misses 1" in caplog.text
    assert _steps(result.run_dir) == [5, 15, 20]
