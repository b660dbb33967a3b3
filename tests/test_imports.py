"""Imports run one way: errors at the bottom, the command line on top.

The module-level imports of every symparams module are read with ``ast`` (imports
inside functions are the lazy convenience entry points, such as ``Network.sweep``
or ``net.to_html()``, and do not count, nor do ``if TYPE_CHECKING:`` blocks).
They must form no cycle and respect the layering below.  Within ``render/`` the
report model sits below the formats and the dispatcher on top of them; the
model must not reach up to a format even lazily.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "symparams"

# Lower rank = lower layer.  A module may import modules of its own rank or lower.
# steps.py builds the worked steps from a network's layers, so it sits above network
# (info.step and net.steps import it when asked), as the design card orders them.
LAYERS: list[tuple[str, float]] = [
    ("symparams.errors", 0), ("symparams.printable", 0),   # printable imports nothing
    ("symparams.printing", 1), ("symparams.shapes", 1), ("symparams.numbers", 1),
    ("symparams.documents", 1),                              # reading YAML/JSON/TOML
    ("symparams.outfiles", 1),
    ("symparams.expressions", 2),   # the whitelist parser spec reads sizes with
    ("symparams.spec", 2), ("symparams.blocks", 2),   # blocks expand specs, reading sizes with spec
    ("symparams.layers", 3),
    ("symparams.addresses", 5), ("symparams.graph", 5), ("symparams.layerinfo", 5),
    ("symparams.records", 5), ("symparams.network", 5),
    ("symparams.walk", 5), ("symparams.substitution", 5),   # the network's walk and subs/free
    ("symparams.network_questions", 5), ("symparams.network_outputs", 5),   # Network's mixins
    ("symparams.steps", 5.5), ("symparams.blockgroups", 5.5),
    ("symparams.explore", 6), ("symparams.homework", 6), ("symparams.catalog", 6),
    ("symparams.importers", 6),     # framework models to spec data, then Networks
    # render: helpers, then the report model, then formats, then the one dispatcher.
    ("symparams.render.common", 7.0), ("symparams.render.svgbuild", 7.0),
    ("symparams.render.latex_escape", 7.0), ("symparams.render.latex_math", 7.0),
    ("symparams.render.mathsvg", 7.0), ("symparams.render.pdf_reuse", 7.0),
    ("symparams.render.templating", 7.0),
    ("symparams.render.report", 7.1),
    ("symparams.render.dispatch", 7.3),
    ("symparams.render", 7.2),          # every other render module is a format
    ("symparams.cli", 8), ("symparams.__main__", 8),
    ("symparams", 6),                   # the package itself: the API facade
]


def rank(module: str) -> float:
    for prefix, value in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return value
    raise AssertionError(f"{module} has no place in the layering; add it to LAYERS")


def modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.Module, everywhere: bool):
    """Import nodes at module level (also inside top-level try/if, not TYPE_CHECKING)."""
    if everywhere:
        yield from (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
        return
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                pending += handler.body


def imported(module: str, path: Path, is_package: bool, known, everywhere=False) -> set[str]:
    """The symparams modules that ``module`` imports."""
    targets: set[str] = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8")), everywhere):
        if isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name.split(".")[0] == "symparams"}
            continue
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if source.split(".")[0] != "symparams":
            continue
        submodules = {f"{source}.{a.name}" for a in node.names} & set(known)
        # `from . import printing` imports the submodule; `from .. import __version__`
        # imports the package itself.
        if len(submodules) < len(node.names):
            targets.add(source)
        targets |= submodules
    return targets


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imported(m, p, pkg, known) for m, (p, pkg) in known.items()}


def test_module_level_imports_have_no_cycle(graph):
    state: dict[str, int] = {}   # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if target == module:
                continue
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if state.get(target) is None:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_module_level_imports_go_down_the_layers(graph):
    upward = [f"{m} ({rank(m)}) imports {t} ({rank(t)})"
              for m, targets in sorted(graph.items()) for t in sorted(targets)
              if rank(t) > rank(m)]
    assert upward == []


def test_report_model_never_imports_a_format_even_lazily():
    """The report model is the data every format reads; choosing a format is the
    dispatcher's job, so the model must not import one (not even in a function)."""
    known = modules()
    path, is_package = known["symparams.render.report"]
    targets = imported("symparams.render.report", path, is_package, known, everywhere=True)
    above = sorted(t for t in targets if rank(t) > rank("symparams.render.report"))
    assert above == []


def test_dispatcher_is_the_only_render_module_that_chooses_formats():
    """Nothing inside render/ imports the dispatcher; it sits on top of the formats."""
    known = modules()
    users = sorted(m for m, (p, pkg) in known.items()
                   if m.startswith("symparams.render") and m != "symparams.render.dispatch"
                   and "symparams.render.dispatch" in imported(m, p, pkg, known, everywhere=True))
    assert "symparams.render.dispatch" in known
    assert users == []
