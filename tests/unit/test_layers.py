"""The layers of residents_vote, checked against the map in layers.toml.

Every import statement of the package (also those inside functions, which is where heavy
modules are imported lazily) is an edge of the graph; an edge the map does not allow fails
the test with the file and line, so a newcomer's shortcut is caught in review.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "residents_vote"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: Path
    line: int


def load_map(path: Path = ROOT / "layers.toml") -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))["layers"]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _runtime_nodes(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:` (annotations only, never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def import_edges(root: Path) -> list[Edge]:
    edges = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        name = module_name(path, root)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    edges.append(Edge(name, alias.name, path, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.module == "__future__":
                    continue
                if node.level:
                    base = name.split(".")
                    base = base if is_package else base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                if node.level and not node.module:
                    # `from . import x`: each name is a module of that package
                    for alias in node.names:
                        edges.append(Edge(name, f"{stem}.{alias.name}", path, node.lineno))
                else:
                    edges.append(Edge(name, stem, path, node.lineno))
    return edges


def layer_of(module: str, layers: dict) -> str | None:
    best, best_len = None, -1
    for layer, spec in layers.items():
        for prefix in spec["modules"]:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    return best


def violations(root: Path, layers: dict) -> list[str]:
    stdlib = sys.stdlib_module_names
    problems = []
    for edge in import_edges(root):
        source_layer = layer_of(edge.source, layers)
        where = f"{edge.path.relative_to(root)}:{edge.line}"
        if source_layer is None:
            problems.append(f"{where}: {edge.source} is in no layer of layers.toml")
            continue
        spec = layers[source_layer]
        top = edge.target.split(".")[0]
        if top == PACKAGE:
            target_layer = layer_of(edge.target, layers)
            if target_layer is None:
                # `from residents_vote import x` where x is a module: judge the module
                problems.append(f"{where}: {edge.target} is in no layer of layers.toml")
            elif target_layer != source_layer and target_layer not in spec["may_import"]:
                problems.append(
                    f"{where}: {source_layer} module {edge.source} imports "
                    f"{target_layer} module {edge.target}"
                )
        elif top in stdlib:
            continue
        elif not any(
            edge.target == p or edge.target.startswith(p + ".") for p in spec["packages"]
        ):
            problems.append(
                f"{where}: {source_layer} module {edge.source} imports {edge.target}, "
                "which layers.toml does not allow there"
            )
    return problems


def test_every_import_follows_the_layer_map():
    problems = violations(ROOT, load_map())
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_forbidden_import(tmp_path):
    """A scratch copy of the package with one upward import must fail the check."""
    import shutil

    shutil.copytree(ROOT / PACKAGE, tmp_path / PACKAGE, ignore=shutil.ignore_patterns("*.pyc"))
    target = tmp_path / PACKAGE / "domain" / "tally.py"
    target.write_text(
        target.read_text(encoding="utf-8") + "\nfrom ..services import voting  # noqa\n",
        encoding="utf-8",
    )
    problems = violations(tmp_path, load_map())
    assert any("domain module residents_vote.domain.tally imports services" in p for p in problems)


@pytest.mark.parametrize("package", ["flask", "sqlalchemy"])
def test_domain_map_allows_no_framework(package):
    layers = load_map()
    assert package not in layers["domain"]["packages"]
