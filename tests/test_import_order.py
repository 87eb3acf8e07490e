"""The dependency direction of DESIGN.md holds: no module imports a higher layer, and no import of
fairdg sits inside a function to dodge a loop.

Layers, bottom to top (a module may import its own layer and those below):

0. ``registry``, ``hparams``, ``records``, ``checkpoint``, ``parsing``, ``runlock``,
   ``replacement``, ``version``, ``datasets_info``
1. ``data``, ``metrics``, ``losses``, ``networks``; ``reporting`` (records only, never torch)
2. ``transformation``
3. ``algorithms``
4. ``training``
5. ``estimator``, ``predict``, ``interpret``, ``experiments``
6. ``reproductions``
7. ``cli``, ``__main__``
8. the package face ``fairdg`` (its shortcuts load what they name on first use, so that
   ``import fairdg`` stays light; nothing below imports it: the version is ``fairdg.version``)

The modules are read with `ast` (nothing is imported), so the test sees imports behind
``if TYPE_CHECKING`` and inside functions too.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "fairdg"

LAYERS = {
    "registry": 0,
    "hparams": 0,
    "records": 0,
    "checkpoint": 0,
    "parsing": 0,
    "runlock": 0,
    "replacement": 0,
    "datasets_info": 0,
    "fingerprint": 0,
    "tracking": 0,
    "version": 0,
    "data": 1,
    "metrics": 1,
    "losses": 1,
    "networks": 1,
    "reporting": 1,
    "transformation": 2,
    "algorithms": 3,
    "training": 4,
    "estimator": 5,
    "predict": 5,
    "interpret": 5,
    "experiments": 5,
    "reproductions": 6,
    "cli": 7,
    "__main__": 7,
    "": 8,  # `import fairdg`: the package face, on top of what its shortcuts load
}

# What reporting may import from fairdg: tables are rebuilt from copied JSONL files alone.
REPORTING_MAY_IMPORT = (
    "fairdg.records",
    "fairdg.reporting",
    "fairdg.metrics.catalogue",
    "fairdg.metrics.degenerate",
)

# Deliberate imports of fairdg inside a function, outside cli/ (where a command's modules are
# imported lazily for start-up time). Each is (importing module, imported module): why.
LAZY_ALLOWED = {
    # `import fairdg` stays light: the face loads what a shortcut names on first use
    ("fairdg", "fairdg.data"): "fairdg.load_dataset is a shortcut to the data package",
    ("fairdg", "fairdg.predict"): "fairdg.load_model is a shortcut to predict (issue 16)",
    ("fairdg", "fairdg.estimator"): "fairdg.FairClassifier, loaded on first use (issue 16)",
    # RunConfig is built and checked without torch (the command line's instant errors)
    ("fairdg.training", "fairdg.training"): "fairdg.training.train loads the loop on first use",
}


@dataclass(frozen=True)
class Import:
    """One ``import`` statement of a fairdg module."""

    module: str  # the importing module, e.g. "fairdg.training.loop"
    target: str  # the imported module, e.g. "fairdg.algorithms"
    line: int
    in_function: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str | None = None) -> list[Import]:
    """Every import of `path` with its absolute target and whether it sits inside a function."""
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, child.lineno, inside) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolve against the package
                    anchor = package.rsplit(".", child.level - 1)[0]
                    base = f"{anchor}.{base}" if base else anchor
                # `from fairdg import records` imports the module fairdg.records
                targets = [
                    f"{base}.{a.name}" if base == "fairdg" and a.name in LAYERS else base
                    for a in child.names
                ]
                found.extend(
                    Import(module, t, child.lineno, inside) for t in dict.fromkeys(targets)
                )
            visit(child, inside)

    visit(ast.parse(path.read_text(), filename=str(path)), False)
    return found


def layer_key(module: str) -> str:
    """``fairdg.training.loop`` -> ``training``; ``fairdg`` -> ``""``."""
    return module.split(".")[1] if module.count(".") else ""


def layer_of(module: str) -> int:
    key = layer_key(module)
    if key not in LAYERS:
        raise AssertionError(
            f"{module} is in no layer: add {key!r} to LAYERS in tests/test_import_order.py "
            "(and to DESIGN's dependency direction)"
        )
    return LAYERS[key]


@functools.cache
def all_imports() -> tuple[Import, ...]:
    return tuple(i for path in sorted(PACKAGE.rglob("*.py")) for i in imports_of(path))


def internal(target: str) -> bool:
    return target == "fairdg" or target.startswith("fairdg.")


def test_every_module_is_in_a_layer():
    for path in sorted(PACKAGE.rglob("*.py")):
        layer_of(module_name(path))


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{i.module}:{i.line} imports {i.target} "
        f"(layer {layer_of(i.module)} -> {layer_of(i.target)})"
        for i in all_imports()
        if internal(i.target)
        and layer_of(i.target) > layer_of(i.module)
        and (i.module, i.target) not in LAZY_ALLOWED
    ]
    assert not upward, "imports against DESIGN's dependency direction:\n" + "\n".join(upward)


def test_no_fairdg_import_hides_inside_a_function():
    hidden = [
        f"{i.module}:{i.line} imports {i.target} inside a function"
        for i in all_imports()
        if i.in_function
        and internal(i.target)
        and layer_key(i.module) != "cli"
        and (i.module, i.target) not in LAZY_ALLOWED
    ]
    assert not hidden, (
        "move these imports to the top of the module (an import inside a function hides a "
        "loop; only cli/ imports lazily):\n" + "\n".join(hidden)
    )


def test_reporting_depends_on_records_only():
    wrong = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in all_imports()
        if layer_key(i.module) == "reporting"
        and (
            (internal(i.target) and not i.target.startswith(REPORTING_MAY_IMPORT))
            or i.target.split(".")[0] == "torch"
        )
    ]
    assert not wrong, "reporting reads records only and never torch:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module", ["fairdg.reporting", "fairdg.records"])
def test_torch_free_modules_do_not_load_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False", f"importing {module} loads torch"


def test_the_checker_sees_an_upward_and_a_hidden_import(tmp_path):
    # the checker itself: a module of layer 1 importing training at the top and in a function
    fake = tmp_path / "base.py"
    fake.write_text(
        "from fairdg.training import train\n\ndef f():\n    from ..algorithms import X\n"
    )
    found = imports_of(fake, "fairdg.data.base")
    assert [(i.target, i.in_function) for i in found] == [
        ("fairdg.training", False),
        ("fairdg.algorithms", True),
    ]
    assert layer_of("fairdg.data.base") < layer_of(found[0].target)
