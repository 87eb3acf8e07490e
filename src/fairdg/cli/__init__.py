"""The ``fairdg`` command line: thin wrappers that build configs and call library functions.

Each command lives in its own module with ``add_parser(subparsers)``; to add one, write the
module and add a line to `COMMANDS`. A command's module (and so torch, pandas, ...) is imported
only when that command runs or prints its own help: ``fairdg --help`` lists the commands from
`COMMANDS` alone, so the modules keep their heavy imports inside their command functions where
they can.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings

from fairdg.cli import flags
from fairdg.records import NoSpaceError
from fairdg.version import __version__

# command -> (module that defines it, one-line help shown by ``fairdg --help``); a module may
# define several commands (listing: datasets and algorithms). tests/cli check that these lines
# match the help that each module registers.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "train and evaluate one run (and a baseline to compare with)"),
    "datasets": ("listing", "list datasets (or --show NAME for its counts)"),
    "algorithms": ("listing", "list algorithms and their hyperparameters"),
    "reproduce": ("reproduce", "reproduce a table of the papers"),
    "transform": ("transform", "train or inspect FDDG's transformation model"),
    "interpret": (
        "interpret",
        "probes, re-attachment of z, t-SNE and histograms of a trained run",
    ),
    "sweep": ("sweep", "run a hyperparameter / held-out-domain sweep (resumable)"),
    "report": ("report", "tables and plots from the runs under a folder"),
    "predict": ("predict", "apply a finished run's model to new rows of a CSV file"),
}


def command_module(command: str):
    """The module defining `command` (imported now: torch and the like load here)."""
    try:
        return importlib.import_module(f"fairdg.cli.{COMMANDS[command][0]}")
    except KeyboardInterrupt:  # Ctrl-C while the heavy imports load: a message, no traceback
        print("fairdg: interrupted during start-up; nothing was run", file=sys.stderr)
        raise SystemExit(130) from None


def build_parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The parser of every command (``"*"``, the default), or of `command` only (None: of
    none): the modules of the other commands are not imported, their commands are placeholders
    that carry their one-line help."""
    parser = argparse.ArgumentParser(
        prog="fairdg",
        description="Accurate, fair and shift-robust models: affinity loss, FDDG, DG baselines.",
    )
    parser.add_argument("--version", action="version", version=f"fairdg {__version__}")
    flags.verbose(parser, default=False)
    flags.quiet(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = COMMANDS if command == "*" else [command] if command in COMMANDS else []
    loaded: set[str] = set()
    for name in wanted:
        module = COMMANDS[name][0]
        if module not in loaded:
            loaded.add(module)
            command_module(name).add_parser(sub)
    for name in sub.choices:  # -v / -q also after the command (and its sub-commands)
        _verbosity(sub.choices[name])
    for name, (_module, help_text) in COMMANDS.items():
        if name not in sub.choices:
            sub.add_parser(name, help=help_text, add_help=False)
    # the help lists the commands in the order of COMMANDS, loaded or not
    sub._choices_actions.sort(key=lambda action: list(COMMANDS).index(action.dest))
    return parser


def _verbosity(parser: argparse.ArgumentParser) -> None:
    """Add ``-v`` and ``-q`` to a command's parser (and its sub-commands') where missing."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _verbosity(child)
    if "-v" not in parser._option_string_actions:
        flags.verbose(parser)
    if "-q" not in parser._option_string_actions:
        flags.quiet(parser)


def _command_of(argv: list[str]) -> str | None:
    """The command named in `argv` (the first argument that is not a global option)."""
    for arg in argv:
        if arg in ("-v", "--verbose", "-q", "--quiet"):
            continue
        return arg if arg in COMMANDS else None
    return None


def one_line(err: BaseException) -> str:
    """A user-facing error as one line, with the file and the fix for the OS errors."""
    if isinstance(err, NoSpaceError):  # its own sentence: the file, nothing lost, the fix
        text = str(err)
    elif isinstance(err, OSError) and not isinstance(err, FileNotFoundError) and err.filename:
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
    """Run the command in `argv`; return its exit code.

    Called without `argv` (the ``fairdg`` script, ``python -m fairdg``), the process then ends
    at once (see `_exit_now`); with `argv` (tests, other Python code) it returns.
    """
    command_line = argv is None
    try:
        code = _main(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:
        print("fairdg: interrupted; nothing more was run", file=sys.stderr)
        code = 130
    except BrokenPipeError:  # stdout closed early (`fairdg datasets | head`): end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit then succeeds
        code = 0
    if command_line:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process without the interpreter's teardown, which after a run spends most of a
    second freeing tensors and modules. Every record is already written atomically and fsynced
    (`fairdg.records`) and commands join their workers before returning; the output streams
    and log handlers are flushed here."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that went away
            pass
    os._exit(code)


def _main(argv: list[str]) -> int:
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if not args.verbose:  # warnings about the user's data as one line, without source lines
        warnings.formatwarning = _one_line_warning
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # not a user error: `main` ends quietly
        raise
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


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"fairdg: warning: {message}\n"


if __name__ == "__main__":
    sys.exit(main())
