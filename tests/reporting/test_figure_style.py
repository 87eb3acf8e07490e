"""The house style of figures: catalogue labels with unit and direction, paper widths, PNG and
PDF written atomically."""

from __future__ import annotations

import numpy as np
import pytest

from fairdg.reporting import figures
from fairdg.reporting.figures import (
    ONE_COLUMN,
    TWO_COLUMNS,
    metric_label,
    new_figure,
    save,
    scaled,
    styled,
)


@pytest.mark.parametrize(
    ("key", "where", "label"),
    [
        ("dp_ratio", "test", "test DP ratio (↑ fairer)"),
        ("dp_diff", "", "DP gap (↓ fairer)"),
        ("accuracy", "target", "target accuracy (%, ↑ better)"),
        ("fairness_auc", "val", "val fairness AUC (↓ fairer)"),
        ("loss", "", "loss (↓ better)"),
        ("positive_rate", "test", "test positive rate (%)"),
        ("tpr/1", "", "TPR of group 1"),
        ("stats.penalty", "", "stats.penalty"),  # not in the catalogue: as it is
    ],
)
def test_metric_label_reads_the_catalogue(key, where, label):
    assert metric_label(key, where) == label


def test_scaled_draws_percent_metrics_times_100():
    assert scaled("accuracy", [0.5, 0.25]).tolist() == [50.0, 25.0]
    assert scaled("dp_ratio", [0.5]).tolist() == [0.5]
    assert np.isnan(scaled("positive_rate", [np.nan])).all()


def test_widths_and_grid_shapes():
    assert figures.width_for(1) == ONE_COLUMN == 3.4
    assert figures.width_for(3) == TWO_COLUMNS == 7.0
    assert figures.grid_shape(5) == (2, 3) and figures.grid_shape(8) == (2, 4)
    assert figures.grid_shape(2) == (1, 2)


@styled
def _figure():
    fig, axes = new_figure(1, 2, sharey=True)
    axes[0, 0].plot([0, 1], [0, 1], label="a")
    axes[0, 0].set_xlabel(metric_label("accuracy", "test"))
    figures.legend_below(fig, axes[0, 0])
    return fig


def test_styled_figures_are_print_sized_whatever_the_user_rc():
    import matplotlib

    with matplotlib.rc_context({"font.size": 20, "axes.labelsize": 20}):
        fig = _figure()
    assert tuple(fig.get_size_inches()) == (7.0, 2.2)
    assert fig.axes[0].xaxis.label.get_fontsize() == 8
    assert len(fig.legends) == 1
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[1])


def test_save_writes_png_and_pdf_atomically(tmp_path):
    (tmp_path / "sub").mkdir()
    png = save(_figure(), tmp_path / "sub" / "plot.png")
    assert png == tmp_path / "sub" / "plot.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = png.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in png.parent.iterdir()) == ["plot.pdf", "plot.png"]  # no temp
    first = pdf.read_bytes()
    save(_figure(), tmp_path / "sub" / "plot")  # no suffix: the same two files
    assert pdf.read_bytes() == first  # no date in the PDF: a redrawn figure is the same file
