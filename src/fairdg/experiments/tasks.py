"""`Task`: a unit of work for the engine that is not a training run.

A task calls a module-level function with JSON-able keyword parameters and keeps what it
returns (a JSON-able dict) as ``done.json`` in ``<output_dir>/<run id>/``, beside a
``config.json`` naming the function and the parameters. The engine treats it as it treats a run
(`fairdg.experiments.sweep`): skipped when done, recorded in ``failed.json`` when it raises,
locked while it works, sent to worker processes or Ray (the function travels by its import
path). A task has no checkpoint: one interrupted starts again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairdg import records
from fairdg.records import canonical_json
from fairdg.runlock import run_lock


@dataclass(frozen=True)
class Task:
    """``function(**params)`` whose result is kept in ``<output_dir>/<run id>/done.json``.

    Parameters
    ----------
    function
        A module-level function (worker processes import it by name) returning a JSON-able
        dict.
    params
        Its keyword arguments, JSON-able: with the function's name they make the run id.
    output_dir
        The folder of the task's folder.
    context
        More keyword arguments that do not change the result (a device, a data folder): outside
        the run id.
    """

    function: Callable[..., dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    output_dir: str = "fairdg-runs"
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.function.__module__}:{self.function.__qualname__}"

    def run_id(self) -> str:
        """Short stable hash of the function's name and the parameters."""
        text = canonical_json({"task": self.name, "params": self.params})
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def folder(self) -> Path:
        return Path(self.output_dir) / self.run_id()

    def execute(self) -> dict[str, Any]:
        """Do the work unless it is done (under the folder's lock); returns the result."""
        folder = self.folder()
        with run_lock(folder):
            if (folder / "done.json").exists():
                return records.read_json(folder / "done.json")["result"]
            config = {"run_id": self.run_id(), "task": self.name, "params": self.params}
            records.write_json(folder / "config.json", config)
            result = self.function(**self.params, **self.context)
            records.write_json(folder / "done.json", {"run_id": self.run_id(), "result": result})
        return result


def task_result(folder: Path) -> dict[str, Any] | None:
    """What a done task returned (None when its folder holds no result)."""
    path = Path(folder) / "done.json"
    return records.read_json(path).get("result") if path.exists() else None
