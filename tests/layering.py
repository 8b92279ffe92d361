"""Import layering, read from the source: which module imports which, and the cycles among them.

Every ``import`` counts, at any depth (a function-level import still makes the two modules
depend on each other; it only hides the dependency until a call). Relative imports are
resolved against the importing module, and ``from package import name`` is an import of
``package.name`` when that is a module under the root, else of ``package``.
"""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["find_cycles", "import_graph", "imports_of", "module_name"]


def module_name(path: Path, root: Path) -> str:
    """``root/coders/hadoop/classes.py`` -> ``coders.hadoop.classes``; a package's ``__init__`` is the package."""
    parts = list(Path(path).resolve().relative_to(Path(root).resolve()).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, root: Path) -> bool:
    base = Path(root).joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path, root: Path) -> set[str]:
    """Every module the file at ``path`` imports, at module level or inside a function or class."""
    name = module_name(path, root)
    package = name if Path(path).name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                found.add(submodule if _is_module(submodule, root) else origin)
    found.discard(name)
    return found


def import_graph(paths, root: Path) -> dict[str, set[str]]:
    """Module name -> the modules it imports, for each file in ``paths``."""
    return {module_name(p, root): imports_of(p, root) for p in paths}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among the graph's own modules: each strongly connected group of two or more
    modules (every one reaches every other through imports), sorted; an empty list when layered."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in graph:
                continue  # outside the modules looked at
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(groups)
