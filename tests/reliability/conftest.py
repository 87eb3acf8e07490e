"""The session's finished ``csv`` run that reliability tests copy and damage (`run_helpers`)."""

from __future__ import annotations

import pytest
from run_helpers import TABLE_OPTIONS, TableRun, make_table

from fairdg.training import RunConfig, train


@pytest.fixture(scope="session")
def table_run(tmp_path_factory) -> TableRun:
    folder = tmp_path_factory.mktemp("table-run")
    table = make_table()
    table.to_csv(folder / "table.csv", index=False)
    config = RunConfig(
        dataset="csv",
        data_options={"path": str(folder / "table.csv"), **TABLE_OPTIONS},
        algorithm="erm",
        steps=30,
        eval_every=10,
        output_dir=str(folder / "runs"),
        quiet=True,
        min_group_size=5,
    )
    return TableRun(train(config), table, folder)
