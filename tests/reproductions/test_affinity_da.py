"""Few-shot domain adaptation (affinity paper, section 4): augmentation, the SVHN CNN, the
training methods and both reproductions end to end on fake files."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from fairdg.algorithms.augment import random_affine
from fairdg.data.sources import DataNotFoundError
from fairdg.data.transforms import rotate
from fairdg.networks import MLP
from fairdg.networks.svhn_cnn import SVHNCNN
from fairdg.reproductions import ReproOptions, affinity_da
from fairdg.reproductions.affinity_da import DAData, DASettings, train_one
from fairdg.reproductions.protocol import run_reproduction


def _mark(n: int = 6) -> torch.Tensor:
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 12:16, 12:16] = 1.0
    return x


def test_random_affine_without_range_is_the_identity():
    x = torch.rand(5, 3, 32, 32)
    assert torch.allclose(random_affine(x, 0.0, (0.0, 0.0)), x, atol=1e-6)


def test_random_affine_shifts_stay_in_range_and_differ_per_image():
    g = torch.Generator().manual_seed(0)
    out = random_affine(_mark(50), 0.0, (0.1, 0.2), g)
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = out[:, 0].sum((1, 2))
    cy = (out[:, 0] * ys).sum((1, 2)) / mass - 13.5
    cx = (out[:, 0] * xs).sum((1, 2)) / mass - 13.5
    assert cx.abs().max() <= 0.1 * 28 + 1e-4 and cy.abs().max() <= 0.2 * 28 + 1e-4
    assert cx.std() > 0.5 and cy.std() > 0.5  # a shift of its own for each image
    again = random_affine(_mark(50), 0.0, (0.1, 0.2), torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_random_affine_rotation_matches_rotate():
    """With a range of exactly one angle (degrees d, drawn sign s) each image is `rotate`d."""
    x = torch.rand(8, 1, 28, 28)
    g = torch.Generator().manual_seed(3)
    u = torch.rand(8, 3, generator=torch.Generator().manual_seed(3)) * 2 - 1
    out = random_affine(x, 20.0, (0.0, 0.0), g)
    for i in range(8):
        expected = rotate(x[i : i + 1], float(u[i, 0]) * 20.0)
        assert torch.allclose(out[i : i + 1], expected, atol=1e-5)


def test_random_affine_rejects_bad_input():
    with pytest.raises(ValueError, match="random_affine"):
        random_affine(torch.rand(4, 784))
    with pytest.raises(ValueError, match="translate"):
        random_affine(torch.rand(1, 1, 8, 8), 10.0, (1.5, 0.0))


def test_svhn_cnn_shapes():
    net = SVHNCNN((3, 32, 32), 20)
    rep = net(torch.rand(4, 3, 32, 32))
    assert rep.shape == (4, 20) and bool((rep >= 0).all()) and net.n_outputs == 20
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64]
    with pytest.raises(ValueError, match="divisible by 4"):
        SVHNCNN((3, 30, 30))


def _toy(seed: int = 0) -> DAData:
    """Source: a mark per class; target: the same marks rotated by 30 degrees."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(200) % 10
    x = torch.rand(200, 1, 28, 28, generator=g) * 0.2
    for i, c in enumerate(y.tolist()):
        x[i, 0, 2 + 2 * (c % 5) : 8 + 2 * (c % 5), 4 + 10 * (c // 5) : 10 + 10 * (c // 5)] = 1
    target = rotate(x[:20], 30.0)
    return DAData(x, y, target, y[:20], {"target": (rotate(x[100:], 30.0), y[100:])})


def test_affinity_pulls_the_domains_together():
    """Same data, seed and steps: the affinity method ends with a smaller equation-(3) loss
    between source and target representations than cross-entropy alone."""
    data = _toy()
    x = torch.cat([data.source_x, data.target_x])
    y = torch.cat([data.source_y, data.target_y])
    d = torch.cat([torch.zeros(200, dtype=torch.long), torch.ones(20, dtype=torch.long)])
    measured = {}
    for method in ("target", "affinity"):
        model = train_one(
            data, method, lambda: MLP(784, 20, 32, 1, 0.0), DASettings(steps=40, lam=3.0), 0
        )
        with torch.no_grad():
            rep = model[0](x)
            spread = rep.std(0).sum().clamp_min(1e-6)
            options = affinity_da.affinity_options("eq3")
            measured[method] = float(affinity_da.affinity_loss(rep, y, d, **options) / spread)
    assert measured["affinity"] < measured["target"]


def test_affinity_options_follow_the_algorithm_defaults():
    eq3 = affinity_da.affinity_options("eq3")
    assert eq3["symmetric"] is False and eq3["paper_normalisation"] is True
    assert eq3["distance"] == "l1" and eq3["class_conditional"] is True
    old = affinity_da.affinity_options("symmetric")
    assert old["symmetric"] is True and old["paper_normalisation"] is False


@pytest.mark.slow
def test_rotated_reproduction_on_fake_mnist(tmp_path, fake_digit_files, monkeypatch):
    mnist_root, _ = fake_digit_files
    extra = {
        "root": str(mnist_root),
        "steps": 5,
        "n_sources": [100, 150],
        "per_class": [1, 2],
    }
    options = ReproOptions(output=str(tmp_path / "out"), quick=True, quiet=True, extra=extra)
    report = run_reproduction("affinity-da-rotated", replace(options, workers=2))
    assert "## Table 6" in report and "## Figure 7" in report
    assert "only source" in report and "data augmentation" in report
    folder = tmp_path / "out" / "affinity-da-rotated-quick"
    assert (folder / "figure7.png").stat().st_size > 1000
    runs = [json.loads(p.read_text())["result"] for p in folder.glob("runs/*/done.json")]
    # table (20 per class): 2 source sizes x 5 methods; figure: k = 1, 2 x 2 methods
    assert len(runs) == 10 + 4
    assert all(0.0 <= r["target"] <= 1.0 for r in runs)

    def fail(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(affinity_da, "train_one", fail)
    assert run_reproduction("affinity-da-rotated", options) == report


@pytest.mark.slow
def test_svhn_reproduction_on_fake_files(tmp_path, fake_digit_files, monkeypatch):
    mnist_root, svhn_root = fake_digit_files
    extra = {"root": str(svhn_root), "mnist_root": str(mnist_root), "steps": 1}
    extra |= {"n_source": 150, "n_test": 50}
    options = ReproOptions(output=str(tmp_path), quick=True, quiet=True, extra=extra)
    report = run_reproduction("affinity-da-svhn", options)
    assert "## Table 7" in report and "(0.85)" in report and "(0.74)" in report
    folder = tmp_path / "affinity-da-svhn-quick"
    runs = [json.loads(p.read_text())["result"] for p in folder.glob("runs/*/done.json")]
    assert len(runs) == 6 and all(set(r) == {"svhn", "mnist"} for r in runs)


def test_svhn_reproduction_without_files_says_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRDG_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("FAIRDG_CACHE", str(tmp_path / "cache"))
    options = ReproOptions(output=str(tmp_path / "out"), quick=True, quiet=True)
    with pytest.raises(DataNotFoundError, match="train_32x32.mat") as caught:
        run_reproduction("affinity-da-svhn", options)
    assert str(tmp_path / "data" / "svhn") in str(caught.value)
    assert not (tmp_path / "out").exists()
