"""The runtime package never reaches into the dev tooling, and its module-level imports form no
cycle (CONTRIBUTING.md, "Runtime and dev tooling").

Read from the source with ``ast`` (nothing is imported): every ``import``/``from`` statement at
any depth (module level, functions, ``TYPE_CHECKING`` blocks) and every string literal passed to
``importlib.import_module``/``__import__`` counts for the dev rule; the cycle check follows the
statements that run when a module is imported (module level, outside ``if TYPE_CHECKING:``).
"""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "include" / "seller_inbox"
DEV = "seller_inbox_dev"


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _absolute(mod: str | None, level: int, here: str, is_pkg: bool) -> str:
    """The absolute name a (possibly relative) import statement names."""
    if not level:
        return mod or ""
    base = here.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([mod] if mod else []))


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def imports(source: str, here: str, is_pkg: bool = False) -> tuple[set[str], set[tuple[str, ...]]]:
    """(every module name the source may import, the module-level imports).

    ``from a.b import c`` names both ``a.b`` and ``a.b.c`` (c may be a submodule); a module-level
    import is a tuple of candidates, the first one that is a module being what it loads
    (``("a.b.c", "a.b")``: the submodule c if there is one, else the module a.b)."""
    tree = ast.parse(source)
    every: set[str] = set()
    top: set[tuple[str, ...]] = set()

    def candidates(node) -> set[tuple[str, ...]]:
        if isinstance(node, ast.Import):
            return {(a.name,) for a in node.names}
        base = _absolute(node.module, node.level, here, is_pkg)
        return {(f"{base}.{a.name}", base) if a.name != "*" else (base,) for a in node.names}

    def visit(node, at_top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                got = candidates(child)
                every.update(name for cands in got for name in cands)
                if at_top:
                    top.update(got)
            elif isinstance(child, ast.Call):
                f = child.func
                fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                if fname in ("import_module", "__import__") and child.args and isinstance(child.args[0], ast.Constant) \
                        and isinstance(child.args[0].value, str):
                    every.add(child.args[0].value)
                visit(child, False)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                # a class body runs at import time; function bodies do not
                visit(child, at_top and isinstance(child, ast.ClassDef))
            elif isinstance(child, ast.If) and _is_type_checking(child):
                visit(child, False)
            else:
                visit(child, at_top)

    visit(tree, True)
    return every, top


def dev_imports(files: dict[str, tuple[str, bool]]) -> list[str]:
    """``module: imported name`` for every reach into the dev package."""
    bad = []
    for mod, (src, is_pkg) in sorted(files.items()):
        every, _ = imports(src, mod, is_pkg)
        bad += [f"{mod}: {name}" for name in sorted(every) if name == DEV or name.startswith(DEV + ".")]
    return bad


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [m1, m2, ..., m1], or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def dfs(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = dfs(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = dfs(n)
            if found:
                return found
    return None


def import_graph(files: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module-level edges between the given modules only. A package's ``__init__`` that Python
    runs before a submodule is not an edge: ``from pkg import sub`` in pkg's own modules is fine."""
    graph = {}
    for mod, (src, is_pkg) in files.items():
        _, top = imports(src, mod, is_pkg)
        loads = {next((c for c in cands if c in files), None) for cands in top}
        graph[mod] = {m for m in loads if m and m != mod}
    return graph


def _runtime_files() -> dict[str, tuple[str, bool]]:
    return {module_name(p, RUNTIME): (p.read_text(encoding="utf-8"), p.name == "__init__.py")
            for p in sorted(RUNTIME.rglob("*.py")) if "__pycache__" not in p.parts}


def test_runtime_package_never_imports_the_dev_package():
    files = _runtime_files()
    assert len(files) > 50 and "seller_inbox.cli" in files
    bad = dev_imports(files)
    assert not bad, "seller_inbox must not import seller_inbox_dev (register dev commands through the " \
                    "seller_inbox.commands entry points instead):\n" + "\n".join(bad)


def test_runtime_module_level_imports_have_no_cycle():
    cycle = find_cycle(import_graph(_runtime_files()))
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle)


def test_the_checks_can_fail():
    """A synthetic package with every kind of reach into the dev package, and a cycle."""
    files = {
        "seller_inbox.a": ("import seller_inbox_dev.sandbox\nfrom seller_inbox import b\n", False),
        "seller_inbox.b": ("def f():\n    from seller_inbox_dev.demo import run\n"
                           "from seller_inbox.c import x\n", False),
        "seller_inbox.c": ("import importlib\nfrom . import a\n"
                           "def g():\n    return importlib.import_module('seller_inbox_dev.classify.train')\n"
                           "x = 1\n", False),
        "seller_inbox.d": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from seller_inbox_dev import y\n"
                           "    from seller_inbox import a\n", False),
        "seller_inbox.e": ("def h():\n    from seller_inbox import d\nclass K:\n    from seller_inbox import a\n", False),
        "seller_inbox": ("from seller_inbox import e\n", True),
        "seller_inbox.f": ("from seller_inbox import e\n", False),  # e, not the package's __init__
    }
    assert dev_imports(files) == [
        "seller_inbox.a: seller_inbox_dev.sandbox", "seller_inbox.b: seller_inbox_dev.demo",
        "seller_inbox.b: seller_inbox_dev.demo.run", "seller_inbox.c: seller_inbox_dev.classify.train",
        "seller_inbox.d: seller_inbox_dev", "seller_inbox.d: seller_inbox_dev.y"]
    graph = import_graph(files)
    assert graph["seller_inbox.d"] == set()  # TYPE_CHECKING imports do not run
    assert graph["seller_inbox.e"] == {"seller_inbox.a"}  # a class body does; a function body does not
    assert graph["seller_inbox.f"] == {"seller_inbox.e"} and graph["seller_inbox.a"] == {"seller_inbox.b"}
    assert find_cycle(graph) == ["seller_inbox.a", "seller_inbox.b", "seller_inbox.c", "seller_inbox.a"]
    del files["seller_inbox.c"]
    assert find_cycle(import_graph(files)) is None


SPAPI = Path(__file__).resolve().parents[2] / "include" / "seller_inbox" / "spapi"
ADAPTER_HOOKS = {"_check_response"}  # the one documented override in spapi/library.py (docs/spapi.md)


def _private_attributes(source: str) -> set[str]:
    return {n.attr for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Attribute) and n.attr.startswith("_") and not n.attr.startswith("__")}


def test_spapi_modules_are_small_and_only_the_adapter_touches_the_library():
    modules = sorted(SPAPI.glob("*.py"))
    assert len(modules) >= 10
    for p in modules:
        text = p.read_text()
        assert len(text.splitlines()) <= 300, f"{p.name}: over 300 lines"
        if p.name != "library.py":  # other modules may catch the library's exception, never reach inside it
            assert "sp_api.api" not in text and "sp_api.auth" not in text, p.name
    assert _private_attributes((SPAPI / "library.py").read_text()) <= ADAPTER_HOOKS
    assert _private_attributes("client._transport.request(); x._auth._get_cache_key()") == {"_transport", "_auth", "_get_cache_key"}
