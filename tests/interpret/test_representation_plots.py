"""The representation figures: t-SNE (figure 3) and histograms of r (figures 5 and 6), checked
through matplotlib's objects."""

from __future__ import annotations

import torch

from fairdg.interpret.plots import plot_r_histograms, r_histograms_figure, tsne_figure


def _panel(name: str, seed: int, n: int = 40):
    g = torch.Generator().manual_seed(seed)
    y, z = torch.randint(0, 3, (n,), generator=g), torch.randint(0, 2, (n,), generator=g)
    return name, torch.randn(n, 4, generator=g) + y[:, None], y, z


def test_tsne_figure_headers_rows_and_size():
    fig = tsne_figure(
        [_panel("ERM", 0), _panel("Affinity", 1)],
        class_names=["a", "b", "c"],
        group_names=["female", "male"],
        max_iter=250,
    )
    assert tuple(fig.get_size_inches())[0] == 7.0  # two paper columns
    top = [ax for ax in fig.axes if ax.get_subplotspec().rowspan.start == 0]
    assert [ax.get_title() for ax in top] == ["ERM", "Affinity"]  # column headers
    left = [ax.get_ylabel() for ax in fig.axes if ax.get_subplotspec().colspan.start == 0]
    assert left == ["coloured by target", "coloured by group"]
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes[-3::2]]
    assert legends == [["a", "b", "c"], ["female", "male"]]
    one = tsne_figure(
        [_panel("ERM", 0)], class_names=["a", "b", "c"], group_names=["f", "m"], max_iter=250
    )
    assert tuple(one.get_size_inches())[0] == 3.4  # one paper column


def test_r_histograms_share_axes_and_are_written_as_png_and_pdf(tmp_path):
    z = torch.arange(50) % 2
    panels = [("ERM", torch.randn(50) + z, z), ("Affinity", torch.randn(50), z)]
    fig = r_histograms_figure(panels, group_names=["female", "male"])
    left, right = fig.axes
    assert left.get_shared_x_axes().joined(left, right)
    assert left.get_shared_y_axes().joined(left, right)
    assert [ax.get_xlabel() for ax in fig.axes] == ["r (standardised)"] * 2
    assert left.get_ylabel() == "density"
    assert [left.get_title(), right.get_title()] == ["ERM", "Affinity"]
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["female", "male"]
    assert tuple(fig.get_size_inches())[0] == 7.0
    png = plot_r_histograms(panels, tmp_path / "hist.png", group_names=["female", "male"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
