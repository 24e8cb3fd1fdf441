"""No package cycle inside ``marie/``: the rooms depend on each other in one direction only.

The graph is read from the source (every ``import``, at module level or inside a function, because a
lazy import is still a dependency), per package: ``marie.index.search`` importing
``marie.workspace.writes`` is the edge index -> workspace. Imports under ``if TYPE_CHECKING:`` are
dependencies too, with two exceptions, the catalogues of the seams: ``marie.core.event_types`` (the
events) and ``marie.services`` (the service Protocols) name the value types of other packages for
annotations only (importing either loads nothing); their own type-only imports are not edges.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import marie

ROOT = Path(marie.__file__).parent
TYPE_ONLY_ALLOWED = {"marie.core.event_types", "marie.services"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "marie" or len(parts) < 2:
        return None
    return parts[1]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str) -> list[tuple[str, bool]]:
    """(imported module, under TYPE_CHECKING) for every import in ``tree``."""
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            out.extend((alias.name, type_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if _is_package(module) else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((name, type_only))
            out.extend((f"{name}.{alias.name}", type_only) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return out


def _is_package(module: str) -> bool:
    return (ROOT.parent / Path(*module.split(".")) / "__init__.py").is_file()


def package_graph() -> dict[str, dict[str, list[str]]]:
    """package -> {imported package: [modules that import it]}."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        source = _package(module)
        if source is None:
            continue
        graph[source]
        for name, type_only in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path)), module):
            target = _package(name)
            if target is None or target == source:
                continue
            if type_only and module in TYPE_ONLY_ALLOWED:
                continue
            graph[source][target].append(module)
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                strong(target)
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
            strong(node)
    return found


def test_no_package_cycle_inside_marie():
    graph = package_graph()
    found = cycles(graph)
    detail = []
    for component in found:
        for a in component:
            for b in component:
                if b in graph[a]:
                    detail.append(f"  {a} -> {b} (in {', '.join(sorted(set(graph[a][b]))[:3])})")
    assert not found, "package cycles: " + "; ".join(" <-> ".join(c) for c in found) + "\n" + "\n".join(detail)


def test_the_graph_reader_sees_a_cycle_and_the_layers():
    # The checker itself must be able to fail: a made-up cycle is found ...
    assert cycles({"a": {"b": ["a.x"]}, "b": {"c": ["b.y"]}, "c": {"a": ["c.z"]}, "d": {"a": ["d.w"]}}) == [["a", "b", "c"]]
    # ... and the real graph has the edges everybody knows about.
    graph = package_graph()
    assert "workspace" in graph["index"] and "core" in graph["workspace"]
    assert "checkpoints" not in graph["workspace"] and "governance" not in graph["workspace"]
    assert [p for p in graph if "ui" in graph[p] and p not in ("ui", "cli")] == []   # only views import views
