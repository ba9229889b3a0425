"""The documentation's examples run: every ```python block of README.md and docs/*.md, against the sandbox.

* A block that defines a DAG (``DAG(`` or ``@dag``) is written to a DAGs folder and run to success
  with Airflow 3's ``dag.test()``, in the session's long-lived child process (the ``dag_runner``
  fixture, ``tests/dag_runner.py``) with its own SQLite metadata DB. Its first ``dag.test()`` builds
  Airflow's in-process Execution API (the slow part); it does that while this process runs the other
  blocks. The sandbox dials at 200 contacts a second for DAG blocks, as ``./scripts/demo.sh`` runs
  it, so sensors see campaigns end.
* Every other block (hook calls, the contact model, the sandbox from Python) is ``exec``'d here,
  against the session's sandbox in its seeded state, dialing only when the block says so itself
  (``SandboxClient.advance`` / ``configure``). Each block gets a fresh namespace, a fresh sandbox
  state (the ``sandbox`` fixture) and its own working directory; ``os.environ`` is restored after.

Each block is its own test, named ``<file>:<line of its opening fence>``. Blocks that are not
runnable Python (shell commands, output samples, file contents) are fenced as ``bash``/``text``/...,
never ``python``. Also checked: README.md is at most 300 lines, and every relative link of README.md
and docs/*.md points at an existing file (and heading, for ``#anchors``).
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 300
#: Contacts per second each simulated dialer settles while a DAG example runs (the demo's rate).
DAG_DIAL_RATE = 200

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_DEFINES_DAG = re.compile(r"(^|\W)DAG\(|^\s*@dag\b", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def defines_dag(self) -> bool:
        return bool(_DEFINES_DAG.search(self.code))


def fenced_blocks(path: Path) -> list[tuple[int, int, str, str]]:
    """``(opening fence line, closing fence line, language, code)`` of every fenced block of a Markdown file."""
    blocks = []
    lines = path.read_text(encoding="utf-8").splitlines()
    opening: tuple[int, str, str, str] | None = None  # (line, fence, indent, language)
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        match = _FENCE.match(line)
        if opening is None:
            if match:
                opening = (number, match["fence"], match["indent"], match["info"].lower())
                body = []
        elif match and match["fence"].startswith(opening[1][0]) and len(match["fence"]) >= len(opening[1]) \
                and not match["info"]:
            blocks.append((opening[0], number, opening[3], textwrap.dedent("\n".join(body))))
            opening = None
        else:
            body.append(line)
    assert opening is None, f"{path.name}: the code block opened at line {opening[0]} is never closed"
    return blocks


def python_blocks() -> list[Block]:
    return [Block(path, line, code) for path in DOC_FILES for line, _, language, code in fenced_blocks(path)
            if language in ("python", "py", "python3")]


BLOCKS = python_blocks()
DAG_BLOCKS = [block for block in BLOCKS if block.defines_dag]
CALL_BLOCKS = [block for block in BLOCKS if not block.defines_dag]


def test_the_docs_have_examples_of_both_kinds():
    assert len(DAG_BLOCKS) >= 3 and len(CALL_BLOCKS) >= 5, [b.name for b in BLOCKS]


# -- blocks run in this process ------------------------------------------------------------------

@pytest.mark.parametrize("block", CALL_BLOCKS, ids=[block.name for block in CALL_BLOCKS])
def test_example_runs(block: Block, sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = dict(os.environ)
    # Padded so that a traceback names the Markdown file and the line in it.
    code = compile("\n" * block.line + block.code, str(block.path), "exec")
    try:
        exec(code, {"__name__": "__docs_example__"})
    finally:
        os.environ.clear()
        os.environ.update(environ)


# -- DAG blocks: dag.test() in the runner process (it starts with this module: tests/conftest.py) ----

@pytest.mark.parametrize("block", DAG_BLOCKS, ids=[block.name for block in DAG_BLOCKS])
def test_dag_example_runs_to_success(block: Block, sandbox, dag_runner):
    sandbox.client.configure(dial_rate=DAG_DIAL_RATE)
    stem = re.sub(r"\W", "_", block.name.replace(".md", "")).lower()
    path = dag_runner.dags / f"docs_{stem}.py"
    path.write_text(block.code)
    try:
        result, output = dag_runner.run(path)
    finally:
        path.unlink()  # one example at a time in the DAGs folder: their dag_ids may repeat
    log = "\n".join(output[-150:])
    assert result is not None, f"{block.name}: the DAG runner gave no result\n{log}"
    assert result["ok"], f"{block.name}: {result}\n{log}"


# -- README length and links ----------------------------------------------------------------------

def test_readme_is_at_most_300_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\((?P<target>[^()\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE_SPAN = re.compile(r"`+[^`]*`+")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading (lower case, punctuation dropped, spaces to hyphens)."""
    text = re.sub(r"[`*_]{1,2}(?=\S)|(?<=\S)[`*_]{1,2}", "", heading.strip()).lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def fenced_lines(path: Path) -> set[int]:
    """Line numbers inside fenced code blocks, the fences included."""
    return {number for start, end, _, _ in fenced_blocks(path) for number in range(start, end + 1)}


def anchors(path: Path) -> set[str]:
    found, counts = set(), {}
    in_fence = fenced_lines(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number in in_fence or not (match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)):
            continue
        anchor = github_anchor(match[1])
        found.add(anchor if anchor not in counts else f"{anchor}-{counts[anchor]}")
        counts[anchor] = counts.get(anchor, 0) + 1
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    links, in_fence = [], fenced_lines(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number in in_fence:
            continue
        for link in _LINK.finditer(_CODE_SPAN.sub("", line)):
            target = link["target"]
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
                links.append((number, target))
    return links


@pytest.mark.parametrize("doc", DOC_FILES, ids=[str(path.relative_to(ROOT)) for path in DOC_FILES])
def test_relative_links_point_at_existing_files(doc: Path):
    broken = []
    for number, target in relative_links(doc):
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.exists():
            broken.append(f"line {number}: {target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"line {number}: {target} (no such heading in {linked.name})")
    assert not broken, f"{doc.relative_to(ROOT)}:\n" + "\n".join(broken)
