import json
import math

from fairdg import records


def test_append_load_and_corrupt_lines(tmp_path):
    path = tmp_path / "r.jsonl"
    records.append_jsonl(path, {"a": 1, "x": math.nan})
    records.append_jsonl(path, {"a": 2})
    with open(path, "a") as handle:
        handle.write('{"a": 3, "trunc')  # a crash mid-line
    got, problems = records.load_jsonl(path)
    assert got == [{"a": 1, "x": None}, {"a": 2}]
    assert len(problems) == 1 and ":3:" in problems[0]


def test_atomic_write_json_and_truncate(tmp_path):
    path = tmp_path / "sub" / "f.json"
    records.write_json(path, {"b": [1, 2], "inf": math.inf})
    assert json.loads(path.read_text()) == {"b": [1, 2], "inf": None}
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    lines = tmp_path / "l.jsonl"
    for i in range(5):
        records.append_jsonl(lines, {"i": i})
    records.truncate_jsonl(lines, 2)
    assert records.load_jsonl(lines)[0] == [{"i": 0}, {"i": 1}]


def test_canonical_json_is_order_independent():
    assert records.canonical_json({"b": 1, "a": (1, 2)}) == records.canonical_json(
        {"a": [1, 2], "b": 1}
    )


def test_write_atomically_keeps_the_suffix_and_the_old_file_on_failure(tmp_path):
    """Figures and PNGs go through a temporary file named with the target's suffix (so the
    writer infers the format from it) and a rename; a failing writer leaves the old file."""
    import pytest

    seen = []

    def write(name):
        seen.append(name)
        with open(name, "w") as handle:
            handle.write("new")

    path = records.write_atomically(tmp_path / "sub" / "fig.png", write)
    assert path.read_text() == "new" and seen[0].endswith(".png") and seen[0] != str(path)

    def fail(name):
        with open(name, "w") as handle:
            handle.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        records.write_atomically(path, fail)
    assert path.read_text() == "new"
    assert [p.name for p in path.parent.iterdir()] == ["fig.png"]
