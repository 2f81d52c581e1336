"""Confirmation: score each graded piece of a learner's notebook outside the learner's kernel.

For every automatically graded cell (nbgrader grade=true, a code cell with points) the piece is the
nearest solution cell above it. The learner's code of that cell's solution regions (### BEGIN/END
SOLUTION) is put between the cell's given lines (signature, docstring) and judged (judge.py): a
sandboxed worker runs the chapter's public cells that the grade cell depends on (dependencies.py),
with the reference standing in for the earlier exercises, then the learner's cell and the grade
cell's visible tests; the hidden check runs in the judge. Nothing the learner's kernel did, and no
other piece of the learner's code, can change what the judge sees. The policy (policy.py) only
warns.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .. import notebook_format as fmt
from ..notebook_format import (
    Piece,
    graded_pieces,
    is_exercise,
    nbgrader_meta,
    split_hidden,
    split_regions,
)
from . import policy, sandbox
from .dependencies import needed_cells
from .flags import Flag
from .judge import Cell, defined_functions, judge_bounded, reference_function, without_functions


@dataclass
class PieceResult:
    piece: str  # the solution cell's grade_id (what the learner wrote), e.g. "encode"
    grade_id: str  # the grade cell's grade_id, e.g. "encode_tests"
    points: float
    max_points: float
    passed: bool
    message: str
    flag: Flag | None = None


def find_block(lines: list[str], block: list[str], start: int) -> int | None:
    """First index >= start where `block` occurs in `lines` (trailing spaces ignored)."""
    want = [line.rstrip() for line in block]
    have = [line.rstrip() for line in lines]
    for at in range(start, len(lines) - len(block) + 1):
        if have[at : at + len(block)] == want:
            return at
    return None


def learner_regions(source: str, learner: str) -> list[list[str]] | None:
    """The learner's lines in place of each region: the learner's cell is matched against the source
    cell's fixed segments (def line, docstring, code after the region). None if they do not
    match."""
    fixed, regions = split_regions(source)
    lines = learner.split("\n")
    if not regions:
        return None
    at = find_block(lines, fixed[0], 0)
    if at != 0:
        return None
    position, found = len(fixed[0]), []
    for segment in fixed[1:-1]:
        start = find_block(lines, segment, position) if segment else position
        if start is None:
            return None
        found.append(lines[position:start])
        position = start + len(segment)
    last = fixed[-1]
    while last and not last[-1].strip():  # trailing blank lines are not required
        last = last[:-1]
    end = len(lines)
    while end > position and not lines[end - 1].strip():
        end -= 1
    start = end - len(last)
    if start < position or [line.rstrip() for line in lines[start:end]] != [
        line.rstrip() for line in last
    ]:
        return None
    found.append(lines[position:start])
    return found


def assemble(source: str, learner: str) -> tuple[str, set[int] | None]:
    """The solution cell to confirm and the 1-based lines the learner wrote: the source cell with
    its regions replaced by the learner's, or (when the learner changed the code around the regions)
    the learner's whole cell, all of it the learner's (None)."""
    regions = learner_regions(source, learner)
    if regions is None:
        return learner, None
    fixed, _ = split_regions(source)
    lines, mine = list(fixed[0]), set()
    for region, after in zip(regions, fixed[1:]):
        mine |= set(range(len(lines) + 1, len(lines) + len(region) + 1))
        lines += region + after
    return "\n".join(lines), mine


def read_notebook(path_or_nb):
    """(notebook, None) or (None, why it cannot be graded) for a path or an already read
    notebook."""
    if not isinstance(path_or_nb, (str, Path)):
        return path_or_nb, None
    path = Path(path_or_nb)
    if not path.is_file():
        return None, f"no notebook {path.name}"
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # not JSON, not a notebook, wrong encoding ...
        return None, f"{path.name} is not a readable notebook ({type(error).__name__})"
    if not isinstance(nb.get("cells"), list):
        return None, f"{path.name} has no cells"
    return nb, None


def check_pieces(
    source_nb,
    learner_nb,
    *,
    confinement=sandbox.BUBBLEWRAP,
    limits=None,
    chapter_files=None,
    student="",
    chapter="",
) -> list[PieceResult]:
    """Judge every automatically graded piece of learner_nb (a path or a notebook) against the
    instructor's source_nb (path or notebook). chapter_files: the folder whose non-notebook files
    the notebook uses (course_tools.py, data); default the source notebook's folder when source_nb
    is a path. confinement: how the worker is kept apart (sandbox.Confinement; UNCONFINED: a
    learner's own check, a `user` one: a Gradescope container). Never raises for the learner's
    input."""
    limits = limits or sandbox.Limits()
    if isinstance(source_nb, (str, Path)):
        chapter_files = chapter_files or Path(source_nb).parent
        source_nb = nbformat.read(source_nb, as_version=4)
    plan = ChapterPlan(source_nb)
    learner, problem = read_notebook(learner_nb)

    def result(piece, passed, message, flag_kind=None, flag_reason=None):
        flag = (
            Flag(student, chapter, piece.grade_id, flag_kind, flag_reason or message)
            if flag_kind
            else None
        )
        return PieceResult(
            piece.solution_id,
            piece.grade_id,
            piece.points if passed else 0.0,
            piece.points,
            passed,
            message,
            flag,
        )

    if learner is None:
        return [result(p, False, problem) for p in plan.pieces]
    learner_cells = {}
    for cell in learner.cells:
        meta = nbgrader_meta(cell) if isinstance(cell, dict) else {}
        if (
            meta.get("solution")
            and cell.get("cell_type") == "code"
            and isinstance(meta.get("grade_id"), str)
        ):
            learner_cells.setdefault(meta["grade_id"], str(cell.get("source", "")))
    scratch = Path(tempfile.mkdtemp(prefix="microgpt-judge-"))
    try:
        # a copy: the worker sees the chapter's files and nothing beside them
        files = scratch / "chapter"
        files.mkdir()
        for item in Path(chapter_files).iterdir() if chapter_files else ():
            if item.is_file() and not item.is_symlink() and item.suffix != ".ipynb":
                shutil.copy2(item, files / item.name)
        results = []
        for piece in plan.pieces:
            if piece.solution_id not in learner_cells:
                results.append(
                    result(piece, False, f"the notebook has no solution cell {piece.solution_id!r}")
                )
                continue
            code, mine = assemble(
                plan.source(piece.solution_index), learner_cells[piece.solution_id]
            )
            broken = policy.violations(
                code, mine, plan.allowed, plan.modules | policy.module_aliases([code])
            )
            verdict = judge_bounded(
                plan.cells_for(piece, code),
                plan.references_before(piece),
                *split_hidden(plan.source(piece.grade_index)),
                chapter_files=files,
                limits=limits,
                confinement=confinement,
                solution_name=your_cell(piece),
            )
            message = short_paths(verdict.message[:MESSAGE_CHARS])
            if broken:  # a warning for the instructor: the points are the judge's
                results.append(
                    result(piece, verdict.passed, message, "policy", "policy: " + "; ".join(broken))
                )
            else:
                results.append(result(piece, verdict.passed, message, verdict.kind))
        return results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def your_cell(piece: Piece) -> str:
    """The name the learner's solution cell runs under in the worker (tracebacks say 'your ...')."""
    return f"<your {piece.solution_id}>"


class ChapterPlan:
    """What the worker of each piece runs: the chapter's public cells that the graded cells depend
    on (dependencies.py), the learner's cell of the piece, and stand-ins for the other exercises."""

    def __init__(self, source_nb):
        self.nb = source_nb
        self.pieces = graded_pieces(source_nb)
        self.code = [
            (i, c.source, nbgrader_meta(c))
            for i, c in enumerate(source_nb.cells)
            if c.cell_type == "code"
        ]
        self.allowed = policy.allowed_modules(
            [source for _, source, meta in self.code if meta.get("solution")]
        )
        self.modules = policy.module_aliases([source for _, source, _ in self.code])
        last = max((p.grade_index for p in self.pieces), default=-1)
        self.kept = needed_cells(self.code, last) if self.pieces else set()
        self.exercises = {
            i: defined_functions(c.source) for i, c in enumerate(source_nb.cells) if is_exercise(c)
        }

    def source(self, index: int) -> str:
        return self.nb.cells[index].source

    def public(self, index: int, source: str, meta: dict) -> str:
        """A cell as the worker may see it: an exercise's definitions removed (stand-ins take their
        place), a grade cell's hidden tests removed; an error if solution code would remain."""
        if index in self.exercises:
            source = without_functions(source, set(self.exercises[index]))
        if meta.get("grade"):
            source = split_hidden(source)[0]
        if fmt.BEGIN_SOLUTION in source:
            raise ValueError(
                f"cell {index} has solution code outside the functions it defines: the judge "
                f"cannot run it without showing the solution"
            )
        return source

    def cells_for(self, piece: Piece, code: str) -> list[Cell]:
        """The worker's cells for piece, in order, up to (not including) its grade cell."""
        cells = []
        for index, source, meta in self.code:
            if index == piece.solution_index:
                cells.append(Cell(code, your_cell(piece)))
            elif index < piece.grade_index and index in self.kept and not meta.get("grade"):
                cells.append(Cell(self.public(index, source, meta), f"<cell {index}>"))
        return cells

    def references_before(self, piece: Piece) -> dict:
        """{name: the reference's function} for the exercises defined before the piece's solution
        cell: the worker calls back the judge for them (later exercises do not exist yet at that
        point)."""
        return {
            name: reference_function(name)
            for index, names in self.exercises.items()
            if index < piece.solution_index
            for name in names
        }


MESSAGE_CHARS = 2_000


def short_paths(text: str) -> str:
    """A message without the grading machine's paths: each absolute path under the course code, the
    Python installation or the temporary folder is cut to its file name (a traceback still names its
    file). Feedback pages go further (feedback.scrub: every absolute path becomes <path>)."""
    import re

    import autograder

    prefixes = {
        str(Path(autograder.__file__).resolve().parents[1]),
        sys.prefix,
        sys.base_prefix,
        tempfile.gettempdir(),
    }
    for prefix in sorted(prefixes, key=len, reverse=True):
        text = re.sub(re.escape(prefix) + r"[^\s'\"():,]*", lambda m: Path(m.group(0)).name, text)
    return text
