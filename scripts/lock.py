"""The tested set of packages: check that this environment holds it, or write it anew.

    python scripts/lock.py check constraints.txt   # exit 1 unless installed == locked
    python scripts/lock.py write constraints.txt   # lock what is installed now
    python scripts/lock.py keeps REPORT --package torch   # exit 1 if a `pip install --dry-run
                                                  # --report REPORT` would replace torch

`constraints.txt` pins every package that ``pip install -e ".[dev,ray,tracking]"`` installs
(fairdg itself, pip, setuptools and wheel aside). Versions are compared without their local
label, so the lock's ``torch==2.13.0`` is met by a CPU build ``2.13.0+cpu`` as by PyPI's build.
To update the lock: a fresh venv, ``pip install -e ".[dev,ray,tracking]" torch==VERSION``, run
the suite, then ``python scripts/lock.py write constraints.txt``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import metadata
from pathlib import Path

SKIP = {"fairdg", "pip", "setuptools", "wheel"}
HEADER = """\
# The tested set: every package that `pip install -e ".[dev,ray,tracking]"` installs, at the
# versions the test suite passed with. Use it with -c (README quick start, .ci/run):
#   pip install -e . -c constraints.txt
# It pins torch to the release the suite is run on (the CPU wheel on the project's machines);
# pyproject.toml allows a range, so fairdg also installs beside another torch.
# Regenerate: python scripts/lock.py write constraints.txt
"""


def canonical(name: str) -> str:
    """PEP 503 normalised name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, str]:
    """Installed distributions -> version without a local label (``+cpu``)."""
    found = {}
    for dist in metadata.distributions():
        name = canonical(dist.metadata["Name"] or "")
        if name and name not in SKIP:
            found[name] = dist.version.split("+")[0]
    return found


def locked(path: Path) -> dict[str, str]:
    """``name==version`` lines of a constraints file (comments and blank lines skipped)."""
    pins = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SystemExit(f"{path}:{number}: expected name==version, got {line!r}")
        pins[canonical(name.strip())] = version.strip().split("+")[0]
    return pins


def check(path: Path) -> int:
    """Print every difference between the environment and the lock; 1 if there is one."""
    have, want = installed(), locked(path)
    problems = [f"missing: {n}=={v}" for n, v in sorted(want.items()) if n not in have]
    problems += [f"not locked: {n}=={v}" for n, v in sorted(have.items()) if n not in want]
    problems += [
        f"{n}: {have[n]} installed, {v} locked"
        for n, v in sorted(want.items())
        if n in have and have[n] != v
    ]
    for line in problems:
        print(line)
    print(
        f"{path}: {len(want)} packages locked, "
        + ("all installed at those versions" if not problems else f"{len(problems)} differ")
    )
    return 1 if problems else 0


def write(path: Path) -> int:
    """Lock what is installed now."""
    lines = [f"{name}=={version}" for name, version in sorted(installed().items())]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(HEADER + "\n".join(lines) + "\n")
    tmp.replace(path)  # atomically: a killed write leaves the old lock
    print(f"{path}: {len(lines)} packages locked")
    return 0


def keeps(report: Path, package: str) -> int:
    """1 when pip's installation report plans to install `package` (replacing the installed
    one), else 0; says what it found."""
    plan = {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in _installs(report)}
    installed_version = installed().get(canonical(package), "none")
    if canonical(package) in plan:
        print(f"pip would replace {package} {installed_version} by {plan[canonical(package)]}")
        return 1
    print(f"{package} {installed_version} kept; pip would add {len(plan)} packages beside it")
    return 0


def _installs(report: Path) -> list[dict]:
    return json.loads(report.read_text())["install"]


def main(argv: list[str] | None = None) -> int:
    """Command line: check, write or keeps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("check", "write", "keeps"))
    parser.add_argument("path", type=Path, nargs="?", default=Path("constraints.txt"))
    parser.add_argument("--package", default="torch", help="keeps: the package kept")
    args = parser.parse_args(argv)
    if args.action == "keeps":
        return keeps(args.path, args.package)
    return check(args.path) if args.action == "check" else write(args.path)


if __name__ == "__main__":
    sys.exit(main())
