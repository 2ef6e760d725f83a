"""Tests share one set of builders: no module imports a test module (issue 13, item 6).

Worlds live in tests/factories.py, client helpers in tests/helpers.py, fixtures in a
conftest.py. A test module (`test_*.py`) or a conftest.py imported from somewhere else is
a second, hidden home for builders, and pytest then loads that module twice (once as a
test module, once as an import). An AST scan of every Python file under tests/ and bench/
finds each import statement (also those inside functions, and `importlib.import_module`
or `__import__` with a literal name), resolves relative imports, and fails on any that
reaches such a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "bench")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_forbidden(target: str) -> bool:
    """A test module or a conftest of the tests package: `tests.test_x`, `tests.e2e.conftest`."""
    parts = target.split(".")
    if parts[0] != "tests" or len(parts) < 2:
        return False
    return any(p.startswith("test_") or p == "conftest" for p in parts[1:])


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, dotted module name) for every import in the source, relative ones resolved."""
    out: list[tuple[int, str]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.append((node.lineno, base))
            # `from tests import test_x`: each name may be a module of that package
            out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = getattr(func, "id", None) or getattr(func, "attr", None)
            arg = node.args[0]
            if called in ("__import__", "import_module") and isinstance(arg, ast.Constant):
                if isinstance(arg.value, str):
                    out.append((node.lineno, arg.value))
    return out


def cross_imports(root: Path) -> list[str]:
    problems = []
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            module = module_name(path, root)
            source = path.read_text(encoding="utf-8")
            for line, target in imported_names(source, module, path.name == "__init__.py"):
                if is_forbidden(target):
                    parts = target.split(".")
                    # name the module, not `tests.test_x.helper`
                    cut = next(
                        i for i in range(2, len(parts) + 1) if is_forbidden(".".join(parts[:i]))
                    )
                    where = path.relative_to(root)
                    problems.append(f"{where}:{line}: imports {'.'.join(parts[:cut])}")
    return sorted(set(problems))


def test_no_module_imports_a_test_module_or_a_conftest():
    problems = cross_imports(ROOT)
    assert problems == [], (
        "move what is shared into tests/factories.py, tests/helpers.py or a fixture in "
        "conftest.py:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize(
    ("module", "source", "forbidden"),
    [
        ("tests.test_a", "from tests.test_b import world", True),
        ("tests.test_a", "from tests import test_b", True),
        ("tests.test_a", "import tests.test_b", True),
        ("tests.test_a", "from .test_b import world", True),
        ("tests.test_a", "from . import test_b", True),
        ("tests.e2e.test_a", "from ..test_b import world", True),
        ("tests.e2e.test_a", "from .conftest import live", True),
        ("tests.test_a", "from tests.conftest import TEST_CONFIG", True),
        ("tests.test_a", "def f():\n    from tests.test_b import world", True),
        ("tests.test_a", "import importlib\nimportlib.import_module('tests.test_b')", True),
        ("tests.test_a", "__import__('tests.test_b')", True),
        ("bench.vote_load", "from tests import test_load", True),
        ("tests.test_a", "from tests import factories", False),
        ("tests.test_a", "from tests.helpers import login, write", False),
        ("tests.test_a", "from tests.factories import voting_world", False),
        ("tests.e2e.test_a", "from .browser import LiveApp", False),
        ("bench.vote_load", "from tests import loadlib", False),
        ("tests.test_a", "from residents_vote.services import voting", False),
        ("tests.test_a", "import pytest", False),
    ],
)
def test_the_scan_tells_a_cross_import_from_a_shared_one(module, source, forbidden):
    """The scan must notice a forbidden import, or the guard above proves nothing."""
    found = [t for _, t in imported_names(source, module, False) if is_forbidden(t)]
    assert bool(found) is forbidden, found


def test_the_scan_fails_on_a_scratch_tree_with_a_cross_import(tmp_path):
    """End to end: a copy of the tree layout where one test module imports another."""
    (tmp_path / "tests" / "e2e").mkdir(parents=True)
    (tmp_path / "bench").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "factories.py").write_text("def world(app): ...\n")
    (tmp_path / "tests" / "test_a.py").write_text("def helper(): ...\n")
    (tmp_path / "tests" / "test_b.py").write_text("from tests.factories import world\n")
    assert cross_imports(tmp_path) == []
    (tmp_path / "tests" / "e2e" / "test_c.py").write_text("from ..test_a import helper\n")
    assert cross_imports(tmp_path) == ["tests/e2e/test_c.py:1: imports tests.test_a"]
