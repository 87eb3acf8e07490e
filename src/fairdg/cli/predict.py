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
        "feature columns only (target and sensitive columns are optional). Rows missing a "
        "feature value are refused, as in training, unless --missing drop.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder (<output>/<run_id>)")
    p.add_argument("--input", required=True, metavar="FILE", help="CSV file of new rows")
    flags.output(p, help="CSV file to write", required=True)
    p.add_argument(
        "--missing",
        choices=("error", "drop"),
        default="error",
        help="rows missing a feature value: error (default; the row and column are named) or "
        "drop (written without them, counted in a warning)",
    )
    p.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding of --input, e.g. latin-1 (default: the training file's, else utf-8)",
    )
    p.add_argument(
        "--sep", metavar="CHAR", help="field separator (default: the training file's, else ',')"
    )
    p.add_argument(
        "--no-escape-formulas",
        dest="escape_formulas",
        action="store_false",
        help="write cells starting with = + - @ as they are (by default they get a leading ' "
        "so that a spreadsheet does not run them as formulas: OWASP's CSV-injection rule)",
    )
    flags.device(p)
    flags.force(p, help="overwrite --output when it already exists")
    p.set_defaults(func=predict_command)


def predict_command(args: argparse.Namespace) -> int:
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
    trained = model.config.data_options if model.config is not None else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        frame = predict_file(
            model,
            source,
            output,
            missing=args.missing,
            encoding=args.encoding or str(trained.get("encoding") or "utf-8"),
            sep=args.sep or str(trained.get("sep") or ","),
            escape_formulas=args.escape_formulas,
        )
    for warning in caught:  # one line each, without the source line
        print(f"fairdg: warning: {' '.join(str(warning.message).split())}", file=sys.stderr)
    print(f"wrote {len(frame)} rows with score and prediction to {output}")
    return 0
