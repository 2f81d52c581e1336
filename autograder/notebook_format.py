"""The single home of the notebook format: cells, markers, regions, pieces, chapters, their files,
limits."""

from __future__ import annotations

import copy
import functools
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------- markers and stubs

# a marker line as the course writes it: COMMENT + nbgrader's delimiter, alone on its line
COMMENT = "### "
NBGRADER_SETTINGS = (
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_HIDDEN",
    "END_HIDDEN",
    "CODE_STUB",
    "TEXT_STUB",
)
# nbgrader's settings as read from nbgrader where it is installed, written beside this module where
# it is not (the Gradescope package: its judge grades without nbgrader)
FROZEN_SETTINGS = Path(__file__).with_name("nbgrader_settings.json")


@functools.cache
def nbgrader_settings() -> dict[str, str]:
    """nbgrader's own markers and stubs (the defaults of its ClearSolutions and ClearHiddenTests): a
    line holding a delimiter is a marker line, and a solution region becomes the stub at release."""
    try:
        from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
    except ModuleNotFoundError:
        if FROZEN_SETTINGS.is_file():
            return json.loads(FROZEN_SETTINGS.read_text(encoding="utf-8"))
        raise

    solutions, hidden = ClearSolutions(), ClearHiddenTests()
    return {
        "BEGIN_SOLUTION": solutions.begin_solution_delimeter,
        "END_SOLUTION": solutions.end_solution_delimeter,
        "BEGIN_HIDDEN": hidden.begin_test_delimeter,
        "END_HIDDEN": hidden.end_test_delimeter,
        "CODE_STUB": solutions.code_stub["python"],
        "TEXT_STUB": solutions.text_stub,
    }


def __getattr__(name: str) -> str:
    """BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN, CODE_STUB and TEXT_STUB, read from
    nbgrader on first use (importing nbgrader takes a second, which the commands that need no marker
    do not pay)."""
    if name in NBGRADER_SETTINGS:
        return nbgrader_settings()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def marker_line(delimiter: str) -> str:
    """The line an author writes for a delimiter, e.g. `### BEGIN SOLUTION`."""
    return COMMENT + delimiter


# --------------------------------------------------------------------------- cells


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata ({} when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell) -> bool:
    """nbgrader solution=true: an exercise, or a written answer."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_grade(cell) -> bool:
    """nbgrader grade=true: a tests cell, or a written answer (both carry points)."""
    return bool(nbgrader_meta(cell).get("grade"))


def is_locked(cell) -> bool:
    """nbgrader locked=true: a cell learners must not change (given code, tests)."""
    return bool(nbgrader_meta(cell).get("locked"))


def is_exercise(cell) -> bool:
    """A code cell the learner writes: solution, not grade."""
    return cell.get("cell_type") == "code" and is_solution(cell) and not is_grade(cell)


def is_tests(cell) -> bool:
    """A code cell of tests with points (visible tests, then a hidden block): grade, not
    solution."""
    return cell.get("cell_type") == "code" and is_grade(cell) and not is_solution(cell)


def is_written_answer(cell) -> bool:
    """A Markdown answer graded by hand: grade and solution."""
    return cell.get("cell_type") == "markdown" and is_grade(cell) and is_solution(cell)


def cell_kind(cell) -> str:
    """markdown, answer (written, graded by hand), code, fetch (the first code cell: fetches the
    chapter's files when opened alone), given (the reference's code), solution (an exercise) or
    tests."""
    if cell.get("cell_type") == "markdown":
        return "answer" if is_grade(cell) else "markdown"
    if cell.get("metadata", {}).get("fetch"):
        return "fetch"
    if "given" in cell.get("metadata", {}):
        return "given"
    return "solution" if is_solution(cell) else "tests" if is_grade(cell) else "code"


# --------------------------------------------------------------------------- regions


def _walk(source: str, begin: str, end: str):
    """(part, line) of each line of source, part being "begin", "region", "end" or "fixed"; as
    nbgrader reads them, a line holding a delimiter is a marker line. A region left open runs to the
    end."""
    inside = False
    for line in source.split("\n"):
        if begin in line and not inside:
            inside = True
            yield "begin", line
        elif end in line and inside:
            inside = False
            yield "end", line
        else:
            yield ("region" if inside else "fixed"), line


def split_regions(source: str, begin: str | None = None, end: str | None = None):
    """(fixed segments, regions) of a cell, by default its solution regions: fixed[0], regions[0],
    fixed[1], ..., fixed[-1], each a list of lines; the marker lines belong to neither."""
    fixed, regions = [[]], []
    for part, line in _walk(
        source,
        begin or nbgrader_settings()["BEGIN_SOLUTION"],
        end or nbgrader_settings()["END_SOLUTION"],
    ):
        if part == "begin":
            regions.append([])
        elif part == "end":
            fixed.append([])
        else:
            (regions[-1] if part == "region" else fixed[-1]).append(line)
    if len(fixed) == len(regions):  # the last region was left open
        fixed.append([])
    return fixed, regions


def split_hidden(source: str) -> tuple[str, str]:
    """(the visible part, the hidden part) of a tests cell's source."""
    settings = nbgrader_settings()
    fixed, regions = split_regions(source, settings["BEGIN_HIDDEN"], settings["END_HIDDEN"])
    return "\n".join(sum(fixed, [])), "\n".join(sum(regions, []))


def hidden_lines(nb) -> list[str]:
    """The non-blank lines (stripped) inside the hidden-test blocks of a notebook."""
    return [
        line.strip()
        for cell in nb.cells
        for line in split_hidden(cell.source)[1].split("\n")
        if line.strip()
    ]


def with_regions(source: str, codes: list[str]) -> str:
    """source with its solution regions (marker lines included) replaced, in order, by codes: each
    dedented, then indented like its region's begin line (blank lines left empty)."""
    settings, codes, out = nbgrader_settings(), list(codes), []
    for part, line in _walk(source, settings["BEGIN_SOLUTION"], settings["END_SOLUTION"]):
        if part == "begin":
            indent = line[: len(line) - len(line.lstrip())]
            code = textwrap.dedent(codes.pop(0)).strip("\n").split("\n")
            out += [indent + text if text.strip() else "" for text in code]
        elif part == "fixed":
            out.append(line)
    return "\n".join(out)


def stub_solutions(source: str, stub: str | None = None) -> str:
    """source with every solution region replaced by the stub, indented like its begin line: what
    nbgrader's ClearSolutions makes of an exercise cell at release."""
    count = len(split_regions(source)[1])
    return with_regions(source, [stub or nbgrader_settings()["CODE_STUB"]] * count)


# --------------------------------------------------------------------------- graded pieces


@dataclass(frozen=True)
class Piece:
    """One automatically graded cell and the solution cell it grades (indices into the source
    notebook)."""

    grade_id: str  # the tests cell's grade_id, e.g. "encode_tests"
    solution_id: str  # the solution cell's grade_id, e.g. "encode"
    solution_index: int
    grade_index: int
    points: float


def graded_pieces(nb) -> list[Piece]:
    """The tests cells of a source notebook, each with the nearest exercise above it (a tests cell
    with none above is no piece). Written answers, graded by hand, are not pieces."""
    found, exercise = [], None
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if is_exercise(cell):
            exercise = (meta["grade_id"], index)
        elif is_tests(cell) and exercise:
            found.append(
                Piece(
                    meta["grade_id"], exercise[0], exercise[1], index, float(meta.get("points", 0))
                )
            )
    return found


def points(nb) -> dict:
    """grade_id -> points of every graded cell (tests cells and written answers)."""
    return {
        nbgrader_meta(c)["grade_id"]: nbgrader_meta(c).get("points", 0)
        for c in nb.cells
        if is_grade(c)
    }


def hand_graded(nb) -> dict[str, float]:
    """{grade_id: points} of the written answers, in notebook order: the points no check gives,
    graded by hand in the formgrader."""
    return {
        nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c).get("points", 0))
        for c in nb.cells
        if is_written_answer(c)
    }


def submission(source_nb, release_nb, answers: dict | None = None, stubs=()):
    """A learner's notebook: the release with each exercise cell's source taken from the source
    notebook, or from answers (grade_id -> source) for those it names; those in stubs keep the
    stub."""
    filled = {nbgrader_meta(c)["grade_id"]: c.source for c in source_nb.cells if is_solution(c)}
    filled.update(answers or {})
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_solution(cell) and grade_id not in stubs:
            cell.source = filled[grade_id]
    return nb


# --------------------------------------------------------------------------- chapters

CHAPTER_NAME = re.compile(r"^(\d{2})_[A-Za-z0-9_]+$")  # NN_name: two digits, then a name


class UnknownChapter(ValueError):
    """A chapter name that matches no chapter; the message names the known ones."""


def chapter_names(folder: Path, suffix: str = ".ipynb") -> list[str]:
    """The chapters in folder, sorted: each subfolder NN_name holding NN_name<suffix>."""
    return sorted(
        p.name
        for p in Path(folder).iterdir()
        if CHAPTER_NAME.match(p.name) and (p / f"{p.name}{suffix}").is_file()
    )


def chapter_aliases(chapter: str) -> list[str]:
    """Every spelling of a chapter: 01_autograd, autograd, 01 and 1."""
    number, _, title = chapter.partition("_")
    return [chapter, title, number, str(int(number))]


def match_chapter(name, known: list[str]) -> str | None:
    """The chapter of known that name means (its number, full name, or name after the number), or
    None."""
    text = str(name).strip()
    for chapter in known:
        number, _, title = chapter.partition("_")
        if text in (chapter, title) or (text.isdigit() and int(text) == int(number)):
            return chapter
    return None


def resolve_chapters(names, known: list[str], where="") -> list[str]:
    """The chapters names mean, in order, each once; UnknownChapter naming every unknown one."""
    found = [match_chapter(name, known) for name in names]
    unknown = [name for name, chapter in zip(names, found) if chapter is None]
    if unknown:
        raise UnknownChapter(
            f"no chapter {', '.join(map(repr, unknown))}"
            + (f" in {where}" if where else "")
            + f" (chapters: {', '.join(known) or 'none'})"
        )
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- the chapters' files
# and limits

# every chapter ships it
COURSE_TOOLS = Path(__file__).resolve().parent / "learner" / "course_tools.py"
REPOSITORY_DATA = Path(__file__).resolve().parents[1] / "data"
# the one data file that is downloaded, not committed: checked against microgpt.data.NAMES_SHA256
NAMES = "names.txt"
# the data files a chapter ships when one of its code cells names them, and how to get each one
DATA_FILES = {
    NAMES: (
        'get it with `make setup`, or copy makemore\'s names.txt into data/ (README, "The data")'
    ),
    "microgpt-names-1000.json": (
        "it ships with the repository (`git checkout -- data/`), or `make checkpoint` remakes it"
    ),
    "microgpt-names-1000.metrics.jsonl": (
        "it ships with the repository (`git checkout -- data/`), or `make checkpoint` remakes it"
    ),
}
# a submitted notebook larger than this is neither collected nor graded
MAX_NOTEBOOK_BYTES = 20 << 20


def shipped_files(nb, data: Path = REPOSITORY_DATA) -> dict[str, Path]:
    """{file name in the chapter folder: its origin} of every file a chapter ships beside its
    notebook: course_tools.py, and each of DATA_FILES (from the folder data) that a code cell
    names."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    files = {COURSE_TOOLS.name: COURSE_TOOLS}
    files.update({name: Path(data) / name for name in DATA_FILES if name in code})
    return files
