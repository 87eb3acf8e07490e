"""The files of a run as the loop writes and reads them back: the resumable checkpoint and the
evaluation history, ``model.pt``'s state, ``done.json`` and the output folder's summary line,
checked against their schema (`fairdg.records`)."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import torch

from fairdg import records
from fairdg.checkpoint import CorruptCheckpointError, load_checkpoint, save_checkpoint
from fairdg.data.base import MultiDomainDataset, Split
from fairdg.data.tabular import with_statistics
from fairdg.training.config import RunConfig
from fairdg.version import __version__

log = logging.getLogger("fairdg")

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


def save_state(path: Path, algorithm, sampler, step, n_evals, best) -> None:
    """The resumable checkpoint: weights, the algorithm's extra state, the sampler's and torch's
    random state, the step, the evaluations made and the best one so far."""
    save_checkpoint(  # its sha256 goes to checkpoint.pt.sha256, checked on resume
        path,
        {
            "format": CHECKPOINT_FORMAT,
            "step": step,
            "n_evals": n_evals,
            "model": algorithm.state_dict(),
            "extra": algorithm.extra_state(),
            "sampler": sampler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "best": best,
        },
        sidecar=True,
    )


def resume_state(path: Path, run_dir: Path, algorithm, sampler, device) -> tuple[int, int, dict]:
    """Restore a checkpoint; drop evaluation records written after it."""
    state = load_checkpoint(path, map_location=device)
    missing = [k for k in ("model", "extra", "sampler", "torch_rng", "n_evals") if k not in state]
    if missing:
        raise CorruptCheckpointError(
            f"{path} is not a training checkpoint (no {', '.join(missing)}; a model.pt or "
            "another file put in its place?); delete it to start the run again from step 0"
        )
    algorithm.load_state_dict(state["model"])
    algorithm.load_extra(state["extra"])
    sampler.load_state_dict(state["sampler"])
    torch.set_rng_state(state["torch_rng"])
    check_history(run_dir / "results.jsonl", state["n_evals"])
    records.truncate_jsonl(run_dir / "results.jsonl", state["n_evals"])
    log.info("resumed %s at step %d", run_dir, state["step"])
    return state["step"], state["n_evals"], state["best"]


def check_history(path: Path, n_evals: int) -> None:
    """Say so when the history of a resumed run has unreadable lines or lost evaluations."""
    history, problems = records.load_jsonl(path) if path.exists() else ([], [])
    if problems:
        log.warning(
            "%s has %d unreadable line(s), skipped (first: %s)", path, len(problems), problems[0]
        )
    if len(history) < n_evals:
        log.warning(
            "%s holds %d readable evaluation(s) of the %d made before the checkpoint; the "
            "history of this run misses %d (its selected result is unaffected)",
            path,
            len(history),
            n_evals,
            n_evals - len(history),
        )


def preprocessing(dataset: MultiDomainDataset, split: Split) -> dict[str, Any]:
    """The dataset's encoding of raw columns plus the training split's standardisation."""
    spec = dict(dataset.preprocessing or {})
    if split.mean is not None and split.std is not None and dataset.standardize is not None:
        spec = with_statistics(spec, dataset.standardize, split.mean.tolist(), split.std.tolist())
    return spec


def append_summary(config: RunConfig, record: dict[str, Any], replace: bool) -> None:
    """Append `record` to ``<output>/results.jsonl`` unless it holds the run (or `replace`)."""
    summary_path = Path(config.output_dir) / "results.jsonl"
    if replace or not summary_has(summary_path, record["run_id"]):
        records.append_jsonl(summary_path, record)


def summary_has(path: Path, run_id: str) -> bool:
    """Whether the summary file already holds a record of `run_id`."""
    if not path.exists():
        return False
    return any(r.get("run_id") == run_id for r in records.load_jsonl(path)[0])


def summary_record(config, split, hparams, steps, best, wall) -> dict[str, Any]:
    """The one-line result of a run: metrics at the checkpoint chosen by the selection rule."""
    value = best["value"]
    return {
        "run_id": config.run_id(),
        "dataset": config.dataset,
        "data_options": config.data_options,
        "algorithm": config.algorithm,
        "hparams": hparams,
        "hparams_seed": config.hparams_seed,
        "seed": config.seed,
        "steps": steps,
        "train_domains": split.train_domains,
        "test_domains": split.test_domains,
        "selection": config.selection,
        "selected_step": best["step"],
        "selection_value": None if value is None or math.isnan(value) else value,
        "metrics": best["metrics"],
        "wall_seconds": wall,
        "fairdg_version": __version__,
    }
