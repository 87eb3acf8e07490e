"""The ``fairdg`` command line: thin wrappers that build configs and call library functions.

Each command lives in its own module with ``add_parser(subparsers)``; to add one, write the
module and add it to `COMMANDS`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from fairdg import __version__

try:  # Ctrl-C while the heavy imports (torch) load: a message, not a traceback
    from fairdg.cli import interpret as interpret_cli
    from fairdg.cli import listing, reproduce, run
    from fairdg.cli import report as report_cli
    from fairdg.cli import sweep as sweep_cli
    from fairdg.cli import transform as transform_cli
except KeyboardInterrupt:
    print("fairdg: interrupted during start-up; nothing was run", file=sys.stderr)
    raise SystemExit(130) from None

COMMANDS = [run, listing, reproduce, transform_cli, interpret_cli, sweep_cli, report_cli]


class UsageError(ValueError):
    """A command-line mistake reported as one line with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fairdg",
        description="Accurate, fair and shift-robust models: affinity loss, FDDG, DG baselines.",
    )
    parser.add_argument("--version", action="version", version=f"fairdg {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def one_line(err: BaseException) -> str:
    """A user-facing error as one line, with the file and the fix for the OS errors."""
    if isinstance(err, OSError) and not isinstance(err, FileNotFoundError) and err.filename:
        what = err.strerror or type(err).__name__
        hint = OS_HINTS.get(type(err), "check the path and its permissions")
        text = f"{what}: {err.filename}; {hint}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


OS_HINTS = {
    PermissionError: "fairdg cannot write there: fix the folder's permissions or choose "
    "another --output folder",
    NotADirectoryError: "a file stands where a folder is needed: choose another --output "
    "folder (or move the file)",
    FileExistsError: "a file stands where a folder is needed: choose another --output "
    "folder (or move the file)",
    IsADirectoryError: "a folder stands where a file is needed: give the file's path",
}


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("fairdg: interrupted; nothing more was run", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError, RuntimeError) as err:
        # user-facing errors: one line, exit code 2, no traceback (use -v for the traceback)
        if args.verbose:
            raise
        print(f"fairdg: error: {one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "fairdg: interrupted; finished evaluations are saved and the run resumes "
            "when started again",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
