"""Habits the code keeps: lint, types, no import cycles in bot/, layers that do not leak, small modules.

These read the source (ast, no imports of the code under test) so they are quick and say exactly
which file broke the rule. They came in as ratchets while issue 14 removed what broke them; all
of them hold now, so each is a plain check.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOT_MAX_LINES = 300

# The composition root: the one module in bot/ that may know the database's types.
COMPOSITION_ROOT = {"bot/app.py"}

# What the engine must not import (issue 14: workflows/ is plain Python behind its ports).
WORKFLOWS_FORBIDDEN = ("bot", "storage", "telegram", "httpx", "sqlalchemy", "sqlmodel", "apscheduler")
# What only the composition root in bot/ may import.
BOT_DB_MODULES = ("sqlalchemy", "sqlmodel", "storage.models")


# -- reading the source ---------------------------------------------------------------------------
def _py_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a `from … import` names (resolving `from . import x`)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(node: ast.stmt, module: str, is_package: bool) -> Iterator[str]:
    """The dotted names one import statement brings in: `from a import b` yields `a.b` (a module or a
    name in `a`; the graph keeps the longest prefix that is a module)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        source = _absolute(node, module, is_package)
        for alias in node.names:
            yield f"{source}.{alias.name}"


_BLOCKS = (ast.With, ast.AsyncWith, ast.ClassDef, ast.For, ast.AsyncFor, ast.While)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _module_level_imports(tree: ast.Module, module: str, is_package: bool, deferred: bool = False) -> Iterator[str]:
    """Imports that run when the module is imported: top level, inside if/try/with/class bodies,
    but not under `if TYPE_CHECKING:` (no runtime cycle) and not inside functions, unless
    `deferred` (an import moved into a function to dodge a cycle still ties the modules)."""

    def walk(body: list[ast.stmt]) -> Iterator[str]:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield from _imports(node, module, is_package)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    yield from walk(node.body)
                yield from walk(node.orelse)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                    yield from walk(block)
            elif isinstance(node, _BLOCKS + (_FUNCTIONS if deferred else ())):
                yield from walk(node.body)

    yield from walk(tree.body)


def _all_imports(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Every import anywhere in the file (functions and TYPE_CHECKING blocks too), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _imports(node, module, is_package):
                yield node.lineno, name


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _names(dotted: str, prefixes: tuple[str, ...]) -> bool:
    return any(dotted == p or dotted.startswith(p + ".") for p in prefixes)


# -- the import graph of bot/ ---------------------------------------------------------------------
def import_graph(package: str = "bot", deferred: bool = False) -> dict[str, set[str]]:
    """module -> the modules of `package` it imports at import time (the most specific that exists);
    with `deferred`, imports inside functions count too."""
    files = {_module_name(p): p for p in _py_files(package)}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        for name in _module_level_imports(_parse(path), module, is_package, deferred):
            # `from bot import answers` names the module bot.answers; `from bot.x import f` names bot.x.
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != module and _names(name, (package,)):
                graph[module].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def shortest_loop(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """One concrete loop through the component (breadth-first from its first member), to print."""
    start, inside = members[0], set(members)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & inside):
                if child == start:
                    return paths[node] + [start]
                if child not in paths:
                    paths[child] = paths[node] + [child]
                    following.append(child)
        frontier = following
    return members


# -- the checks ------------------------------------------------------------------------------------
def test_the_cycle_finder_finds_a_cycle_and_its_loop():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert shortest_loop(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_module_level_imports_skip_functions_and_type_checking():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from . import answers\n"
        "from .channels import base\n"
        "if TYPE_CHECKING:\n    from bot.app import App\n"
        "try:\n    import bot.views\nexcept ImportError:\n    pass\n"
        "def f():\n    from bot import router\n"
    )
    names = set(_module_level_imports(tree, "bot.x", False))
    assert {"bot.answers", "bot.channels.base", "bot.views"} <= names
    assert not any(n.startswith(("bot.app", "bot.router")) for n in names)


def _cycle_report(graph: dict[str, set[str]]) -> tuple[set[str], str]:
    found = cycles(graph)
    report = "\n".join(
        f"{len(c)} modules, e.g. {' -> '.join(shortest_loop(graph, c))}\n    all: {', '.join(c)}" for c in found
    )
    if found:
        print("import cycles in bot/:\n" + report)
    return {m for c in found for m in c}, report


def test_bot_has_no_import_cycles():
    """Module-level imports (what Python runs at import time): a cycle here breaks on import order."""
    graph = import_graph("bot")
    assert len(graph) > 20  # it read the package
    members, report = _cycle_report(graph)
    assert not members, f"import cycle in bot/:\n{report}"


def test_bot_has_no_import_cycles_hidden_in_functions():
    """The same with imports inside functions counted: a cycle dodged by a deferred import is still
    two layers that know each other (issue 14: "no import cycles in bot/")."""
    members, report = _cycle_report(import_graph("bot", deferred=True))
    assert not members, f"import cycle in bot/ through imports inside functions:\n{report}"


def test_the_layer_checks_see_every_kind_of_import():
    tree = ast.parse(
        "import sqlalchemy.orm\n"
        "from sqlmodel import select\n"
        "if TYPE_CHECKING:\n    from storage.repositories import SqlStore\n"
        "def f():\n    from storage import models\n"
        "from . import ports\n"
    )
    names = {name for _line, name in _all_imports(tree, "workflows.x", False)}
    assert {n for n in names if _names(n, WORKFLOWS_FORBIDDEN)} == {
        "sqlalchemy.orm",
        "sqlmodel.select",
        "storage.repositories.SqlStore",
        "storage.models",
    }
    assert {n for n in names if _names(n, BOT_DB_MODULES)} == {"sqlalchemy.orm", "sqlmodel.select", "storage.models"}
    assert "workflows.ports" in names


def _import_offenders(package: str, forbidden: tuple[str, ...], allowed: Collection[str] = ()) -> list[str]:
    """`file:line imports name` for every import (anywhere in the file) of a forbidden module."""
    found = []
    for path in _py_files(package):
        if _rel(path) in allowed:
            continue
        for line, name in _all_imports(_parse(path), _module_name(path), path.name == "__init__.py"):
            if _names(name, forbidden):
                found.append(f"{_rel(path)}:{line} imports {name}")
    return found


def test_workflows_imports_nothing_from_the_shell_or_the_database():
    leaks = _import_offenders("workflows", WORKFLOWS_FORBIDDEN)
    assert not leaks, "workflows/ must stay plain Python behind its ports:\n" + "\n".join(leaks)


def test_only_the_composition_root_in_bot_imports_the_database():
    # `from storage import models` yields storage.models too.
    offenders = _import_offenders("bot", BOT_DB_MODULES, COMPOSITION_ROOT)
    assert not offenders, "SQL belongs in storage/ (only bot/app.py wires it):\n" + "\n".join(offenders)


def test_no_module_in_bot_is_over_300_lines():
    sizes = {_rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in _py_files("bot")}
    big = sorted(f"{path}: {lines} lines" for path, lines in sizes.items() if lines > BOT_MAX_LINES)
    assert not big, f"modules in bot/ over {BOT_MAX_LINES} lines (split them by what they do):\n" + "\n".join(big)


# -- the tools -------------------------------------------------------------------------------------
def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_check_passes():
    run = _tool("ruff", "check", "--no-cache", ".")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_format_is_applied():
    """`ruff format` leaves every file as it is ([tool.ruff.format] lists the few not yet formatted)."""
    run = _tool("ruff", "format", "--check", "--no-cache", ".")
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_on_the_engine_and_storage():
    """Strict on workflows/ and storage/ ([tool.mypy] in pyproject.toml)."""
    run = _tool("mypy", "workflows", "storage")
    assert run.returncode == 0, (run.stdout + run.stderr).strip()
