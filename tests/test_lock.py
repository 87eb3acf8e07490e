"""constraints.txt and scripts/lock.py: the lock names every dependency that pyproject declares
for the core and the extras CI installs, pins torch to a release inside pyproject's range, and
the script's check sees a difference."""

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("lock_script", ROOT / "scripts" / "lock.py")
lock = importlib.util.module_from_spec(spec)
sys.modules.setdefault("lock_script", lock)
spec.loader.exec_module(lock)


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return project["dependencies"] + extras["dev"] + extras["ray"] + extras["tracking"]


def test_lock_covers_every_declared_dependency():
    pins = lock.locked(ROOT / "constraints.txt")
    names = [lock.canonical(re.match(r"[A-Za-z0-9_.-]+", r).group()) for r in _declared()]
    assert [n for n in names if n not in pins] == []
    torch = [r for r in _declared() if r.startswith("torch")][0]
    low, high = re.findall(r"[\d.]+", torch)
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(low) <= as_tuple(pins["torch"]) < as_tuple(high)


def test_check_sees_a_difference(tmp_path, capsys):
    written = tmp_path / "constraints.txt"
    assert lock.write(written) == 0
    assert lock.check(written) == 0
    text = written.read_text().replace("\nnumpy==", "\nnumpy==0.0.")
    written.write_text(text + "not-a-real-package==1.0\n")
    assert lock.check(written) == 1
    out = capsys.readouterr().out
    assert "missing: not-a-real-package==1.0" in out and "numpy: " in out
