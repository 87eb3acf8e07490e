"""scripts/stated_times.py: it finds the stated times in both forms, and its verdicts (the
timed reruns themselves are not part of the suite)."""

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "stated_times.py"
spec = importlib.util.spec_from_file_location("stated_times", SCRIPT)
stated_times = importlib.util.module_from_spec(spec)
sys.modules.setdefault("stated_times", stated_times)  # dataclasses look their module up
spec.loader.exec_module(stated_times)

DOC = """# Title

```bash
fairdg run --steps 2000   # one run (2 cores: 40 s)
fairdg sweep --datasets adult \\
    --n-trials 3 --output "a # b"   # resumable (2 cores: 2.5 min)
fairdg datasets   # fast, no time
```

Then `fairdg reproduce x
--quick` (2 cores: 1 h) in prose, and `fairdg algorithms` without one.
"""


def test_finds_block_and_inline_statements(tmp_path, monkeypatch):
    (tmp_path / "doc.md").write_text(DOC)
    monkeypatch.setattr(stated_times, "ROOT", tmp_path)
    stated, unstated = stated_times.stated_in("doc.md")
    assert [(s.line, s.command, s.seconds) for s in stated] == [
        (4, "fairdg run --steps 2000", 40.0),
        (5, 'fairdg sweep --datasets adult --n-trials 3 --output "a # b"', 150.0),
        (10, "fairdg reproduce x --quick", 3600.0),
    ]
    assert unstated == [(7, "fairdg datasets")]


def test_every_stated_time_in_the_docs_parses():
    for document in stated_times.DOCUMENTS:
        stated, _ = stated_times.stated_in(document)
        assert all(s.seconds > 0 and s.command for s in stated)


def test_verdicts(tmp_path):
    ok = stated_times.Stated("doc.md", 1, "true", 10.0)
    assert stated_times.run(ok, tmp_path, tmp_path / "a.log")[1] == "ok"
    slow = stated_times.Stated("doc.md", 2, "sleep 30", 0.2)
    wall, verdict = stated_times.run(slow, tmp_path, tmp_path / "b.log")
    assert verdict.startswith("MISSED: stopped at 1.5x") and wall < 30
    failing = stated_times.Stated("doc.md", 3, "exit 3", 10.0)
    assert "exit code 3" in stated_times.run(failing, tmp_path, tmp_path / "c.log")[1]
