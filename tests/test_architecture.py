"""The architecture rules of docs/DEVELOPING.md ("Rules the tests hold"), checked on the source.

The rules are read from the code with ``ast`` (no harmscope module is imported for rules a-c),
so a violation is found however the module behaves at import time. There are no allow-lists:
a rule that has an exception is a different rule, and belongs in DEVELOPING.md first.
``scripts/arch_report.py`` loads this file to print the same findings for the issue 11 note.

(a) no import cycles among harmscope modules (module-level imports; an import inside a
    function or under ``if TYPE_CHECKING:`` runs later or never, so it cannot make a cycle at
    load time);
(b) no command module (``harmscope/commands/<name>.py``, name without a leading underscore)
    imports another command module, statically or through ``importlib.import_module``;
    underscore helpers (``commands/_common.py``, ``commands/_validate.py``) are shared;
(c) no SQL in ``harmscope/commands/`` or ``harmscope/report/``: no string literal that reads as
    SQL and no ``.query(`` / ``.execute(`` / ``.sql(`` call with a literal; SQL lives in
    ``harmscope/store/`` (the query layer);
(d) every public function in ``harmscope/analysis`` whose first parameter is a store returns a
    ``Result`` or a declared bundle of Results (a subclass of ``analysis.result.ResultBundle``;
    declared return annotation), and a sample of them, run on the demo store, gives a
    non-empty method text (for a bundle, every member). A function that reads the store but is
    not an analysis is either private (leading underscore) or belongs in the query layer.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


# ---------------------------------------------------------------------------------------------
# Reading the source


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Every harmscope module under ``src`` by dotted name (a package by its ``__init__.py``)."""
    out = {}
    for path in sorted((src / "harmscope").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def load_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is loaded: module level, including inside ``if``,
    ``try``, ``with`` and class bodies, but not inside functions or ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from load_time_imports(node.orelse)
        else:
            for name in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, name, None)
                if isinstance(inner, list):
                    yield from load_time_imports([n for n in inner if isinstance(n, ast.AST)])


def import_targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
                   modules: dict[str, Path]) -> list[str]:
    """harmscope modules an import statement loads by name. ``from a.b import c`` loads
    ``a.b.c`` when that is a module, else ``a.b`` (c is a name in it). Parent packages run too,
    but an import of a package's own parent is not counted: that is how packages work, and
    counting it would call every ``__init__`` that imports a submodule a cycle."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        if sub in modules:
            out.append(sub)
        elif source in modules:
            out.append(source)
    return out


def import_graph(load_time_only: bool = True, src: Path = SRC) -> dict[str, dict[str, int]]:
    """module -> {imported harmscope module: line of the first such import}. Load-time imports
    only, unless ``load_time_only`` is false (then imports inside functions count too: the
    report shows those tangles, which a lazy import hides rather than removes)."""
    modules = module_files(src)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        is_package = path.name == "__init__.py"
        tree = _parse(path)
        found = (
            load_time_imports(tree.body)
            if load_time_only
            else (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
        )
        for node in sorted(found, key=lambda n: n.lineno):
            for target in import_targets(node, name, is_package, modules):
                if target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def _components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components (Tarjan) with more than one module. Recursive: the
    import chains are far shorter than Python's recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(t for t in graph[node] if t in graph):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            comp = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(comp) > 1:
                out.append(sorted(comp))

    for root in sorted(graph):
        if root not in index:
            visit(root)
    return sorted(out)


def import_cycles(graph: dict[str, dict[str, int]] | None = None,
                  limit: int = 200) -> list[list[str]]:
    """Elementary import cycles, each as a path that starts and ends at its smallest module
    (at most ``limit``; a tangle bigger than that is reported by its first cycles)."""
    graph = import_graph() if graph is None else graph
    cycles: list[list[str]] = []
    for comp in _components(graph):
        members = set(comp)
        for start in comp:  # cycles through `start` using only modules after it
            allowed = {m for m in members if m > start}
            path = [start]
            work = [iter(sorted(t for t in graph[start] if t in members))]
            while work and len(cycles) < limit:
                nxt = next(work[-1], None)
                if nxt is None:
                    work.pop()
                    path.pop()
                    continue
                if nxt == start:
                    cycles.append([*path, start])
                elif nxt in allowed and nxt not in path:
                    path.append(nxt)
                    work.append(iter(sorted(t for t in graph[nxt] if t in members)))
    return cycles


def describe_cycle(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    steps = [f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return " -> ".join([*steps, cycle[-1]])


# ---------------------------------------------------------------------------------------------
# (b) commands


def _command_modules(modules: dict[str, Path]) -> dict[str, Path]:
    return {
        name: path
        for name, path in modules.items()
        if name.startswith("harmscope.commands.")
        and name.count(".") == 2
        and not name.rsplit(".", 1)[1].startswith("_")
    }


def command_import_violations(src: Path = SRC) -> list[str]:
    modules = module_files(src)
    commands = _command_modules(modules)
    out = []
    for name, path in commands.items():
        is_package = path.name == "__init__.py"
        tree = _parse(path)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = import_targets(node, name, is_package, modules)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, (ast.Attribute, ast.Name))
                and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
                == "import_module"
                and node.args
            ):
                text = _literal_text(node.args[0])
                if text is not None and text.startswith("harmscope.commands."):
                    leaf = text[len("harmscope.commands."):]
                    if not leaf.startswith("_"):  # "{}" is a name made at run time
                        targets = [f"harmscope.commands.{leaf}"]
            for target in targets:
                if target.endswith(".{}"):
                    target = "harmscope.commands.<name made at run time> (importlib)"
                elif target == name or target not in commands:
                    continue
                out.append(f"{path.relative_to(src)}:{node.lineno}: {name} imports {target}")
    return sorted(set(out))


# ---------------------------------------------------------------------------------------------
# (c) SQL

SQL = re.compile(
    r"\bSELECT\b[\s\S]*?\bFROM\b"
    r"|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:TABLE|VIEW|INDEX|MACRO)\b"
    r"|\bDROP\s+(?:TABLE|VIEW)\b"
)
QUERY_CALLS = ("query", "execute", "executemany", "sql")


def _literal_text(node: ast.AST) -> str | None:
    """The text of a string literal, an f-string (holes as ``{}``) or a ``+`` of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left), _literal_text(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def sql_violations(src: Path = SRC) -> list[str]:
    out = []
    for name, path in module_files(src).items():
        if not name.startswith(("harmscope.commands", "harmscope.report")):
            continue
        tree = _parse(path)
        skip = _docstrings(tree)
        inner: set[int] = set()  # parts of a larger literal, reported once as the whole
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                inner.update(id(v) for v in node.values)
            elif isinstance(node, ast.BinOp) and _literal_text(node) is not None:
                inner.update({id(node.left), id(node.right)})
        where = path.relative_to(src)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERY_CALLS
                and node.args
                and _literal_text(node.args[0]) is not None
            ):
                first = _literal_text(node.args[0]).strip().splitlines()[0][:60]
                out.append(f"{where}:{node.lineno}: .{node.func.attr}() with a literal: {first!r}")
                inner.add(id(node.args[0]))
        for node in ast.walk(tree):
            if id(node) in skip or id(node) in inner:
                continue
            text = _literal_text(node)
            if text is not None and (m := SQL.search(text)):
                out.append(f"{where}:{node.lineno}: SQL literal: {m.group(0)[:60]!r}")
    return sorted(set(out), key=_by_place)


def _by_place(line: str) -> tuple[str, int]:
    path, lineno, _ = line.split(":", 2)
    return path, int(lineno)


# ---------------------------------------------------------------------------------------------
# (d) analyses return a Result


def _takes_store_first(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    params = [*fn.args.posonlyargs, *fn.args.args]
    if not params:
        return False
    first = params[0]
    annotation = ast.unparse(first.annotation).strip("'\"") if first.annotation else ""
    return first.arg == "store" or annotation.split(".")[-1] == "Store"


def store_functions(src: Path = SRC) -> list[tuple[str, str, ast.FunctionDef]]:
    """(module, function, node) for every public module-level function in harmscope.analysis
    whose first parameter is a store. Public: no leading underscore in the function's name
    nor in any part of its module's dotted name."""
    out = []
    for name, path in module_files(src).items():
        if not name.startswith("harmscope.analysis"):
            continue
        if any(part.startswith("_") for part in name.split(".")):
            continue
        for node in _parse(path).body:
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not node.name.startswith("_")
                and _takes_store_first(node)
            ):
                out.append((name, node.name, node))
    return out


def _class_name(annotation: str) -> str:
    """``pkg.Name[...]`` -> ``Name``."""
    return annotation.split("[", 1)[0].rsplit(".", 1)[-1]


def bundle_classes(src: Path = SRC) -> set[str]:
    """Names of the classes declared as a bundle of Results: ``ResultBundle`` (where the source
    defines it, in ``analysis/result.py``) and every class whose bases name a bundle class,
    directly or through another. By name: a bundle is a declaration in the source, and rule d
    reads the source."""
    bases: dict[str, set[str]] = {}
    for path in module_files(src).values():
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    _class_name(ast.unparse(b)) for b in node.bases
                )
    found = {"ResultBundle"} & bases.keys()
    while more := {name for name, of in bases.items() if of & found} - found:
        found |= more
    return found


def result_violations(src: Path = SRC) -> list[str]:
    """Store functions whose declared return is neither ``Result`` nor a declared bundle of
    Results (a ``ResultBundle`` subclass, whose members are Results: the runtime test below
    checks their method texts)."""
    out = []
    bundles = bundle_classes(src)
    for module, fn, node in store_functions(src):
        returns = ast.unparse(node.returns).strip("'\"") if node.returns else "nothing declared"
        if returns == "Result" or returns.endswith(".Result"):
            continue
        if node.returns and _class_name(returns) in bundles:
            continue
        out.append(f"{module}.{fn} (line {node.lineno}) returns {returns}, not Result")
    return out


# ---------------------------------------------------------------------------------------------
# The tests


def _fail(rule: str, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{rule}: {len(problems)} violation(s):\n  " + "\n  ".join(problems))


def test_no_import_cycles():
    graph = import_graph()
    cycles = import_cycles(graph)
    _fail("(a) import cycles among harmscope modules",
          [describe_cycle(c, graph) for c in cycles])


def test_no_command_imports_another_command():
    _fail("(b) a command module imports another command module", command_import_violations())


def test_no_sql_in_commands_or_report():
    _fail("(c) SQL outside the store and its query layer", sql_violations())


def test_store_analyses_declare_a_result():
    _fail("(d) public store functions in harmscope.analysis not returning Result",
          result_violations())


# --- the rules' own checks can fail: each finds a planted violation ---------------------------


def test_cycle_finder_finds_and_orders_a_planted_cycle():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}, "e": {"e": 5}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
    assert describe_cycle(["a", "b", "c", "a"], graph) == "a (line 1) -> b (line 2) -> c (line 3) -> a"
    # Two cycles sharing a module are both reported.
    graph = {"a": {"b": 1, "c": 1}, "b": {"a": 1}, "c": {"a": 1}}
    assert import_cycles(graph) == [["a", "b", "a"], ["a", "c", "a"]]


def test_load_time_imports_skip_functions_and_type_checking():
    tree = ast.parse(
        "import x\n"
        "if TYPE_CHECKING:\n    import hidden\nelse:\n    import shown\n"
        "try:\n    import tried\nexcept ImportError:\n    import fallback\n"
        "def f():\n    import late\n"
        "class C:\n    import in_class\n"
    )
    names = [a.name for n in load_time_imports(tree.body) for a in n.names]
    assert names == ["x", "shown", "tried", "fallback", "in_class"]


def test_import_targets_resolve_relative_and_from_imports():
    modules = {"harmscope.analysis": Path(), "harmscope.analysis.harm": Path(),
               "harmscope.analysis.compare": Path()}
    node = ast.parse("from . import harm, something").body[0]
    assert import_targets(node, "harmscope.analysis.compare", False, modules) == [
        "harmscope.analysis.harm", "harmscope.analysis"]
    node = ast.parse("from harmscope.analysis.harm import parse_month").body[0]
    assert import_targets(node, "x", False, modules) == ["harmscope.analysis.harm"]


def test_sql_pattern_tells_sql_from_prose():
    for text in ("SELECT count(*) AS n FROM street_crimes", "INSERT INTO t VALUES (?)",
                 "CREATE OR REPLACE TEMP TABLE x AS", "DELETE FROM audit_log",
                 "UPDATE ingests SET status = ?"):
        assert SQL.search(text), text
    for text in ("select the areas from the store", "Select a scheme from the list",
                 "create a table of results", "SELECT"):
        assert not SQL.search(text), text
    node = ast.parse('f"SELECT a FROM {t} " + "WHERE b"').body[0].value
    assert _literal_text(node) == "SELECT a FROM {} WHERE b"


def test_rules_b_c_d_find_planted_violations(tmp_path):
    files = {
        "harmscope/__init__.py": "",
        "harmscope/commands/__init__.py": "",
        "harmscope/commands/_common.py": "X = 1\n",
        "harmscope/commands/a.py": (
            "from harmscope.commands import _common, b\n"
            "import importlib\n"
            "def f(n):\n"
            "    import harmscope.commands.b\n"
            "    importlib.import_module(f'harmscope.commands.{n}')\n"
            "    importlib.import_module('harmscope.commands._common')\n"
        ),
        "harmscope/commands/b.py": '"""SELECT a FROM docstrings is fine."""\nX = 1\n',
        "harmscope/report/__init__.py": "",
        "harmscope/report/s.py": (
            "def f(store, t):\n"
            "    store.query('SELECT count(*) FROM ' + t)\n"
            "    store.con.execute(f'DELETE FROM {t}')\n"
            "    q = f'SELECT a FROM {t}'\n"
            "    return 'select the areas from the list'\n"
        ),
        "harmscope/analysis/__init__.py": "",
        "harmscope/analysis/x.py": (
            "def good(store, n=1) -> Result: ...\n"
            "def bad(store) -> pd.DataFrame: ...\n"
            "def _private(store): ...\n"
            "def other(data): ...\n"
            "class Bundle(result.ResultBundle): ...\n"
            "class Inner(Bundle): ...\n"
            "class Loose: ...\n"
            "def bundled(store) -> Inner: ...\n"
            "def loose(store) -> Loose: ...\n"
        ),
        "harmscope/analysis/result.py": "class ResultBundle: ...\n",
        "harmscope/analysis/_y.py": "def helper(store): ...\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert command_import_violations(tmp_path) == [
        "harmscope/commands/a.py:1: harmscope.commands.a imports harmscope.commands.b",
        "harmscope/commands/a.py:4: harmscope.commands.a imports harmscope.commands.b",
        "harmscope/commands/a.py:5: harmscope.commands.a imports harmscope.commands."
        "<name made at run time> (importlib)",
    ]
    assert sql_violations(tmp_path) == [
        "harmscope/report/s.py:2: SQL literal: 'SELECT count(*) FROM'",  # the literal part
        "harmscope/report/s.py:3: .execute() with a literal: 'DELETE FROM {}'",
        "harmscope/report/s.py:4: SQL literal: 'SELECT a FROM'",
    ]
    assert result_violations(tmp_path) == [
        "harmscope.analysis.x.bad (line 2) returns pd.DataFrame, not Result",
        "harmscope.analysis.x.loose (line 9) returns Loose, not Result",
    ]


# --- (d) at run time: a sample of analyses on the demo store ---------------------------------

# Analyses that run on the bundled sample alone (police street and stop-and-search data) in
# about a second each, named by their package's public path so a move inside the package does
# not break the sample. (Knox takes ~10 s a run, people/ED/network analyses need other data.)
RUNTIME_SAMPLE = [
    ("harmscope.analysis.harm", "harm_by_area"),
    ("harmscope.analysis.harm", "concentration"),
    ("harmscope.analysis.harm", "smoothed_lsoa_rates"),
    ("harmscope.analysis.harm", "rural_urban"),
    ("harmscope.analysis.hotspots", "hotspots"),
    ("harmscope.analysis.trends", "alerts"),
    ("harmscope.analysis.stopsearch", "hit_rate_test"),
    ("harmscope.analysis.stopsearch", "outcome_figures"),
    ("harmscope.analysis.stopsearch", "scrutiny"),  # a bundle of Results
]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from importlib import resources

    from harmscope.sources.ingest import ingest_paths
    from harmscope.store import Store

    sample = Path(str(resources.files("harmscope") / "sample" / "police"))  # what `demo` loads
    path = tmp_path_factory.mktemp("arch") / "demo.duckdb"
    with Store.open(path) as store:
        assert ingest_paths(store, [sample]).ok
    store = Store.open(path, read_only=True)
    yield store
    store.close()


@pytest.mark.parametrize(("module", "name"), RUNTIME_SAMPLE)
def test_store_analyses_return_a_result_with_a_method_text(demo_store, module, name):
    import importlib

    from harmscope.analysis.result import Result, ResultBundle

    fn = getattr(importlib.import_module(module), name)
    params = list(inspect.signature(fn).parameters.values())[1:]
    assert all(p.default is not p.empty or p.kind is p.VAR_KEYWORD for p in params), (
        f"{module}.{name} needs more than a store; pick another sample"
    )
    res = fn(demo_store)
    if isinstance(res, ResultBundle):  # a declared bundle: every member is a Result
        members = res.members()
        assert members, f"{module}.{name} returned an empty bundle"
    else:
        members = {"": res}
    for key, member in members.items():
        what = f"{module}.{name}" + (f"[{key!r}]" if key else "")
        assert isinstance(member, Result), f"{what} returned {type(member).__name__}"
        assert member.method.strip(), f"{what} returned a Result with no method text"
