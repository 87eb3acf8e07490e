"""Progress of a run in a log: one flushed line per event on stderr (a terminal gets a bar)."""

from __future__ import annotations

import math
import sys


def progress_line(text: str) -> None:
    """One line of progress on stderr, flushed at once (a pipe or a cluster log sees it)."""
    print(f"fairdg: {text}", file=sys.stderr, flush=True)


def evaluation_line(name, step, steps, running, metrics, record) -> str:
    """``<run>: step 40/200, train loss 0.512, val accuracy 0.812, val DP difference 0.051,
    12.3 s`` (values the evaluation lacks are left out)."""
    val = metrics.get("val", {})
    parts = [f"{name}: step {step}/{steps}"]
    for label, value in (
        ("train loss", running.get("loss")),
        ("val accuracy", val.get("accuracy")),
        ("val DP difference", val.get("dp_diff")),
    ):
        if isinstance(value, int | float) and math.isfinite(value):
            parts.append(f"{label} {value:.4f}")
    return ", ".join(parts) + f", {record['wall_seconds']:.1f} s"
