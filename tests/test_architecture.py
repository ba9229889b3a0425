"""The package's shape (docs/DEVELOPING.md, "Layout"), checked from its source: no import circle, nothing
imports upward, HTTP-free layers import no HTTP stack, no module over 600 lines, no block of six or
more lines written twice. Module-level imports count (imports under ``TYPE_CHECKING`` or inside a
function run later, when the importing module is complete, and are the way light modules defer
heavy ones)."""

from __future__ import annotations

import ast
import hashlib
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "airflow_provider_dialers"
NAME = "airflow_provider_dialers"
MAX_LINES = 600
HTTP_STACK = ("requests", "urllib3", "tenacity", "aiohttp", "airflow.providers.http")

#: Layers, lowest first: a module may import (at module level) only from its own layer or lower ones.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "retry_policy", "_lazy", "get_provider_info", "compat", "phone_forms", "answer_times", "__init__"),
    ("contacts",),
    ("capabilities",),
    ("common",),
    ("vendors",),
    ("hooks",),
    ("uploads",),
    ("triggers",),
    ("sensors", "operators"),
]
#: The sandbox is a server of its own: it imports none of the client's layers.
SANDBOX = "sandbox"
#: Modules that hold no HTTP code: they must not import the HTTP stack, even through other modules.
HTTP_FREE = re.compile(
    r"^airflow_provider_dialers\.(errors|retry_policy|_lazy|compat|phone_forms|answer_times|contacts|capabilities|get_provider_info|__init__"
    r"|vendors\.\w+\.(wire|records|__init__)|uploads\.\w+|operators\.\w+|sensors\.\w+|triggers\.\w+)$"
)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1 and parts[:-1] != [NAME]:
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(module: str, path: Path, *, typing_too: bool = False) -> set[str]:
    """Every module imported when ``module`` is imported (not in a function; under TYPE_CHECKING only
    with ``typing_too``: such an import runs for a type checker, and a reader follows it all the same)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base]) if base else ".".join(anchor)
                found.add(base)
                for alias in node.names:  # ``from pkg import module`` imports that module too
                    if f"{base}.{alias.name}" in MODULES:
                        found.add(f"{base}.{alias.name}")
            elif isinstance(node, ast.If) and (typing_too or not _is_type_checking(node)):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return found


def _graph(*, typing_too: bool = False) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges = set()
        for target in _module_level_imports(module, path, typing_too=typing_too):
            # ``import a.b.c`` runs a, a.b and a.b.c: each package on the way is imported.
            # A module's own enclosing packages are already imported: only a named one is an edge.
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                candidate = ".".join(parts[:end])
                enclosing = module.startswith(candidate + ".") and candidate != target
                if candidate in MODULES and candidate != module and not enclosing:
                    edges.add(candidate)
        graph[module] = edges
    return graph


GRAPH = _graph()  # what runs on import
TYPED_GRAPH = _graph(typing_too=True)  # what a reader (and a type checker) follows


def _external_imports(module: str) -> set[str]:
    return {t for t in _module_level_imports(module, MODULES[module]) if not t.startswith(NAME)}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    return None


def _circles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]

    def strong(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in TYPED_GRAPH[node]:
            if target not in index:
                strong(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in TYPED_GRAPH:
        if node not in index:
            strong(node)
    return result


def test_the_package_sits_at_the_repository_root():
    assert PACKAGE.is_dir() and not (ROOT / "src").exists()
    assert {"airflow_provider_dialers", "example_dags", "tests", "pyproject.toml", "README.md"} <= {
        p.name for p in ROOT.iterdir()
    }


def test_no_import_circles():
    assert _circles() == []


def test_the_check_finds_a_circle_when_there_is_one(monkeypatch):
    assert f"{NAME}.errors" in TYPED_GRAPH[f"{NAME}.capabilities"]
    monkeypatch.setitem(TYPED_GRAPH, f"{NAME}.errors", TYPED_GRAPH[f"{NAME}.errors"] | {f"{NAME}.capabilities"})
    assert [f"{NAME}.capabilities", f"{NAME}.errors"] in _circles()


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_nothing_imports_upward_and_the_sandbox_stands_alone():
    climbing = []
    for module, targets in TYPED_GRAPH.items():
        for target in targets:
            in_sandbox, to_sandbox = _top(module) == SANDBOX, _top(target) == SANDBOX
            if in_sandbox != to_sandbox:
                climbing.append(f"{module} -> {target} (the sandbox and the client share no code)")
            elif not in_sandbox and _layer(target) > _layer(module):
                climbing.append(f"{module} -> {target}")
    assert climbing == []


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _top(m) != SANDBOX and _layer(m) is None] == []


def test_every_vendor_has_the_same_layers():
    vendors = sorted(p.name for p in (PACKAGE / "vendors").iterdir() if p.is_dir() and not p.name.startswith("_"))
    assert vendors == ["ameyo", "expertflow", "maxcontact", "sinch"]
    for vendor in vendors:
        names = {p.stem for p in (PACKAGE / "vendors" / vendor).glob("*.py")}
        assert {"__init__", "wire", "records", "auth", "api", "hook"} <= names, vendor


def _reaches_http(module: str, seen: set[str] | None = None) -> str | None:
    """The first HTTP-stack import reached from ``module`` through module-level imports, as a path."""
    seen = set() if seen is None else seen
    seen.add(module)
    for external in _external_imports(module):
        if external.startswith(HTTP_STACK):
            return f"{module} imports {external}"
    for target in GRAPH[module]:
        if target not in seen:
            found = _reaches_http(target, seen)
            if found:
                return f"{module} -> {found}"
    return None


def test_modules_without_http_code_import_no_http_stack():
    offenders = [path for m in MODULES if HTTP_FREE.match(m) and (path := _reaches_http(m))]
    assert offenders == []


def test_no_module_is_over_600_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


# -- copied blocks ------------------------------------------------------------------------------------
_TRIVIAL = re.compile(r"^([)\]}:,]*|\"\"\"|pass|else:|try:|finally:|return|continue|break)$")


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, normalised text) of the lines that carry code: no blank, comment, import or
    docstring line, white space folded."""
    text = path.read_text()
    skip: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        is_all = isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
        if isinstance(node, (ast.Import, ast.ImportFrom)) or is_all:  # import lists are not logic
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                skip.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = " ".join(raw.split("#", 1)[0].split()) if "#" in raw and '"' not in raw and "'" not in raw else " ".join(raw.split())
        if number in skip or not line or line.startswith("#") or _TRIVIAL.match(line):
            continue
        lines.append((number, line))
    return lines


def copied_blocks(paths: list[Path], size: int = 6) -> list[str]:
    """Places where the same ``size`` code lines stand in two places (exact, after normalising)."""
    seen: dict[str, tuple[Path, int]] = {}
    pairs: dict[tuple[Path, Path], tuple[int, int]] = {}
    for path in paths:
        lines = _code_lines(path)
        last_end: dict[str, int] = defaultdict(lambda: -1)
        for start in range(len(lines) - size + 1):
            window = lines[start : start + size]
            digest = hashlib.sha1("\n".join(text for _, text in window).encode()).hexdigest()
            first = seen.get(digest)
            if first is None:
                seen[digest] = (path, window[0][0])
            elif first[0] != path or first[1] + size <= window[0][0] and last_end[digest] < window[0][0]:
                pairs.setdefault((first[0], path), (first[1], window[0][0]))
            last_end[digest] = window[-1][0]
    return [f"{a.relative_to(ROOT)}:{la} ~ {b.relative_to(ROOT)}:{lb}" for (a, b), (la, lb) in pairs.items()]


def test_no_block_of_six_code_lines_is_written_twice_in_the_package():
    assert copied_blocks(sorted(MODULES.values())) == []


def test_the_copy_check_finds_a_copied_block(tmp_path):
    block = "".join(f"    value_{i} = compute({i}, factor={i * 3})\n" for i in range(7))
    (tmp_path / "a.py").write_text(f"def f():\n{block}")
    (tmp_path / "b.py").write_text(f"def g():\n    x = 1\n{block}")
    globals()["ROOT"], saved = tmp_path, ROOT
    try:
        found = copied_blocks([tmp_path / "a.py", tmp_path / "b.py"])
    finally:
        globals()["ROOT"] = saved
    assert found == ["a.py:2 ~ b.py:3"]
