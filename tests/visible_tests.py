"""A chapter's visible tests run as a learner's notebook would run them, in this process (no kernel): for
the proofs that a mistake in a piece fails that piece's visible tests, and with which message."""

import contextlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import nbformat

from autograder.notebook_format import graded_pieces, is_tests, split_hidden
from judge_support import PROJECT, replace_regions

VARIANTS = Path(__file__).with_name("piece_variants")


@lru_cache(maxsize=None)
def _source(chapter: str) -> nbformat.NotebookNode:
    return nbformat.read(PROJECT / "chapters" / chapter / f"{chapter}.ipynb", as_version=4)


@contextlib.contextmanager
def _in_folder(folder: Path):
    """cwd in folder and its course_tools first on sys.path, as a kernel started beside the notebook has."""
    before = os.getcwd(), list(sys.path), sys.modules.pop("course_tools", None)
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        if "matplotlib.pyplot" in sys.modules:  # a kernel's figures end with it; here they would pile up
            sys.modules["matplotlib.pyplot"].close("all")
        os.chdir(before[0])
        sys.path[:] = before[1]
        sys.modules.pop("course_tools", None)
        if before[2] is not None:
            sys.modules["course_tools"] = before[2]


def visible_failure(chapter: str, piece: str, code: str | None = None, *, with_hidden: bool = False,
                    nb: nbformat.NotebookNode | None = None) -> str | None:
    """Run chapter's cells in order up to and including the tests cell of `piece` (a solution cell's
    grade_id) with the piece's solution region replaced by `code` (None: the instructor's own) and
    every hidden block removed (with_hidden: kept, as the grader runs them); the first error raised, as
    'Type: message', or None when all pass. nb: another version of the chapter's source notebook."""
    nb = nb or _source(chapter)
    nb = nb if code is None else replace_regions(nb, {piece: code})
    last = next(p.grade_index for p in graded_pieces(nb) if p.solution_id == piece)
    namespace = {"__name__": "__main__"}
    with _in_folder(PROJECT / "chapters" / chapter), contextlib.redirect_stdout(None):
        for index, cell in enumerate(nb.cells[:last + 1]):
            if cell.cell_type != "code":
                continue
            source = cell.source if with_hidden or not is_tests(cell) else split_hidden(cell.source)[0]
            try:
                exec(compile(source, f"<{chapter} cell {index}>", "exec"), namespace)
            except Exception as error:  # the learner sees this one; nothing after it runs
                return "".join(traceback.format_exception_only(type(error), error)).strip()
    return None


@dataclass(frozen=True)
class Variant:
    """Code for a piece's solution region: a correct one written differently (`says` empty), a mistake
    whose first visible failure must contain `says` (the cause, in the learner's words), or a mistake only
    the hidden check catches (`says`: why no visible test can)."""

    piece: str
    name: str
    code: str
    says: str = ""


def chapter_variants() -> dict[str, ModuleType]:
    """Each chapter's variants: tests/piece_variants/NN_name.py, holding CORRECT, MISTAKES and optionally
    HIDDEN_ONLY (lists of Variant)."""
    found = {}
    for path in sorted(VARIANTS.glob("[0-9][0-9]_*.py")):
        spec = importlib.util.spec_from_file_location(f"piece_variants_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found[path.stem] = module
    return found
