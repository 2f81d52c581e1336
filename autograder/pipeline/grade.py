"""`grade`: every submission executed, autograded and judged in stages, then recorded in the gradebook.

First the grader checks itself on every chapter to grade (selfcheck.py): a failure stops `grade`
before anything is recorded; a submission the grader fails on later is flagged `grader`, not scored.

Per (student, chapter), in a worker process (students in parallel, `jobs` workers), each stage
handing the next a typed value:
1. execute (execute.py -> KernelRun): the notebook, hidden tests removed, runs in the sandbox;
2. autograde (autograde.py -> Autograded): nbgrader's Autograde on a private course, its default
   preprocessors with Execute replaced by stage 1 (the kernel's scores, the autograded folder);
3. judge (confirm.py, judge.py -> PieceResult per piece): every automatically graded piece is judged
   outside the learner's process, and the kernel's score compared;
then in the main process, one submission at a time:
4. record (record.py, from a Graded): the autograded folder, the judged points, flags and messages.
Every run regrades what it is asked to, so a run killed at any moment and run again ends with the
same gradebook as one uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from ..notebook_format import MAX_NOTEBOOK_BYTES, graded_pieces, is_locked, nbgrader_meta
from . import sandbox
from .autograde import autograde_privately
from .confirm import PieceResult, check_pieces, read_notebook
from .course import Course, UsageError
from .flags import Flag
from .record import Graded, record
from .selfcheck import GraderFailure, autogrades_blank_release, confirm_grader, record_grader_failure
from .standing import file_digest


@dataclass
class GradeSummary:
    rows: list
    warning: str | None = None
    log_path: Path | None = None
    seconds: float = 0.0

    def table(self) -> str:
        """One line per graded submission: student, chapter, score, max, flags (by kind and piece)."""
        from .progress import table

        body = table(["student", "chapter", "score", "max", "flags"],
                     [[r.student, r.chapter, r.score, r.max_score, "; ".join(f.short()[:160] for f in r.flags)]
                      for r in self.rows])
        flagged = sum(1 for r in self.rows if r.flags)
        text = f"{body}\n{len(self.rows)} submission(s) graded, {flagged} flagged, in {self.seconds:.1f} s"
        if self.log_path:
            text += f"; log: {self.log_path}"
        if self.grader_failures:
            text += (f"\nthe grader failed on {len(self.grader_failures)}: "
                     + ", ".join(f"{r.student} {r.chapter}" for r in self.grader_failures)
                     + " (flagged `grader`, their recorded scores left as they were: fix the cause, grade them again)")
        return (self.warning + "\n" + text) if self.warning else text

    @property
    def grader_failures(self) -> list:
        """The rows of submissions the grader itself failed on (flag `grader`): nothing of theirs recorded."""
        return [r for r in self.rows if any(f.kind == "grader" for f in r.flags)]


# ------------------------------------------------------------------ one submission (in a worker)

def structure_flags(release_nb, learner_nb, student, chapter) -> list[Flag]:
    """Locked cells (tests, given code) of the release that the learner deleted, edited or moved."""
    def locked(nb):
        return [(nbgrader_meta(c).get("grade_id"), c) for c in nb.cells if is_locked(c)]

    reference = locked(release_nb)
    theirs = {}
    for grade_id, cell in locked(learner_nb):
        theirs.setdefault(grade_id, cell)
    flags = []
    for grade_id, cell in reference:
        mine = theirs.get(grade_id)
        if mine is None:
            flags.append(Flag(student, chapter, grade_id, "tampered", f"the locked cell {grade_id} was deleted"))
        elif str(mine.get("source", "")).strip() != cell.source.strip() or mine.get("cell_type") != cell.cell_type:
            flags.append(Flag(student, chapter, grade_id, "tampered", f"the locked cell {grade_id} was edited"))
    order = [g for g, _ in reference if g in theirs]
    seen = [g for g, _ in locked(learner_nb) if g in dict(reference)]
    if not flags and order != list(dict.fromkeys(seen)):
        flags.append(Flag(student, chapter, "", "tampered", "the locked cells were moved out of their order"))
    return flags


def grade_one(root: str, student: str, chapter: str, limits: sandbox.Limits, base_gradebook: str) -> Graded:
    """Stages 1-3 of one submission in a private course; touches nothing of the real course."""
    course = Course(Path(root))
    scratch = course.grading_dir / "work" / f"{student}--{chapter}--{uuid.uuid4().hex[:8]}"
    submitted = course.submitted(student, chapter)
    # first: a notebook collected again while this one is graded then shows as stale, never as current
    digest = file_digest(submitted / f"{chapter}.ipynb")
    timestamp = read_timestamp(submitted / "timestamp.txt")
    learner_nb, problem = read_submitted_notebook(submitted / f"{chapter}.ipynb")
    if problem is not None:
        pieces = [PieceResult(p.solution_id, p.grade_id, 0.0, p.points, False, problem)
                  for p in graded_pieces(read_notebook(course.source_notebook(chapter))[0])]
        return Graded(student, chapter, None, timestamp, {}, pieces,
                      [Flag(student, chapter, "", "missing", problem)], "", scratch, digest)
    log, flags = [], []
    try:
        autograded = autograde_privately(course, scratch / "course", student, chapter, limits, base_gradebook,
                                         submitted, log)
    except Exception as error:  # nbgrader rejected the notebook: the judge still grades it
        log.append(traceback.format_exc())
        if not autogrades_blank_release(course, scratch / "probe", chapter, limits, base_gradebook, log):
            raise GraderFailure(f"nbgrader could not autograde it ({type(error).__name__}), nor the chapter's "
                                f"blank release: nbgrader or its setup is broken (see the grade log)",
                                "\n".join(log)[-8000:]) from error
        flags.append(Flag(student, chapter, "", "crash", f"nbgrader could not autograde it ({type(error).__name__})"))
        autograded = None
    else:
        flags += autograded.flags
    release_nb, _ = read_notebook(course.release_dir(chapter) / f"{chapter}.ipynb")
    if release_nb is not None:
        flags += structure_flags(release_nb, learner_nb, student, chapter)
    pieces = check_pieces(course.source_notebook(chapter), learner_nb, limits=limits, student=student,
                          chapter=chapter)
    kernel = autograded.kernel if autograded else {}
    for piece in pieces:
        if piece.flag is not None:
            flags.append(piece.flag)
        elif piece.grade_id in kernel and kernel[piece.grade_id].auto_score is not None:
            in_kernel = float(kernel[piece.grade_id].auto_score)
            if in_kernel != piece.points:
                flags.append(Flag(student, chapter, piece.grade_id, "mismatch",
                                  f"the kernel gave {in_kernel:g} of {piece.max_points:g}, the judge "
                                  f"{piece.points:g}" + (f": {piece.message}" if piece.message else "")))
    return Graded(student, chapter, autograded.folder if autograded else None, timestamp, kernel, pieces, flags,
                  "\n".join(log), scratch, digest)


def read_timestamp(path: Path) -> str | None:
    """The submission's timestamp.txt (a regular file, first 64 characters), or None."""
    if path.is_file() and not path.is_symlink():
        return path.read_text(encoding="utf-8", errors="replace").strip()[:64] or None
    return None


def read_submitted_notebook(notebook: Path):
    """(the notebook, None) or (None, why it cannot be graded) for a submitted notebook path."""
    if notebook.is_symlink():
        return None, f"{notebook.name} is a symbolic link, not a file"
    if not notebook.is_file():
        others = sorted(p.name for p in notebook.parent.glob("*.ipynb"))
        return None, f"no {notebook.name} was submitted" + (f" (found: {', '.join(others)})" if others else "")
    if notebook.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None, f"{notebook.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB"
    return read_notebook(notebook)


# ------------------------------------------------------------------ the whole class (main process)

def die_with_parent():
    """Worker initializer: SIGKILL this worker (and so its sandboxes) when `grade` itself dies."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


def grade(course: Course, chapters: list[str], students: list[str] | None, jobs: int, progress=None,
          *, limits: sandbox.Limits | None = None, log=None) -> GradeSummary:
    """Grade every submission of `chapters` (of `students`, default all) with `jobs` workers; `log` is
    the run's logger (the command's own; by default a new grading/logs/<timestamp>-grade.log)."""
    started = time.monotonic()
    limits = limits or sandbox.Limits()
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    logger, log_path = (log, log_file(log)) if log is not None else course.open_log("grade")
    iso = sandbox.isolation()
    logger.info("sandbox: %s", iso.describe() if iso.sandboxed else iso.warning)
    logger.info("limits: %s", limits)
    pairs = work_list(course, chapters, students)
    lock = exclusive_lock(course)
    try:  # the grader checks itself on every chapter first: a failure stops here, nothing recorded
        seconds = confirm_grader(course, list(dict.fromkeys(c for _, c in pairs)), limits, jobs, logger)
        logger.info("self-check passed: %s", {c: round(t, 1) for c, t in seconds.items()})
    except BaseException:
        lock.close()
        raise
    work = course.grading_dir / "work"
    shutil.rmtree(work, ignore_errors=True)  # what a killed run left behind
    work.mkdir(parents=True)
    base = work / "base-gradebook.db"
    snapshot_gradebook(course, base)
    bar = progress(len(pairs), "grade") if progress else None
    rows = []
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, max(1, len(pairs))), mp_context=get_context("fork"),
                                 initializer=die_with_parent) as pool:
            futures = {pool.submit(grade_one, str(course.root), s, c, limits, str(base)): (s, c) for s, c in pairs}
            for future in as_completed(futures):
                student, chapter = futures[future]
                try:
                    graded = future.result()
                except Exception as error:  # the grader failed on it: flagged `grader`, nothing of it recorded
                    logger.error("%s %s: the grader failed:\n%s%s", student, chapter, getattr(error, "details", ""),
                                 "".join(traceback.format_exception(error))[-8000:])
                    row = record_grader_failure(course, student, chapter, error)
                else:
                    row = record(course, graded, iso)
                    logger.info("%s %s: %g/%g flags=%s\n%s", student, chapter, row.score, row.max_score,
                                [f.short() for f in row.flags], graded.log[-4000:])
                rows.append(row)
                if bar:
                    failed = any(f.kind == "grader" for f in row.flags)
                    bar.advance(f"{student} {chapter} " + ("grader failed" if failed else f"{row.score:g}/{row.max_score:g}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.close()
    rows.sort(key=lambda r: (r.chapter, r.student))
    return GradeSummary(rows, iso.warning, log_path, time.monotonic() - started)


def log_file(logger) -> Path | None:
    """The file a logger writes to (its first file handler), if any."""
    return next((Path(h.baseFilename) for h in logger.handlers if hasattr(h, "baseFilename")), None)


def exclusive_lock(course: Course):
    """An open lock file held for the whole run; UsageError if another `grade` holds it."""
    import fcntl

    course.grading_dir.mkdir(parents=True, exist_ok=True)
    handle = open(course.grading_dir / "grade.lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise UsageError(f"another `grade` is running on {course.root} (lock {course.grading_dir / 'grade.lock'})")
    return handle


def work_list(course: Course, chapters: list[str], students: list[str] | None) -> list[tuple[str, str]]:
    """(student, chapter) pairs to grade; UsageError for a chapter never released or an unknown student."""
    with course.gradebook() as gb:
        released = {a.name for a in gb.assignments}
    missing = [c for c in chapters if c not in released]
    if missing:
        raise UsageError(f"chapter {', '.join(missing)} was never released: run `microgpt-course release "
                         f"{' '.join(missing)}` first")
    pairs = []
    for chapter in chapters:
        present = course.students(chapter)
        chosen = present if students is None else [s for s in students if s in present]
        pairs += [(s, chapter) for s in chosen]
    if students is not None:
        unknown = [s for s in students if not any(s == p[0] for p in pairs)]
        if unknown:
            raise UsageError(f"no submission of {', '.join(unknown)} for {', '.join(chapters)} in {course.root / 'submitted'}")
    return pairs


def snapshot_gradebook(course: Course, target: Path):
    """A consistent copy of the gradebook (sqlite's backup API) for the workers' private courses."""
    import sqlite3

    source = sqlite3.connect(course.root / "gradebook.db")
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    copy.close()
    source.close()
