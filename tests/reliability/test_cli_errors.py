"""Bad input through ``fairdg run``: one line naming the file, column or option and the fix,
exit code 2, never a traceback (one test per reported case)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from fairdg.cli import main, one_line
from fairdg.data import load_dataset
from fairdg.training import RunConfig


def _run(tmp_path, *extra, output=None):
    argv = ["run", "--algorithm", "erm", "--compare", "none", "--steps", "4", "--quiet"]
    return argv + ["--output", str(output or tmp_path / "runs"), *extra]


def _csv_args(path, *extra):
    base = [f"path={path}", "target=y", "sensitive=sex", *extra]
    return ["--dataset", "csv"] + [a for option in base for a in ("--data-option", option)]


def _people(tmp_path, n=40, name="p.csv", label=lambda i: i // 2 % 2, extra=""):
    rows = ["a,b,sex,y" + (",dom" if extra else "")]
    for i in range(n):
        tail = f",{extra[i % len(extra)]}" if extra else ""
        rows.append(f"{i},{i % 3},{'FM'[i % 2]},{label(i)}{tail}")
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return path


def _fails(capsys, argv, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_output_is_an_existing_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    argv = _run(tmp_path, "--dataset", "synthetic", output=tmp_path / "taken")
    _fails(capsys, argv, str(tmp_path / "taken"), "choose another --output")


def test_read_only_output_folder(tmp_path, capsys, monkeypatch):
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o555)
        argv = _run(tmp_path, "--dataset", "synthetic", output=folder / "runs")
        _fails(capsys, argv, "Permission denied", str(folder), "permissions")
    # root may write anywhere: the message itself
    err = PermissionError(13, "Permission denied", "/shared/runs")
    assert one_line(err) == (
        "Permission denied: /shared/runs; fairdg cannot write there: fix the folder's "
        "permissions or choose another --output folder"
    )


def test_csv_target_column_empty(tmp_path, capsys):
    rows = ["a,sex,y"] + [f"{i},{'FM'[i % 2]}," for i in range(20)]
    (tmp_path / "e.csv").write_text("\n".join(rows) + "\n")
    _fails(capsys, _run(tmp_path, *_csv_args(tmp_path / "e.csv")), "e.csv", "['y']", "empty")


def test_csv_domain_with_two_rows(tmp_path, capsys):
    path = _people(tmp_path, n=42, extra="a" * 40 + "b" * 2)  # domain b: its 2 rows
    assert main(_run(tmp_path, *_csv_args(path, "domain=dom"))) == 0  # no torch.cat error
    record = json.loads((tmp_path / "runs" / "results.jsonl").read_text().splitlines()[0])
    assert record["metrics"]["b/val"] == {"n": 0.0}  # empty: a count, no NaN metrics
    capsys.readouterr()  # that tiny model may be constant: its warning is not this test's
    tiny = _people(tmp_path, n=2, name="two.csv", label=lambda i: i % 2)
    _fails(capsys, _run(tmp_path, *_csv_args(tiny)), "too few rows for a val set", "add rows")


def test_model_file_in_place_of_a_checkpoint(tmp_path, capsys):
    argv = _run(tmp_path, "--dataset", "synthetic")
    assert main(argv) == 0
    run_dir = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    (run_dir / "done.json").unlink()
    os.replace(run_dir / "model.pt", run_dir / "checkpoint.pt")
    _fails(capsys, argv, "checkpoint.pt is not a training checkpoint", "delete it")


def test_ctrl_c_while_running_and_during_start_up(tmp_path, capsys, monkeypatch):
    import fairdg.cli as cli

    def interrupted(*_command):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["run"]) == 130
    assert capsys.readouterr().err.strip() == "fairdg: interrupted; nothing more was run"
    script = textwrap.dedent(
        """
        import sys
        class Interrupt:  # Ctrl-C lands while the CLI's modules are imported
            def find_spec(self, name, path=None, target=None):
                if name == "fairdg.cli.run":
                    raise KeyboardInterrupt
        sys.meta_path.insert(0, Interrupt())
        import fairdg.cli
        fairdg.cli.main(["run", "--help"])  # the command's module is imported when it runs
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 130 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "fairdg: interrupted during start-up; nothing was run"


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        (lambda i: ["0 ", "0", "1", "1 "][i % 4], ["0", "1"]),
        (lambda i: ["1", "1.0", "2"][i % 3], ["1", "2"]),
    ],
)
def test_csv_label_spellings_are_one_class(tmp_path, labels, classes):
    path = _people(tmp_path, label=labels)
    data = load_dataset("csv", path=str(path), target="y", sensitive="sex")
    assert data.class_names == classes


def test_csv_same_column_in_two_roles(tmp_path, capsys):
    path = _people(tmp_path)
    argv = _run(tmp_path, *_csv_args(path)) + ["--data-option", "target=sex"]
    _fails(capsys, argv, "target and sensitive are both column 'sex'")


@pytest.mark.parametrize("name", ["done.json", "config.json"])
def test_corrupt_run_record(tmp_path, capsys, name):
    argv = _run(tmp_path, "--dataset", "synthetic")
    assert main(argv) == 0
    config = RunConfig(dataset="synthetic", algorithm="erm", steps=4)
    record = tmp_path / "runs" / config.run_id() / name
    record.write_text("")
    if name == "config.json":
        (record.parent / "done.json").unlink()
    _fails(capsys, argv, f"{record} is corrupt", "delete the run folder, or rerun with --force")


def test_csv_empty_file(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    _fails(capsys, _run(tmp_path, *_csv_args(tmp_path / "empty.csv")), "empty.csv is empty")


def test_csv_not_utf8(tmp_path, capsys):
    path = _people(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"a,b", b"\xe9,b"))
    argv = _run(tmp_path, *_csv_args(path))
    _fails(capsys, argv, "p.csv is not utf-8 text", "0xe9", "encoding=latin-1")
    assert main(argv + ["--data-option", "encoding=latin-1"]) == 0


def test_csv_column_named_twice_is_refused_not_renamed(tmp_path, capsys):
    path = _people(tmp_path)
    path.write_text(path.read_text().replace("a,b,sex,y", "a,a,sex,y", 1))
    needles = ("p.csv: column 'a' appears twice (columns 1 and 2)", "rename or remove")
    _fails(capsys, _run(tmp_path, *_csv_args(path)), *needles)


def test_csv_infinite_value_names_the_column(tmp_path, capsys):
    path = _people(tmp_path)
    path.write_text(path.read_text().replace("\n7,", "\ninf,"))
    _fails(capsys, _run(tmp_path, *_csv_args(path)), "column 'a'", "infinite", "rows [7]")


def test_csv_path_is_a_folder(tmp_path, capsys):
    _fails(capsys, _run(tmp_path, *_csv_args(tmp_path)), "is a folder, not a CSV file")


def test_hparam_abc_names_the_hparam(tmp_path, capsys):
    argv = _run(tmp_path, "--dataset", "synthetic", "--hparam", "lr=abc")
    _fails(capsys, argv, "hyperparameter 'lr' expects a number, got 'abc'")


def test_corrupt_json_error_keeps_the_decoder_detail(tmp_path):
    from fairdg.records import CorruptRecordError, read_json

    (tmp_path / "x.json").write_text("{")
    with pytest.raises(CorruptRecordError, match="x.json is corrupt.*line 1") as info:
        read_json(tmp_path / "x.json")
    assert isinstance(info.value.__cause__, json.JSONDecodeError)
