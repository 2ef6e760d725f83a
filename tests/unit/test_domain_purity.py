"""residents_vote.domain must stay pure standard library: it is the one place decisions are
computed, and it must run (and be audited) without Flask, a database or other packages."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "residents_vote" / "domain"
FORBIDDEN = {"flask", "sqlalchemy", "werkzeug"}
ALLOWED = set(sys.stdlib_module_names) | {"__future__"}


def _package_of(path: Path) -> list[str]:
    """Dotted package of a module file under residents_vote/domain, as a list of names."""
    rel = path.relative_to(DOMAIN.parent.parent).with_suffix("")
    parts = list(rel.parts)
    return parts[:-1]  # a module's package; for __init__ that is the package itself


def import_problems(source: str, path: Path) -> list[str]:
    """Every import in ``source`` that leaves the standard library or the domain package."""
    tree = ast.parse(source, filename=str(path))
    modules: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path)
                if node.level - 1 > len(package):
                    modules.append((node.lineno, "." * node.level + (node.module or "")))
                    continue
                base = package[: len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
                modules.append((node.lineno, name))
            else:
                modules.append((node.lineno, node.module or ""))
        elif isinstance(node, ast.Call):
            # __import__("x") / importlib.import_module("x") with a literal name
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in ("__import__", "import_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    modules.append((node.lineno, arg.value))
    problems = []
    for lineno, name in modules:
        top = name.split(".")[0]
        if top == "residents_vote":
            ok = name == "residents_vote.domain" or name.startswith("residents_vote.domain.")
        else:
            ok = top in ALLOWED and top not in FORBIDDEN
        if not ok:
            problems.append(f"{path.name}:{lineno}: imports {name or '?'}")
    return problems


def domain_files() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_domain_package_exists():
    assert (DOMAIN / "tally.py") in domain_files()


@pytest.mark.parametrize("path", domain_files(), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_imports_only_stdlib_and_itself(path):
    assert import_problems(path.read_text(encoding="utf-8"), path) == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import flask", True),
        ("from sqlalchemy.orm import Session", True),
        ("import werkzeug.security", True),
        ("import requests", True),
        ("from residents_vote import db", True),
        ("from residents_vote.services import x", True),
        ("from .. import db", True),
        ("from ...x import y", True),
        ("__import__('flask')", True),
        ("import importlib\nimportlib.import_module('sqlalchemy')", True),
        ("from __future__ import annotations", False),
        ("import re, dataclasses\nfrom collections.abc import Iterable", False),
        ("from residents_vote.domain.tally import RULES", False),
        ("from . import tally", False),
        ("from .tally import RULES", False),
    ],
)
def test_checker_catches_violations(source, bad):
    """The checker itself must notice a forbidden import, or the purity test proves nothing."""
    problems = import_problems(source, DOMAIN / "example.py")
    assert bool(problems) is bad, problems
