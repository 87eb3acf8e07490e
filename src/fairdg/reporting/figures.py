"""The house style of every figure fairdg draws: paper column widths, axis labels from the
metric catalogue, PDF and PNG written atomically.

A figure is a `matplotlib.figure.Figure` (no pyplot state, no display needed) sized for one
paper column (3.4 in) or two (7.0 in), with 8 pt text. Axis labels come from
`fairdg.metrics.catalogue`: the label, the unit and the direction, e.g. ``test DP ratio
(↑ fairer)`` or ``test accuracy (%, ↑ better)``; percent metrics are drawn x100 (`scaled`).
`save` writes ``name.pdf`` beside ``name.png``, each through `fairdg.records.write_atomically`.
This module imports no torch.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import numpy as np

from fairdg.metrics.catalogue import entry
from fairdg.records import write_atomically

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = [
    "ONE_COLUMN",
    "STYLE",
    "TWO_COLUMNS",
    "grid_shape",
    "hide_unused",
    "legend_below",
    "metric_label",
    "new_figure",
    "save",
    "scaled",
    "styled",
    "width_for",
]

# Text widths of a two-column paper (NeurIPS / ICML / IEEE are all within 0.1 in of these).
ONE_COLUMN = 3.4
TWO_COLUMNS = 7.0

# 8 pt text at print size: the papers' body is 9-10 pt, figure text a little smaller.
STYLE: dict[RcKeyType, Any] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.titlesize": 9,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "pdf.fonttype": 42,  # TrueType in the PDF: text stays text (journals ask for it)
    "savefig.dpi": 300,
}

Share = bool | Literal["none", "all", "row", "col"]  # matplotlib's sharex / sharey
_P = ParamSpec("_P")
_R = TypeVar("_R")


def styled(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: build (and save) a figure under `STYLE`, so every text it creates is sized
    for print whatever the user's matplotlib settings are."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _style():
            return function(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def width_for(columns: int) -> float:
    """The paper width for a figure of `columns` panels side by side: one column for one panel,
    two columns beyond."""
    return ONE_COLUMN if columns <= 1 else TWO_COLUMNS


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float | None = None,
    panel_height: float = 2.2,
    sharex: Share = False,
    sharey: Share = False,
    packed: bool = False,
) -> tuple[Figure, np.ndarray]:
    """A figure of ``nrows x ncols`` panels (a 2-D array of axes), `width` inches wide (default
    `width_for(ncols)`) and `panel_height` inches per row, laid out by matplotlib's constrained
    layout (`packed`: nearly no space between panels, for image grids). Call it inside a
    `styled` function."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    width = width_for(ncols) if width is None else width
    layout = (
        ConstrainedLayoutEngine(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
        if packed
        else ConstrainedLayoutEngine()
    )
    fig = Figure(figsize=(width, panel_height * nrows), layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex, sharey=sharey)
    return fig, axes


def _direction(key: str) -> str:
    found = entry(key)
    if found is None or found.direction == "none":
        return ""
    arrow = "↑" if found.direction == "max" else "↓"
    return f"{arrow} {'fairer' if found.fairness else 'better'}"


def metric_label(key: str, where: str = "") -> str:
    """Axis label of the ``evaluate`` key `key` from the catalogue: its label, ``%`` where it is
    a percent metric and its direction, prefixed by `where` (``"test"``, ``"target"``):
    ``metric_label("dp_ratio", "test")`` is ``"test DP ratio (↑ fairer)"``. A key that is not in
    the catalogue is used as it is."""
    found = entry(key)
    name = key if found is None else found.axis or found.label
    group = key.partition("/")[2]
    name += f" of group {group}" if group else ""
    notes = [n for n in ("%" if found is not None and found.percent else "", _direction(key)) if n]
    text = f"{where} {name}" if where else name
    return f"{text} ({', '.join(notes)})" if notes else text


def scaled(key: str, values: Any) -> np.ndarray:
    """`values` of metric `key` as drawn: x100 for a percent metric (accuracy in %)."""
    found = entry(key)
    array = np.asarray(values, dtype=float)
    return array * 100 if found is not None and found.percent else array


def save(fig: Figure, path: str | Path) -> Path:
    """Write `fig` as PNG and PDF (``path`` with each suffix), each file atomically; returns the
    PNG's path. PDF metadata carries no date, so a redrawn figure gives the same file."""
    path = Path(path)
    png, pdf = path.with_suffix(".png"), path.with_suffix(".pdf")
    with _style():
        write_atomically(png, functools.partial(fig.savefig, format="png"))
        write_atomically(
            pdf, functools.partial(fig.savefig, format="pdf", metadata={"CreationDate": None})
        )
    return png


def legend_below(fig: Figure, axes: Axes | Iterable[Axes], ncols: int = 3) -> None:
    """One legend for the whole figure, below its panels (nothing drawn under it), from the
    entries of `axes` (each label once, in the order first met); none without an entry."""
    from matplotlib.axes import Axes

    entries: dict[str, Any] = {}
    for ax in [axes] if isinstance(axes, Axes) else axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:
        fig.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center",
            ncols=min(ncols, len(entries)),
        )


def hide_unused(axes: np.ndarray, used: int) -> list[Axes]:
    """Turn off the panels of a grid `axes` (row-major) beyond the first `used`, and give the
    panel above each of them the x tick labels and x label a shared axis had left to it; the
    panels turned off."""
    spare = list(axes.flat[used:])
    for ax in spare:
        ax.set_axis_off()
        row, column = divmod(list(axes.flat).index(ax), axes.shape[1])
        if row > 0 and (row - 1) * axes.shape[1] + column < used:
            above = axes[row - 1, column]
            above.xaxis.set_tick_params(labelbottom=True)
            above.set_xlabel(axes[-1, 0].get_xlabel())  # the bottom row is labelled
    return spare


def grid_shape(n: int, max_columns: int = 4) -> tuple[int, int]:
    """Rows and columns for `n` panels, at most `max_columns` side by side and the rows as
    full as they can be (5 panels: 2 x 3, not 2 x 4)."""
    rows = math.ceil(max(n, 1) / max_columns)
    return rows, math.ceil(max(n, 1) / rows)
