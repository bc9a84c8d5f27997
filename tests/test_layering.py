"""The stack's layering rule (DESIGN.md, "The stack"), checked on the source: arrows point down
only. core and ops import nothing from graph or keras (the tracer hooks into dispatch); keras
reaches ops and core through public names only, never an op's private handle."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ndflow"

# Private names keras still imports in files being rewritten under issue 12 (the lead's graph
# compiler work on the conv layers). Remove an entry when its file stops using it; the test
# below fails on entries that are no longer needed.
PENDING: set = set()
# A private module that is plumbing, not an op: argument coercion and shape/dtype helpers
# (shape_of, npdt, ...) shared by ops and keras.
SHARED_HELPERS = {"ndflow.ops._util"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _imports(path: Path, mod: str | None = None) -> list[tuple[int, str, str | None, str | None]]:
    """(line, module, imported name or None, local alias) for every import in the file,
    function-level (lazy) imports included; relative imports resolved."""
    mod = mod or _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None, a.asname) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out += [(node.lineno, base, a.name, a.asname or a.name) for a in node.names]
    return out


def _files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (SRC / pkg).rglob("*.py"))


def test_core_and_ops_import_nothing_from_graph_or_keras():
    bad = []
    for path in _files("core", "ops"):
        for line, module, name, _ in _imports(path):
            full = module if name is None else f"{module}.{name}"
            if full.startswith(("ndflow.graph", "ndflow.keras")) or module in (
                    "ndflow.graph", "ndflow.keras"):
                bad.append(f"{_module_name(path)}:{line} imports {full}")
    assert not bad, "core/ops must not import graph or keras (hook in through dispatch):\n" \
        + "\n".join(bad)


def _keras_private_uses() -> set[tuple[str, str, int]]:
    """(keras module, private name, line): private names of ndflow.ops/ndflow.core that keras
    imports, or reads as attributes of an imported ops/core module."""
    found = set()
    for path in _files("keras"):
        mod = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_aliases = {}
        for line, module, name, alias in _imports(path):
            if not module.startswith(("ndflow.ops", "ndflow.core")):
                continue
            parts = module.split(".")
            if module not in SHARED_HELPERS and any(p.startswith("_") for p in parts):
                found.add((mod, module, line))
            if name is None:
                if alias:
                    module_aliases[alias] = module
                continue
            if name.startswith("_"):
                found.add((mod, f"{module}.{name}", line))
            elif _is_module(f"{module}.{name}"):
                module_aliases[alias] = f"{module}.{name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in module_aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                found.add((mod, f"{module_aliases[node.value.id]}.{node.attr}", node.lineno))
    return found


def test_keras_uses_only_public_names_of_ops_and_core():
    bad = sorted(f"{m}:{line} uses {name}" for m, name, line in _keras_private_uses()
                 if (m, name) not in PENDING)
    assert not bad, "keras must call public op functions, not private handles:\n" + \
        "\n".join(bad)


def test_pending_exceptions_are_still_needed():
    used = {(m, name) for m, name, _ in _keras_private_uses()}
    stale = sorted(f"{m} -> {name}" for m, name in PENDING - used)
    assert not stale, f"remove these from PENDING in {__file__}: {stale}"


def test_the_scan_finds_lazy_relative_and_private_imports(tmp_path):
    fake = tmp_path / "fake.py"
    fake.write_text("import numpy as np\n"
                    "def f():\n    from ..graph.trace import host_call\n"
                    "from ndflow.ops.random import _draw as d\n")
    got = {(module, name) for _, module, name, _ in _imports(fake, "ndflow.ops.fake")}
    assert got == {("numpy", None), ("ndflow.graph.trace", "host_call"),
                   ("ndflow.ops.random", "_draw")}
