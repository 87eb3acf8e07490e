"""Run files get the user's umask like any other file (not mkstemp's 0600)."""

from __future__ import annotations

import os
import stat

import pytest

from fairdg.training import RunConfig, train


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_run_files_follow_the_umask(tmp_path, tiny_tabular, umask, mode):
    config = RunConfig(
        dataset="tiny",
        algorithm="erm",
        steps=4,
        eval_every=2,
        quiet=True,
        output_dir=str(tmp_path),
        test_domains=("d2",),
    )
    previous = os.umask(umask)
    try:
        run_dir = train(config, dataset=tiny_tabular).run_dir
    finally:
        os.umask(previous)
    files = [*run_dir.iterdir(), tmp_path / "results.jsonl"]
    assert {"config.json", "done.json", "model.pt", "results.jsonl"} <= {f.name for f in files}
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {
        f.name: oct(mode) for f in files
    }
