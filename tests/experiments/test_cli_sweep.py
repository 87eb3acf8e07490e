"""`fairdg sweep` end to end on the bundled Adult data, then `fairdg report` on its output."""

from __future__ import annotations

import pytest

from fairdg.cli import main


@pytest.mark.slow
def test_sweep_then_report(tmp_path, capsys):
    output = str(tmp_path / "sweep")
    args = [
        "sweep",
        "--datasets",
        "adult",
        "--test-domains",
        "none",
        "--n-trials",
        "2",
        "--steps",
        "2",
        "--output",
        output,
        "--quiet",
        "--threads",
        "1",
    ]
    assert main([*args, "--dry-run"]) == 0
    assert "2 runs in" in (dry := capsys.readouterr().out) and "2 new" in dry
    assert main(args) == 0
    assert "2 runs: 2 completed now, 0 already done" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 completed now, 2 already done" in capsys.readouterr().out
    assert main(["report", output, "--metrics", "accuracy", "dp_diff", "--selection", "all"]) == 0
    out, err = capsys.readouterr()
    assert "no table for lodo selection" in err and "no table for oracle selection" in err
    assert "2 runs under" in out and "| algorithm | iid |" in out
    assert "over 2 trial(s)" in out


def test_sweep_rejects_bad_input(tmp_path, capsys):
    base = ["sweep", "--datasets", "adult", "--output", str(tmp_path), "--dry-run"]
    assert main([*base, "--hparam", "no_such_knob=1"]) == 2
    assert "declared by none of the algorithms" in capsys.readouterr().err
    assert main([*base, "--n-trials", "0"]) == 2
    assert "n_trials must be a positive integer" in capsys.readouterr().err
    assert main([*base, "--test-domains", "mars"]) == 2
    assert "unknown domain" in capsys.readouterr().err
