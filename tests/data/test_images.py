"""FairFace, CelebA, YFCC100M-FDG on tiny generated folders; the decoded-image cache; digits."""

import pytest
import torch
from data_fakes import write_fake_celeba, write_fake_fairface, write_fake_yfcc

from fairdg.data import images, load_dataset
from fairdg.data.sources import cache_dir
from fairdg.data.storage import ImageRows, to_unit


def test_fairface(tmp_path):
    root = write_fake_fairface(tmp_path / "ff")
    ds = load_dataset("fairface", root=root, size=8)
    assert ds.domain_names[:2] == ["Black", "East Asian"] and len(ds.domains) == 7
    assert ds.input_shape == (3, 8, 8) and ds.group_names == ["Male", "Female"]
    assert len(ds) == 84 and sum(int(d.test_mask.sum()) for d in ds.domains) == 28
    # y = 1 exactly for the age groups 50-59, 60-69, more than 70 (3 of 9)
    expected = sum(i % 9 >= 6 for n in (56, 28) for i in range(n))
    assert sum(int(d.y.sum()) for d in ds.domains) == expected
    assert ds.domains[0].x.dtype == torch.uint8  # held as uint8, read as float per batch
    pixel = to_unit(ds.domains[0].x[0, :, 4, 4])  # a flat colour image stays flat
    assert torch.allclose(pixel[1:], torch.tensor([40 / 255, 200 / 255]), atol=1 / 255)
    small = load_dataset("fairface", root=root, size=8, max_per_domain=6, age_threshold=30)
    assert [len(d) for d in small.domains] == [6] * 7
    with pytest.raises(ValueError, match="age_threshold must be one of"):
        load_dataset("fairface", root=root, age_threshold=55)


def test_decoded_images_are_cached_and_not_decoded_again(tmp_path, monkeypatch):
    root = write_fake_fairface(tmp_path / "ff", n_train=14, n_val=14)
    first = load_dataset("fairface", root=root, size=8)
    cached = list((cache_dir() / "fairface").glob("images-8px-*.npy"))
    assert len(cached) == 1

    def fail(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(images, "_decode_one", fail)
    again = load_dataset("fairface", root=root, size=8)
    assert torch.equal(again.domains[3].x, first.domains[3].x)


def test_memory_mapped_images_above_memory_limit_and_split_without_copy(tmp_path):
    root = write_fake_fairface(tmp_path / "ff", n_train=14, n_val=14)
    in_memory = load_dataset("fairface", root=root, size=8)
    mapped = load_dataset("fairface", root=root, size=8, memory_limit_gb=0)
    base = mapped.domains[2].x
    assert base.dtype == torch.uint8
    assert torch.equal(base, in_memory.domains[2].x)
    first = mapped.domains[0].x
    assert first.untyped_storage().nbytes() == 28 * 3 * 8 * 8  # all domains share one mapping
    split = mapped.split(0)
    part = split.parts[mapped.domain_names[0]]["train"].x
    assert isinstance(part, ImageRows) and part.base.data_ptr() == first.data_ptr()
    rows = part.index[:3]
    torch.testing.assert_close(part[:3], first[rows].float() / 255)
    assert part[:3].dtype == torch.float32 and part.shape[1:] == (3, 8, 8)


def test_parallel_decoding_gives_the_same_cache(tmp_path, monkeypatch):
    root = write_fake_fairface(tmp_path / "ff", n_train=14, n_val=14)
    serial = load_dataset("fairface", root=root, size=8)
    monkeypatch.setenv("FAIRDG_CACHE", str(tmp_path / "other-cache"))
    parallel = load_dataset("fairface", root=root, size=8, workers=2)
    pairs = zip(serial.domains, parallel.domains, strict=True)
    assert all(torch.equal(a.x, b.x) for a, b in pairs)


def test_missing_image_file_is_named(tmp_path):
    root = write_fake_fairface(tmp_path / "ff", n_train=14, n_val=14)
    (root / "val" / "3.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="val/3.jpg"):
        load_dataset("fairface", root=root, size=8)


def test_celeba(tmp_path):
    root = write_fake_celeba(tmp_path / "celeba")
    ds = load_dataset("celeba", root=root, size=8)
    assert ds.class_names == ["not Attractive", "Attractive"]
    assert ds.group_names == ["not Male", "Male"] and ds.domain_names == ["all"]
    (d,) = ds.domains
    assert len(d) == 40 and int(d.test_mask.sum()) == 8  # partition 2
    assert d.y[:4].tolist() == [1, 1, 0, 0] and d.z[:4].tolist() == [1, 0, 1, 0]
    by_age = load_dataset("celeba", root=root, size=8, target="Smiling", domain="Young")
    assert by_age.domain_names == ["Young", "not Young"] and len(by_age) == 40
    with pytest.raises(ValueError, match="target must be an attribute name.*'Bald'"):
        load_dataset("celeba", root=root, target="Bald")


def test_yfcc(tmp_path):
    root = write_fake_yfcc(tmp_path / "yfcc")
    ds = load_dataset("yfcc", root=root, size=8)
    assert ds.domain_names == ["2000-2009", "2010-2014", "before-2000"]
    assert [len(d) for d in ds.domains] == [12] * 3 and ds.class_names == ["indoor", "outdoor"]
    assert ds.domains[0].y.tolist() == [0, 1] * 6
    with pytest.raises(FileNotFoundError, match="metadata.csv.*Searched"):
        load_dataset("yfcc", root=tmp_path / "nothing")


@pytest.mark.parametrize("variant", ["inverted", "rotated", "coloured"])
def test_digits_variants(variant):
    ds = load_dataset("digits", variant=variant)
    if variant == "inverted":
        (d,) = ds.domains
        assert len(d) == 2 * 1797 and ds.input_shape == (1, 8, 8)
        assert torch.allclose(d.x[1797:], 1 - d.x[:1797])
    elif variant == "rotated":
        split = ds.split(0)
        train = split.parts["digits->rotated"]["train"]
        assert int(train.z.sum()) == 50 and split.parts["digits->rotated"]["test"].z.all()
    else:
        assert ds.domain_names == ["red", "green", "blue"] and ds.input_shape == (3, 8, 8)
        assert sum(len(d) for d in ds.domains) == 1797
    assert load_dataset("digits", variant=variant, flatten=True).input_shape[0] in (64, 192)
    with pytest.raises(ValueError, match="variant must be one of"):
        load_dataset("digits", variant="mirrored")


def test_image_rows_read_only_the_rows_asked_for():
    base = torch.arange(6 * 3 * 2 * 2, dtype=torch.uint8).view(6, 3, 2, 2)
    rows = ImageRows(base, torch.tensor([5, 0, 3]))
    idx = torch.tensor([2, 0])
    expected = base[[3, 5]].float() / 255
    torch.testing.assert_close(rows[idx], expected)
    torch.testing.assert_close(torch.index_select(rows, 0, idx), expected)
    out = torch.empty(2, 3, 2, 2)
    torch.index_select(rows, 0, idx, out=out)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(torch.cat([rows]), base[[5, 0, 3]].float() / 255)  # converts all
    assert rows.rows(torch.tensor([1])).index.tolist() == [0] and len(rows) == 3
