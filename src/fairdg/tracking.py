"""Experiment tracking: a run's evaluations and final record sent to TensorBoard or MLflow.

Optional: ``pip install 'fairdg[tracking]'`` brings both packages, which are imported only when
a run starts with ``RunConfig.tracker`` set (``fairdg run --tracker tensorboard``). The run
folder stays the record of truth; a tracker is a view of it:

- every evaluation (``results.jsonl``'s lines) is sent as scalars at its step: the training
  statistics as ``train.<stat>``, each evaluation set's numeric metrics as ``<set>.<metric>``
  (positive rates and per-group values included; MLflow writes a per-group value
  ``<set>.<metric>.<group>``) and ``<set>.degenerate`` (1 when the set's predictions are
  degenerate, see `fairdg.metrics.degenerate`, else 0);
- the final record (``done.json``) is sent whole (TensorBoard: as text; MLflow: as the artifact
  ``record.json``), its selected checkpoint's metrics as ``selected.<set>.<metric>`` and its
  resolved hyperparameters as parameters.

TensorBoard writes to ``<output>/tensorboard/<run id>/`` (``tensorboard --logdir
fairdg-runs/tensorboard``; tags are ``<set>/<metric>`` there, TensorBoard's grouping). MLflow
writes to ``$MLFLOW_TRACKING_URI`` when set, else to the local file store ``<output>/mlruns``
(``mlflow ui --backend-store-uri fairdg-runs/mlruns``), experiment ``$MLFLOW_EXPERIMENT_NAME``
or ``fairdg``, one MLflow run per fairdg run, tagged ``fairdg.run_id``. A resumed run continues
its MLflow run and purges TensorBoard's events after its checkpoint; a fresh start replaces
them. A tracker that fails mid-run is switched off with one warning: training goes on and the
run folder keeps every evaluation.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("fairdg")

TRACKERS = ("tensorboard", "mlflow")
INSTALL_HINT = "pip install 'fairdg[tracking]'"
_MODULES = {"tensorboard": "tensorboard", "mlflow": "mlflow"}
_MLFLOW_BATCH = 1000  # MLflow takes at most 1000 metrics in one log_batch call


class TrackerUnavailableError(ImportError, ValueError):
    """The chosen tracker's package is not installed (a ValueError for the CLI's one line)."""


class RunLike(Protocol):
    """What a tracker reads of a run's configuration (`fairdg.training.RunConfig`)."""

    @property
    def tracker(self) -> str | None: ...

    @property
    def output_dir(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    @property
    def dataset(self) -> str: ...

    def run_id(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def check_tracker(name: str | None) -> str | None:
    """`name` if it is a known tracker (or None); else a ValueError listing the choices."""
    if name is None or name in TRACKERS:
        return name
    raise ValueError(f"tracker must be one of {', '.join(TRACKERS)} or None, got {name!r}")


def require(name: str | None) -> None:
    """Raise `TrackerUnavailableError` (one line, with the install command) when the package
    of tracker `name` is missing; nothing for None."""
    name = check_tracker(name)
    if name is None:
        return
    if importlib.util.find_spec(_MODULES[name]) is None:
        raise TrackerUnavailableError(
            f"--tracker {name} needs the {name} package, which is not installed: {INSTALL_HINT}"
        )


def scalars(record: Mapping[str, Any], prefix: str = "", group_sep: str = "/") -> dict[str, float]:
    """The numeric values of an evaluation or final record, flat: ``train.<stat>``,
    ``<set>.<metric>`` and ``<set>.degenerate`` (strings, lists and None are left out); a
    per-group metric ``accuracy/female`` is written with `group_sep` in place of the slash."""
    out = {f"{prefix}train.{k}": float(v) for k, v in _numbers(record.get("stats") or {})}
    for name, values in (record.get("metrics") or {}).items():
        if not isinstance(values, Mapping):
            continue
        out.update(
            (f"{prefix}{name}.{k.replace('/', group_sep)}", float(v)) for k, v in _numbers(values)
        )
        if "positive_rate" in values:  # a fairness figure comes with its degenerate flag
            out[f"{prefix}{name}.degenerate"] = float(bool(values.get("degenerate")))
    return out


def _numbers(values: Mapping[str, Any]) -> Iterator[tuple[str, float]]:
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield key, value


def params(config: RunLike, hparams: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The run's configuration (and resolved hyperparameters) as flat string parameters."""
    flat = {k: v for k, v in config.to_dict().items() if k not in ("hparams", "data_options")}
    flat.update({f"data.{k}": v for k, v in config.to_dict()["data_options"].items()})
    flat.update({f"hparams.{k}": v for k, v in (hparams or config.to_dict()["hparams"]).items()})
    return {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in flat.items()}


class Tracker:
    """No tracker: what `start` returns for ``tracker=None`` and the base of the real ones.

    `evaluation` takes each line appended to ``results.jsonl``, `finish` the final record;
    a failure of the real tracker is logged once and switches it off."""

    name = "none"

    def evaluation(self, record: Mapping[str, Any]) -> None:
        self._safely(self._evaluation, record)

    def finish(self, record: Mapping[str, Any]) -> None:
        self._safely(self._finish, record)
        self._safely(self._close)

    def _safely(self, method, *args: Any) -> None:
        if getattr(self, "_failed", False):
            return
        try:
            method(*args)
        except Exception as err:  # a view of the run must not end the run
            self._failed = True
            log.warning(
                "tracker %s failed and is switched off for this run (%s: %s); the run folder "
                "holds every evaluation",
                self.name,
                type(err).__name__,
                err,
            )

    def _evaluation(self, record: Mapping[str, Any]) -> None:
        pass

    def _finish(self, record: Mapping[str, Any]) -> None:
        pass

    def _close(self) -> None:
        pass


def start(config: RunLike, resumed_at: int = 0) -> Tracker:
    """The tracker of `config` (``config.tracker``), opened for a run that starts at step 0 or
    resumes after step `resumed_at`."""
    name = check_tracker(getattr(config, "tracker", None))
    if name is None:
        return Tracker()
    require(name)
    if name == "tensorboard":
        return TensorBoardTracker(config, resumed_at)
    return MLflowTracker(config, resumed_at)


class TensorBoardTracker(Tracker):
    """Event files in ``<output>/tensorboard/<run id>/`` (torch's SummaryWriter)."""

    name = "tensorboard"

    def __init__(self, config: RunLike, resumed_at: int = 0):
        from torch.utils.tensorboard import SummaryWriter

        self.config = config
        self.logdir = Path(config.output_dir) / "tensorboard" / config.run_id()
        # TensorBoard drops earlier events from this step on: a fresh start (0) replaces an
        # earlier attempt, a resumed run the evaluations made after its checkpoint
        purge = resumed_at + 1 if resumed_at else 0
        self.writer = SummaryWriter(str(self.logdir), purge_step=purge)

    def _evaluation(self, record: Mapping[str, Any]) -> None:
        step = int(record["step"])
        for key, value in scalars(record).items():
            self.writer.add_scalar(key.replace(".", "/", 1), value, step)
        self.writer.flush()  # a killed run keeps what it sent

    def _finish(self, record: Mapping[str, Any]) -> None:
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        step = int(record.get("selected_step") or record.get("steps") or 0)
        selected = scalars(record, prefix="selected.")
        for key, value in selected.items():
            self.writer.add_scalar(key.replace(".", "/", 1), value, step)
        text = json.dumps(record, indent=2, default=str)
        self.writer.add_text("fairdg/record", f"```\n{text}\n```", step)
        # the HParams dashboard: this run's parameters beside its selected metrics
        events = self.writer.file_writer
        if events is None:  # only after close(), which finish calls last
            raise RuntimeError(f"TensorBoard writer of {self.logdir} is closed")
        for summary in hparams_summary(params(self.config, record.get("hparams")), selected):
            events.add_summary(summary)
        self.writer.flush()

    def _close(self) -> None:
        self.writer.close()


class MLflowTracker(Tracker):
    """One MLflow run per fairdg run (tag ``fairdg.run_id``), through `mlflow.MlflowClient`."""

    name = "mlflow"

    def __init__(self, config: RunLike, resumed_at: int = 0):
        import mlflow

        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            uri = (Path(config.output_dir) / "mlruns").resolve().as_uri()
            # MLflow 3 keeps its file store in maintenance mode and refuses it unless asked;
            # a local folder beside the runs needs no server or database
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.client = mlflow.MlflowClient(uri)
        self.uri = uri
        experiment = self._experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or "fairdg")
        self.config = config
        self.run_id = self._run(experiment, config, resumed=resumed_at > 0)

    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(name)
        except Exception:  # created meanwhile by another worker of a sweep
            found = self.client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def _run(self, experiment: str, config: RunLike, resumed: bool) -> str:
        """The unfinished MLflow run of a resumed fairdg run, else a new one."""
        run_id = config.run_id()
        if resumed:
            found = self.client.search_runs(
                [experiment],
                f"tags.`fairdg.run_id` = '{run_id}' and attributes.status != 'FINISHED'",
                max_results=1,
                order_by=["attributes.start_time DESC"],
            )
            if found:
                return found[0].info.run_id
        tags = {"fairdg.run_id": run_id, "fairdg.algorithm": config.algorithm}
        tags["fairdg.dataset"] = config.dataset
        run = self.client.create_run(
            experiment, run_name=f"{config.algorithm}-{run_id}", tags=tags
        )
        return run.info.run_id

    def _log(self, values: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, step) for k, v in values.items()]
        for i in range(0, len(metrics), _MLFLOW_BATCH):
            self.client.log_batch(self.run_id, metrics=metrics[i : i + _MLFLOW_BATCH])

    def _evaluation(self, record: Mapping[str, Any]) -> None:
        # the file store keeps a metric as a file named by its key: val.accuracy/female would
        # need val.accuracy to be a folder too
        self._log(scalars(record, group_sep="."), int(record["step"]))

    def _finish(self, record: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        step = int(record.get("selected_step") or record.get("steps") or 0)
        self._log(scalars(record, prefix="selected.", group_sep="."), step)
        values = [
            Param(k, v[:6000]) for k, v in params(self.config, record.get("hparams")).items()
        ]
        for i in range(0, len(values), 100):  # MLflow takes at most 100 parameters at once
            self.client.log_batch(self.run_id, params=values[i : i + 100])
        self.client.set_tag(self.run_id, "fairdg.selected_step", str(record.get("selected_step")))
        self.client.log_dict(self.run_id, dict(record), "record.json")
        self.client.set_terminated(self.run_id, "FINISHED")
