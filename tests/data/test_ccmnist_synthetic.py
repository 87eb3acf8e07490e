"""ccMNIST (colours, labels, dependence per domain) and the synthetic shift generator."""

import pytest
import torch

from fairdg.data import load_dataset
from fairdg.data.dependence import dependence_score


def _requested(p):
    return p / (1 - p) if p <= 0.5 else (1 - p) / p


def test_ccmnist_construction(fake_mnist):
    ds = load_dataset("ccmnist", root=fake_mnist)
    assert ds.domain_names == ["red", "green", "blue"] and ds.input_shape == (3, 28, 28)
    assert [len(d) for d in ds.domains] == [267, 267, 266]  # 800 images dealt round-robin
    for channel, d in enumerate(ds.domains):
        corner = d.x[:, :, 0, 0]  # background pixel: white (1, 1, 1) iff z = 1
        assert torch.equal(corner, d.z.float()[:, None].expand(-1, 3))
        # the fake digit blob (a bright rectangle) has the domain's colour
        assert ((d.x[:, channel] == 1) & (d.x.sum(1) == 1)).any()
        assert ((d.x == 0) | (d.x == 1)).all()
    summary = ds.summary()
    for name, p in zip(ds.domain_names, (0.1, 0.3, 0.465), strict=True):
        assert summary["domains"][name]["dependence"] == pytest.approx(_requested(p), abs=0.03)


def test_ccmnist_options(fake_mnist):
    ds = load_dataset(
        "ccmnist", root=fake_mnist, dependence=[1.0, 0.5, 0.25], subsample=100, seed=3
    )
    assert [len(d) for d in ds.domains] == [100] * 3
    assert ds.meta["p"] == pytest.approx([0.5, 1 / 3, 0.2])
    free = load_dataset("ccmnist", root=fake_mnist, p=0.5, exact=False)
    assert free.meta["exact"] is False
    with pytest.raises(ValueError, match="p must be a number or 3 numbers.*got \\[0.1, 0.2\\]"):
        load_dataset("ccmnist", root=fake_mnist, p=[0.1, 0.2])
    with pytest.raises(ValueError, match="subsample must be an integer"):
        load_dataset("ccmnist", root=fake_mnist, subsample=0)


def _ink(domain) -> float:
    """Share of digit pixels on black backgrounds (any channel lit)."""
    black = domain.x[domain.z == 0]
    return float((black.sum(1) > 0).float().mean())


def test_ccmnist_image_options(fake_mnist):
    paper = load_dataset("ccmnist", root=fake_mnist)
    tinted = load_dataset("ccmnist", root=fake_mnist, tint=0.35)
    red = tinted.domains[0]
    black = red.x[red.z == 0]
    lit = black.sum(1) > 0  # digit pixels: red (1, t, t), every channel lit
    assert torch.allclose(black[:, 0][lit], torch.tensor(1.0))
    assert torch.allclose(black[:, 1][lit], torch.tensor(0.35))
    assert torch.allclose(black[:, 2][lit], torch.tensor(0.35))
    assert torch.equal(lit, paper.domains[0].x[paper.domains[0].z == 0].sum(1) > 0)
    # shade < 1: on white the digit shows in its own channel too (red = (s, t, t))
    muted = load_dataset("ccmnist", root=fake_mnist, tint=0.25, shade=0.75)
    red = muted.domains[0]
    white = red.x[red.z == 1]
    dark = white.sum(1) < 3
    assert torch.allclose(white[:, 0][dark], torch.tensor(0.75))
    assert torch.allclose(white[:, 1][dark], torch.tensor(0.25))
    # any nonzero pixel (the authors' binarisation) and dilation: thicker strokes
    nonzero = load_dataset("ccmnist", root=fake_mnist, threshold=0.0)
    dilated = load_dataset("ccmnist", root=fake_mnist, dilate=1)
    assert _ink(nonzero.domains[0]) > _ink(paper.domains[0])
    assert _ink(dilated.domains[0]) > _ink(paper.domains[0])
    assert dilated.meta["dilate"] == 1 and nonzero.meta["threshold"] == 0.0
    # labels, backgrounds and dependence do not depend on the image options
    for other in (tinted, nonzero, dilated):
        for a, b in zip(paper.domains, other.domains, strict=True):
            assert torch.equal(a.y, b.y) and torch.equal(a.z, b.z)


def test_ccmnist_six_colours(fake_mnist):
    ds = load_dataset("ccmnist", root=fake_mnist, colours=6)
    assert ds.domain_names == ["red", "green", "blue", "cyan", "magenta", "yellow"]
    assert [len(d) for d in ds.domains] == [134, 134, 133, 133, 133, 133]
    assert ds.meta["p"] == pytest.approx([0.1, 0.3, 0.465] * 2)
    magenta = ds.domains[4]
    black = magenta.x[magenta.z == 0]
    lit = black.sum(1) > 0
    assert (black[:, 0][lit] == 1).all() and (black[:, 1] == 0).all()
    with pytest.raises(ValueError, match="p must be a number or 6 numbers"):
        load_dataset("ccmnist", root=fake_mnist, colours=6, p=[0.1, 0.2, 0.3])


def test_ccmnist_colour_pairs(fake_mnist):
    paper = load_dataset("ccmnist", root=fake_mnist)
    ds = load_dataset("ccmnist", root=fake_mnist, pairs=True)
    assert ds.domain_names == ["red-cyan", "green-magenta", "blue-yellow"]
    first = ds.domains[0]
    black = first.x[first.z == 0]
    colours = {tuple(c) for c in black.permute(0, 2, 3, 1)[black.sum(1) > 0].tolist()}
    assert colours == {(1.0, 0.0, 0.0), (0.0, 1.0, 1.0)}  # red and cyan digits
    cyan = (black[:, 1] > 0).flatten(1).any(1).float().mean()
    assert 0.3 < cyan < 0.7  # about half of them cyan
    for a, b in zip(paper.domains, ds.domains, strict=True):  # same labels and backgrounds
        assert torch.equal(a.y, b.y) and torch.equal(a.z, b.z)
    with pytest.raises(ValueError, match="pairs=true makes three domains"):
        load_dataset("ccmnist", root=fake_mnist, pairs=True, colours=6)


def test_ccmnist_cpu_palette_is_tinted_colour_pairs(fake_mnist):
    cpu = load_dataset("ccmnist", root=fake_mnist, palette="cpu")
    explicit = load_dataset("ccmnist", root=fake_mnist, pairs=True, tint=0.35)
    assert cpu.domain_names == explicit.domain_names
    assert all(torch.equal(a.x, b.x) for a, b in zip(cpu.domains, explicit.domains, strict=True))
    assert load_dataset("ccmnist", root=fake_mnist, palette="cpu", tint=0.0).meta["tint"] == 0.0


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"tint": 1.0}, "tint must be in \\[0, 1\\)"),
        ({"threshold": -0.1}, "threshold must be in \\[0, 1\\)"),
        ({"dilate": 4}, "dilate must be an integer in \\[0, 3\\]"),
        ({"tint": 0.5, "shade": 0.5}, "shade must be in \\(tint, 1\\]"),
        ({"colours": 4}, "colours must be 3 or 6"),
        ({"palette": "nope"}, "palette must be one of"),
    ],
)
def test_ccmnist_bad_image_options(fake_mnist, option, message):
    with pytest.raises(ValueError, match=message):
        load_dataset("ccmnist", root=fake_mnist, **option)


@pytest.mark.slow
def test_ccmnist_reference_dependence_within_002(reference_data):
    ds = load_dataset("ccmnist", root=reference_data / "mnist")
    assert len(ds) == 70_000
    for d, p in zip(ds.domains, (0.1, 0.3, 0.465), strict=True):
        assert abs(d.y.float().mean() - 0.49) < 0.02  # digits 5-9 are 49 % of MNIST
        realised = dependence_score(d.counts(2, 2))
        assert abs(realised - _requested(p)) < 0.02, (d.name, realised)


def test_synthetic_dependence_and_covariate_shift():
    ds = load_dataset(
        "synthetic",
        n_domains=3,
        n_per_domain=20_000,
        dependence=[0.1, 0.3, 0.5],
        covariate_shift=0.0,
    )
    realised = [ds.summary()["domains"][n]["dependence"] for n in ds.domain_names]
    assert realised == pytest.approx([_requested(0.1), _requested(0.3), 1.0], abs=0.03)
    means = torch.stack([d.x.mean(0) for d in ds.domains])
    assert (means - means[0]).abs().max() < 0.1  # no covariate shift
    shifted = load_dataset("synthetic", n_domains=3, n_per_domain=2000, covariate_shift=2.0)
    means = torch.stack([d.x.mean(0) for d in shifted.domains])
    assert (means - means[0]).abs().max() > 0.5
    # same P(y | u) everywhere: y is predictable from x in every domain
    assert ds.input_shape == (10,) and ds.standardize == list(range(10))
    again = load_dataset(
        "synthetic",
        n_domains=3,
        n_per_domain=20_000,
        dependence=[0.1, 0.3, 0.5],
        covariate_shift=0.0,
    )
    assert torch.equal(again.domains[2].x, ds.domains[2].x)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_domains": 1}, "n_domains must be an integer >= 2, got 1"),
        ({"dependence": [0.1, 0.2]}, "dependence must be a number or 4 numbers"),
        ({"covariate_shift": -1}, "covariate_shift must be a number >= 0"),
    ],
)
def test_synthetic_errors(options, message):
    with pytest.raises(ValueError, match=message):
        load_dataset("synthetic", **options)
