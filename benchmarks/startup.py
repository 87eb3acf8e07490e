"""Start-up of the command line: commands that need no model, against Python's own start-up.

    python benchmarks/startup.py [--repeats 7]

Times, in fresh processes and in alternating order, ``python -c pass`` (the floor),
``python -c "import torch"`` (the baseline of the instant errors), ``fairdg --help``,
``fairdg run --help``, ``fairdg run --dataset nope`` (a typo: a one-line error),
``fairdg algorithms --help``, ``fairdg datasets`` and ``fairdg report`` on a folder of 20
generated run records; prints the median of each, its excess over the floor, and whether torch
was imported. Targets: ``--help`` under 0.3 s, ``report`` on 20 runs under 0.8 s, and
``run --help`` and ``run --dataset nope`` at most 0.3x ``import torch`` (measured in the same
run, so the ratio holds on a busy machine too). ``uptime`` is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def fake_runs(root: Path, n: int = 20) -> Path:
    """`n` complete run folders of 10 evaluations each, in the record format of the loop."""
    for i in range(n):
        run = root / f"run{i:02d}"
        run.mkdir(parents=True)
        config = {"run_id": run.name, "dataset": "toy", "data_options": {}, "algorithm": "erm"}
        config |= {"hparams": {}, "hparams_seed": i % 4, "test_domains": ["A"], "seed": i // 4}
        (run / "config.json").write_text(json.dumps(config))
        lines = []
        for step in range(10, 101, 10):
            metrics = {
                name: {"n": 100.0, "accuracy": 0.5 + step / 1000, "dp_ratio": 0.9}
                for name in ("val", "test", "oracle", "A/val", "A/test", "B/val", "B/test")
            }
            lines.append(json.dumps({"step": step, "stats": {"loss": 1.0}, "metrics": metrics}))
        (run / "results.jsonl").write_text("\n".join(lines) + "\n")
        (run / "done.json").write_text(json.dumps({"run_id": run.name}))
    return root


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def imports_torch(args: list[str]) -> bool:
    code = (
        "import sys\nfrom fairdg.cli import _main\ntry:\n    _main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\nprint('torch' in sys.modules, file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    return out.stderr.strip().splitlines()[-1] == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(uptime)
    with tempfile.TemporaryDirectory() as tmp:
        runs = str(fake_runs(Path(tmp) / "runs"))
        fairdg = [sys.executable, "-m", "fairdg"]
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], None, None),
            "import torch": ([sys.executable, "-c", "import torch"], None, None),
            "fairdg --help": ([*fairdg, "--help"], ["--help"], 0.3),
            "fairdg run --help": ([*fairdg, "run", "--help"], ["run", "--help"], None),
            "fairdg run --dataset nope": (
                [*fairdg, "run", "--dataset", "nope"],
                ["run", "--dataset", "nope"],
                None,
            ),
            "fairdg algorithms --help": (
                [*fairdg, "algorithms", "--help"],
                ["algorithms", "--help"],
                None,
            ),
            "fairdg datasets": ([*fairdg, "datasets"], ["datasets"], 0.5),
            "fairdg report (20 runs)": ([*fairdg, "report", runs], ["report", runs], 0.8),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for r in range(args.repeats):
            for name in cases if r % 2 == 0 else list(cases)[::-1]:
                times[name].append(timed(cases[name][0]))
        floor = statistics.median(times["python -c pass"])
        torch_time = statistics.median(times["import torch"])
        for name, (_argv, probe, target) in cases.items():
            median = statistics.median(times[name])
            line = f"{name:26s} {median:6.3f} s (python start-up + {median - floor:6.3f} s)"
            if probe is not None:
                line += f", imports torch: {imports_torch(probe)}"
            if target is not None:
                line += f", target < {target} s: {'met' if median < target else 'MISSED'}"
            if name.startswith("fairdg run"):
                ratio = median / torch_time
                line += f", {ratio:.2f}x import torch (target <= 0.3x: "
                line += f"{'met' if ratio <= 0.3 else 'MISSED'})"
            print(line)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    if os.environ.get("FAIRDG_DATA") is None:
        print("(FAIRDG_DATA unset: `fairdg datasets` looks in the default folders)")


if __name__ == "__main__":
    main()
