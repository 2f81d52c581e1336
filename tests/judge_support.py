"""Shared by the judge's tests (test_judge.py, test_judge_chapters.py): a chapter's source notebook
with some pieces' solution regions replaced by a learner's code, and the judge's verdict on it.

    ch = JudgedChapter("03_components")
    results = ch.judged(ch.learner(linear="return [...]"))     # {piece: PieceResult}
"""

from __future__ import annotations

import contextlib
import copy
import functools
from pathlib import Path

import nbformat

from autograder.notebook_format import nbgrader_meta, split_regions, with_regions
from autograder.pipeline import confirm
from autograder.pipeline.judge import Verdict
from autograder.pipeline.sandbox import Limits

PROJECT = Path(__file__).resolve().parents[1]
LIMITS = Limits(piece_seconds=20)
NOT_JUDGED = "not judged in this test"


@functools.lru_cache(maxsize=None)
def _source(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def replace_regions(source_nb, regions: dict) -> nbformat.NotebookNode:
    """source_nb with the solution region of each named piece (the solution cell's grade_id)
    replaced by the given code, dedented and then indented like the region's BEGIN line (the
    instructor's code elsewhere), as a learner's notebook would hold it. Every name must be a
    solution cell with one region."""
    nb = copy.deepcopy(source_nb)
    left = dict(regions)
    for cell in nb.cells:
        piece = nbgrader_meta(cell).get("grade_id")
        if cell.cell_type != "code" or piece not in left:
            continue
        count = len(split_regions(cell.source)[1])
        assert count == 1, f"{piece}: expected one solution region, found {count}"
        cell.source = with_regions(cell.source, [left.pop(piece)])
    assert not left, f"no solution cell named {sorted(left)}"
    return nb


@contextlib.contextmanager
def judging_only(pieces):
    """While the block runs, check_pieces judges only the named pieces (solution cells' grade_ids);
    the others get 0 points and the message NOT_JUDGED without a worker (a test that cares about one
    piece does not pay for the chapter's slowest checks)."""
    real = confirm.judge_bounded
    wanted = {confirm.your_cell(confirm.Piece("", piece, 0, 0, 0)) for piece in pieces}

    def judge_bounded(*args, solution_name="", **kwargs):
        if solution_name in wanted:
            return real(*args, solution_name=solution_name, **kwargs)
        return Verdict(False, NOT_JUDGED)

    confirm.judge_bounded = judge_bounded
    try:
        yield
    finally:
        confirm.judge_bounded = real


class JudgedChapter:
    """One chapter's source notebook, learner notebooks made from it, and the judge's verdicts."""

    def __init__(self, name: str, limits: Limits = LIMITS):
        self.source = PROJECT / "chapters" / name / f"{name}.ipynb"
        self.limits = limits

    def learner(self, **regions) -> nbformat.NotebookNode:
        return replace_regions(_source(self.source), regions)

    def judged(self, nb, only=None) -> dict:
        """{piece: PieceResult} of the judge on nb; only: the pieces to judge (default all)."""
        with judging_only(only) if only is not None else contextlib.nullcontext():
            results = confirm.check_pieces(self.source, nb, limits=self.limits)
        return {r.piece: r for r in results if only is None or r.piece in only}

    def points(self, nb, only=None) -> dict:
        return {piece: r.points for piece, r in self.judged(nb, only).items()}
