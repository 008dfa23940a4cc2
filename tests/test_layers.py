"""The house rules of DESIGN.md's layers, checked on the source (``ast``, nothing imported):

- each layer imports only what lies below it (the store knows posts, not campaigns; normalize is
  pure; nothing below the surfaces imports the CLI or the web app);
- no import of a Salon module hides inside a function (the way to dodge an import cycle), except
  the few listed in ``LAZY`` with their reason;
- the module-level imports between Salon modules form no cycle (importing a module imports its
  parent packages first, so those count too);
- no module is over ~600 lines (one concern per module).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# What each layer may not import (a prefix matches the module and everything under it).
SURFACES = ("salon.cli", "salon.commands", "salon.web", "salon.clidocs")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "salon.store": (
        "salon.campaigns",
        "salon.publish",
        "salon.collect",
        "salon.importer",
        "salon.ingest",
        "salon.sources",
        "salon.normalize",
        "salon.demo",
        *SURFACES,
    ),
    "salon.normalize": (
        "salon.store",
        "salon.campaigns",
        "salon.publish",
        "salon.collect",
        "salon.importer",
        "salon.ingest",
        "salon.sources",
        "salon.demo",
        *SURFACES,
    ),
    "salon.sources": (
        "salon.store",
        "salon.campaigns",
        "salon.publish",
        "salon.collect",
        "salon.importer",
        "salon.ingest",
        "salon.demo",
        *SURFACES,
    ),
    "salon.campaigns": (
        "salon.publish",
        "salon.collect",
        "salon.importer",
        "salon.ingest",
        "salon.demo",
        *SURFACES,
    ),
    # The write path of raw records knows no campaigns; the file import refreshes their indexes.
    "salon.ingest": (
        "salon.campaigns",
        "salon.importer",
        "salon.publish",
        "salon.collect",
        "salon.demo",
        *SURFACES,
    ),
    "salon.importer": ("salon.publish", "salon.collect", "salon.demo", *SURFACES),
    "salon.collect": ("salon.publish", "salon.demo", *SURFACES),
    "salon.publish": ("salon.collect", "salon.importer", "salon.ingest", "salon.demo", *SURFACES),
    "salon.demo": SURFACES,
    "salon.web": ("salon.cli", "salon.commands", "salon.clidocs"),
}

# Modules allowed to import Salon modules inside functions, and why. Nothing here may exist to
# dodge an import cycle: the cycle check below runs on module-level imports only, so a lazy
# import listed here must also be one that could move to the top without a cycle.
LAZY: dict[str, str] = {
    "salon.cli": "`salon --help` and every command start fast: a command loads DuckDB, pyarrow or"
    " FastAPI only when it runs",
    "salon.commands.campaign": "CLI start-up: loads DuckDB and pyarrow only when a command runs",
    "salon.commands.collect": "CLI start-up: loads the collectors (httpx, websockets) only when asked",
    "salon.commands.chat": "CLI start-up: loads DuckDB, httpx and the chat modules only when a command runs",
    "salon.commands.authors": "CLI start-up: loads the getProfiles collector (httpx) only when asked",
    "salon.commands.common": "CLI start-up: opens DuckDB only when a command needs the archive",
    "salon.commands.export": "CLI start-up: loads DuckDB, pyarrow and the exporters only when an export runs",
    "salon.commands.report": "CLI start-up: loads matplotlib, WeasyPrint and the campaign layer only when a report runs",
    "salon.commands.demo": "CLI start-up: loads the generator, importer and web app only when asked",
    "salon.commands.web": "CLI start-up: loads FastAPI and uvicorn only when the server is asked for",
    "salon.commands.trust": "CLI start-up: loads DuckDB and the trust rules only when a command runs",
    "salon.commands.parquet": "CLI start-up: loads DuckDB and the Parquet export only when it runs",
    "salon.commands.engines": "CLI start-up: loads the Spark engine (sqlglot, PySpark) only when asked",
    "salon.commands.story": "CLI start-up: loads DuckDB, Jinja2, the Markdown and WACZ libraries and"
    " httpx only when a story or media command runs",
    "salon.clidocs": "builds docs/cli.md from the Typer app, which it loads only when called",
    "salon.collect": "the package's facade (run, run_async, coverage): importing any module of"
    " salon.collect (the web app reads salon.collect.state) must not load every collector",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported Salon module
    line: int
    in_function: bool


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted((SRC / "salon").rglob("*.py")):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The Salon modules an import statement loads (``from pkg import sub`` loads ``pkg.sub``)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            pkg = module.split(".") if is_package else module.split(".")[:-1]
            pkg = pkg[: len(pkg) - node.level + 1]
            base = ".".join([*pkg, base] if base else pkg)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    return [n for n in names if n == "salon" or n.startswith("salon.")]


def _imports() -> list[Import]:
    found: list[Import] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"

        def visit(
            node: ast.AST, in_function: bool, module: str = module, is_package: bool = is_package
        ) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Import | ast.ImportFrom):
                    for t in _targets(child, module, is_package):
                        found.append(Import(module, t, child.lineno, in_function))
                visit(
                    child,
                    in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda),
                )

        visit(tree, False)
    return found


IMPORTS = _imports()


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _where(i: Import) -> str:
    return f"{MODULES[i.module].relative_to(SRC.parent)}:{i.line} imports {i.target}"


def test_the_parser_sees_the_imports_it_checks() -> None:
    """A check that finds nothing to check proves nothing: the known edges are seen."""
    edges = {(i.module, i.target) for i in IMPORTS if not i.in_function}
    assert ("salon.campaigns.tally", "salon.campaigns.index") in edges
    assert ("salon.store.writer", "salon.store.archive") in edges
    assert ("salon.campaigns.index", "salon.store.archive") in edges
    assert any(i.in_function and i.module == "salon.cli" for i in IMPORTS)
    assert len(MODULES) > 60


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    bad = [
        _where(i)
        for i in IMPORTS
        if _under(i.module, layer) and any(_under(i.target, f) for f in FORBIDDEN[layer])
    ]
    assert not bad, f"{layer} imports from a layer above it:\n" + "\n".join(bad)


def test_the_store_knows_posts_not_campaigns() -> None:
    """The rule of DESIGN.md's store, spelled out: no store module names a campaign module."""
    bad = [
        _where(i) for i in IMPORTS if _under(i.module, "salon.store") and _under(i.target, "salon.campaigns")
    ]
    assert not bad


def test_no_salon_import_hides_in_a_function() -> None:
    bad = [_where(i) for i in IMPORTS if i.in_function and i.module not in LAZY]
    assert not bad, (
        "import at module level (or, for a lazy CLI import, list it in LAZY with why):\n" + "\n".join(bad)
    )


def test_every_lazy_exception_is_still_needed() -> None:
    lazy = {i.module for i in IMPORTS if i.in_function}
    assert set(LAZY) <= lazy, f"no longer lazy, drop from LAZY: {sorted(set(LAZY) - lazy)}"
    assert all(len(reason) > 20 for reason in LAZY.values())


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [p for p in (".".join(parts[:n]) for n in range(1, len(parts))) if p in MODULES]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a path (first and last the same), or None (depth-first search)."""
    colour: dict[str, int] = dict.fromkeys(graph, 0)  # 0 unseen, 1 on the path, 2 done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        colour[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if colour.get(t) == 1:
                return [*stack[stack.index(t) :], t]
            if colour.get(t, 2) == 0 and (found := visit(t)):
                return found
        stack.pop()
        colour[m] = 2
        return None

    for m in sorted(graph):
        if colour[m] == 0 and (found := visit(m)):
            return found
    return None


def _module_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        if not i.in_function and i.target in MODULES and i.target != i.module:
            graph[i.module].add(i.target)
            graph[i.module].update(p for p in _parents(i.target) if not _under(i.module, p))
    return graph


def test_module_level_imports_form_no_cycle() -> None:
    cycle = _cycle(_module_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checks_catch_what_they_are_for() -> None:
    """The parser and the cycle search on made-up cases (a check that cannot fail proves nothing):
    a function-level import, a relative import, the archive <-> rawstore knot as it was."""
    tree = ast.parse("def f():\n    from salon.store import rawstore\n")
    node = tree.body[0].body[0]  # type: ignore[attr-defined]
    assert _targets(node, "salon.store.archive", False) == ["salon.store.rawstore"]
    rel = ast.parse("from .archive import Archive\n").body[0]
    assert _targets(rel, "salon.store.writer", False) == ["salon.store.archive"]  # type: ignore[arg-type]
    knot = {"salon.store.archive": {"salon.store.rawstore"}, "salon.store.rawstore": {"salon.store.archive"}}
    assert _cycle(knot) == ["salon.store.archive", "salon.store.rawstore", "salon.store.archive"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


MAX_LINES = 600
# Modules over MAX_LINES, until split (each with the issue that splits it).
OVERSIZED: dict[str, str] = {}


def test_no_module_is_over_600_lines() -> None:
    big = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    over = sorted(f"{m} ({n} lines)" for m, n in big.items() if n > MAX_LINES and m not in OVERSIZED)
    assert not over, "split along a seam (one concern per module): " + ", ".join(over)
    fixed = sorted(m for m in OVERSIZED if m in big and big[m] <= MAX_LINES)
    assert not fixed, f"no longer oversized, drop from OVERSIZED: {fixed}"
