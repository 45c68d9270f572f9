"""The house's rules, read from the code's own imports: the domain imports no adapter, GraphQL
imports nothing of the HTTP edge, and no import cycle exists anywhere in the tree."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "schema", "web", "jobs", "telemetry")
MODULES = ("server", "settings")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {name: ROOT / f"{name}.py" for name in MODULES}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports at module level or inside functions."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import module` needs only the module (its package's __init__ runs
            # for every import of a submodule, and is not counted anywhere else either).
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            targets.update(submodules)
            if len(submodules) < len(node.names):
                targets.add(base)
    resolved = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    known = set(sources)
    return {name: _imports(name, path, known) for name, path in sources.items()}


def _room(module: str) -> str:
    return module.split(".")[0]


def test_the_graph_is_read() -> None:
    # A walk that found nothing would pass every rule below.
    graph = _graph()
    assert "models.access" in graph["models.api_keys"]
    assert "web.routes" in graph["server"]
    assert len(graph) > 50


def test_each_room_imports_only_the_rooms_below_it() -> None:
    allowed = {
        "models": {"models"},
        "schema": {"schema", "models", "settings", "telemetry"},
        "web": {"web", "schema", "models", "settings", "telemetry"},
        "jobs": {"jobs", "models", "settings", "telemetry"},
        "telemetry": {"telemetry", "models", "settings"},
        "settings": {"settings", "models"},
    }
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if _room(module) in allowed
        for target in targets
        if _room(target) not in allowed[_room(module)]
    )
    assert wrong == []


def test_there_is_no_import_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
