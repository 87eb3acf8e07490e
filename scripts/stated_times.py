"""Rerun every command whose wall time README.md and docs/ state, and fail when one takes more
than 1.5 times its stated time.

A stated time has one form, ``(2 cores: N s)`` (or ``N min``, ``N h``): the wall time of the
command on an otherwise idle two-core machine. It stands

- in a fenced code block, in the comment of the command's line (the last line of a command
  continued with backslashes): ``fairdg run --steps 2000   # one run (2 cores: 40 s)``;
- in prose, right after the command's inline code: ```fairdg run` (2 cores: 35 s)``.

Every command of a document runs in document order in one scratch folder (so a model file
that one command writes is there for the next), which holds links to the checkout's top-level
files and folders (``tests``, ``docs``, ``constraints.txt``, ...), so paths written relative to
the checkout work and what the commands write stays out of it. ``$FAIRDG_DATA`` is passed on.

    python scripts/stated_times.py                    # all stated commands (long: see --list)
    python scripts/stated_times.py --list             # what is stated, and fairdg commands
                                                      # in code blocks with no stated time
    python scripts/stated_times.py --max 600          # only those stated at 10 min or less
    python scripts/stated_times.py --match 'fairdg run'   # those whose text matches

Exit code 1 when a command fails or exceeds 1.5x (it is stopped there), else 0. The load
average is printed before each command and at the end: on a busy machine a miss says little.
Not part of the test suite: it takes the sum of the stated times.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))]
STATED = re.compile(r"\(2 cores: (\d+(?:\.\d+)?) ?(s|min|h)\)")
INLINE = re.compile(r"`([^`]+)`\s*" + STATED.pattern)
UNITS = {"s": 1, "min": 60, "h": 3600}
FACTOR = 1.5
COMMAND = re.compile(r"^(fairdg|torchrun|python|bash|scripts/)\b")


@dataclass
class Stated:
    """A command with its stated wall time, where the documents state it."""

    document: str
    line: int
    command: str
    seconds: float

    def where(self) -> str:
        return f"{self.document}:{self.line}"


def split_comment(line: str) -> tuple[str, str]:
    """A shell line's command and its ``#`` comment (a ``#`` inside quotes is not one)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def block_commands(text: str) -> list[tuple[int, str, str]]:
    """(line, command, comment) of each command in the fenced code blocks of `text`; a line
    ending in a backslash continues on the next."""
    found, fenced, pending, start = [], False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced, pending = not fenced, ""
            continue
        if not fenced:
            continue
        command, comment = split_comment(line)
        if not pending:
            start = number
        if command.endswith("\\"):
            pending += command[:-1].strip() + " "
            continue
        found.append((start, (pending + command.strip()).strip(), comment))
        pending = ""
    return found


def seconds(amount: str, unit: str) -> float:
    """``3``, ``min`` -> 180.0."""
    return float(amount) * UNITS[unit]


def stated_in(document: str) -> tuple[list[Stated], list[tuple[int, str]]]:
    """The stated commands of `document`, and its code-block commands with no stated time."""
    text = (ROOT / document).read_text()
    stated, unstated = [], []
    for line, command, comment in block_commands(text):
        match = STATED.search(comment)
        if match:
            stated.append(Stated(document, line, command, seconds(*match.groups())))
        elif COMMAND.match(command):
            unstated.append((line, command))
    for match in INLINE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        command = " ".join(match.group(1).split())
        stated.append(Stated(document, line, command, seconds(match.group(2), match.group(3))))
    stated.sort(key=lambda s: s.line)
    return stated, unstated


def scratch_folder() -> Path:
    """A temporary folder with links to the checkout's top-level entries."""
    folder = Path(tempfile.mkdtemp(prefix="fairdg-stated-times-"))
    for entry in ROOT.iterdir():
        if entry.name not in (".git", ".venv", "fairdg-runs"):
            (folder / entry.name).symlink_to(entry)
    return folder


def load() -> str:
    """The load average, for the record beside a time."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(item: Stated, folder: Path, log: Path) -> tuple[float, str]:
    """Run one command; its wall time and a verdict."""
    limit = item.seconds * FACTOR
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", item.command],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # the command's own children are stopped with it
        )
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return time.perf_counter() - started, f"MISSED: stopped at {FACTOR}x"
    wall = time.perf_counter() - started
    if code != 0:
        return wall, f"FAILED: exit code {code}, see {log}"
    return wall, "ok" if wall <= limit else f"MISSED: over {FACTOR}x"


def main(argv: list[str] | None = None) -> int:
    """Command line: list, or run and compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list, run nothing")
    parser.add_argument("--match", default=None, help="only commands matching this regex")
    parser.add_argument(
        "--max", type=float, default=None, help="only commands stated at most this many seconds"
    )
    args = parser.parse_args(argv)
    failures, total = 0, 0
    for document in DOCUMENTS:
        stated, unstated = stated_in(document)
        chosen = [
            s
            for s in stated
            if (args.match is None or re.search(args.match, s.command))
            and (args.max is None or s.seconds <= args.max)
        ]
        if args.list:
            for s in stated:
                print(f"{s.where():24} {s.seconds:>7.0f} s  {s.command}")
            for line, command in unstated:
                print(f"{document + ':' + str(line):24} {'no time':>9}  {command}")
            continue
        if not chosen:
            continue
        folder = scratch_folder()
        print(f"== {document}: {len(chosen)} command(s) in {folder}")
        missed = 0
        for n, item in enumerate(chosen):
            print(f"{item.where()} {item.command}\n  stated {item.seconds:.0f} s; {load()}")
            wall, verdict = run(item, folder, folder / f"command-{n}.log")
            print(f"  took {wall:.1f} s = {wall / item.seconds:.2f}x stated: {verdict}")
            missed += verdict != "ok"
        if not missed:  # a miss keeps the folder and its logs to look at
            shutil.rmtree(folder)
        failures, total = failures + missed, total + len(chosen)
    if not args.list:
        print(f"{total - failures} of {total} within {FACTOR}x their stated time; {load()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
