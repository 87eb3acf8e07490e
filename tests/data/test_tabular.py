"""NYSF on a generated CSV with the real column names; the CSV loader and its errors."""

import zipfile

import pytest
import torch
from data_fakes import write_fake_nysf

from fairdg.data import load_dataset
from fairdg.data.nysf import CIRCUMSTANCE_FLAGS, STOP_FLAGS


def test_nysf_from_csv(tmp_path):
    write_fake_nysf(tmp_path / "2011.csv")
    ds = load_dataset("nysf", root=tmp_path, n_samples=None)
    assert ds.domain_names == ["Bronx", "Brooklyn", "Manhattan", "Queens", "Staten Island"]
    assert len(ds) == 397  # three rows are dropped (implausible age, no weight, no borough)
    names = ds.feature_names
    assert names[:3] == ["age", "height", "weight"] and ds.standardize == [0, 1, 2]
    assert set(STOP_FLAGS + CIRCUMSTANCE_FLAGS) <= set(names)
    assert not any(n.startswith(("rf_", "race", "frisked", "pistol")) for n in names)
    assert ds.group_names == ["non-Black", "Black"] and ds.num_classes == 2
    height = torch.cat([d.x[:, 1] for d in ds.domains])
    assert height.min() >= 60 and height.max() <= 83  # 5-6 ft + 0-11 in
    frisked = load_dataset("nysf", root=tmp_path, target="frisked", n_samples=100)
    assert len(frisked) == 100 and frisked.class_names == ["not frisked", "frisked"]
    with pytest.raises(ValueError, match="target must be 'weapon' or 'frisked'"):
        load_dataset("nysf", root=tmp_path, target="arrest")


def test_nysf_from_zip_and_missing(tmp_path):
    csv = write_fake_nysf(tmp_path / "src" / "2011.csv", n=60)
    folder = tmp_path / "data"
    folder.mkdir()
    with zipfile.ZipFile(folder / "sqf-2011-csv.zip", "w") as zf:
        zf.write(csv, "2011.csv")
    assert len(load_dataset("nysf", root=folder)) == 57
    assert not (folder / "2011.csv").exists()  # extracted into the cache, not the data folder
    (folder / "sqf-2011-csv.zip").unlink()
    assert len(load_dataset("nysf", root=folder)) == 57  # the extracted copy is reused
    with pytest.raises(FileNotFoundError, match="(?s)2012.csv.*Searched.*sqf-2012-csv.zip"):
        load_dataset("nysf", root=tmp_path / "empty", year=2012)


def _write(path, text):
    path.write_text(text)
    return str(path)


@pytest.fixture
def people(tmp_path):
    rows = ["age,job,site,sex,income,id"]
    for i in range(60):
        rows.append(
            f"{20 + i},{['a', 'b', 'c'][i % 3]},{['north', 'south'][i % 2]},"
            f"{['F', 'M'][i // 2 % 2]},{['low', 'high'][i % 4 // 3]},{i}"
        )
    return _write(tmp_path / "people.csv", "\n".join(rows) + "\n")


def test_csv_loads_domains_names_and_encoding(people):
    ds = load_dataset(
        "csv", path=people, target="income", sensitive="sex", domain="site", drop="id"
    )
    assert ds.domain_names == ["north", "south"] and ds.class_names == ["high", "low"]
    assert ds.group_names == ["F", "M"] and ds.sensitive_name == "sex"
    assert ds.feature_names == ["age", "job=a", "job=b", "job=c"] and ds.standardize == [0]
    split = ds.split(seed=0)
    train = torch.cat([p.x[:, 0] for p in split.train()])
    assert abs(float(train.mean())) < 1e-5  # standardised with training statistics
    coded = load_dataset(
        "csv",
        path=people,
        target="income",
        sensitive="sex",
        categorical=["age"],
        drop=["id"],
        include_sensitive=True,
    )
    assert coded.input_shape == (60 + 3 + 2 + 2,)  # age codes, job, site, sex


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "option target is required"),
        ({"target": "salary"}, "target column 'salary' is not in people.csv; columns: \\['age'"),
        ({"target": "income", "sensitive": "sex", "domain": "planet"}, "domain column 'planet'"),
        ({"target": "income", "sensitive": "sex", "drop": ["nope"]}, "drop column 'nope'"),
        (
            {"target": "income", "sensitive": "sex", "categorical": "id", "max_categories": 10},
            "column 'id' has 60 distinct values, more than max_categories=10.*drop='id'",
        ),
        (
            {"target": "income", "sensitive": "sex", "drop": "id", "missing": "keep"},
            "missing must be 'error' or 'drop'",
        ),
    ],
)
def test_csv_errors_name_the_column(people, options, message):
    with pytest.raises(ValueError, match=message):
        load_dataset("csv", path=people, **options)


def test_csv_data_errors(tmp_path):
    one = _write(tmp_path / "one.csv", "x,y,z\n1,a,p\n2,a,q\n")
    with pytest.raises(ValueError, match="target column 'y' has a single value 'a'"):
        load_dataset("csv", path=one, target="y", sensitive="z")
    split = _write(tmp_path / "dom.csv", "x,y,z,d\n1,0,p,u\n2,1,q,u\n3,0,p,v\n4,1,p,v\n")
    with pytest.raises(
        ValueError,
        match="domain 'v' \\(column 'd'\\) holds only sensitive group 'p' of column 'z'",
    ):
        load_dataset("csv", path=split, target="y", sensitive="z", domain="d")
    holes = _write(tmp_path / "holes.csv", "x,w,y,z\n1,,0,p\n2,3,1,q\n3,4,0,q\n4,5,1,p\n")
    with pytest.raises(ValueError, match="column 'w' has 1 missing value.*missing='drop'"):
        load_dataset("csv", path=holes, target="y", sensitive="z")
    assert len(load_dataset("csv", path=holes, target="y", sensitive="z", missing="drop")) == 3
    with pytest.raises(ValueError, match="option path is required"):
        load_dataset("csv", target="y")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_dataset("csv", path=str(tmp_path / "nope.csv"), target="y", sensitive="z")
