"""The package's shape: no import circles (a lower module never imports a higher one, not even
lazily inside a function) and no source file over the style guide's ~400 lines.

Imports are read with `ast` from the files themselves, so nothing is imported to check them;
imports under `if TYPE_CHECKING:` are for annotations only and do not count."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "layerwise"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _runtime_imports(tree: ast.AST):
    """Import nodes outside `if TYPE_CHECKING:` blocks, at any depth (function bodies included)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _imported(module: str, node) -> set[str]:
    """The package's modules that `node` (inside `module`) imports."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        package = module if MODULES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    return {name for name in names if name in MODULES}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        deps = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            deps |= _imported(module, node)
        # a package's own __init__ runs before its modules anyway: not an edge back up
        graph[module] = {d for d in deps if d != module and not module.startswith(d + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    assert "layerwise.many_runs" in graph["layerwise.run"]  # imported inside train()


def test_no_import_circles():
    graph = import_graph()
    found = cycles(graph)
    described = ["; ".join(f"{m} -> {sorted(d for d in graph[m] if d in c)}" for m in c) for c in found]
    assert not found, "import circles:\n" + "\n".join(described)


def test_no_file_over_the_line_budget():
    long = {str(path.relative_to(PACKAGE)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"
