"""A chapter's visible tests run as a learner's notebook would run them, in forked processes (no
kernel): for the proofs that a mistake in a piece fails that piece's visible tests, and with which
message."""

import atexit
import importlib.util
import multiprocessing
import os
import signal
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


def _run(chapter: str, cells: list[tuple[int, str]], namespace: dict) -> str | None:
    """Execute cells ((index, source) pairs) in namespace, in order; the first error raised, as
    'Type: message' (what the learner reads), or None when every cell runs."""
    for index, source in cells:
        try:
            exec(compile(source, f"<{chapter} cell {index}>", "exec"), namespace)
        except BaseException as error:  # the learner sees this one; nothing after it runs
            return "".join(traceback.format_exception_only(type(error), error)).strip()
    return None


class _Snapshot:
    """A forked process that has run a chapter's cells before one piece's solution cell (beside the
    chapter's files, stdout discarded) and waits: each run forks it once more and executes the rest
    there. The cells before a piece cannot depend on its code, so they run once for all its
    variants, and every variant starts from exactly the state a notebook run from the top would
    have."""

    def __init__(self, chapter: str, before: list[tuple[int, str]]):
        self.connection, theirs = multiprocessing.Pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                # ends of other pipes this fork inherited
                for other in [self, *_SNAPSHOTS.values()]:
                    other.connection.close()
                self._serve(chapter, before, theirs)
            finally:
                os._exit(0)
        theirs.close()

    @staticmethod
    def _serve(chapter: str, before, connection):
        os.chdir(PROJECT / "chapters" / chapter)
        # its course_tools, as for a kernel started beside the notebook
        sys.path.insert(0, os.getcwd())
        sys.modules.pop("course_tools", None)
        sys.stdout = open(os.devnull, "w")
        namespace = {"__name__": "__main__"}
        failed = _run(chapter, before, namespace)
        while True:
            try:
                rest = connection.recv()
            except EOFError:
                return
            if failed:
                connection.send(failed)
                continue
            child = os.fork()
            if child == 0:
                try:
                    connection.send(_run(chapter, rest, namespace))
                finally:
                    os._exit(0)
            os.waitpid(child, 0)

    def run(self, rest: list[tuple[int, str]]) -> str | None:
        self.connection.send(rest)
        return self.connection.recv()

    def close(self):
        self.connection.close()
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


# (chapter, id of the notebook, first cell of the rest, with_hidden) -> _Snapshot
_SNAPSHOTS: dict = {}
_KEPT = 3


@atexit.register
def _close_snapshots():
    while _SNAPSHOTS:
        _SNAPSHOTS.pop(next(iter(_SNAPSHOTS))).close()


def visible_failure(
    chapter: str,
    piece: str,
    code: str | None = None,
    *,
    with_hidden: bool = False,
    nb: nbformat.NotebookNode | None = None,
) -> str | None:
    """Run chapter's cells in order up to and including the tests cell of `piece` (a solution cell's
    grade_id) with the piece's solution region replaced by `code` (None: the instructor's own) and
    every hidden block removed (with_hidden: kept, as the grader runs them); the first error raised,
    as 'Type: message', or None when all pass. nb: another version of the chapter's source
    notebook."""
    original = nb or _source(chapter)
    nb = original if code is None else replace_regions(original, {piece: code})
    at = next(p for p in graded_pieces(nb) if p.solution_id == piece)
    cells = [
        (index, cell.source if with_hidden or not is_tests(cell) else split_hidden(cell.source)[0])
        for index, cell in enumerate(nb.cells[: at.grade_index + 1])
        if cell.cell_type == "code"
    ]
    before = [(index, source) for index, source in cells if index < at.solution_index]
    key = (chapter, id(original), at.solution_index, with_hidden)
    if key not in _SNAPSHOTS:
        # variants come piece by piece: the oldest snapshot is done with
        if len(_SNAPSHOTS) >= _KEPT:
            _SNAPSHOTS.pop(next(iter(_SNAPSHOTS))).close()
        _SNAPSHOTS[key] = _Snapshot(chapter, before)
    return _SNAPSHOTS[key].run(cells[len(before) :])


@dataclass(frozen=True)
class Variant:
    """Code for a piece's solution region: a correct one written differently (`says` empty), a
    mistake whose first visible failure must contain `says` (the cause, in the learner's words), or
    a mistake only the hidden check catches (`says`: why no visible test can)."""

    piece: str
    name: str
    code: str | None  # None: the instructor's own
    says: str = ""


def names_the_cause(shown: str | None, says: str) -> bool:
    """Whether the message a learner reads (shown) holds the words `says`, wherever its lines are
    wrapped for Validate."""
    return bool(shown and says and says in " ".join(shown.split()))


def chapter_variants() -> dict[str, ModuleType]:
    """Each chapter's variants: tests/piece_variants/NN_name.py, holding CORRECT, MISTAKES and
    optionally HIDDEN_ONLY (lists of Variant)."""
    found = {}
    for path in sorted(VARIANTS.glob("[0-9][0-9]_*.py")):
        spec = importlib.util.spec_from_file_location(f"piece_variants_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found[path.stem] = module
    return found
