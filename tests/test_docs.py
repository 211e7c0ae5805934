"""Every code block of README.md and docs/**/*.md runs, or says why it cannot run offline.

A docs example that nobody runs goes stale without anyone noticing (issue 15: the recipe example of
docs/training.md did). So each fenced block is one test item, named ``FILE:LINE`` of its opening fence,
and new pages are collected by the glob. A block that cannot run offline carries an HTML comment on the
line(s) right before its fence (invisible on GitHub and in mkdocs):

``<!-- not run: REASON -->``
    the whole block is not run; the item is skipped with REASON (say what it needs and which test
    covers it instead: "downloads horse2zebra", "trains for minutes: tests/test_toy_runs.py runs it").
``<!-- not run "PATTERN" "PATTERN": REASON -->``
    only the command lines of a shell block matching a pattern (``fnmatch``, against the command with
    its comment stripped and spaces normalised) are not run. A pattern that matches no line fails, so
    markers do not outlive the lines they excuse.
``<!-- dry run: REASON -->``
    each ``ganzoo run`` line of a shell block runs with ``--dry-run`` added: the run's specification is
    built and checked (components, options, settings, data mode) and nothing trains, so a command that
    would train for minutes (or on a data set not downloaded) is still checked to be right. REASON says
    why it cannot run whole; other lines run as they are.
``<!-- setup: ganzoo COMMAND -->``
    a command run before a shell block's own, hidden from the reader: a tiny run that the block's
    ``runs/cyclegan/NAME`` stands for. Setups must succeed like the block's commands.

How each language runs:

- ``python``: a page's runnable Python blocks run in order in one namespace (later blocks build on
  earlier ones), in a subprocess per page (blocks register components, and ganzoo.plugins is global
  state that must not leak into other tests) with a temporary working directory on ``sys.path``, the
  caches that tests/conftest.py's ``isolated_caches`` sets, and ``OMP_NUM_THREADS=1``. The page runs
  once per session; each block's item reports that block's result, with the traceback's line numbers
  those of the Markdown file. A block whose first line is a file name comment (``# my_plugin/step.py``)
  is that file: it is written there and imported as a module (``my_plugin.step``), as a reader would.
  The first failure stops the page: the blocks after it fail as not reached.
- ``bash``, ``sh``, ``shell``, ``console``: each command line (``\\`` continuations joined, ``# ...``
  comments stripped; in ``console`` blocks only the ``$ `` lines) must be a ``ganzoo`` command and is run
  through the CLI of the code under test in a fresh interpreter, in a temporary folder per block, and
  must exit 0 within ``COMMAND_TIMEOUT``. Any other line (``make install``, ``pip install``, ``source``,
  ``.venv/bin/ganzoo``) is not something this test can run safely, so it needs a ``not run`` marker.
- ``toml`` and ``json`` blocks must parse.
- Blocks with no language or ``text`` are program output, not code, and have no item. Any other
  language fails until it gets a runner here or a ``not run`` marker.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]

PYTHON = {"python", "py", "python3"}
SHELL = {"bash", "sh", "shell", "console"}
OUTPUT = {"", "text"}
#: Seconds one shell command (a tiny run, a listing) may take; a longer one is a docs example that
#: trains for minutes and should be marked.
COMMAND_TIMEOUT = 120
#: Seconds the Python blocks of one page may take together.
PAGE_TIMEOUT = 300

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
NOT_RUN = re.compile(r'^not run(?P<patterns>(?:\s*,?\s*"[^"]+")*)\s*:\s*(?P<reason>.*)$', re.DOTALL)
SETUP = re.compile(r"^setup:\s*(?P<command>.+)$", re.DOTALL)
DRY_RUN = re.compile(r"^dry run\s*:\s*(?P<reason>.*)$", re.DOTALL)
FILE_COMMENT = re.compile(r"^#\s*(?P<path>[\w./-]+\.py)\b")


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (1-based line of the opening fence), its language and text, and
    the markers right above it."""

    path: str
    line: int
    lang: str
    code: str
    not_run: str | None = None  # the reason, when the whole block is not run
    line_markers: tuple[tuple[tuple[str, ...], str], ...] = ()  # (patterns, reason) for some lines
    setup: tuple[str, ...] = ()
    dry_run: str | None = None  # the reason, when the block's ``ganzoo run`` lines only check their spec
    errors: tuple[str, ...] = ()  # malformed markers

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def comments_above(lines: list[str], index: int) -> tuple[list[str], set[int]]:
    """The HTML comments on the lines right above ``lines[index]`` (top to bottom), and their line indices."""
    found, used, i = [], set(), index - 1
    while i >= 0 and lines[i].strip().endswith("-->"):
        end = i
        while i >= 0 and "<!--" not in lines[i]:
            i -= 1
        if i < 0:
            break
        text = " ".join(line.strip() for line in lines[i:end + 1])
        found.insert(0, text[text.index("<!--") + 4:text.rindex("-->")].strip())
        used.update(range(i, end + 1))
        i -= 1
    return found, used


def parse_blocks(text: str, path: str) -> tuple[list[Block], list[int]]:
    """The fenced blocks of a Markdown text, and the 1-based lines of markers attached to no block."""
    lines = text.splitlines()
    blocks, attached, i = [], set(), 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        end = i + 1
        while end < len(lines) and not (lines[end].strip().startswith(fence[0] * len(fence))
                                        and not lines[end].strip().strip(fence[0])):
            end += 1
        code = textwrap.dedent("\n".join(line[indent:] if line[:indent].isspace() else line
                                         for line in lines[i + 1:end]))
        comments, used = comments_above(lines, i)
        attached |= used
        blocks.append(make_block(path, i + 1, match["lang"].lower(), code + "\n", comments))
        i = end + 1
    orphans = [n + 1 for n, line in enumerate(lines)
               if re.match(r"\s*<!--\s*(not run|setup|dry run)\b", line) and n not in attached]
    return blocks, orphans


def make_block(path: str, line: int, lang: str, code: str, comments: list[str]) -> Block:
    not_run, dry_run, line_markers, setup, errors = None, None, [], [], []
    for comment in comments:
        if match := NOT_RUN.match(comment):
            reason = " ".join(match["reason"].split())
            patterns = tuple(re.findall(r'"([^"]+)"', match["patterns"]))
            if not reason:
                errors.append(f"a 'not run' marker without a reason: <!-- {comment} -->")
            elif patterns:
                line_markers.append((patterns, reason))
            else:
                not_run = reason
        elif match := SETUP.match(comment):
            setup.append(" ".join(match["command"].split()))
        elif match := DRY_RUN.match(comment):
            dry_run = " ".join(match["reason"].split())
            if not dry_run:
                errors.append(f"a 'dry run' marker without a reason: <!-- {comment} -->")
        elif comment.startswith(("not run", "setup", "dry run")):
            errors.append(f"a malformed marker: <!-- {comment} -->")
    return Block(path, line, lang, code, not_run, tuple(line_markers), tuple(setup), dry_run, tuple(errors))


def collect() -> list[Block]:
    blocks = []
    for file in DOC_FILES:
        found, _ = parse_blocks(file.read_text(encoding="utf-8"), file.relative_to(ROOT).as_posix())
        blocks += [b for b in found if b.lang not in OUTPUT]
    return blocks


BLOCKS = collect()


# -- shell blocks -----------------------------------------------------------------------------------


def command_lines(block: Block) -> list[tuple[int, str, list[str]]]:
    """``(line in the file, normalised command, argv)`` for each command of a shell block."""
    commands, pending, start = [], "", 0
    for offset, raw in enumerate(block.code.splitlines(), start=1):
        line = raw.rstrip()
        if block.lang == "console":
            if not pending and not line.startswith("$ "):
                continue  # output
            line = line[2:] if not pending else line
        if not pending:
            start = block.line + offset
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        argv = shlex.split(pending + line, comments=True)
        pending = ""
        if argv:
            commands.append((start, " ".join(argv), argv))
    return commands


def run_ganzoo(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``argv`` (``ganzoo ...``) through the CLI of the code under test (not the console script, which
    may belong to another checkout), with one thread as the docs' timings assume."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-c", "from ganzoo.cli import main; main()", *argv[1:]],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)


def dry(argv: list[str]) -> list[str]:
    """A ``ganzoo run`` command that only builds and checks its specification (others unchanged)."""
    return [*argv, "--dry-run"] if argv[:2] == ["ganzoo", "run"] else argv


def check_shell(block: Block, tmp_path: Path) -> None:
    commands = command_lines(block)
    skipped, unused = {}, []
    for patterns, reason in block.line_markers:
        for pattern in patterns:
            hits = [line for line, text, _ in commands if fnmatch.fnmatchcase(text, pattern)]
            unused += [] if hits else [pattern]
            skipped.update({line: reason for line in hits})
    if unused:
        pytest.fail(f"{block.id}: 'not run' patterns that match no command of the block: {unused}", pytrace=False)
    setups = [(f"{block.id} (setup)", shlex.split(command)) for command in block.setup]
    todo = setups + [(f"{block.path}:{line}", dry(argv) if block.dry_run else argv)
                     for line, _, argv in commands if line not in skipped]
    if not todo:
        pytest.fail(f"{block.id}: every command is marked not run; mark the block <!-- not run: ... -->", pytrace=False)
    for where, argv in todo:
        if argv[0] != "ganzoo":
            pytest.fail(f"{where}: {' '.join(argv)!r} is not a ganzoo command, the only kind this test runs: mark it "
                        "<!-- not run \"PATTERN\": REASON --> or the block <!-- not run: REASON -->", pytrace=False)
        try:
            result = run_ganzoo(argv, tmp_path)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{where}: {' '.join(argv)} ran over {COMMAND_TIMEOUT} s: give it tiny settings, or "
                        "mark it not run naming the test that covers it", pytrace=False)
        if result.returncode != 0:
            pytest.fail(f"{where}: {' '.join(argv)} exited {result.returncode}\n{result.stdout[-1500:]}\n"
                        f"{result.stderr[-3000:]}", pytrace=False)


# -- python blocks ----------------------------------------------------------------------------------

#: Runs one page's blocks in order in one namespace and writes each one's outcome as JSON. The code is
#: padded with newlines so that tracebacks name the lines of the Markdown file.
PAGE_RUNNER = r"""
import importlib, json, os, sys, traceback
from pathlib import Path

blocks, out = json.loads(sys.stdin.read()), sys.argv[1]
sys.path.insert(0, os.getcwd())
namespace, results = {"__name__": "__main__"}, []
for block in blocks:
    try:
        source = "\n" * block["line"] + block["code"]
        if block["file"]:
            target = Path(block["file"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source)
            importlib.invalidate_caches()
            module = block["file"][:-3].replace("/", ".").removesuffix(".__init__")
            importlib.import_module(module)
        else:
            exec(compile(source, block["path"], "exec"), namespace)
        results.append({"line": block["line"], "error": None})
    except BaseException:
        results.append({"line": block["line"], "error": traceback.format_exc()})
        break
Path(out).write_text(json.dumps(results))
"""

_page_results: dict[str, dict[int, str | None]] = {}


def page_results(path: str, tmp_path_factory: pytest.TempPathFactory) -> dict[int, str | None]:
    """Each runnable Python block's line -> its traceback (None when it ran), for the blocks reached."""
    if path not in _page_results:
        blocks = [{"path": b.path, "line": b.line, "code": b.code,
                   "file": file_of(b)}
                  for b in BLOCKS if b.path == path and b.lang in PYTHON and b.not_run is None]
        folder = tmp_path_factory.mktemp("page")
        out = folder / "results.json"
        cwd = folder / "cwd"
        cwd.mkdir()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        try:
            result = subprocess.run([sys.executable, "-c", PAGE_RUNNER, str(out)], input=json.dumps(blocks),
                                    cwd=cwd, env=env, capture_output=True, text=True, timeout=PAGE_TIMEOUT,
                                    check=False)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{path}: the page's Python blocks ran over {PAGE_TIMEOUT} s together", pytrace=False)
        assert out.exists(), f"{path}: the page's Python blocks did not finish:\n{result.stderr[-3000:]}"
        _page_results[path] = {r["line"]: r["error"] for r in json.loads(out.read_text())}
    return _page_results[path]


def file_of(block: Block) -> str | None:
    """The file a Python block is (its first line names it), or None for plain code."""
    match = FILE_COMMENT.match(block.code)
    return match["path"] if match else None


def check_python(block: Block, tmp_path_factory: pytest.TempPathFactory) -> None:
    # A second block naming a file an earlier block of the page wrote would be imported from the
    # module already loaded: it would pass without running. Such a block is an excerpt; say so.
    earlier = [b for b in BLOCKS if b.path == block.path and b.line < block.line and b.lang in PYTHON
               and b.not_run is None and file_of(b) is not None and file_of(b) == file_of(block)]
    if earlier:
        pytest.fail(f"{block.id}: {file_of(block)} was written whole by {earlier[0].id}, so this block would "
                    "not run: mark it <!-- not run: an excerpt of ... -->", pytrace=False)
    results = page_results(block.path, tmp_path_factory)
    if block.line not in results:
        failed = [line for line, error in results.items() if error]
        pytest.fail(f"{block.id}: not reached, {block.path}:{failed[0] if failed else '?'} failed before it",
                    pytrace=False)
    if results[block.line]:
        pytest.fail(f"{block.id} failed:\n{results[block.line]}", pytrace=False)


# -- the items --------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_docs_block(block: Block, tmp_path, tmp_path_factory):
    assert not block.errors, f"{block.id}: {'; '.join(block.errors)}"
    if block.not_run is not None:
        assert not block.line_markers and not block.setup and not block.dry_run, \
            f"{block.id}: a block not run has no other markers"
        pytest.skip(f"{block.id} not run: {block.not_run}")
    if block.lang not in SHELL and (block.line_markers or block.setup or block.dry_run):
        pytest.fail(f"{block.id}: only shell blocks take setup, dry run and per-line 'not run' markers",
                    pytrace=False)
    if block.lang in PYTHON:
        check_python(block, tmp_path_factory)
    elif block.lang in SHELL:
        check_shell(block, tmp_path)
    elif block.lang == "toml":
        tomllib = pytest.importorskip("tomllib", reason="tomllib is Python 3.11+")
        tomllib.loads(block.code)
    elif block.lang == "json":
        json.loads(block.code)
    else:
        pytest.fail(f"{block.id}: no runner for ```{block.lang} blocks: add one to tests/test_docs.py, or mark "
                    "the block <!-- not run: REASON -->")


def test_every_marker_belongs_to_a_block():
    """A marker separated from its fence (by a blank line, say) would silently excuse nothing."""
    orphans = [f"{file.relative_to(ROOT).as_posix()}:{line}" for file in DOC_FILES
               for line in parse_blocks(file.read_text(encoding="utf-8"), "")[1]]
    assert not orphans, f"markers not on the lines right before a fence: {orphans}"


def test_parser_reads_fences_markers_and_commands():
    """The parser itself, on a page with every form the docs use."""
    page = textwrap.dedent("""\
        Text.

        <!-- not run: downloads
             horse2zebra -->
        ```bash
        ganzoo data download horse2zebra
        ```

        ```
        output, not code
        ```

        <!-- setup: ganzoo run dcgan --name NAME -->
        <!-- not run "ganzoo run * --data *", "make *": trains -->
        ```sh
        ganzoo run dcgan --data x   # a comment
        ganzoo list generator 'unet*' \\
            --json
        ```
        <!-- not run: stray -->

        - item

          ```python
          x = 1
          ```
        """)
    blocks, orphans = parse_blocks(page, "page.md")
    assert [(b.line, b.lang) for b in blocks] == [(5, "bash"), (9, ""), (15, "sh"), (24, "python")]
    assert blocks[0].not_run == "downloads horse2zebra"
    assert blocks[2].setup == ("ganzoo run dcgan --name NAME",)
    assert blocks[2].line_markers == ((("ganzoo run * --data *", "make *"), "trains"),)
    assert command_lines(blocks[2]) == [
        (16, "ganzoo run dcgan --data x", ["ganzoo", "run", "dcgan", "--data", "x"]),
        (17, "ganzoo list generator unet* --json", ["ganzoo", "list", "generator", "unet*", "--json"])]
    assert blocks[3].code == "x = 1\n"
    assert orphans == [20]


def test_a_dry_run_block_checks_its_run_commands_without_training(tmp_path):
    (block,), _ = parse_blocks('<!-- dry run: trains for minutes -->\n```bash\nganzoo run pix2pix --gen resnet9\n'
                               'ganzoo list gen\n```\n', "page.md")
    assert block.dry_run == "trains for minutes"
    assert [dry(argv) for _, _, argv in command_lines(block)] == [
        ["ganzoo", "run", "pix2pix", "--gen", "resnet9", "--dry-run"], ["ganzoo", "list", "gen"]]
    check_shell(block, tmp_path)  # seconds: nothing trains
    (wrong,), _ = parse_blocks('<!-- dry run: x -->\n```bash\nganzoo run pix2pix --gen resnet99\n```\n', "page.md")
    with pytest.raises(pytest.fail.Exception, match="resnet99"):
        check_shell(wrong, tmp_path)


def test_shell_policy_refuses_unmarked_lines_and_stale_markers(tmp_path):
    """What a new page gets wrong first: a line the test cannot run, and a marker its line outlived."""
    unmarked = parse_blocks("```bash\nmake install\n```\n", "page.md")[0][0]
    with pytest.raises(pytest.fail.Exception, match="page.md:2: 'make install' is not a ganzoo command"):
        check_shell(unmarked, tmp_path)
    stale = parse_blocks('<!-- not run "ganzoo pull *": x -->\n```bash\nmake install\n```\n', "page.md")[0][0]
    with pytest.raises(pytest.fail.Exception, match=r"match no command of the block: \['ganzoo pull \*'\]"):
        check_shell(stale, tmp_path)
