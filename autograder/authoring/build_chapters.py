"""Chapter authoring: build each chapter notebook from its text source.

    python -m autograder.authoring.build_chapters [NN ...] [--check | --files | --from-notebook]

A chapter's source is autograder/chapter_sources/NN_name/NN_name.py in jupytext's percent format,
each cell opened by a short header (`# %% exercise=linear`, below) from which the builder derives
nbgrader's metadata. The notebook it builds, chapters/NN_name/NN_name.ipynb, is nbgrader's source
version, with its outputs. Edit the text in any editor, or the notebook in JupyterLab with
nbgrader's Create Assignment toolbar; then `--from-notebook NN` takes the notebook back into its
source (short headers, derived bodies left out) and builds. A plain build refuses to overwrite a
notebook saved after its source that holds other cells. The source sits outside the chapter folder
because nbgrader releases every file in that folder.

Building reads the source, fills in what is derived (given code from the reference, shared passages,
nbgrader metadata, cell ids), enforces the rules below, executes the notebook in its folder with
this environment's Python and writes the notebook with its outputs, the canonical text source, and
the files the chapter ships: course_tools.py, and each data file (notebook_format.DATA_FILES) whose
name a code cell mentions. The notebook format itself (cell kinds, markers, stubs, chapter names) is
notebook_format's. `--check` writes nothing and exits 1 naming every stale file; `--files` only
copies shipped files. Chapters are named by number (`1`, `01`), full name or name after the number;
none means all. Bad input exits 2 with file:line; a cell that raises while executing exits 1 and
nothing is written.

Cells, by their header words (a source saved from a notebook may carry full nbgrader metadata
instead):
  # %% [markdown]                     text; the first cell states the chapter's total points
  # %% [markdown] passage=NAME        a passage several chapters share, PASSAGES/NAME.md (no body)
  # %%                                demonstrations and pictures
  # %% fetch                          the first code cell, derived (no body): opened alone (in
                                      Colab, say), the notebook fetches its shipped files from the
                                      published site (autograder/published.toml), each checked by
                                      its SHA-256; the builder inserts it when the source lacks it;
                                      locked
  # %% given=mod:Name[,Name] ...      the reference's source of those objects (a class may keep some
                                      members: `Value(__init__,__add__)`) and the stdlib imports it
                                      needs, after a `# Given code: ...` comment line (no body);
                                      locked
  # %% exercise=ID                    an exercise (nbgrader solution), with ### BEGIN/END SOLUTION
                                      regions
  # %% tests=ID points=N              the tests of exercise ID, right above (grade_id ID_tests;
                                      grade, locked): visible tests, then one hidden block: `from
                                      autograder.checks import check_x` and one call `check_x(...)`
  # %% [markdown] answer=ID points=N  a written answer graded by hand (grade, solution); its text
                                      the rubric
  `claims={...}` and `tags=[...]` may follow any header. A derived cell's body found in the source
  (saved from
a notebook) is compared with what is derived: given or fetch code that differs is dropped with a
note, a passage that differs is refused. Claims: a number the Markdown states about an output is
followed by `<!-- claim: EXPRESSION -->` (optionally `± tol`, or a condition), evaluated after the
last cell; docstring `>>>` examples run as doctests (prose_claims.py). A false one is a BuildError;
claims.json beside the source records them and their values for `--check`. Rules: ids are unique
[A-Za-z0-9_-]; one fetch cell, the first code cell; every picture a cell shows carries alt text
(course_tools.show); code parses, also with solutions stubbed out; markers only where they belong;
every exercise has its tests cell and every tests cell an exercise; no code imports microgpt, climbs
out of its folder (`../`) or has a line over MAX_LINE characters.
"""

from __future__ import annotations

import ast
import builtins
import copy
import hashlib
import importlib
import inspect
import itertools
import json
import math
import os
import random
import re
import shutil
import symtable
import sys
import textwrap
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration

from autograder import notebook_format as fmt, published
from autograder.authoring import prose_claims
from autograder.command_line import Parser, UsageError, run
from autograder.learner.course_tools import GIVEN_HEADER
from autograder.notebook_format import (
    CHAPTER_NAME,
    cell_kind as kind,
    nbgrader_meta,
    shipped_files,
    stub_solutions,
)
from autograder.pipeline.sandbox import Limits

PROG = "python -m autograder.authoring.build_chapters"
ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "autograder" / "chapter_sources"
CHAPTERS = ROOT / "chapters"
PASSAGES = SOURCES / "passages"  # the passages several chapters share, NAME.md

CELL_TIMEOUT = int(Limits.cell_seconds)  # seconds per cell while building: grading's cell limit
MAX_LINE = 100  # characters per code line: no horizontal scrolling on a 1280x800 laptop
ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
HIDDEN_IMPORT_RE = re.compile(r"^from autograder\.checks import (check_\w+)$")
HIDDEN_CALL_RE = re.compile(r"^(check_\w+)\(.*\)$")
MICROGPT_IMPORT_RE = re.compile(r"^\s*(from|import)\s+microgpt\b", re.MULTILINE)
CLIMB_RE = re.compile(r"""["'](\.\.[/\\])""")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class BuildError(Exception):
    """Bad input: an unknown chapter or a malformed source (message starts with file:line)."""


class ExecutionFailed(Exception):
    """A cell raised while the notebook was executed."""


class Chapter:
    """One chapter: its text source and its folder (by default the repository's), holding the
    notebook."""

    def __init__(self, name, source=None, folder=None):
        self.name = name
        self.source = Path(source) if source else SOURCES / name / f"{name}.py"
        self.folder = Path(folder) if folder else CHAPTERS / name

    notebook = property(lambda self: self.folder / f"{self.name}.ipynb")

    def __eq__(self, other):
        return isinstance(other, Chapter) and (self.name, self.source) == (other.name, other.source)


# --------------------------------------------------------------------------- chapters


def discover_chapters():
    """Every chapter source, sorted by name."""
    found = []
    for folder in sorted(
        p
        for p in SOURCES.iterdir()
        if p.is_dir() and p != PASSAGES and not p.name.startswith((".", "_"))
    ):
        if not CHAPTER_NAME.match(folder.name) or not (folder / f"{folder.name}.py").is_file():
            raise BuildError(
                f"{_rel(folder)}: a chapter source is NN_name/NN_name.py (two digits, then a name)"
            )
        found.append(Chapter(folder.name))
    return found


def select_chapters(args):
    """The chapters named by args (notebook_format.resolve_chapters); all of them when args is
    empty."""
    chapters = discover_chapters()
    try:
        names = fmt.resolve_chapters(args, [c.name for c in chapters], _rel(SOURCES))
    except fmt.UnknownChapter as exc:
        raise BuildError(str(exc)) from None
    return [c for name in names for c in chapters if c.name == name] if args else chapters


# --------------------------------------------------------------------------- cell headers

# The header words of a source cell: the word naming its kind (at most one), then its attributes.
# {word: (cell type, whether it carries points)}
KIND_WORDS = {
    "exercise": ("code", False),
    "tests": ("code", True),
    "answer": ("markdown", True),
    "fetch": ("code", False),
    "given": ("code", False),
    "passage": ("markdown", False),
}
ATTRIBUTE_WORDS = ("points", "claims", "tags")
# the derived metadata a source saved from a notebook may carry
NOTEBOOK_WORDS = ("nbgrader", "computed")
# kinds whose body the build makes: the source holds none
DERIVED_KINDS = ("fetch", "given", "passage")
# the notebook's cell metadata besides nbgrader
KEPT_METADATA = ("claims", "fetch", "given", "passage", "tags")
HEADER_RE = re.compile(r"# %%( \[markdown\])?(.*)")
BARE_VALUE_RE = re.compile(r"[\w.:,()-]+")  # a header value written without quotes


def parse_header(line, at):
    """(cell type, {word: value}) of a `# %%` header line: words are `name` (True) or `name=value`,
    the value a JSON value or bare text such as `linear` or `microgpt.nn:linear,softmax`."""
    match = HEADER_RE.fullmatch(line.rstrip())
    words, rest = {}, match.group(2).strip()
    while rest:
        word = re.match(r"([A-Za-z_]\w*)(=?)", rest)
        if not word:
            raise BuildError(
                f"{at}: cannot read the cell header from {rest!r} (words are name or name=value)"
            )
        name, rest = word.group(1), rest[word.end() :]
        if not word.group(2):
            value = True
        elif rest[:1] in ('"', "{", "["):
            try:
                value, end = json.JSONDecoder().raw_decode(rest)
            except json.JSONDecodeError as exc:
                raise BuildError(f"{at}: the value of {name} is not JSON ({exc.msg})") from None
            rest = rest[end:]
        else:
            text = re.match(r"\S*", rest).group()
            rest = rest[len(text) :]
            value = json.loads(text) if re.fullmatch(r"-?\d+(\.\d+)?|true|false", text) else text
        if rest[:1] not in ("", " "):
            raise BuildError(
                f"{at}: cannot read the cell header from {rest!r} (words are separated by spaces)"
            )
        if name not in KIND_WORDS and name not in ATTRIBUTE_WORDS and name not in NOTEBOOK_WORDS:
            raise BuildError(
                f"{at}: unknown header word {name!r} (the words: "
                f"{', '.join([*KIND_WORDS, *ATTRIBUTE_WORDS])})"
            )
        words[name] = value
        rest = rest.lstrip()
    return ("markdown" if match.group(1) else "code"), words


def header_line(cell_type, words):
    """The `# %%` line of a source cell with these header words (parse_header reads it back)."""
    parts = ["# %%"] + (["[markdown]"] if cell_type == "markdown" else [])
    for name, value in words.items():
        if value is True:
            parts.append(name)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{name}={value:g}")
        elif (
            isinstance(value, str)
            and BARE_VALUE_RE.fullmatch(value)
            and not re.fullmatch(r"[\d.-]+", value)
        ):
            parts.append(f"{name}={value}")
        else:
            parts.append(f"{name}={json.dumps(value, ensure_ascii=False)}")
    return " ".join(parts)


def header_words(cell, at):
    """The header words of a cell, from its short header words (a source) or from the nbgrader
    metadata a notebook carries (a notebook built or edited with nbgrader's Create Assignment
    toolbar, or a source saved from one): `exercise=ID`, `tests=ID points=N` (its id is ID_tests),
    `answer=ID points=N` (Markdown), `fetch`, `given=SPEC`, `passage=NAME`, and `claims=`, `tags=`
    as they are."""
    meta = cell.get("metadata", {})
    words = {key: meta[key] for key in KIND_WORDS if key in meta}
    nbgrader = meta.get("nbgrader")
    # their nbgrader metadata is derived, whatever it says
    if nbgrader and not words.keys() & set(DERIVED_KINDS):
        if words:
            raise BuildError(
                f"{at}: a cell has a short header "
                f"({', '.join(words)}) or nbgrader metadata, not both"
            )
        words = _words_of_nbgrader(cell.get("cell_type"), nbgrader, at)
    words.update({key: meta[key] for key in ATTRIBUTE_WORDS if key in meta and key not in words})
    _check_words(cell.get("cell_type"), words, at)
    return words


def _words_of_nbgrader(cell_type, nbgrader, at):
    grade_id, points = nbgrader.get("grade_id"), nbgrader.get("points")
    flags = (
        cell_type,
        bool(nbgrader.get("grade")),
        bool(nbgrader.get("solution")),
        bool(nbgrader.get("locked")),
    )
    if flags == ("code", False, True, False):
        return {"exercise": grade_id}
    if flags == ("code", True, False, True):
        if not str(grade_id).endswith("_tests"):
            raise BuildError(
                f"{at}: a tests cell's grade_id is its "
                f"exercise's followed by _tests, not {grade_id!r}"
            )
        return {"tests": grade_id[: -len("_tests")], "points": points}
    if flags == ("markdown", True, True, False):
        return {"answer": grade_id, "points": points}
    raise BuildError(
        f"{at}: nbgrader cells are exercises (solution), autograded tests (grade, locked, "
        "points) or written answers (Markdown, grade and solution); this is none of them"
    )


def _check_words(cell_type, words, at):
    kinds = [word for word in words if word in KIND_WORDS]
    if len(kinds) > 1:
        raise BuildError(f"{at}: a cell is one of {', '.join(kinds)}, not several")
    kind_word = kinds[0] if kinds else None
    if kind_word and KIND_WORDS[kind_word][0] != cell_type:
        raise BuildError(f"{at}: {kind_word} marks a {KIND_WORDS[kind_word][0]} cell")
    if kind_word in ("exercise", "tests", "answer") and not ID_RE.match(str(words[kind_word])):
        raise BuildError(f"{at}: the id {words[kind_word]!r} may only use letters, digits, _ and -")
    if kind_word in ("given", "passage") and not isinstance(words[kind_word], str):
        raise BuildError(
            f"{at}: {kind_word} names what it holds, e.g. {kind_word}="
            + ("microgpt.nn:linear,softmax" if kind_word == "given" else "how_to_work")
        )
    takes_points = bool(kind_word) and KIND_WORDS[kind_word][1]
    points = words.get("points")
    if takes_points and not (
        isinstance(points, (int, float)) and not isinstance(points, bool) and points > 0
    ):
        raise BuildError(f"{at}: points must be a positive number, got {points!r}")
    if "points" in words and not takes_points:
        raise BuildError(f"{at}: only tests and written answers carry points")


def notebook_metadata(words):
    """A cell's notebook metadata (nbgrader's derived) from its header words; the nbgrader metadata
    of the fetch and given cells, which need every id, is made later."""
    meta = {key: copy.deepcopy(words[key]) for key in KEPT_METADATA if key in words}
    if "exercise" in words:
        meta["nbgrader"] = _nbgrader(words["exercise"], grade=False, solution=True, locked=False)
    elif "tests" in words:
        meta["nbgrader"] = _nbgrader(
            f"{words['tests']}_tests",
            grade=True,
            solution=False,
            locked=True,
            points=words["points"],
        )
    elif "answer" in words:
        meta["nbgrader"] = _nbgrader(
            words["answer"], grade=True, solution=True, locked=False, points=words["points"]
        )
    return meta


def _nbgrader(grade_id, grade, solution, locked, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    return meta if points is None else {**meta, "points": points}


# --------------------------------------------------------------------------- reading, writing and
# rules


def read_source(chapter):
    """(notebook, header line of each cell) of the chapter's text source; each cell's metadata is
    its header words (short, or the full nbgrader metadata of a source saved from a notebook)."""
    where = _rel(chapter.source)
    try:
        text = chapter.source.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildError(f"{where}: cannot be read ({exc.strerror})") from None
    lines, headers, plain = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("# %%"):
            lines.append(number)
            headers.append(parse_header(line, f"{where}:{number}"))
            line = header_line(headers[-1][0], {})
        plain.append(line)
    nb = jupytext.reads("\n".join(plain) + "\n", fmt="py:percent")
    if not lines or len(lines) != len(nb.cells) or not text.startswith("# %%"):
        raise BuildError(f"{where}:1: every cell starts with a `# %%` line, the first one too")
    for cell, (cell_type, words), number in zip(nb.cells, headers, lines):
        if cell.cell_type != cell_type:
            raise BuildError(f"{where}:{number}: jupytext reads this cell as {cell.cell_type}")
        cell.metadata = words
    return nb, lines


def source_text(nb, keep_derived=False, where="the notebook"):
    """The canonical text source of a notebook (built, or edited in JupyterLab): jupytext's percent
    format with short cell headers; the bodies of derived cells (fetch, given, passage) are left
    out, or kept for the build to compare with what it derives (keep_derived)."""
    cells, headers = [], []
    for index, cell in enumerate(nb.cells):
        words = header_words(cell, f"{where}: cell {index}")
        derived = not keep_derived and words.keys() & set(DERIVED_KINDS)
        body = "" if derived else cell.source
        if cell.get("metadata", {}).get("computed"):
            body = unfill_computed(body, cell.metadata["computed"], f"{where}: cell {index}")
        new_cell = (
            nbformat.v4.new_markdown_cell
            if cell.cell_type == "markdown"
            else nbformat.v4.new_code_cell
        )
        cells.append(new_cell(body))
        headers.append(header_line(cell.cell_type, words))
    config = JupytextConfiguration(notebook_metadata_filter="-all", cell_metadata_filter="-all")
    text = jupytext.writes(nbformat.v4.new_notebook(cells=cells), fmt="py:percent", config=config)
    out, index = [], 0
    for line in text.split("\n"):
        if line.startswith("# %%"):
            line, index = headers[index], index + 1
        elif line == "#" and out and out[-1] == headers[index - 1] and not cells[index - 1].source:
            continue  # an empty Markdown cell (a passage) is its header alone
        out.append(line)
    return "\n".join(out)


def check_rules(nb, lines, where):
    """Raise BuildError (file:line) for the first rule a cell breaks; nb's cells carry their
    notebook metadata (notebook_metadata) and are not changed."""
    # exercise: (line, grade_id) of the solution cell still waiting for tests
    ids, exercise = {}, None
    code_cells = 0
    for index, (cell, line) in enumerate(zip(nb.cells, lines)):
        at, what, meta, body = f"{where}:{line}", kind(cell), nbgrader_meta(cell), cell.source
        if index == 0 and what != "markdown":
            raise BuildError(f"{at}: the first cell is Markdown (goals, time, points)")
        code_cells += cell.cell_type == "code"
        if what == "fetch" and code_cells != 1:
            raise BuildError(
                f"{at}: the fetch cell is the chapter's first code cell, and there is one"
            )
        if meta.get("grade_id") in ids:
            raise BuildError(
                f"{at}: id {meta['grade_id']!r} already used at line {ids[meta['grade_id']]}"
            )
        if meta:
            ids[meta["grade_id"]] = line
        if what != "solution" and (fmt.BEGIN_SOLUTION in body or fmt.END_SOLUTION in body):
            raise BuildError(
                f"{at}: solution markers outside an exercise cell (nbgrader would reject it)"
            )
        if what != "tests" and (fmt.BEGIN_HIDDEN in body or fmt.END_HIDDEN in body):
            raise BuildError(f"{at}: hidden-test markers outside a tests cell")
        # derived code: checked once made
        if cell.cell_type == "code" and what not in ("given", "fetch"):
            _check_code(body, where, line, given=False)
        if what == "solution":
            if exercise:
                raise BuildError(
                    f"{where}:{exercise[0]}: exercise {exercise[1]!r} has no tests cell after it"
                )
            _check_solution(body, where, line)
            exercise = (line, meta["grade_id"])
        elif what == "tests":
            if not exercise:
                raise BuildError(
                    f"{at}: a tests cell grades the exercise above it, and there is none"
                )
            if meta["grade_id"] != f"{exercise[1]}_tests":
                raise BuildError(
                    f"{at}: these are the tests of {meta['grade_id'][: -len('_tests')]!r}, but the "
                    f"exercise above is {exercise[1]!r}"
                )
            _check_hidden(body, where, line)
            exercise = None
    if exercise:
        raise BuildError(
            f"{where}:{exercise[0]}: exercise {exercise[1]!r} has no tests cell after it"
        )
    total = sum(
        c.metadata["nbgrader"]["points"] for c in nb.cells if kind(c) in ("tests", "answer")
    )
    if total and not re.search(rf"(?<![\d.]){total:g} points?\b", nb.cells[0].source):
        raise BuildError(
            f"{where}:{lines[0]}: the first Markdown cell must state the total, {total:g} points"
        )


def _blank_magics(body):
    # IPython magics and shell escapes are not Python: blank them for the syntax check
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in body.split("\n"))


def _check_code(body, where, line, given):
    try:
        ast.parse(_blank_magics(body))
    except SyntaxError as exc:
        raise BuildError(
            f"{where}:{line + (exc.lineno or 1)}: code does not parse: {exc.msg}"
        ) from None
    for offset, text in enumerate(body.split("\n"), start=1):
        problem = (
            "notebooks never import microgpt; use a given cell"
            if MICROGPT_IMPORT_RE.match(text)
            else f"a line of {len(text)} characters (at most {MAX_LINE})"
            if len(text) > MAX_LINE
            else "a path out of the chapter folder: a released chapter must run on its own"
            if CLIMB_RE.search(text)
            else None
        )
        if problem and given:
            raise BuildError(
                f"{where}:{line}: the given code has {problem}: "
                f"change the reference: {text.strip()!r}"
            )
        if problem:
            raise BuildError(f"{where}:{line + offset}: {problem}")


def _check_solution(body, where, line):
    inside, regions, begin = False, 0, 0
    begin_line, end_line = fmt.marker_line(fmt.BEGIN_SOLUTION), fmt.marker_line(fmt.END_SOLUTION)
    for offset, text in enumerate(body.split("\n"), start=1):
        here = f"{where}:{line + offset}"
        if fmt.BEGIN_SOLUTION in text:
            if text.strip() != begin_line or inside:
                raise BuildError(f"{here}: expected a lone `{begin_line}` line opening one region")
            inside, regions, begin = True, regions + 1, offset
        elif fmt.END_SOLUTION in text:
            if text.strip() != end_line or not inside:
                raise BuildError(f"{here}: `{end_line}` without a matching begin")
            if begin == offset - 1:
                raise BuildError(f"{here}: empty solution region")
            inside = False
    if inside:
        raise BuildError(f"{where}:{line}: solution region not closed with `{end_line}`")
    if not regions:
        raise BuildError(f"{where}:{line}: an exercise cell has at least one `{begin_line}` region")
    try:
        ast.parse(_blank_magics(stub_solutions(body)))
    except SyntaxError as exc:
        raise BuildError(
            f"{where}:{line}: the released (stubbed) cell does not parse: {exc.msg}"
        ) from None


def _check_hidden(body, where, line):
    stripped = [ln.strip() for ln in body.split("\n")]
    shape = "`from autograder.checks import check_x` then one call `check_x(...)`"
    begin_line, end_line = fmt.marker_line(fmt.BEGIN_HIDDEN), fmt.marker_line(fmt.END_HIDDEN)
    if (
        stripped.count(begin_line) != 1
        or stripped.count(end_line) != 1
        or sum(fmt.BEGIN_HIDDEN in ln or fmt.END_HIDDEN in ln for ln in stripped) != 2
    ):
        raise BuildError(
            f"{where}:{line}: a tests cell ends with one `{begin_line}` ... `{end_line}` block"
        )
    begin, end = stripped.index(begin_line), stripped.index(end_line)
    if end < begin or any(ln and not ln.startswith("#") for ln in stripped[end + 1 :]):
        raise BuildError(f"{where}:{line + end + 1}: the hidden block closes the tests cell")
    inner = [ln for ln in stripped[begin + 1 : end] if ln]
    imported = HIDDEN_IMPORT_RE.match(inner[0]) if len(inner) == 2 else None
    called = HIDDEN_CALL_RE.match(inner[1]) if len(inner) == 2 else None
    if not imported or not called or imported.group(1) != called.group(1):
        raise BuildError(f"{where}:{line + begin + 1}: the hidden block holds exactly {shape}")
    if re.search(r"\bautograder\b", "\n".join(stripped[:begin])):
        raise BuildError(
            f"{where}:{line}: only the hidden block may use autograder (the release would show it)"
        )


# --------------------------------------------------------------------------- given code


def parse_given(spec, at):
    """[(module, name, members or None)] of a given cell's spec `mod:Name,Class(m1,m2)
    mod2:CONSTANT`."""
    objects = []
    for part in spec.split():
        module, colon, names = part.partition(":")
        if not colon or not module or not names:
            raise BuildError(f"{at}: expected module:Name[,Name...], got {part!r}")
        for item in re.split(r",(?![^(]*\))", names):
            m = re.fullmatch(r"([A-Za-z_]\w*)(?:\(([\w,]+)\))?", item)
            if not m:
                raise BuildError(
                    f"{at}: bad name {item!r} in {part!r} (Name, CONSTANT or Class(member,member))"
                )
            objects.append(
                (module, m.group(1), tuple(m.group(2).split(",")) if m.group(2) else None)
            )
    return objects


def _object_source(module, name, at):
    """The source of a function or class of module, or the statement that assigns a constant."""
    obj = getattr(module, name)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        if obj.__module__ != module.__name__:
            raise BuildError(
                f"{at}: {module.__name__}.{name} is defined in {obj.__module__}; name that module"
            )
        return textwrap.dedent(inspect.getsource(obj))
    text = inspect.getsource(module)
    for stmt in ast.parse(text).body:
        if isinstance(stmt, ast.Assign) and [getattr(t, "id", None) for t in stmt.targets] == [
            name
        ]:
            return ast.get_source_segment(text, stmt) + "\n"
    raise BuildError(
        f"{at}: {module.__name__}.{name} is neither a function, a class nor a constant it assigns"
    )


# a given cell's first line: course_tools tells given code from the learner's by its start,
# GIVEN_HEADER
GIVEN_NOTE = GIVEN_HEADER + ": {names}. Run this cell; leave it as it is."


def given_code(objects, defined_before, at):
    """(code, names) of a given cell: a comment line saying what it gives (wrapped as comments
    within MAX_LINE), then given_source's code."""
    source, names = given_source(objects, defined_before, at)
    note = textwrap.wrap(
        GIVEN_NOTE.format(names=", ".join(names)),
        MAX_LINE,
        subsequent_indent="# ",
        break_on_hyphens=False,
    )
    return "\n".join(note) + "\n" + source, names


def passage_text(name, chapter, at):
    """The Markdown text of the shared passage name (PASSAGES/name.md) in chapter: `{chapter}`
    stands for the chapter's number."""
    try:
        text = (PASSAGES / f"{name}.md").read_text(encoding="utf-8").strip("\n")
        return text.replace("{chapter}", str(int(chapter.name[:2])))
    except OSError:
        raise BuildError(f"{at}: no passage {name!r} ({_rel(PASSAGES)}/{name}.md)") from None


def given_source(objects, defined_before, at):
    """(code, names) of a given cell: stdlib imports, then each object's reference source."""
    chunks, imports, names_here = [], [], []
    needed = {}  # name -> (module object, object name that needs it)
    for module_name, name, members in objects:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise BuildError(f"{at}: cannot import {module_name!r} ({exc})") from None
        if not hasattr(module, name):
            raise BuildError(f"{at}: {module_name} has no {name!r}")
        source = _object_source(module, name, at)
        if members is not None:
            source = _select_members(source, members, f"{at}: {module_name}.{name}")
        chunks.append(source.rstrip("\n"))
        names_here.append(name)
        for free in _global_names(source):
            needed.setdefault(free, (module, name))
    for free, (module, user) in needed.items():
        if free in names_here or free in defined_before:
            continue
        statements = _import_bindings(module, free)
        if not statements:
            if free in vars(module):
                raise BuildError(
                    f"{at}: {user} uses {free!r} from {module.__name__}; "
                    f"add {module.__name__}:{free} to this or an earlier given cell"
                )
            if hasattr(builtins, free):
                continue
            raise BuildError(f"{at}: {user} uses {free!r}, which nothing defines")
        for origin, text, top in statements:
            if origin == "reference":
                raise BuildError(
                    f"{at}: {user} uses {free!r} ({text}); give it in this or an earlier given cell"
                )
            if top not in sys.stdlib_module_names:
                raise BuildError(
                    f"{at}: {user} needs {text!r}, which is not in the standard library"
                )
            if text not in imports:
                imports.append(text)
    parts = []
    if imports:
        parts.append("\n".join(_order_imports(imports)))
    parts.extend(chunks)
    return "\n\n\n".join(parts), names_here


def _select_members(source, members, what):
    """The class in source keeping only its docstring and the named members."""
    tree = ast.parse(source)
    cls = tree.body[0]
    if not isinstance(cls, ast.ClassDef):
        raise BuildError(f"{what} is not a class; member selection needs one")
    lines = source.split("\n")
    body = cls.body
    header = lines[: body[0].lineno - 1]
    kept, found = [], set()
    for index, stmt in enumerate(body):
        name = _statement_name(stmt)
        is_doc = (
            index == 0
            and isinstance(stmt, ast.Expr)
            and isinstance(getattr(stmt, "value", None), ast.Constant)
        )
        if is_doc or name in members:
            start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            kept.append("\n".join(lines[start - 1 : stmt.end_lineno]))
            found.add(name)
    missing = [m for m in members if m not in found]
    if missing:
        raise BuildError(f"{what} has no member {', '.join(missing)}")
    return "\n".join(header) + "\n" + "\n\n".join(kept) + "\n"


def _statement_name(stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
    ):
        return stmt.targets[0].id
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


def _global_names(source):
    """Names the code reads from the global scope, in order of first use."""
    table = symtable.symtable(source, "<given>", "exec")
    names = []

    def walk(t, top):
        for sym in t.get_symbols():
            name = sym.get_name()
            if not sym.is_referenced() or name in names:
                continue
            if top and not (sym.is_assigned() or sym.is_imported()):
                names.append(name)
            elif not top and sym.is_global() and not sym.is_declared_global():
                names.append(name)
        for child in t.get_children():
            walk(child, False)

    walk(table, True)
    return names


def _import_bindings(module, name):
    """Every import by which `module` binds `name` at its top level (`import urllib.error` and
    `import urllib.request` both bind urllib): a list of ("stdlib", import statement, top package)
    or ("reference", description, None)."""
    found = []
    for stmt in ast.parse(inspect.getsource(module)).body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if (alias.asname or alias.name.split(".")[0]) == name:
                    top = alias.name.split(".")[0]
                    text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    found.append(
                        ("reference", text, None) if top == "microgpt" else ("stdlib", text, top)
                    )
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if (alias.asname or alias.name) == name:
                    if stmt.level or (stmt.module or "").split(".")[0] == "microgpt":
                        source = "." * stmt.level + (stmt.module or "")
                        found.append(("reference", f"from {source} import {alias.name}", None))
                    else:
                        text = f"from {stmt.module} import {alias.name}" + (
                            f" as {alias.asname}" if alias.asname else ""
                        )
                        found.append(("stdlib", text, stmt.module.split(".")[0]))
    return found


def _order_imports(lines):
    plain = sorted(ln for ln in lines if ln.startswith("import "))
    froms = sorted(ln for ln in lines if ln.startswith("from "))
    return plain + froms


def _defined_names(source):
    """Top-level names a cell defines (defs, classes, assignments, imports, attribute-free)."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n")]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node in tree.body
        ):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name.split(".")[0]) for a in node.names)
    return names


# --------------------------------------------------------------------------- expected values from
# the reference

# `from_reference[EXPRESSION]` in a tests cell: the value, computed when building
COMPUTED = "from_reference"
REFERENCE_MODULES = (
    "analysis",
    "autograd",
    "checkpoint",
    "data",
    "evaluate",
    "model",
    "nn",
    "optim",
    "sample",
    "tokenizer",
    "train",
)
# the course's trained model, which chapters 8-10 load
TRAINED = fmt.REPOSITORY_DATA / "microgpt-names-1000.json"


def numbers(x, digits=None):
    """x's numbers: a Value's data, each item of a list or tuple (nested); floats to digits
    significant digits when given."""
    if isinstance(x, (list, tuple)):
        return type(x)(numbers(item, digits) for item in x)
    x = getattr(x, "data", x)
    return float(f"{x:.{digits}g}") if digits and isinstance(x, float) else x


def vec(*items):
    """A vector of Values: vec(1, 2) is [Value(1.0), Value(2.0)]."""
    Value = importlib.import_module("microgpt.autograd").Value
    return [Value(float(n)) for n in items]


def gradient(loss, weight):
    """weight's gradient after loss.backward(); every gradient in loss's graph is 0 again
    afterwards."""
    loss.backward()
    grad, nodes, seen = weight.grad, [loss], set()
    while nodes:
        node = nodes.pop()
        if id(node) not in seen:
            seen.add(id(node))
            node.grad = 0
            nodes.extend(node._children)
    return grad


def reference_namespace():
    """The names an expression and its setup see: the reference's modules (nn, model, ...) and their
    public objects by name (gpt, GPTConfig, ...; a module wins over an object of its name), math,
    random, and the conveniences numbers, vec, gradient and trained: (state_dict, config, chars) of
    the course's trained model."""
    modules = {name: importlib.import_module(f"microgpt.{name}") for name in REFERENCE_MODULES}
    namespace = {
        name: value
        for module in modules.values()
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", module.__name__) == module.__name__
    }
    namespace.update(modules, math=math, random=random, numbers=numbers, vec=vec, gradient=gradient)
    trained = modules["checkpoint"].load(TRAINED)
    namespace["trained"] = (trained.state_dict, trained.config, trained.chars)
    return namespace


def _computed_nodes(tree):
    """The `from_reference[...]` subscripts of a parsed cell, in order."""
    return sorted(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == COMPUTED
        ),
        key=lambda node: (node.lineno, node.col_offset),
    )


def _setup_statements(body, exercise, known):
    """The statements of a tests cell's body that set up its expressions, run with the reference:
    its function definitions, and its assignments that read only names in known (updated) or set by
    earlier setup and do not call exercise, at its top level or in a `with` block there."""
    for stmt in body:
        if isinstance(stmt, ast.With):
            yield from _setup_statements(stmt.body, exercise, known)
        elif isinstance(stmt, (ast.FunctionDef, ast.Assign, ast.AugAssign, ast.AnnAssign)):
            names = [node for node in ast.walk(stmt) if isinstance(node, ast.Name)]
            read = {n.id for n in names if isinstance(n.ctx, ast.Load)} - {
                n.id for n in names if isinstance(n.ctx, ast.Store)
            }
            if isinstance(stmt, ast.FunctionDef) or (
                read <= known and exercise not in read and not _computed_nodes(stmt)
            ):
                known |= (
                    {stmt.name}
                    if isinstance(stmt, ast.FunctionDef)
                    else _defined_names(ast.unparse(stmt))
                )
                yield stmt


def reference_values(source, exercise, where, line):
    """[(node, value)] of each `from_reference[EXPRESSION]` in a tests cell's source (its header at
    line of where), in order: the expressions evaluated one after the other in one
    reference_namespace(), each after the cell's setup statements before it (a definition that
    raises is left out)."""
    tree = ast.parse(_blank_magics(source))
    namespace = reference_namespace()
    setup = list(_setup_statements(tree.body, exercise, set(namespace) | set(dir(builtins))))
    values, failed = [], {}  # failed: {name: why the setup statement setting it did not run}
    for node in _computed_nodes(tree):
        at, expression = f"{where}:{line + node.lineno}", ast.get_source_segment(source, node.slice)
        while setup and (setup[0].lineno, setup[0].col_offset) < (node.lineno, node.col_offset):
            stmt = setup.pop(0)
            try:
                # the course's own source
                exec(compile(ast.Module([stmt], []), at, "exec"), namespace)
            # it needs the notebook: its names stay undefined, reported where used
            except Exception as exc:
                failed.update(
                    dict.fromkeys(
                        _defined_names(ast.unparse(stmt)),
                        f"line {line + stmt.lineno}, which "
                        f"sets it, raised {type(exc).__name__}: {exc} with the reference",
                    )
                )
        try:
            value = eval(expression, namespace)
        except Exception as exc:
            why = (
                f" ({failed[exc.name]})"
                if isinstance(exc, NameError) and exc.name in failed
                else ""
            )
            raise BuildError(
                f"{at}: {COMPUTED}[{expression}] raised {type(exc).__name__}: {exc}{why}"
            ) from None
        if not _is_literal(value):
            raise BuildError(
                f"{at}: {COMPUTED}[{expression}] is a {type(value).__name__}, not numbers or lists "
                f"of them (numbers(...) turns Values into numbers)"
            )
        values.append((node, value))
    return values


def _is_literal(value):
    if isinstance(value, (list, tuple)):
        return all(map(_is_literal, value))
    return isinstance(value, (int, float, str, bool)) or value is None


def _literal_text(value, column, rest):
    """value written as Python starting at column, wrapped within MAX_LINE (a list's items aligned
    after its bracket) so that the rest of the line still fits after it."""
    if len(repr(value)) + column + len(rest) <= MAX_LINE or not isinstance(value, list):
        return repr(value)
    # \0: no line break inside an item
    words = [repr(item).replace(" ", "\0") + "," for item in value]
    words[-1] = words[-1][:-1] + "]" + rest.replace(" ", "\0")
    lines = textwrap.wrap(
        " ".join(words), MAX_LINE - column - 1, break_long_words=False, break_on_hyphens=False
    )
    return ("[" + ("\n" + " " * (column + 1)).join(lines))[: -len(rest) or None].replace("\0", " ")


def fill_computed(source, exercise, where, line):
    """(source with each `from_reference[EXPRESSION]` replaced by the value's literal, [[EXPRESSION,
    value]])."""
    lines, computed = source.split("\n"), []
    # from the end: earlier
    for node, value in reversed(reference_values(source, exercise, where, line)):
        # positions stay valid
        computed.insert(0, [ast.get_source_segment(source, node.slice), value])
        first, rest = (
            lines[node.lineno - 1][: node.col_offset],
            lines[node.end_lineno - 1][node.end_col_offset :],
        )
        lines[node.lineno - 1 : node.end_lineno] = [
            first + _literal_text(value, node.col_offset, rest) + rest
        ]
    return "\n".join(lines), json.loads(json.dumps(computed))


def unfill_computed(source, computed, at):
    """A built tests cell's source with each literal of computed's values ([[EXPRESSION, value]], in
    order) written back as `from_reference[EXPRESSION]`; BuildError when one is not there (it was
    edited in the notebook)."""
    tree = ast.parse(_blank_magics(source))
    literals = sorted(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, (ast.List, ast.Tuple, ast.Constant, ast.UnaryOp))
        ),
        key=lambda node: (node.lineno, node.col_offset, -node.end_lineno, -node.end_col_offset),
    )
    found, after = [], (0, 0)
    for expression, value in computed:
        match = next(
            (
                node
                for node in literals
                if (node.lineno, node.col_offset) >= after and _literal_of(node) == (True, value)
            ),
            None,
        )
        if match is None:
            raise BuildError(
                f"{at}: the value of {COMPUTED}[{expression}] was edited in the notebook: it is "
                f"computed from the reference; change the expression in the source, or restore it"
            )
        found.append(match)
        after = (match.end_lineno, match.end_col_offset)
    lines = source.split("\n")
    for node, (expression, _) in reversed(list(zip(found, computed))):
        first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]
        lines[node.lineno - 1 : node.end_lineno] = [
            first[: node.col_offset] + f"{COMPUTED}[{expression}]" + last[node.end_col_offset :]
        ]
    return "\n".join(lines)


def _literal_of(node):
    """(True, the node's value as JSON gives it back: tuples as lists), or (False, None) for no
    literal."""
    try:
        return True, json.loads(json.dumps(ast.literal_eval(node)))
    except (ValueError, TypeError):
        return False, None


# --------------------------------------------------------------------------- building


FETCH_CELL = '''\
# The files this chapter needs (listed at the end of this cell with their SHA-256 fingerprints)
# sit beside the notebook in the course's JupyterLab and on its site, and then this cell does
# nothing. Opened alone (in Colab, say), it fetches the missing ones from the course's site,
# keeping each one only if its fingerprint is the course's.
class CourseFilesMissing(Exception):
    """A file this chapter needs is missing and could not be fetched (shown as one line)."""


def show_one_line(shell, etype, value, tb, tb_offset=None):
    """Show a CourseFilesMissing as its one line."""
    shell._showtraceback(etype, value, [f"{{etype.__name__}}: {{value}}"])


def fetch_course_files(base, listing):
    """Fetch from base each file of listing (lines `SHA-256 name`) that is not in this folder."""
    import hashlib
    import importlib
    import os
    import urllib.request

    files = dict(reversed(line.split()) for line in listing.splitlines() if line)
    for name, sha256 in files.items():
        if os.path.isfile(name):
            continue
        try:
            with urllib.request.urlopen(base + name, timeout=60) as answer:
                data = answer.read()
            if hashlib.sha256(data).hexdigest() == sha256:
                with open(name + ".part", "wb") as part:
                    part.write(data)
                os.replace(name + ".part", name)
                continue
            problem = (f"{{name}} from {{base}} is not the course's file (its SHA-256 "
                       f"differs): open this chapter again from the course's site, or put its "
                       f"files beside it")
        except Exception as error:  # offline, an HTTP error, a folder you cannot write to
            problem = (f"{{name}} is not beside this notebook and could not be fetched from "
                       f"{{base}} ({{error}}): check your connection and run this cell again, or "
                       f"put the chapter's files ({{', '.join(files)}}) beside the notebook")
        # one line, no traceback: IPython shows this error through the handler below
        get_ipython().set_custom_exc((CourseFilesMissing,), show_one_line)
        raise CourseFilesMissing(problem)
    importlib.invalidate_caches()  # a module fetched just now is importable right away


fetch_course_files(
    "{base}",
    """
{files}
""",
)'''


def file_sha256(name, origin):
    """The SHA-256 of a shipped file: names.txt's is the reference's NAMES_SHA256 (the file is
    downloaded, not committed, and copy_shipped_files checks it against that); any other's, that of
    its origin."""
    if name == fmt.NAMES:
        from microgpt.data import NAMES_SHA256

        return NAMES_SHA256
    try:
        return hashlib.sha256(Path(origin).read_bytes()).hexdigest()
    except OSError:
        raise BuildError(
            f"{_rel(origin)} is missing: every chapter that ships {name} needs it"
        ) from None


def fetch_source(chapter, files):
    """The fetch cell's code: the chapter's folder on the published site and each shipped file's
    SHA-256."""
    lines = "\n".join(f"{file_sha256(name, origin)} {name}" for name, origin in files.items())
    source = FETCH_CELL.format(base=published.files_url(chapter.name), files=lines)
    longest = max(len(line) for line in source.split("\n"))
    if longest > MAX_LINE:
        raise BuildError(
            f"{_rel(published.CONFIG)}: the site's address, or a shipped file's name, makes a line "
            f"of {longest} characters in {chapter.name}'s fetch cell (at most {MAX_LINE})"
        )
    return source


def build_notebook(chapter):
    """The chapter's notebook with everything derived filled in, not executed (no outputs). A
    derived cell's body in the source (the source was saved from a notebook) is compared with what
    is derived: given or fetch code that differs is dropped with a note on stderr, a passage that
    differs is refused."""
    nb, lines = read_source(chapter)
    where = _rel(chapter.source)
    words = [header_words(cell, f"{where}:{line}") for cell, line in zip(nb.cells, lines)]
    for cell, cell_words, line in zip(nb.cells, words, lines):
        # a source saved from a notebook: its literals become expressions again
        if cell.metadata.get("computed"):
            cell.source = unfill_computed(cell.source, cell.metadata["computed"], f"{where}:{line}")
        cell.metadata = notebook_metadata(cell_words)
        if "tests" in cell_words and COMPUTED in cell.source:
            cell.source, cell.metadata["computed"] = fill_computed(
                cell.source, cell_words["tests"], where, line
            )
    check_rules(nb, lines, where)
    defined = set()
    used_ids = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata}
    cells = []
    for index, (cell, line) in enumerate(zip(nb.cells, lines), start=1):
        at, meta, source = f"{where}:{line}", cell.metadata, cell.source
        if "given" in meta:
            source, names = given_code(parse_given(meta["given"], at), defined, at)
            _check_code(source, where, line, given=True)
            meta["nbgrader"] = _locked(_unique(f"given_{names[0]}", used_ids))
            if cell.source.strip() and cell.source != source:
                _note(
                    f"{at}: the given cell's code differs from the reference's ({meta['given']}); "
                    "dropped it: given code is the reference's (solutions/microgpt)"
                )
        elif "passage" in meta:
            source = passage_text(meta["passage"], chapter, at)
            if cell.source.strip() and cell.source != source:
                raise BuildError(
                    f"{at}: this cell's text differs from the passage "
                    f"{meta['passage']!r} that several chapters share: edit "
                    f"{_rel(PASSAGES / meta['passage'])}.md, or restore the cell"
                )
        cell_id = meta.get("nbgrader", {}).get("grade_id") or f"cell-{index:02d}"
        if cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(source, id=cell_id, metadata=meta))
        else:
            cells.append(nbformat.v4.new_code_cell(source, id=cell_id, metadata=meta))
            defined |= _defined_names(source) if "fetch" not in meta else set()
    _add_fetch_cell(chapter, cells, used_ids, lines)
    built = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC)})
    nbformat.validate(built)
    return built


def _note(text):
    print(f"note: {text}", file=sys.stderr)


def _add_fetch_cell(chapter, cells, used_ids, lines):
    """Make the fetch cell from the files the other cells ship; when the source has none, it is
    inserted right after the introduction (the first cell)."""
    fetch = [index for index, cell in enumerate(cells) if cell.metadata.get("fetch")]
    if not fetch:
        cells.insert(1, nbformat.v4.new_code_cell("", metadata={"fetch": True}))
        fetch = [1]
    cell = cells[fetch[0]]
    others = nbformat.v4.new_notebook(cells=[c for c in cells if c is not cell])
    source = fetch_source(chapter, shipped_files(others))
    if cell.source.strip() and cell.source != source:
        _note(
            f"{_rel(chapter.source)}:{lines[fetch[0]]}: the fetch cell's "
            "code differs from what the chapter's files make; dropped it"
        )
    cell.source = source
    cell.metadata["nbgrader"] = _locked(_unique("fetch_course_files", used_ids))
    cell.id = cell.metadata["nbgrader"]["grade_id"]


def _locked(grade_id):
    return {
        "grade": False,
        "grade_id": grade_id,
        "locked": True,
        "schema_version": 3,
        "solution": False,
    }


def _unique(name, used):
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


def copy_shipped_files(chapter, nb):
    """Copy each shipped file into the chapter folder (names.txt is fetched and verified first)."""
    chapter.folder.mkdir(parents=True, exist_ok=True)
    for name, origin in shipped_files(nb).items():
        if name == fmt.NAMES:
            from microgpt.data import DataError, ensure_names

            try:
                ensure_names(origin)
            except DataError as exc:
                raise BuildError(
                    f"{_rel(chapter.source)}: {chapter.name} ships names.txt: {exc}"
                ) from None
        if not origin.exists():
            raise BuildError(
                f"{_rel(chapter.source)}: {chapter.name} "
                f"ships {name}, but {_rel(origin)} is missing"
            )
        target = chapter.folder / name
        if not target.exists() or target.read_bytes() != origin.read_bytes():
            shutil.copyfile(origin, target)


def execute_notebook(nb, folder, timeout=CELL_TIMEOUT, env=None):
    """Run every cell of nb in folder with this environment's Python (and env, by default this
    process's environment outside nbgrader); store outputs in place."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    class CurrentEnvKernelManager(AsyncKernelManager):
        # the python3 kernel of *this* interpreter, whatever kernelspecs the user has installed
        @property
        def kernel_spec(self):
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=KERNELSPEC["display_name"],
                language="python",
                resource_dir="",
            )

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(folder)}},
        record_timing=False,
        coalesce_streams=True,
        allow_errors=False,
    )
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        for index, cell in enumerate(nb.cells):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                raise ExecutionFailed(
                    index, f"{errors[0]['ename']}: {errors[0]['evalue']}"
                ) from None
        raise ExecutionFailed(None, str(exc).strip().splitlines()[-1]) from None
    except (CellTimeoutError, DeadKernelError) as exc:
        index = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and not c.get("execution_count")
            ),
            None,
        )
        raise ExecutionFailed(
            index, f"{type(exc).__name__} (a cell may run at most {timeout} s)"
        ) from None
    # the kernel's language_info (with its Python version, so Jupyter does not mark the notebook
    # modified on opening), fixed kernelspec, no timing
    nb.metadata = nbformat.from_dict(
        {"kernelspec": dict(KERNELSPEC), "language_info": nb.metadata["language_info"]}
    )
    for cell in nb.cells:
        for key in ("execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    return nb


def pictures_without_alt(nb):
    """Indices of the code cells with a picture output (image/*) that has no alt text in its
    metadata."""
    return [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        for mime in output.get("data", {})
        if mime.startswith("image/")
        and not str(output.get("metadata", {}).get(mime, {}).get("alt", "")).strip()
    ]


def source_line(chapter, nb, index):
    """The source line of cell index of nb, built from the chapter's source (which may lack the
    fetch cell the builder inserts)."""
    return source_lines(chapter, nb)[index]


def source_lines(chapter, nb):
    """The source line of each cell of nb (source_line)."""
    lines = read_source(chapter)[1]
    # the fetch cell was inserted: it and the cells after it shift by one
    if len(lines) < len(nb.cells):
        inserted = next(i for i, c in enumerate(nb.cells) if c.metadata.get("fetch"))
        lines = lines[:inserted] + [lines[inserted]] + lines[inserted:]
    return lines


def notebook_text(nb):
    return nbformat.writes(nb) + "\n"


def compare_notebooks(committed, fresh, lines=None):
    """Differences (sources, cell types, ids, metadata; not outputs) as readable lines."""
    diffs = []
    language = {
        k: v for k, v in committed.metadata.get("language_info", {}).items() if k != "version"
    }
    if (
        committed.metadata.get("kernelspec") != fresh.metadata["kernelspec"]
        or set(committed.metadata) != {"kernelspec", "language_info"}
        or language.get("name") != "python"
    ):
        diffs.append("notebook metadata differs (kernelspec and the kernel's language_info only)")
    if len(committed.cells) != len(fresh.cells):
        diffs.append(f"{len(committed.cells)} cells, the source makes {len(fresh.cells)}")
    for index, (old, new) in enumerate(zip(committed.cells, fresh.cells)):
        at = f"cell {index}" + (f" (source line {lines[index]})" if lines else "")
        diffs += [
            f"{at}: {key} differs"
            for key in ("cell_type", "id", "source", "metadata")
            if old.get(key) != new.get(key)
        ]
        if old.get("cell_type") == "code" and not isinstance(old.get("execution_count"), int):
            diffs.append(f"{at}: never executed (build the chapter to store its outputs)")
    return diffs


def claims_record(chapter):
    """Where the build records the chapter's claims and their values (beside the source, never
    shipped)."""
    return chapter.source.with_name("claims.json")


def find_claims(chapter, nb):
    """(claims, doctests) of the built (unexecuted) notebook nb, each with its source line."""
    lines = source_lines(chapter, nb)
    try:
        return prose_claims.find(nb, lines, _rel(chapter.source))
    except prose_claims.ClaimError as exc:
        raise BuildError(str(exc)) from None


def check_claims(chapter, nb, cell):
    """Raise BuildError for the first false claim or failing docstring example, given the claims
    cell that ran after the last one; otherwise the text of the chapter's claims record."""
    claims, doctests = find_claims(chapter, nb)
    try:
        results = prose_claims.kernel_results(cell)
    except prose_claims.ClaimError as exc:
        raise BuildError(f"{_rel(chapter.source)}: {exc}") from None
    where = _rel(chapter.source)
    for claim, result in zip(claims, results["claims"]):
        why = prose_claims.problem(claim, result)
        if why:
            raise BuildError(f"{where}:{claim['line']}: {chapter.name}: {why}")
    for test, result in zip(doctests, results["doctests"]):
        for line, why in prose_claims.doctest_problems(test, result):
            raise BuildError(f"{where}:{line}: {chapter.name}: {why}")
    return prose_claims.record(claims, doctests, results)


def check_chapter(chapter):
    """Why the chapter's files differ from a fresh build (empty list: up to date)."""
    fresh = build_notebook(chapter)
    problems = []
    if chapter.source.read_text(encoding="utf-8") != source_text(fresh):
        problems.append(
            f"{_rel(chapter.source)} is not in canonical "
            "form (derived code or metadata out of date)"
        )
    if not chapter.notebook.exists():
        problems.append(f"{_rel(chapter.notebook)} is missing")
    else:
        committed = nbformat.read(chapter.notebook, as_version=4)
        problems += compare_notebooks(committed, fresh, read_source(chapter)[1])
        if chapter.notebook.read_text(encoding="utf-8") != notebook_text(committed):
            problems.append(f"{_rel(chapter.notebook)} is not in nbformat's canonical JSON layout")
        problems += [
            f"cell {index}: a picture without alt text" for index in pictures_without_alt(committed)
        ]
    claims, doctests = find_claims(chapter, fresh)
    record = claims_record(chapter)
    if not record.exists():
        problems.append(
            f"{_rel(record)} is missing (the build writes it when it checks the claims)"
        )
    else:
        recorded = json.loads(record.read_text(encoding="utf-8"))
        problems += prose_claims.check_record(claims, doctests, recorded, _rel(chapter.source))
    for name, origin in shipped_files(fresh).items():
        target = chapter.folder / name
        if not target.exists() or not origin.exists() or target.read_bytes() != origin.read_bytes():
            problems.append(f"{_rel(target)} is missing or differs from {_rel(origin)}")
    extra = (
        {p.name for p in chapter.folder.iterdir() if p.is_file()}
        - set(shipped_files(fresh))
        - {chapter.notebook.name}
        if chapter.folder.is_dir()
        else set()
    )
    problems += [
        f"{_rel(chapter.folder / name)} is not shipped by the chapter (nbgrader would release it)"
        for name in sorted(extra)
    ]
    return problems


def take_notebook(chapter, log=print):
    """Write the chapter's notebook (edited in JupyterLab, say) into its text source, with short
    headers; the bodies of derived cells are kept for the build to compare with what it derives,
    then leave out."""
    try:
        nb = nbformat.read(chapter.notebook, as_version=4)
    except (OSError, ValueError) as exc:
        raise BuildError(f"{_rel(chapter.notebook)}: cannot be read ({exc})") from None
    chapter.source.parent.mkdir(parents=True, exist_ok=True)
    chapter.source.write_text(
        source_text(nb, keep_derived=True, where=_rel(chapter.notebook)), encoding="utf-8"
    )
    log(f"{chapter.name}: took {_rel(chapter.notebook)} into {_rel(chapter.source)}")


def unsaved_edits(chapter, fresh):
    """Where a notebook saved after its source holds edits that building would overwrite: the first
    lines in which the notebook, taken back into source form, differs from fresh's ([] when the
    notebook is older than the source or holds no edit: derived cells, computed values and outputs
    are the build's, and change with the reference)."""
    if (
        not chapter.notebook.exists()
        or chapter.notebook.stat().st_mtime <= chapter.source.stat().st_mtime
    ):
        return []
    saved = source_text(nbformat.read(chapter.notebook, as_version=4), where=_rel(chapter.notebook))
    # through nbformat's JSON, as the saved one went: its metadata keys sorted
    made = source_text(nbformat.reads(nbformat.writes(fresh), as_version=4)).split("\n")
    return [
        f"source line {number}: {(line or '').strip()[:60]!r}"
        for number, (line, other) in enumerate(itertools.zip_longest(saved.split("\n"), made), 1)
        if line != other
    ][:3]


def build_chapter(chapter, log=print):
    """Build, execute and write one chapter; returns seconds spent executing. A notebook saved after
    its source with cells the source does not make is not overwritten (BuildError): take it in
    first."""
    nb = build_notebook(chapter)
    edits = unsaved_edits(chapter, nb)
    if edits:
        raise BuildError(
            f"{_rel(chapter.notebook)} was saved after its source and differs from what the source "
            f"makes ({edits[0]}{', ...' if len(edits) > 1 else ''}): take it into the source with "
            f"`{PROG} --from-notebook {chapter.name[:2]}`, or discard "
            f"its edits (git checkout {_rel(chapter.notebook)})"
        )
    graded = fmt.points(nb)  # grade_id -> points of each graded cell
    points = sum(graded.values())
    log(
        f"[{chapter.name}] {len(nb.cells)} cells, "
        f"{len(graded)} graded ({points:g} points); executing"
    )
    copy_shipped_files(chapter, nb)
    claims, doctests = find_claims(chapter, nb)
    # a last cell, removed once run: the claims evaluated in the notebook's namespace, the docstring
    # examples run
    nb.cells.append(
        nbformat.v4.new_code_cell(prose_claims.kernel_code(claims, doctests), id="course-claims")
    )
    started = time.perf_counter()
    try:
        execute_notebook(nb, chapter.folder)
    except ExecutionFailed as exc:
        index, message = exc.args
        nb.cells.pop()
        at = (
            f"{_rel(chapter.source)}:{source_line(chapter, nb, index)}"
            if index is not None and index < len(nb.cells)
            else _rel(chapter.source)
        )
        raise ExecutionFailed(None, f"{at}: cell {index} raised {message}") from None
    seconds = time.perf_counter() - started
    record = check_claims(chapter, nb, nb.cells.pop())
    missing_alt = pictures_without_alt(nb)
    if missing_alt:
        raise BuildError(
            f"{_rel(chapter.source)}:{source_line(chapter, nb, missing_alt[0])}: "
            "a picture without alt "
            f'text: show it with course_tools\' show("one sentence saying what it shows")'
        )
    changed = [
        _write_if_changed(chapter.notebook, notebook_text(nb)),
        _write_if_changed(chapter.source, source_text(nb)),
        _write_if_changed(claims_record(chapter), record),
    ]
    log(
        f"{chapter.name}: {'wrote' if any(changed) else 'unchanged'} ({len(nb.cells)} "
        f"cells, {len(graded)} graded, {points:g} points, {len(claims)} claims and "
        f"{len(doctests)} docstrings with examples checked, executed in {seconds:.1f} s)"
    )
    return seconds


def _write_if_changed(path, text):
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8", newline="\n")
    return True


def _rel(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- command line


def main(argv=None):
    return run(PROG, lambda: run_command(argv))


def run_command(argv):
    """Build, check or copy the files of the chapters argv names: the exit code."""
    parser = Parser(
        prog=PROG, description="Build chapters/NN_name/NN_name.ipynb from its jupytext source."
    )
    parser.add_argument(
        "chapters", nargs="*", metavar="NN", help="chapters to build (default: all)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any chapter file is stale"
    )
    mode.add_argument("--files", action="store_true", help="only copy the files each chapter ships")
    mode.add_argument(
        "--from-notebook",
        action="store_true",
        help="take each chapter's notebook (edited in JupyterLab, say) into its source, then build",
    )
    args = parser.parse_args(argv)
    try:
        chapters = select_chapters(args.chapters)
        if not chapters:
            raise BuildError(f"no chapter sources in {_rel(SOURCES)}")
        if args.check:
            return _check(chapters)
        for chapter in chapters:
            if args.files:
                copy_shipped_files(chapter, build_notebook(chapter))
            else:
                if args.from_notebook:
                    take_notebook(chapter)
                build_chapter(chapter)
    except BuildError as exc:
        raise UsageError(exc) from None
    except ExecutionFailed as exc:
        print(f"{PROG}: error: {exc.args[1]}", file=sys.stderr)
        return 1
    print(f"{'copied the files of' if args.files else 'built'} {len(chapters)} chapter(s)")
    return 0


def _check(chapters):
    stale = []
    for chapter in chapters:
        problems = check_chapter(chapter)
        print(f"{chapter.name}: {'DIFFERS' if problems else 'up to date'}")
        print("".join(f"  {p}\n" for p in problems[:20]), end="")
        if problems:
            stale.append(chapter.name)
    if stale:
        print(
            f"{len(stale)} of {len(chapters)} chapter(s) differ from their sources; rebuild with "
            f"{PROG} {' '.join(n[:2] for n in stale)}"
        )
        return 1
    print(f"all {len(chapters)} chapter(s) up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
