"""A run folder applied to new data: ``fairdg.load_model(RUN_DIR).predict(frame)``.

A run trained on a table (the ``csv`` dataset, or `fairdg.FairClassifier`'s data) stores, next to
its selected model (``model.pt``), how raw columns became features (``preprocessing.json``:
feature columns, their kind, categories, the training split's standardisation statistics). New
rows are encoded with exactly that: the target and sensitive columns are not needed (unless the
sensitive attribute was a feature), a category unseen in training is encoded as unknown with a
warning, a missing feature column is a one-line error naming it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from fairdg import records
from fairdg.algorithms import ALGORITHMS, Algorithm, build_algorithm
from fairdg.checkpoint import load_checkpoint
from fairdg.data.csv import read_table
from fairdg.data.tabular import encode, standardize
from fairdg.training.evaluate import predict_proba as _predict_proba
from fairdg.transformation import load_transformation

__all__ = ["FittedModel", "load_model", "predict_file"]


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
        Names of the classes; `predict` returns them.
    run_dir
        The run folder it came from.
    """

    algorithm: Algorithm
    preprocessing: dict[str, Any] | None
    class_names: list[str]
    run_dir: Path
    device: str = "cpu"

    def features(self, data: Any, what: str = "input") -> torch.Tensor:
        """Encoded, standardised features of `data` (a DataFrame, or already encoded rows);
        `what` names the data in errors and warnings."""
        if isinstance(data, pd.DataFrame):
            if self.preprocessing is None:
                raise ValueError(
                    f"run {self.run_dir} stores no preprocessing.json (its dataset is not a "
                    "table); pass encoded features as an array instead of a DataFrame"
                )
            # parse cells exactly as the training file was parsed (strings, same NA markers)
            frame = read_table(io.StringIO(data.to_csv(index=False)))
            x = standardize(encode(frame, self.preprocessing, what), self.preprocessing)
        else:
            x = np.asarray(data, dtype=np.float32)
            if x.ndim == 1:
                x = x[None, :]
        shape = tuple(self.algorithm.input_shape)
        if tuple(x.shape[1:]) != shape:
            raise ValueError(
                f"input rows have shape {tuple(x.shape[1:])}; the model expects {shape}"
            )
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def predict_proba(self, data: Any, what: str = "input", groups: Any = None) -> np.ndarray:
        """Class probabilities, shape (n_rows, n_classes). A model that decides with each
        row's sensitive group (post-processing, ``fairlearn-threshold``) reads it from the
        table's sensitive column, or from `groups` (group names) for encoded rows."""
        x = self.features(data, what).to(self.device)
        z = None
        if getattr(self.algorithm, "USES_GROUPS_AT_PREDICTION", False):
            z = self.group_ids(data if groups is None else groups, what).to(self.device)
        return _predict_proba(self.algorithm, x, z=z).numpy()

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
        """Predicted class names (argmax of the probabilities; ties give the first class)."""
        return np.asarray(self.class_names, dtype=object)[self.predict_proba(data).argmax(1)]


def load_model(run_dir: str | Path, device: str = "cpu") -> FittedModel:
    """The selected model of a finished run folder, ready for new rows.

    Parameters
    ----------
    run_dir
        A run folder (``<output>/<run_id>``) holding ``model.pt`` (runs save it by default).
    device
        Where to run the model.
    """
    run_dir = Path(run_dir)
    path = run_dir / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"{run_dir} holds no model.pt: give a finished run folder (<output>/<run_id>) of a "
            "run trained with save_model on"
        )
    state = load_checkpoint(path, map_location=device)
    if "input_shape" not in state:
        raise ValueError(
            f"{path} was written by an older fairdg without the model's shape; rerun it "
            "(fairdg run ... --force) to predict with it"
        )
    config = state["config"]
    extra: dict[str, Any] = {}
    if getattr(ALGORITHMS.get(config["algorithm"]), "USES_TRANSFORMATION", False):
        extra["transformation"] = load_transformation(
            config["transformation"], map_location=device
        )
    algorithm = build_algorithm(
        config["algorithm"],
        tuple(state["input_shape"]),
        int(state["num_classes"]),
        int(state["num_domains"]),
        state["hparams"],
        num_groups=int(state["num_groups"]),
        **extra,
    ).to(device)
    algorithm.load_state_dict(state["model"])
    algorithm.eval()
    spec = None
    if (run_dir / "preprocessing.json").is_file():
        spec = records.read_json(run_dir / "preprocessing.json")
    names = (spec or {}).get("class_names") or [str(i) for i in range(int(state["num_classes"]))]
    return FittedModel(algorithm, spec, list(names), run_dir, device)


def predict_file(model: FittedModel, source: Path, output: Path) -> pd.DataFrame:
    """Write `source`'s rows with ``score`` and ``prediction`` columns to `output` (atomically).

    ``score`` is the probability of class 1 for a binary task, else of the predicted class.
    """
    frame = read_table(source)
    probs = model.predict_proba(frame, what=str(source))
    pred = probs.argmax(1)
    score = probs[:, 1] if probs.shape[1] == 2 else probs[np.arange(len(pred)), pred]
    out = frame.copy()
    for name in ("score", "prediction"):
        if name in out.columns:
            raise ValueError(f"{source} already has a column {name!r}; rename it first")
    out["score"] = score
    out["prediction"] = np.asarray(model.class_names, dtype=object)[pred]
    records.atomic_write_text(output, out.to_csv(index=False, float_format="%.9g"))
    return out
