"""The domain and its unit tests run where Flask and SQLAlchemy cannot even be imported.

A subprocess installs an import hook that raises on `flask` and `sqlalchemy` (and the
packages built on them), then runs every unit test module that imports only from
`residents_vote.domain`, without the suite's conftest (which builds Flask apps).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = Path(__file__).resolve().parent
BLOCKED = ("flask", "flask_babel", "flask_login", "flask_wtf", "sqlalchemy", "werkzeug")


def domain_only_modules() -> list[Path]:
    """Unit test modules whose project imports are all from residents_vote.domain."""
    chosen = []
    for path in sorted(UNIT.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            elif isinstance(node, ast.Import):
                names += [a.name for a in node.names]
        project = [n for n in names if n.split(".")[0] in ("residents_vote", "tests")]
        top = {n.split(".")[0] for n in names}
        if project and all(n.startswith("residents_vote.domain") for n in project) and not (
            top & set(BLOCKED)
        ):
            chosen.append(path)
    return chosen


RUNNER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: the domain must run without it")
            return None

    sys.meta_path.insert(0, Block())
    import pytest
    code = pytest.main(["-q", "-p", "no:cacheprovider", "--noconftest", *{files!r}])
    assert "flask" not in sys.modules and "sqlalchemy" not in sys.modules
    sys.exit(code)
    """
)


def test_domain_modules_are_selected():
    names = {p.name for p in domain_only_modules()}
    assert {"test_tally.py", "test_lifecycle.py", "test_tally_properties.py"} <= names


def test_domain_tests_pass_without_flask_or_sqlalchemy():
    files = [str(p) for p in domain_only_modules()]
    script = RUNNER.format(blocked=BLOCKED, files=files)
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout


def test_the_blocker_blocks():
    script = RUNNER.format(blocked=BLOCKED, files=[]).replace(
        "import pytest", "import flask  # must raise\nimport pytest"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0 and "flask is blocked" in run.stderr
