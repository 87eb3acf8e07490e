"""CSV loader options for practitioners: positive=, sensitive_map=, drop=, DataFrame input,
max_groups=, and the warning about columns that determine the sensitive attribute."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from people_fakes import make_people

from fairdg import load_dataset
from fairdg.data.tabular import ProxyWarning

OPTIONS = {"target": "credit", "sensitive": "race", "domain": "site"}


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.csv"
    make_people(300).to_csv(path, index=False)
    return path


def _x(dataset):
    return torch.cat([d.x for d in dataset.domains])


def test_positive_names_the_positive_class(people):
    ds = load_dataset("csv", path=str(people), positive="bad", **OPTIONS)
    assert ds.class_names == ["good", "bad"]
    frame = make_people(300)
    first = ds.domain("north")
    expected = (frame.loc[frame["site"] == "north", "credit"] == "bad").to_numpy()
    assert first.y.numpy().tolist() == expected.astype(int).tolist()
    with pytest.raises(ValueError, match="positive='yes' is not a value of target column"):
        load_dataset("csv", path=str(people), positive="yes", **OPTIONS)


def test_sensitive_map_merges_groups(people, tmp_path):
    ds = load_dataset("csv", path=str(people), sensitive_map="A=1,*=0", **OPTIONS)
    assert ds.group_names == ["0", "1"]
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"A": "first", "B": "second"}))
    by_file = load_dataset("csv", path=str(people), sensitive_map=str(mapping), **OPTIONS)
    assert by_file.group_names == ["first", "second"]
    assert torch.equal(
        torch.cat([d.z for d in by_file.domains]), 1 - torch.cat([d.z for d in ds.domains])
    )
    with pytest.raises(ValueError, match="sensitive_map item 'A' is not VALUE=NEW"):
        load_dataset("csv", path=str(people), sensitive_map="A", **OPTIONS)


def test_dataframe_input_equals_the_file(people):
    from_file = load_dataset("csv", path=str(people), drop="job", **OPTIONS)
    from_frame = load_dataset("csv", path=make_people(300), drop="job", **OPTIONS)
    assert torch.equal(_x(from_file), _x(from_frame))
    assert from_frame.feature_names == ["age", "income", "sex=female", "sex=male"]
    assert from_file.preprocessing["columns"] == from_frame.preprocessing["columns"]


def test_continuous_sensitive_column_is_refused(people):
    with pytest.raises(ValueError, match=r"sensitive column 'age' has \d+ distinct values.*bin"):
        load_dataset("csv", path=str(people), target="credit", sensitive="age")
    ds = load_dataset("csv", path=str(people), target="credit", sensitive="age", max_groups=60)
    assert ds.num_groups > 20


def test_proxy_column_is_named(tmp_path):
    frame = make_people(300)
    frame["status_sex"] = np.where(frame["sex"] == "male", "single male", "married female")
    frame.to_csv(tmp_path / "proxy.csv", index=False)
    options = {"path": str(tmp_path / "proxy.csv"), "target": "credit", "sensitive": "sex"}
    with pytest.warns(ProxyWarning, match="column 'status_sex' predicts sensitive column 'sex'"):
        load_dataset("csv", **options, drop="race")
    load_dataset("csv", **options, drop="race,status_sex")  # no warning once dropped
