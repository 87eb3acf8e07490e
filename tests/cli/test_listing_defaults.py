"""`fairdg algorithms` prints the shared knobs once, with the datasets' own defaults."""

from fairdg.cli import main


def test_algorithms_listing_shares_knobs_and_shows_dataset_defaults(capsys):
    assert main(["algorithms"]) == 0
    out = capsys.readouterr().out
    assert out.count("batch_size") == 1 and out.count("    lr ") == 1
    assert "adult 512" in out  # Adult runs with batch 512, not the base default 64
    assert "irm_lambda" in out and "erm " in out
    assert main(["algorithms", "irm"]) == 0
    out = capsys.readouterr().out
    assert "irm_lambda" in out and "mmd" not in out and "batch_size" in out
