"""Percentile bootstrap confidence intervals for any metric of per-sample arrays."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from fairdg.metrics._validation import UndefinedMetricWarning, to_numpy

__all__ = ["bootstrap"]


def _as_float(value: Any) -> float:
    if isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return float(value)
    raise TypeError(
        "bootstrap needs a metric that returns a single number; got "
        f"{type(value).__name__} (wrap it, e.g. lambda *a, **k: evaluate(*a, **k)['dp_diff'])"
    )


def _split_kwargs(kwargs: dict[str, Any], length: int) -> tuple[dict, dict]:
    """Split keyword arguments into per-sample arrays of ``length`` (resampled) and the rest."""
    resampled, passed = {}, {}
    for key, value in kwargs.items():
        arr = None if isinstance(value, str | bytes) else to_numpy(value)
        if arr is not None and arr.ndim >= 1 and arr.shape[0] == length:
            resampled[key] = arr
        else:
            passed[key] = value
    return resampled, passed


def bootstrap(
    metric: Callable[..., float],
    *arrays: Any,
    n: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    **kwargs: Any,
) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval of ``metric(*arrays, **kwargs)``.

    Each replicate draws ``len(arrays[0])`` row indices with replacement (numpy
    ``default_rng(seed)``) and applies them jointly to every positional array and to every
    keyword argument that is an array of the same length (such as ``sensitive_features=``); other
    arguments (``threshold=``, ``on_undefined=``) are passed through unchanged. The interval is
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the replicates.

    A replicate whose value is undefined (NaN, or a ``ValueError`` such as a group absent from
    the resample) is left out of the interval, and one :class:`UndefinedMetricWarning` says how
    many were; with ``on_undefined="raise"`` among the keyword arguments the error propagates.

    Parameters
    ----------
    metric : callable
        Returns a single number, e.g. ``fairdg.metrics.demographic_parity_difference``.
    *arrays : array-like of shape (n_samples, ...)
        Per-sample arrays passed positionally to ``metric``.
    n : int
        Number of bootstrap replicates.
    seed : int
        Seed of the resampling; the same seed gives the same interval.
    confidence : float
        Coverage of the interval, in (0, 1).
    **kwargs
        Passed to ``metric``; arrays of length n_samples are resampled with the rows.

    Returns
    -------
    tuple of float
        ``(point, low, high)``; ``point`` is the metric on the full data. ``low`` and ``high`` are
        NaN when every replicate is undefined.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer (number of replicates); got {n!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    if not arrays:
        raise ValueError("bootstrap needs at least one positional array to resample; got none")
    data = [to_numpy(a) for a in arrays]
    if any(a.ndim == 0 for a in data):
        raise ValueError(
            "arrays must be per-sample arrays; got a scalar among the positional ones"
        )
    length = data[0].shape[0]
    if any(a.shape[0] != length for a in data):
        lengths = ", ".join(str(a.shape[0]) for a in data)
        raise ValueError(f"arrays must have the same length (n_samples); got lengths {lengths}")
    resampled, passed = _split_kwargs(kwargs, length)
    propagate = kwargs.get("on_undefined") == "raise"

    point = _as_float(metric(*arrays, **kwargs))
    rng = np.random.default_rng(seed)
    values = np.full(n, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # summarised once below
        for i in range(n):
            idx = rng.integers(0, length, size=length)
            rows = {key: arr[idx] for key, arr in resampled.items()}
            try:
                values[i] = _as_float(metric(*(a[idx] for a in data), **rows, **passed))
            except ValueError:
                if propagate:
                    raise
    defined = values[~np.isnan(values)]
    if defined.size < n:
        warnings.warn(
            f"{n - defined.size} of {n} bootstrap replicates were undefined (NaN or a "
            "ValueError, e.g. a group missing from the resample) and are left out of the "
            "interval",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    if defined.size == 0:
        return point, math.nan, math.nan
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(defined, [alpha, 1.0 - alpha])
    return point, float(low), float(high)
