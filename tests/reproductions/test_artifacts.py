"""The transformation models a reproduction fits before its runs say so in a log."""

from __future__ import annotations

from fairdg.reproductions.artifacts import fit_transformations


def test_each_fit_prints_a_line_when_it_starts_and_ends_unless_quiet(tmp_path, capsys):
    fitted = []
    fits = {tmp_path / f"t{i}.pt": (lambda i=i: fitted.append(i)) for i in range(2)}
    fit_transformations(fits)
    err = capsys.readouterr().err
    assert fitted == [0, 1]
    assert "transformation model 1/2: fitting t0.pt" in err
    assert "transformation model 2/2: t1.pt done in" in err
    fit_transformations(fits, quiet=True)
    assert fitted == [0, 1, 0, 1] and capsys.readouterr().err == ""
