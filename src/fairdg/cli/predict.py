"""``fairdg predict RUN_DIR --input new.csv --output predictions.csv``: apply a trained run."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from fairdg.cli import flags


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="apply a finished run's model to new rows of a CSV file",
        description="Write the rows of --input with two more columns: score (probability of "
        "the positive class; of the predicted class for several classes) and prediction (class "
        "name). The run must come from a table (the csv dataset); the new file needs the "
        "feature columns only (target and sensitive columns are optional).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder (<output>/<run_id>)")
    p.add_argument("--input", required=True, metavar="FILE", help="CSV file of new rows")
    flags.output(p, help="CSV file to write", required=True)
    flags.device(p)
    flags.force(p, help="overwrite --output when it already exists")
    p.set_defaults(func=predict_command)


def predict_command(args: argparse.Namespace) -> int:
    from fairdg.data.tabular import UnknownCategoryWarning
    from fairdg.predict import load_model, predict_file

    source, output = Path(args.input), Path(args.output)
    if not source.is_file():
        raise FileNotFoundError(f"--input file {str(source)!r} not found")
    if output.exists() and not args.force:
        raise ValueError(f"--output {str(output)!r} exists; pass --force to overwrite it")
    model = load_model(args.run_dir, device=args.device)
    if model.preprocessing is None:
        raise ValueError(
            f"run {args.run_dir} was not trained on a table (no preprocessing.json); "
            "fairdg predict applies runs of the csv dataset"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownCategoryWarning)
        frame = predict_file(model, source, output)
    for warning in caught:  # one line each, without the source line
        print(f"fairdg: warning: {warning.message}", file=sys.stderr)
    print(f"wrote {len(frame)} rows with score and prediction to {output}")
    return 0
