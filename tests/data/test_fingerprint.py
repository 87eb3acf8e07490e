"""Data identity: a csv run's id covers the file's content, not the path's spelling; the ids of
datasets that read no user file are those of earlier versions."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from fairdg import fingerprint
from fairdg.training import RunConfig


def people_frame(n: int = 400) -> pd.DataFrame:
    rows = range(n)
    return pd.DataFrame(
        {
            "age": [18 + (7 * i) % 50 for i in rows],
            "income": [round(30 + (13 * i) % 41 + 0.5 * (i % 2), 1) for i in rows],
            "sex": ["female" if i % 3 else "male" for i in rows],
            "credit": ["good" if (i * 5) % 7 < 4 else "bad" for i in rows],
        }
    )


def csv_config(path, **options):
    options = {"path": str(path), "target": "credit", "sensitive": "sex", **options}
    return RunConfig(dataset="csv", data_options=options, steps=5)


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "data" / "people.csv"
    path.parent.mkdir()
    people_frame().to_csv(path, index=False)
    return path


def test_changed_content_gives_a_new_run_id(table):
    before = csv_config(table).run_id()
    frame = people_frame()
    frame["credit"] = frame["credit"].map({"good": "bad", "bad": "good"})  # every label flipped
    frame.to_csv(table, index=False)
    flipped = csv_config(table).run_id()
    people_frame().head(300).to_csv(table, index=False)  # cut to 300 rows
    cut = csv_config(table).run_id()
    assert len({before, flipped, cut}) == 3
    people_frame().to_csv(table, index=False)  # the same bytes again: the first id again
    assert csv_config(table).run_id() == before


def test_the_same_content_by_any_spelling_gives_the_same_id(table, tmp_path, monkeypatch):
    absolute = csv_config(table).run_id()
    monkeypatch.chdir(tmp_path)
    assert csv_config("data/people.csv").run_id() == absolute
    assert csv_config("./data/../data/people.csv").run_id() == absolute
    assert csv_config("people.csv", root=str(tmp_path / "data")).run_id() == absolute
    copy = tmp_path / "elsewhere.csv"
    copy.write_bytes(table.read_bytes())
    assert csv_config(copy).run_id() == absolute  # the data, not where they are


def test_a_sensitive_map_file_is_identified_by_content(table, tmp_path):
    mapping = tmp_path / "groups.json"
    mapping.write_text(json.dumps({"female": "f", "male": "m"}))
    first = csv_config(table, sensitive_map=str(mapping)).run_id()
    mapping.write_text(json.dumps({"female": "m", "male": "f"}))
    assert csv_config(table, sensitive_map=str(mapping)).run_id() != first
    inline = csv_config(table, sensitive_map="female=f,male=m")  # not a file: kept as written
    assert inline.hashed_dict()["data_options"]["sensitive_map"] == "female=f,male=m"


def test_a_large_file_is_hashed_once(table, monkeypatch):
    calls = []
    real = fingerprint._sha256_file
    monkeypatch.setattr(fingerprint, "_sha256_file", lambda p: calls.append(p) or real(p))
    fingerprint._memory.clear()
    for _ in range(3):
        csv_config(table).run_id()
    fingerprint._memory.clear()  # a new process: the cache file answers
    csv_config(table).run_id()
    assert len(calls) == 1
    cache = json.loads((fingerprint.cache_dir() / fingerprint.CACHE_NAME).read_text())
    assert cache[str(table.resolve())]["size"] == table.stat().st_size
    os.utime(table, ns=(1, 1))  # touched: hashed again, same content, same fingerprint
    first = fingerprint.file_fingerprint(table)
    assert len(calls) == 2 and first == fingerprint.file_fingerprint(table)


def test_a_missing_file_keeps_its_spelling(tmp_path):
    config = csv_config(tmp_path / "absent.csv")
    assert config.hashed_dict()["data_options"]["path"] == str(tmp_path / "absent.csv")


def test_run_ids_of_datasets_without_user_files_are_unchanged():
    # computed by the version before fingerprints (commit 3a5c62d)
    assert RunConfig(dataset="adult").run_id() == "75894cb48cd6"
    config = RunConfig(
        dataset="adult",
        data_options={"domain": "age", "root": "/x"},
        algorithm="irm",
        hparams={"fair_lambda": 1},
        test_domains=("age45+",),
        seed=3,
    )
    assert config.run_id() == "94f7354b2606"
    assert RunConfig(dataset="ccmnist", steps=10).run_id() == "8f1e30959ee7"
