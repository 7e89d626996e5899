"""The layout ARCHITECTURE.md describes, checked against the tree: data flows one way (the library
never imports the pipeline), no module imports itself round a cycle, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = {"assistant": REPO / "src" / "assistant", "ingest": REPO / "ingest"}
MAX_LINES = 350


def modules() -> dict[str, Path]:
    found = {}
    for package, root in PACKAGES.items():
        for file in sorted(root.rglob("*.py")):
            parts = file.relative_to(root).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = file
    return found


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative: from the module's package
            base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        return [target, *(f"{target}.{alias.name}" for alias in node.names)]
    return []


def imports(file: Path, name: str, top_level_only: bool) -> set[str]:
    """Modules of our packages that `file` imports; top_level_only: those run when it is imported
    (not inside functions, nor under `if TYPE_CHECKING:`)."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    is_package = file.name == "__init__.py"
    nodes: list[ast.AST] = []
    if top_level_only:
        for statement in tree.body:
            if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
                continue
            nodes.extend(ast.walk(statement) if isinstance(statement, ast.If | ast.Try) else [statement])
    else:
        nodes = list(ast.walk(tree))
    known = modules()
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}  # imported before it anyway
    return {t for node in nodes for t in _imported(node, name, is_package) if t in known} - {name} - ancestors


def test_the_library_never_imports_the_ingest_pipeline():
    offenders = {name: sorted(i for i in imports(file, name, top_level_only=False) if i.split(".")[0] == "ingest")
                 for name, file in modules().items() if name.startswith("assistant")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_module_imports_itself_round_a_cycle():
    graph = {name: sorted(imports(file, name, top_level_only=True)) for name, file in modules().items()}
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:  # depth first; a module on the path again is a cycle
        for target in graph[node]:
            if target in path:
                cycles.append([*path[path.index(target):], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(node)

    for start in graph:
        if start not in done:
            visit(start, [start])
    assert cycles == []


def test_no_module_is_longer_than_a_screenful_of_screens():
    long = {name: n for name, file in modules().items() if (n := len(file.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
