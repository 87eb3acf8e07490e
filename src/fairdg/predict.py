"""A finished run folder applied to new data: ``fairdg.load_model(RUN_DIR).predict(frame)``.

`load_model` is fairdg's one loader of finished runs (``fairdg predict``, `fairdg.interpret`
and the reproductions go through it). It trusts nothing it reads: ``done.json``, ``model.pt``
(its sha256 as recorded in ``model.pt.sha256``, its stored config and hyperparameters against their
declared valid values) and ``preprocessing.json`` (schema, and fit with the model) are checked,
and the network its config describes is built on the meta device and compared with the stored
weights before any memory is allocated for it. Every failure is one line naming the file and
the field. The model is rebuilt from what the run stored, not from today's defaults.

A run trained on a table (the ``csv`` dataset, or `fairdg.FairClassifier`'s data) stores how raw
columns became features (``preprocessing.json``: feature columns, their kind, categories, the
training split's standardisation). New rows are encoded with exactly that
(`fairdg.data.tabular.encode_rows`, training's missing-value policy): the target and sensitive
columns are not needed (unless the sensitive attribute was a feature), a category unseen in
training is encoded as unknown with a warning, a missing feature column or cell is a one-line
error naming it. Labels come back in the type of the training target.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from fairdg import records
from fairdg.algorithms import ALGORITHMS, Algorithm, build_algorithm
from fairdg.checkpoint import load_checkpoint
from fairdg.data.csv import parse_table
from fairdg.data.tabular import as_text, check_encoding, encode_rows
from fairdg.hparams import ResolvedHParams, resolve
from fairdg.records import COUNT, OBJECT, CorruptRunError, Fields, Is, ListOf
from fairdg.training.config import RunConfig
from fairdg.training.evaluate import predict_proba as _predict_proba
from fairdg.training.run_files import CHECKPOINT_FORMAT, read_done
from fairdg.transformation import TransformationConfig, TransformationModel, load_transformation

__all__ = ["DroppedRowsWarning", "FittedModel", "load_model", "predict_file"]

MODEL_FIX = "restore the run folder from a copy, or rerun the run with --force"
ENCODING_FIX = "restore preprocessing.json from a copy of the run, or rerun the run with --force"
MODEL_SPEC = Fields(
    {
        "format": Is((int,), f"{CHECKPOINT_FORMAT}", lambda v: v == CHECKPOINT_FORMAT),
        "model": OBJECT,
        "config": OBJECT,
        "hparams": OBJECT,
        "input_shape": ListOf(COUNT, "a non-empty list of sizes", lambda v: len(v) > 0),
        "num_classes": Is((int,), "an integer >= 2", lambda v: v >= 2),
        "num_domains": COUNT,
        "num_groups": COUNT,
    },
    {
        "class_names": ListOf(records.TEXT),
        "transformation": Fields({"config": OBJECT}, {"meta": OBJECT}),
    },
)


class DroppedRowsWarning(UserWarning):
    """Rows left without a prediction because they miss feature values (``missing="drop"``)."""


@dataclass
class FittedModel:
    """A trained model with its input encoding.

    Attributes
    ----------
    algorithm
        The trained `Algorithm` (the run's selected checkpoint), in eval mode.
    preprocessing
        The stored encoding (None for datasets that are not tables: pass encoded features).
    class_names
        Names of the classes, as text.
    run_dir
        The run folder it came from.
    config, hparams, record
        The run's configuration, the hyperparameters it was trained with, its ``done.json``.
    """

    algorithm: Algorithm
    preprocessing: dict[str, Any] | None
    class_names: list[str]
    run_dir: Path
    device: str = "cpu"
    config: RunConfig | None = None
    hparams: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> np.ndarray:
        """The class labels in the type of the training target: integers when every name is
        an integer, numbers when every name is a number, else text."""
        return typed_labels(self.class_names)

    def rows(
        self, frame: pd.DataFrame, what: str = "input", missing: str = "error"
    ) -> tuple[torch.Tensor, np.ndarray]:
        """Features of the rows of `frame` that the missing-value policy keeps, and the mask
        of those rows (`fairdg.data.tabular.encode_rows`)."""
        return self._encode(as_text(frame), what, missing)

    def _encode(
        self, text: pd.DataFrame, what: str, missing: str
    ) -> tuple[torch.Tensor, np.ndarray]:
        if self.preprocessing is None:
            raise ValueError(
                f"run {self.run_dir} stores no preprocessing.json (its dataset is not a "
                "table); pass encoded features as an array instead of a DataFrame"
            )
        fix = "fill them, or drop those rows (--missing drop; missing='drop')"
        x, keep = encode_rows(text, self.preprocessing, what, missing, fix)
        return self._tensor(x), keep

    def features(self, data: Any, what: str = "input") -> torch.Tensor:
        """Encoded, standardised features of `data` (a DataFrame, or already encoded rows);
        `what` names the data in errors and warnings."""
        if isinstance(data, pd.DataFrame):
            return self.rows(data, what)[0]
        x = np.asarray(data, dtype=np.float32)
        return self._tensor(x[None, :] if x.ndim == 1 else x)

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        shape = tuple(self.algorithm.input_shape)
        if tuple(x.shape[1:]) != shape:
            raise ValueError(
                f"input rows have shape {tuple(x.shape[1:])}; the model expects {shape}"
            )
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def probabilities(self, x: torch.Tensor, z: torch.Tensor | None = None) -> np.ndarray:
        """Class probabilities of encoded rows, shape (n_rows, n_classes); `z`: the rows'
        group ids, for a model that decides with them (`group_ids`)."""
        z = None if z is None else z.to(self.device)
        return _predict_proba(self.algorithm, x.to(self.device), z=z).numpy()

    def predict_proba(self, data: Any, what: str = "input", groups: Any = None) -> np.ndarray:
        """Class probabilities, shape (n_rows, n_classes), columns in the order of `classes`.
        A model that decides with each row's sensitive group (post-processing,
        ``fairlearn-threshold``) reads it from the table's sensitive column, or from `groups`
        (group names) for encoded rows."""
        z = None
        if self.uses_groups:
            z = self.group_ids(data if groups is None else groups, what)
        return self.probabilities(self.features(data, what), z)

    @property
    def uses_groups(self) -> bool:
        """Whether the model decides with each row's sensitive group."""
        return bool(getattr(self.algorithm, "USES_GROUPS_AT_PREDICTION", False))

    def group_ids(self, data: Any, what: str = "input") -> torch.Tensor:
        """Group ids of the rows: `data`'s sensitive column (a table) or group names."""
        spec = self.preprocessing or {}
        column, names = spec.get("sensitive"), [str(g) for g in spec.get("group_names") or []]
        if isinstance(data, pd.DataFrame):
            if column not in data.columns:
                raise ValueError(
                    f"{what} has no sensitive column {column!r}: this model "
                    f"({type(self.algorithm).__name__}) decides with each row's group"
                )
            data = data[column]
        values = pd.Series(np.asarray(data)).astype(str).str.strip()
        mapping = spec.get("sensitive_map") or {}
        if mapping:  # the groups as training merged or renamed them
            default = mapping.get("*")
            values = values.map(lambda v: mapping.get(v, v if default is None else default))
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(
                f"{what}: sensitive value(s) {unknown[:5]} not among the training groups {names}"
            )
        return torch.tensor([names.index(v) for v in values], dtype=torch.long)

    def predict(self, data: Any) -> np.ndarray:
        """Predicted class labels (argmax of the probabilities; ties give the first class)."""
        return self.classes[self.predict_proba(data).argmax(1)]


def typed_labels(names: list[str]) -> np.ndarray:
    """Class names back in the type of the target they came from (a CSV target ``0/1`` gives
    integers, ``0.5/1.5`` numbers, anything else text)."""
    if all(re.fullmatch(r"-?\d+", n) for n in names):
        return np.asarray([int(n) for n in names], dtype=np.int64)
    try:
        numbers = np.asarray([float(n) for n in names], dtype=np.float64)
    except ValueError:
        return np.asarray(names, dtype=object)
    return numbers if np.isfinite(numbers).all() else np.asarray(names, dtype=object)


def load_model(run_dir: str | Path, device: str = "cpu", **extra: Any) -> FittedModel:
    """The selected model of a finished run folder, checked and ready for new rows.

    Parameters
    ----------
    run_dir
        A finished run folder (``<output>/<run_id>``) holding ``model.pt`` (runs save it by
        default).
    device
        Where to run the model.
    extra
        Objects for the algorithm's constructor (as `fairdg.train` takes them).

    Raises
    ------
    FileNotFoundError
        No such run folder, no ``model.pt`` or no ``done.json`` (an unfinished run).
    fairdg.records.CorruptRunError
        A damaged or inconsistent run file (one line naming the file and the field).
    """
    run_dir = Path(run_dir)
    path = run_dir / "model.pt"
    if not run_dir.is_dir():
        raise FileNotFoundError(
            f"run folder {run_dir} not found: give a finished run folder (<output>/<run_id>)"
        )
    if not path.exists():
        raise FileNotFoundError(
            f"{run_dir} holds no model.pt: give a finished run folder (<output>/<run_id>) of a "
            "run trained with save_model on"
        )
    if not (run_dir / "done.json").exists():
        raise FileNotFoundError(
            f"run {run_dir} is not finished (no done.json); finish it by running the same "
            "command again"
        )
    record = read_done(run_dir)
    state = load_checkpoint(path, map_location=device, fix=MODEL_FIX)  # sha256: its sidecar
    records.check_schema(path, state, MODEL_SPEC, MODEL_FIX)
    config = _stored_config(path, state["config"])
    hparams = _stored_hparams(path, config.algorithm, state["hparams"])
    if ALGORITHMS.get(config.algorithm).USES_TRANSFORMATION:
        extra.setdefault("transformation", _transformation(run_dir, state, config, device))
    algorithm = _build(path, config.algorithm, state, hparams, device, extra)
    spec = _encoding(run_dir, state)
    names = (spec or {}).get("class_names") or state.get("class_names")
    names = names or [str(i) for i in range(state["num_classes"])]
    return FittedModel(algorithm, spec, list(names), run_dir, device, config, hparams, record)


def _stored_config(path: Path, stored: dict[str, Any]) -> RunConfig:
    try:
        config = RunConfig.from_dict(stored)
        ALGORITHMS.get(config.algorithm)
    except (TypeError, ValueError, KeyError) as err:
        raise CorruptRunError(
            f"{path}: field 'config' is not a run configuration of this fairdg "
            f"({records.short(str(err), 200)}); {MODEL_FIX}"
        ) from None
    return config


def _stored_hparams(path: Path, algorithm: str, stored: dict[str, Any]) -> ResolvedHParams:
    """The run's hyperparameters checked again against their declared valid values (a model
    file may have been edited), knobs added since at their defaults."""
    try:
        return resolve(ALGORITHMS.get(algorithm).declared_hparams(), stored)
    except ValueError as err:
        raise CorruptRunError(f"{path}: field 'hparams': {err}; {MODEL_FIX}") from None


def _build(path: Path, name: str, state: dict, hparams, device: str, extra: dict) -> Algorithm:
    """The algorithm with the stored weights; first built on the meta device (no memory) and
    compared with the weights, so a config that describes a huge network is refused."""
    args = (name, tuple(state["input_shape"]), state["num_classes"], state["num_domains"])
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pretrained weights "copied" to meta: the real build
        probe = build_algorithm(*args, hparams, num_groups=state["num_groups"], **extra)
    _check_weights(path, probe.state_dict(), state["model"])
    algorithm = build_algorithm(*args, hparams, num_groups=state["num_groups"], **extra)
    try:
        algorithm.load_state_dict(state["model"])
    except (RuntimeError, TypeError) as err:
        raise CorruptRunError(
            f"{path}: field 'model' does not load ({records.short(str(err), 200)}); {MODEL_FIX}"
        ) from None
    return algorithm.to(device).eval()


def _check_weights(path: Path, wanted: dict[str, torch.Tensor], stored: dict[str, Any]) -> None:
    for key, tensor in wanted.items():
        have = stored.get(key)
        if not isinstance(have, torch.Tensor) or tuple(have.shape) != tuple(tensor.shape):
            found = tuple(have.shape) if isinstance(have, torch.Tensor) else "missing"
            raise CorruptRunError(
                f"{path}: its stored config (input_shape, num_classes, hparams) does not fit its "
                f"weights: {key!r} would be {tuple(tensor.shape)}, the file holds {found}; "
                f"{MODEL_FIX}"
            )
    unexpected = sorted(set(stored) - set(wanted))
    if unexpected:
        raise CorruptRunError(
            f"{path}: field 'model' holds weights its config has no place for "
            f"({records.short(unexpected)}); {MODEL_FIX}"
        )


def _transformation(run_dir: Path, state: dict, config: RunConfig, device: str):
    """The run's transformation model: rebuilt from the config stored in ``model.pt`` (its
    weights are part of the algorithm's); a model.pt from before fairdg stored it names a
    file, searched as typed and from the run folder, which may have moved with it."""
    stored = state.get("transformation")
    if stored is not None:
        try:
            model = TransformationModel(TransformationConfig.from_dict(stored["config"]))
        except (TypeError, ValueError, KeyError) as err:
            raise CorruptRunError(
                f"{run_dir / 'model.pt'}: field 'transformation.config' is not a "
                f"transformation config ({records.short(str(err), 200)}); {MODEL_FIX}"
            ) from None
        model.meta = dict(stored.get("meta") or {})
        return model.to(device).eval()
    typed = Path(config.transformation or "")
    output = run_dir.parent  # moved whole: the file sits where it sat beside the output folder
    places = [typed, output / typed, output.parent / typed, output / typed.name]
    for place in places:
        if config.transformation and place.is_file():
            return load_transformation(place, map_location=device)
    raise FileNotFoundError(
        f"run {run_dir} was trained with the transformation model {config.transformation!r}, "
        f"found at none of {[str(p) for p in dict.fromkeys(places)]}; copy that file to one "
        "of these places (or pass transformation= to load_model)"
    )


def _encoding(run_dir: Path, state: dict) -> dict[str, Any] | None:
    path = run_dir / "preprocessing.json"
    if not path.exists():
        return None
    spec = records.read_json(path, fix=ENCODING_FIX)
    shape = state["input_shape"]
    n_features = shape[0] if len(shape) == 1 else -1  # a table's rows are vectors
    return check_encoding(path, spec, n_features, state["num_classes"], ENCODING_FIX)


def read_rows(source: Path, sep: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV file of new rows as text cells; a read error or a column named twice is one line
    naming the file (and the ``--encoding`` option)."""
    return parse_table(source, source, sep, encoding, option="--")


def predict_file(
    model: FittedModel,
    source: Path,
    output: Path,
    *,
    missing: str = "error",
    encoding: str = "utf-8",
    sep: str = ",",
    escape_formulas: bool = True,
) -> pd.DataFrame:
    """Write `source`'s rows with ``score`` and ``prediction`` columns to `output` (atomically).

    ``score`` is the probability of class 1 for a binary task, else of the predicted class.
    Rows missing a feature value are refused (``missing="error"``) or left out with a
    `DroppedRowsWarning` (``"drop"``). With `escape_formulas`, a cell that a spreadsheet would
    run as a formula is written with a leading ``'`` (`fairdg.records.escape_formula`).
    """
    frame = read_rows(source, sep, encoding)
    for name in ("score", "prediction"):
        if name in frame.columns:
            raise ValueError(f"{source} already has a column {name!r}; rename it first")
    if model.preprocessing is None:
        model.rows(frame)  # the error of a run that is not a table
    x, keep = model._encode(frame, str(source), missing)  # cells already as read_table reads
    if not keep.all():
        dropped = np.flatnonzero(~keep)
        warnings.warn(
            f"{source}: {len(dropped)} row(s) missing feature values got no prediction "
            f"(--missing drop; first rows {dropped[:5].tolist()})",
            DroppedRowsWarning,
            stacklevel=2,
        )
    z = model.group_ids(frame[keep], str(source)) if model.uses_groups else None
    probs = model.probabilities(x, z)
    pred = probs.argmax(1)
    out = frame[keep].reset_index(drop=True)
    out["score"] = probs[:, 1] if probs.shape[1] == 2 else probs[np.arange(len(pred)), pred]
    out["prediction"] = np.asarray(model.class_names, dtype=object)[pred]
    if escape_formulas:
        out = _escape_formulas(out)
    records.atomic_write_text(output, out.to_csv(index=False, float_format="%.9g"))
    return out


def _escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Header and text cells through `fairdg.records.escape_formula` (numbers stay numbers)."""
    out = frame.rename(columns=records.escape_formula)
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(records.escape_formula)
    return out
