"""The house as built: imports point one way, rooms stay in their order, no import circles, small modules.

Read from the code (every ``import`` statement, at the top of a module or inside a function, found
with ``ast``), not from what happens to be imported at run time. ``ARCHITECTURE.md`` describes the
same rules; run this file alone to check them:

    python -m pytest tests/test_architecture.py
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("cli", "web", "search", "indexer")  # each may import only those to its right
TOP_MODULES = {name: "cli" for name in ("cli", "cli_render", "cli_render_families", "cli_render_totals", "cli_safe",
                                         "cli_wrap", "__main__")} | {"web": "web"}
# indexer's rooms, lowest first: a room may import its own modules and rooms of a lower rank, never its equals
INDEXER_ROOMS = {
    "errors": 0, "records": 0, "files": 0,
    "analysis": 1, "families": 1,
    "models": 2,
    "storage": 3,
    "parse": 4,
    "build": 5,
    "ray_build": 6,  # the plain build's steps, run as Ray tasks
    "__init__": 7,
}
NEVER = {"indexer": ("click", "rich", "starlette", "fastapi", "jinja2", "uvicorn"),
         "search": ("click", "rich", "starlette", "fastapi", "jinja2", "uvicorn")}
MAX_LINES = 400


def module_files() -> dict[str, Path]:
    """Every module of goalsearch by dotted name (``goalsearch.indexer.storage.terms``, ``indexer`` for its ``__init__``)."""
    found = {}
    for path in [*ROOT.glob("*.py"), *ROOT.glob("indexer/**/*.py"), *ROOT.glob("search/**/*.py"), *ROOT.glob("web/**/*.py")]:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[0] not in LAYERS and parts[0] not in TOP_MODULES:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The goalsearch modules (and the third-party top-level names) that ``path`` imports anywhere."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []  # the root's modules (cli.py …) are in the root package
                base = parts[: len(parts) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # a module's own packages are imported before it: naming them (``from . import x``) adds no edge
            if not (name + ".").startswith(target + "."):
                found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in modules)
    return {t for t in found if t}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def layer(module: str) -> str | None:
    top = module.split(".")[0]
    return TOP_MODULES.get(top, top if top in LAYERS else None)


def room(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_imports_point_one_way(graph):
    wrong = []
    for module, targets in graph.items():
        own = layer(module)
        for target in targets:
            theirs = layer(target)
            if theirs and theirs != own and LAYERS.index(theirs) < LAYERS.index(own):
                wrong.append(f"{module} → {target}")
            if own in NEVER and target.split(".")[0] in NEVER[own]:
                wrong.append(f"{module} → {target}")
    assert wrong == []


def test_the_web_layer_imports_only_search(graph):
    assert [f"{m} → {t}" for m, ts in graph.items() if layer(m) == "web" for t in ts
            if layer(t) not in (None, "web", "search")] == []


def test_indexer_rooms_import_only_lower_rooms(graph):
    assert set(INDEXER_ROOMS) >= {room(m) for m in graph if layer(m) == "indexer"}, "a new room needs a rank"
    wrong = []
    for module, targets in graph.items():
        if layer(module) != "indexer":
            continue
        for target in targets:
            if layer(target) == "indexer" and room(target) != room(module) \
                    and INDEXER_ROOMS[room(target)] >= INDEXER_ROOMS[room(module)]:
                wrong.append(f"{module} → {target}")
    assert wrong == []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles(graph):
    # a package's __init__ re-exporting its modules is no circle unless one of them imports the __init__ back
    assert circles(graph) == []


def test_circles_are_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_of_indexer_or_search_is_long():
    long = {str(p.relative_to(ROOT)): n for name, p in module_files().items() if layer(name) in ("indexer", "search")
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_indexer_root_holds_a_handful_of_modules():
    assert len(list((ROOT / "indexer").glob("*.py"))) <= 8


def test_every_package_and_data_file_is_in_the_wheel():
    """pyproject lists the packages and their data by hand (the root is mapped to goalsearch): a wheel once
    lacked indexer.parse.forms. Every folder with an __init__.py is listed, and every file in it that is not
    Python is matched by a package-data pattern."""
    import fnmatch
    import tomllib

    tool = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(tool["packages"])
    data = tool.get("package-data", {})
    for init in ROOT.glob("**/__init__.py"):
        folder = init.parent.relative_to(ROOT)
        if folder.parts and folder.parts[0] in ("tests", "benchmarks", "scripts", ".venv", "build"):
            continue
        package = ".".join(("goalsearch", *folder.parts))
        assert package in listed, f"{package} is not in pyproject's packages"
        if not folder.parts:
            continue  # the root holds the repository's own files (README, pyproject), not package data
        patterns = data.get(package, [])
        for path in init.parent.rglob("*"):
            relative = path.relative_to(init.parent)
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in relative.parts:
                continue
            if any((init.parent / Path(*relative.parts[:i]) / "__init__.py").exists() for i in range(1, len(relative.parts))):
                continue  # a subpackage's own files, checked with it
            assert any(fnmatch.fnmatch(str(relative), p) for p in patterns), f"{package}: {relative} not in package-data"
