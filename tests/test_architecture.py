"""The layout ARCHITECTURE.md describes, checked against the tree: one subpackage per stage, imports
that flow one way (each stage imports only the stages before it and the shared modules; the library
never imports the pipeline), no module imports itself round a cycle, and modules stay small.

Imports are read from the code with `ast`: those inside functions and under `if TYPE_CHECKING:`
count as much as those at the top, so an import moved into a function cannot hide a cycle."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.conftest import REPO

PACKAGES = {"assistant": REPO / "src" / "assistant", "ingest": REPO / "ingest"}
MAX_LINES = 350
# The library's stages in the order data flows: a stage may import the ones before it, never one after.
STAGES = ("sites", "embed", "index", "retrieve", "read", "answer", "serve", "web", "mcp", "eval")
# What every stage may use; they import only each other.
SHARED = {"assistant", "assistant.settings", "assistant.errors", "assistant.models", "assistant.text", "assistant.offline"}
# The pipeline writes the index: it may use the library up to reading, never what serves or shows it.
INGEST_USES_UP_TO = "read"
# Imports of our own modules inside a function, and why each may wait: a command line answers --help
# (and switches the ML libraries offline) before it loads the stack.
LATE_IMPORTS = {"assistant.mcp.__main__": "command line", "ingest.__main__": "command line"}


@dataclass(frozen=True)
class Import:
    target: str  # a module of our packages
    line: int
    in_function: bool


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package, root in PACKAGES.items():
        for file in sorted(root.rglob("*.py")):
            parts = file.relative_to(root).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = file
    return found


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: from the module's package
        base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def imports(name: str) -> list[Import]:
    """Every import of a module of our packages in module `name`: at the top, in functions, under
    `if TYPE_CHECKING:`. Its own packages do not count (Python imports them before it anyway)."""
    file = modules()[name]
    is_package = file.name == "__init__.py"
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.extend(Import(target, node.lineno, in_function) for target in _targets(node, name, is_package)
                         if target in modules() and target not in ancestors and target != name)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(file.read_text(encoding="utf-8")), False)
    return found


def stage(name: str) -> str:
    """'shared', a stage of STAGES, or 'ingest'."""
    if name in SHARED:
        return "shared"
    parts = name.split(".")
    if parts[0] == "ingest":
        return "ingest"
    assert len(parts) > 1 and parts[1] in STAGES, f"{name} belongs to no stage: put it in one (or in SHARED)"
    return parts[1]


def may_import(importer: str, imported: str) -> bool:
    have, want = stage(importer), stage(imported)
    if want == "shared" or want == have:
        return True
    if have == "shared":
        return False
    if want == "ingest":
        return False
    limit = INGEST_USES_UP_TO if have == "ingest" else have
    return STAGES.index(want) <= STAGES.index(limit)


def test_every_module_of_the_library_belongs_to_a_stage():
    for name in modules():
        stage(name)


def test_each_stage_imports_only_the_stages_before_it():
    wrong = sorted(f"{name}:{i.line} imports {i.target} ({stage(name)} → {stage(i.target)})"
                   for name in modules() for i in imports(name) if not may_import(name, i.target))
    assert wrong == []


def test_the_library_never_imports_the_ingest_pipeline():
    offenders = sorted(f"{name}:{i.line} imports {i.target}" for name in modules() if name.startswith("assistant")
                       for i in imports(name) if i.target.split(".")[0] == "ingest")
    assert offenders == []


def test_no_module_imports_itself_round_a_cycle():
    graph = {name: sorted({i.target for i in imports(name)}) for name in modules()}
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


def test_our_modules_are_imported_at_the_top_not_inside_functions():
    """An import inside a function is how a cycle hides; only a command line may wait (LATE_IMPORTS).
    Third-party libraries loaded when first needed (chromadb, onnxruntime, torch, langchain) are not ours."""
    late = sorted(f"{name}:{i.line} imports {i.target}" for name in modules() if name not in LATE_IMPORTS
                  for i in imports(name) if i.in_function)
    assert late == []


def test_the_library_imports_a_name_from_the_module_that_defines_it():
    """Not through a stage's __init__ (which re-exports): that would hide the module it comes from from
    these checks, and make the order in which a stage's modules load matter."""
    through_init = []
    for name, file in modules().items():
        if not name.startswith("assistant"):
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module in modules() and \
                    modules()[node.module].name == "__init__.py" and node.module != "assistant":
                through_init += [f"{name}:{node.lineno} {node.module}.{a.name}" for a in node.names
                                 if f"{node.module}.{a.name}" not in modules()]
    assert through_init == []


def test_each_stage_says_what_it_takes_and_hands_on_and_what_it_exports():
    for name in STAGES[:-1]:  # eval is one module
        init = PACKAGES["assistant"] / name / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        docstring = ast.get_docstring(tree) or ""
        assert len(docstring.splitlines()) == 2 and "Takes" in docstring and "hands on" in docstring, init
        exported = next((ast.literal_eval(s.value) for s in tree.body if isinstance(s, ast.Assign)
                         and any(isinstance(t, ast.Name) and t.id == "__all__" for t in s.targets)), None)
        assert exported, f"{init} has no __all__"
        defined = {a.asname or a.name for s in tree.body if isinstance(s, ast.ImportFrom) for a in s.names}
        submodules = {p.stem for p in init.parent.glob("*.py")} | {p.name for p in init.parent.iterdir() if p.is_dir()}
        assert set(exported) <= defined | submodules, f"{init}: __all__ names what it neither imports nor holds"


def test_no_module_is_longer_than_a_screenful_of_screens():
    long = {name: n for name, file in modules().items() if (n := len(file.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
