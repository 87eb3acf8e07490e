"""The files of a finished run as the loop writes and reads them back: ``model.pt``'s state and
``done.json``, checked against their schema (`fairdg.records`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairdg import records

CHECKPOINT_FORMAT = 1


def read_done(run_dir: Path, run_id: str | None = None) -> dict[str, Any]:
    """A finished run's ``done.json``, checked: an object with the keys fairdg reads back
    (`records.DONE_SPEC`) and, given `run_id`, the run's own id."""
    path = run_dir / "done.json"
    record = records.read_json(path, records.DONE_SPEC)
    if run_id is not None and record["run_id"] != run_id:
        raise records.CorruptRunError(
            f"{path}: field 'run_id' is {record['run_id']!r} but the folder holds run {run_id}; "
            f"{records.RECORD_FIX}"
        )
    return record


def model_state(config, dataset, split, hparams, best, algorithm) -> dict[str, Any]:
    """``model.pt``: the selected weights and all that rebuilds the network without the data.
    A transformation model's config travels with its weights (they are part of the state), so
    the run folder predicts wherever it is moved; its file's absolute path is kept for the
    record."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "model": best["state"],
        "config": config.to_dict(),
        "hparams": hparams,
        "input_shape": list(dataset.input_shape),
        "num_classes": dataset.num_classes,
        "num_domains": len(split.train_domains),
        "num_groups": dataset.num_groups,
        "class_names": list(dataset.class_names),  # predictions name the classes
    }
    t = getattr(algorithm, "transformation", None)
    if t is not None:
        path = config.transformation
        state["transformation"] = {
            "config": t.config.to_dict(),
            "meta": json.loads(records.dumps(t.meta)),
            "path": None if path is None else str(Path(path).resolve()),
        }
    return state
