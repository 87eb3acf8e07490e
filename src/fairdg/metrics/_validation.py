"""Input checks and the undefined-value policy shared by every metric.

Every public metric converts its inputs here, so that the error messages read the same everywhere:
the parameter, what is allowed and what was received. Nothing here imports torch: tensors are
recognised by duck typing (``.detach`` and ``.cpu``).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import numpy as np

ON_UNDEFINED = ("warn", "raise", "ignore")


class UndefinedMetricWarning(UserWarning):
    """A metric value is undefined (for example a group without positives); NaN is returned."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def fairlearn_signature(
    *, took_y_true: bool = True
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Decorator: the metric takes fairlearn's ``(y_true, y_pred, *, sensitive_features=)``
    and, for one release, the spellings of fairdg 0.1 with a `DeprecationWarning` naming the
    new one: ``sensitive=`` and, where the metric took no ``y_true`` (``took_y_true=False``:
    demographic parity, selection rates, fairness AUC), the predictions as its only positional
    argument."""

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        name = function.__name__
        second = list(inspect.signature(function).parameters)[1]

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if "sensitive" in kwargs:
                if "sensitive_features" in kwargs:
                    raise TypeError(f"{name}() got sensitive= and sensitive_features=; pass one")
                warnings.warn(
                    f"{name}(sensitive=...) is deprecated and will be removed in the next "
                    f"release; use {name}(..., sensitive_features=...) as fairlearn does",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs["sensitive_features"] = kwargs.pop("sensitive")
            if not took_y_true and len(args) == 1 and second not in kwargs:
                warnings.warn(
                    f"{name}({second}, ...) is deprecated and will be removed in the next "
                    f"release; pass y_true first as fairlearn does: {name}(y_true, {second}, "
                    "sensitive_features=...) (y_true may be None: it is not used)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                args = (None, *args)
            return function(*args, **kwargs)

        return wrapper

    return decorate


def check_unused_y_true(y_true: Any, n: int) -> None:
    """``y_true`` of a metric that does not read it (fairlearn's signature): None, or one
    label per sample."""
    if y_true is not None:
        check_same_length(y_true=as_1d(y_true, "y_true"), y_pred=np.empty(n))


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a numpy array; torch tensors are detached and moved to the CPU first."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _describe(x: np.ndarray) -> str:
    return f"an array of shape {x.shape} and dtype {x.dtype}"


def as_1d(x: Any, name: str) -> np.ndarray:
    """Convert ``x`` to a non-empty 1-D array or raise a ``ValueError`` naming ``name``."""
    arr = to_numpy(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of length n_samples; got {_describe(arr)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must not be empty; got an array of length 0")
    return arr


def check_same_length(**arrays: np.ndarray) -> int:
    """Return the common length of ``arrays`` or raise a ``ValueError`` listing every length."""
    lengths = {name: arr.shape[0] for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise ValueError(f"inputs must have the same length (n_samples); got {listed}")
    return next(iter(lengths.values()))


def as_binary(x: Any, name: str) -> np.ndarray:
    """Convert ``x`` to a 1-D int8 array of 0/1 labels (bools and 0./1. floats are accepted)."""
    arr = as_1d(x, name)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if arr.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must hold binary labels 0/1 (this metric is for binary tasks); "
            f"got {_describe(arr)}"
        )
    is_one = arr == 1
    if not np.all(is_one | (arr == 0)):
        values = np.unique(arr[~is_one & (arr != 0)])[:5]
        raise ValueError(
            f"{name} must hold binary labels 0/1 (this metric is for binary tasks); "
            f"got other values, e.g. {values.tolist()}"
        )
    return is_one.astype(np.int8)


def check_scores(x: Any, name: str = "scores", *, ndim: int = 1) -> np.ndarray:
    """Convert ``x`` to a float array of probabilities in [0, 1] with ``ndim`` dimensions."""
    arr = to_numpy(x)
    if arr.ndim != ndim or arr.shape[0] == 0 or (ndim == 2 and arr.shape[1] == 0):
        shape = "(n_samples,)" if ndim == 1 else "(n_samples, n_classes)"
        raise ValueError(
            f"{name} must be a non-empty array of shape {shape}; got {_describe(arr)}"
        )
    if arr.dtype.kind not in "iubf":
        raise ValueError(f"{name} must hold probabilities in [0, 1]; got {_describe(arr)}")
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not np.all(finite):
        raise ValueError(
            f"{name} must be finite probabilities in [0, 1]; got {np.count_nonzero(~finite)} "
            "NaN or infinite value(s)"
        )
    low, high = arr.min(), arr.max()
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"{name} must be probabilities in [0, 1]; got values in [{low:.6g}, {high:.6g}] "
            "(apply a sigmoid or softmax to logits first)"
        )
    return arr


def _python_label(value: Any) -> Any:
    """Turn numpy scalars into plain python values so that dict keys print cleanly."""
    return value.item() if isinstance(value, np.generic) else value


def _integer_codes(arr: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``np.unique(arr, return_inverse=True)`` for integer labels of a small range, without a
    sort (a bincount of the values and a lookup table); ``(None, None)`` when the range is
    large (more than ``max(len(arr), 1024)`` values) or `arr` is empty."""
    if arr.size == 0:
        return None, None
    low, high = int(arr.min()), int(arr.max())
    if high - low > max(arr.size, 1024):
        return None, None
    shifted = arr.astype(np.intp, copy=False) - low
    present = np.bincount(shifted) > 0
    groups = (np.flatnonzero(present) + low).astype(arr.dtype)
    return groups, (np.cumsum(present) - 1)[shifted]


def encode_groups(
    sensitive_features: Any, n: int | None = None, other: str = "y_pred"
) -> tuple[list[Any], np.ndarray]:
    """Return ``(groups, codes)``: the sorted distinct labels and each sample's index into them.

    Raises a ``ValueError`` for 2-D input, missing labels (NaN / None), a length different from
    ``n`` (the length of the argument ``other``) or fewer than two groups (naming the group).
    """
    arr = as_1d(sensitive_features, "sensitive_features")
    if n is not None and arr.shape[0] != n:
        raise ValueError(
            f"inputs must have the same length (n_samples); got {other}={n}, "
            f"sensitive_features={arr.shape[0]}"
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(
            "sensitive_features must not contain NaN; every sample needs a group label"
        )
    try:
        groups, codes = _integer_codes(arr) if arr.dtype.kind in "iu" else (None, None)
        if groups is None or codes is None:
            groups, codes = np.unique(arr, return_inverse=True)
    except TypeError as err:  # object arrays mixing types (or holding None) cannot be sorted
        raise ValueError(
            f"sensitive_features must hold comparable group labels (all ints or all strings); "
            f"{err}"
        ) from None
    if groups.shape[0] < 2:
        raise ValueError(
            "sensitive_features must contain at least two groups to compare; "
            f"got a single group {_python_label(groups[0])!r}"
        )
    return [_python_label(g) for g in groups], codes.reshape(-1).astype(np.intp, copy=False)


def check_on_undefined(on_undefined: str) -> None:
    if on_undefined not in ON_UNDEFINED:
        raise ValueError(f"on_undefined must be one of {ON_UNDEFINED}; got {on_undefined!r}")


def undefined(
    metric: str, reasons: Sequence[str], on_undefined: str, subject: str | None = None
) -> float:
    """Apply the undefined-value policy for ``metric`` and return NaN.

    ``reasons`` name the group(s) and why the value is undefined; ``subject`` replaces the
    opening "<metric> is undefined". ``"warn"`` emits an :class:`UndefinedMetricWarning`
    (attributed to the caller of the public metric), ``"raise"`` raises a ``ValueError``,
    ``"ignore"`` is silent.
    """
    message = f"{subject or metric + ' is undefined'}: " + "; ".join(reasons)
    if on_undefined == "raise":
        raise ValueError(message)
    if on_undefined == "warn":
        warnings.warn(message + ". It is NaN.", UndefinedMetricWarning, stacklevel=3)
    return float("nan")


def rate_reasons(
    denominators: np.ndarray, groups: Sequence[Any], what: str, condition: str
) -> list[str]:
    """Reasons for every group whose rate ``what`` has a zero denominator (``condition``)."""
    empty = [repr(groups[int(i)]) for i in np.flatnonzero(denominators == 0)]
    if not empty:
        return []
    who = f"groups {', '.join(empty)} have" if len(empty) > 1 else f"group {empty[0]} has"
    return [f"{what} needs {condition}, but {who} none"]
