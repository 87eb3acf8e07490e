"""Replace a run folder only once its replacement is complete (``fairdg run --force``).

A forced rerun trains in ``<output>/.<run_id>.force/``; when it has finished, the old folder is
renamed to ``.<run_id>.old``, the new one takes its name, and the old one is deleted. A kill at
any point leaves either the old run intact (beside an unfinished hidden folder, removed by the
next forced rerun) or a finished replacement that `recover` puts in place. Call these under the
run's lock (`fairdg.runlock.run_lock`). Standard library only.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("fairdg")


def _work(run_dir: Path) -> Path:
    return run_dir.parent / f".{run_dir.name}.force"


def _old(run_dir: Path) -> Path:
    return run_dir.parent / f".{run_dir.name}.old"


def fresh_folder(run_dir: str | os.PathLike) -> Path:
    """An empty hidden folder beside `run_dir` to train its replacement in."""
    work = _work(Path(run_dir))
    shutil.rmtree(work, ignore_errors=True)  # an interrupted earlier --force
    work.mkdir(parents=True)
    return work


def replace(work: Path, run_dir: str | os.PathLike) -> None:
    """Put the finished run in `work` in place of `run_dir`."""
    run_dir = Path(run_dir)
    old = _old(run_dir)
    shutil.rmtree(old, ignore_errors=True)
    if run_dir.exists():
        os.replace(run_dir, old)
    os.replace(work, run_dir)
    shutil.rmtree(old, ignore_errors=True)


def recover(run_dir: str | os.PathLike) -> None:
    """Finish or undo a replacement interrupted between its two renames."""
    run_dir = Path(run_dir)
    old, work = _old(run_dir), _work(run_dir)
    if not old.exists():
        return
    if run_dir.exists():  # the swap happened; only the deletion was cut short
        shutil.rmtree(old, ignore_errors=True)
    elif (work / "done.json").exists():
        log.warning("completing the interrupted replacement of %s by its --force rerun", run_dir)
        os.replace(work, run_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(old, run_dir)
