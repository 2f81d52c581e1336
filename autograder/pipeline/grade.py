"""`grade`: every submission executed, autograded and judged in stages, then recorded in the
gradebook.

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
4. record (record.py, from a Graded): the autograded folder, the judged points (one gradebook
   transaction), flags and messages.
Every run regrades what it is asked to, so a run killed at any moment and run again ends with the
same gradebook as one uninterrupted run. Each submission is claimed (claims.py) from before it is
graded until it is recorded; with a PostgreSQL gradebook, runs on many machines grade one class
together, each its shard (`Shard`: a fixed part of the students), and write the one gradebook.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from ..notebook_format import MAX_NOTEBOOK_BYTES, graded_pieces, is_locked, nbgrader_meta
from . import sandbox
from .autograde import autograde_privately
from .claims import grading_run
from .confirm import PieceResult, check_pieces, read_notebook
from .course import Course, UsageError
from .flags import Flag
from .record import Graded, GradeRow, record
from .selfcheck import (
    GraderFailure,
    autogrades_blank_release,
    confirm_grader,
    record_grader_failure,
)
from .standing import file_digest


@dataclass(frozen=True)
class Shard:
    """Part K of N of a class: the students whose id's SHA-256, as a number, is K-1 modulo N. A
    student's shard depends on their id alone, never on who else is in the class, so the N parts
    never overlap and together hold every student, whenever each is graded."""

    index: int  # K, from 1
    count: int  # N

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """The shard written K/N (1 <= K <= N); ValueError saying what is wrong."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ValueError(f"must be K/N, e.g. 1/4 (part K of N), got {text!r}")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count:
            raise ValueError(f"K must be from 1 to N in K/N, got {text!r}")
        return cls(index, count)

    def holds(self, student: str) -> bool:
        """Whether the student is in this shard."""
        number = int.from_bytes(hashlib.sha256(student.encode("utf-8")).digest()[:8], "big")
        return number % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass
class GradeSummary:
    rows: list
    warning: str | None = None
    log_path: Path | None = None
    seconds: float = 0.0
    scope: str = ""  # which students this run holds (a shard's), said at the end of the table
    # (student, chapter) claimed by another run, not graded
    skipped: list = field(default_factory=list)

    def table(self) -> str:
        """One line per graded submission: student, chapter, score, max, flags (by kind and
        piece)."""
        from .progress import table

        body = table(
            ["student", "chapter", "score", "max", "flags"],
            [
                [
                    r.student,
                    r.chapter,
                    r.score,
                    r.max_score,
                    "; ".join(f.short()[:160] for f in r.flags),
                ]
                for r in self.rows
            ],
        )
        flagged = sum(1 for r in self.rows if r.flags)
        text = (
            f"{body}\n"
            f"{self.scope}{len(self.rows)} submission(s) "
            f"graded, {flagged} flagged, in {self.seconds:.1f} s"
        )
        if self.log_path:
            text += f"; log: {self.log_path}"
        if self.grader_failures:
            text += (
                f"\nthe grader failed on {len(self.grader_failures)}: "
                + ", ".join(f"{r.student} {r.chapter}" for r in self.grader_failures)
                + (
                    " (flagged `grader`, their recorded scores left "
                    "as they were: fix the cause, grade them again)"
                )
            )
        if self.skipped:
            text += (
                f"\nskipped {len(self.skipped)}, being graded by another run: "
                + ", ".join(f"{s} {c}" for s, c in self.skipped)
                + " (grade them again once it has ended)"
            )
        return (self.warning + "\n" + text) if self.warning else text

    @property
    def grader_failures(self) -> list:
        """The rows of submissions the grader itself failed on (flag `grader`): nothing of theirs
        recorded."""
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
            flags.append(
                Flag(
                    student,
                    chapter,
                    grade_id,
                    "tampered",
                    f"the locked cell {grade_id} was deleted",
                )
            )
        elif (
            str(mine.get("source", "")).strip() != cell.source.strip()
            or mine.get("cell_type") != cell.cell_type
        ):
            flags.append(
                Flag(
                    student, chapter, grade_id, "tampered", f"the locked cell {grade_id} was edited"
                )
            )
    order = [g for g, _ in reference if g in theirs]
    seen = [g for g, _ in locked(learner_nb) if g in dict(reference)]
    if not flags and order != list(dict.fromkeys(seen)):
        flags.append(
            Flag(student, chapter, "", "tampered", "the locked cells were moved out of their order")
        )
    return flags


def grade_one(
    root: str, student: str, chapter: str, limits: sandbox.Limits, base_gradebook: str
) -> Graded:
    """Stages 1-3 of one submission in a private course; touches nothing of the real course."""
    course = Course(Path(root))
    # in the run's folder
    scratch = Path(base_gradebook).parent / f"{student}--{chapter}--{uuid.uuid4().hex[:8]}"
    submitted = course.submitted(student, chapter)
    # first: a notebook collected again while this one is graded then shows as stale, never as
    # current
    digest = file_digest(submitted / f"{chapter}.ipynb")
    timestamp = read_timestamp(submitted / "timestamp.txt")
    learner_nb, problem = read_submitted_notebook(submitted / f"{chapter}.ipynb")
    if problem is not None:
        pieces = [
            PieceResult(p.solution_id, p.grade_id, 0.0, p.points, False, problem)
            for p in graded_pieces(read_notebook(course.source_notebook(chapter))[0])
        ]
        return Graded(
            student,
            chapter,
            None,
            timestamp,
            {},
            pieces,
            [Flag(student, chapter, "", "missing", problem)],
            "",
            scratch,
            digest,
        )
    log, flags = [], []
    try:
        autograded = autograde_privately(
            course, scratch / "course", student, chapter, limits, base_gradebook, submitted, log
        )
    except Exception as error:  # nbgrader rejected the notebook: the judge still grades it
        log.append(traceback.format_exc())
        if not autogrades_blank_release(
            course, scratch / "probe", chapter, limits, base_gradebook, log
        ):
            raise GraderFailure(
                f"nbgrader could not autograde it ({type(error).__name__}), nor the chapter's "
                f"blank release: nbgrader or its setup is broken (see the grade log)",
                "\n".join(log)[-8000:],
            ) from error
        flags.append(
            Flag(
                student,
                chapter,
                "",
                "crash",
                f"nbgrader could not autograde it ({type(error).__name__})",
            )
        )
        autograded = None
    else:
        flags += autograded.flags
    release_nb, _ = read_notebook(course.release_dir(chapter) / f"{chapter}.ipynb")
    if release_nb is not None:
        flags += structure_flags(release_nb, learner_nb, student, chapter)
    pieces = check_pieces(
        course.source_notebook(chapter), learner_nb, limits=limits, student=student, chapter=chapter
    )
    kernel = autograded.kernel if autograded else {}
    for piece in pieces:
        if piece.flag is not None:
            flags.append(piece.flag)
        elif piece.grade_id in kernel and kernel[piece.grade_id].auto_score is not None:
            in_kernel = float(kernel[piece.grade_id].auto_score)
            if in_kernel != piece.points:
                flags.append(
                    Flag(
                        student,
                        chapter,
                        piece.grade_id,
                        "mismatch",
                        f"the kernel gave {in_kernel:g} of {piece.max_points:g}, the judge "
                        f"{piece.points:g}" + (f": {piece.message}" if piece.message else ""),
                    )
                )
    return Graded(
        student,
        chapter,
        autograded.folder if autograded else None,
        timestamp,
        kernel,
        pieces,
        flags,
        "\n".join(log),
        scratch,
        digest,
    )


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
        return None, f"no {notebook.name} was submitted" + (
            f" (found: {', '.join(others)})" if others else ""
        )
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


def grade(
    course: Course,
    chapters: list[str],
    students: list[str] | None,
    jobs: int,
    progress=None,
    *,
    limits: sandbox.Limits | None = None,
    log=None,
    shard: Shard | None = None,
) -> GradeSummary:
    """Grade every submission of `chapters` (of `students`, default all; of `shard`'s students only,
    if given) with `jobs` workers; `log` is the run's logger (the command's own; by default a new
    grading/logs/<timestamp>-grade.log)."""
    started = time.monotonic()
    limits = limits or sandbox.Limits()
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    logger, log_path = (log, log_file(log)) if log is not None else course.open_log("grade")
    iso = sandbox.isolation()
    logger.info("sandbox: %s", iso.describe() if iso.sandboxed else iso.warning)
    logger.info("limits: %s", limits)
    logger.info("gradebook: %s", course.db_shown)
    pairs = work_list(course, chapters, students)
    scope = ""
    if shard is not None:
        everyone = list(dict.fromkeys(s for s, _ in pairs))
        pairs = [(s, c) for s, c in pairs if shard.holds(s)]
        mine = len(set(s for s, _ in pairs))
        scope = f"shard {shard} holds {mine} of the {len(everyone)} student(s); "
        logger.info("shard %s: %d of %d students", shard, mine, len(everyone))
    rows, skipped = [], []
    with grading_run(course) as (claims, work):
        # the grader checks itself on every chapter first: a failure stops here, nothing recorded
        seconds = confirm_grader(
            course, list(dict.fromkeys(c for _, c in pairs)), limits, jobs, logger
        )
        logger.info("self-check passed: %s", {c: round(t, 1) for c, t in seconds.items()})
        base = work / "base-gradebook.db"
        snapshot_gradebook(course, base)
        bar = progress(len(pairs), f"grade {shard}" if shard else "grade") if progress else None
        workers = min(jobs, max(1, len(pairs)))
        waiting, running = iter(pairs), {}

        def start_more(pool):
            """Claim and start submissions until every worker has one and one more waits (claims
            held stay few: a lock per submission in flight)."""
            while len(running) < 2 * workers and (pair := next(waiting, None)):
                if claims.claim(*pair):
                    running[pool.submit(grade_one, str(course.root), *pair, limits, str(base))] = (
                        pair
                    )
                else:
                    logger.warning("%s %s: claimed by another run, skipped", *pair)
                    skipped.append(pair)
                    if bar:
                        bar.advance(f"{pair[0]} {pair[1]} skipped: another run grades it")

        with ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("fork"), initializer=die_with_parent
        ) as pool:
            start_more(pool)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    student, chapter = running.pop(future)
                    try:
                        row = record_outcome(course, future, student, chapter, iso, logger)
                    finally:
                        claims.release(student, chapter)
                    rows.append(row)
                    if bar:
                        failed = any(f.kind == "grader" for f in row.flags)
                        bar.advance(
                            f"{student} {chapter} "
                            + ("grader failed" if failed else f"{row.score:g}/{row.max_score:g}")
                        )
                start_more(pool)
    rows.sort(key=lambda r: (r.chapter, r.student))
    return GradeSummary(rows, iso.warning, log_path, time.monotonic() - started, scope, skipped)


def record_outcome(course: Course, future, student: str, chapter: str, iso, logger) -> GradeRow:
    """Record a worker's result for one submission, or flag `grader` if the grader failed on it."""
    try:
        graded = future.result()
    except Exception as error:  # the grader failed on it: flagged `grader`, nothing of it recorded
        logger.error(
            "%s %s: the grader failed:\n%s%s",
            student,
            chapter,
            getattr(error, "details", ""),
            "".join(traceback.format_exception(error))[-8000:],
        )
        return record_grader_failure(course, student, chapter, error)
    try:
        row = record(course, graded, iso)
    # its scores are one transaction (all or none): flagged, and the run goes on
    except Exception as error:
        logger.error(
            "%s %s: its results could not be recorded:\n%s",
            student,
            chapter,
            "".join(traceback.format_exception(error))[-8000:],
        )
        return record_grader_failure(course, student, chapter, error)
    logger.info(
        "%s %s: %g/%g flags=%s\n%s",
        student,
        chapter,
        row.score,
        row.max_score,
        [f.short() for f in row.flags],
        graded.log[-4000:],
    )
    return row


def log_file(logger) -> Path | None:
    """The file a logger writes to (its first file handler), if any."""
    return next((Path(h.baseFilename) for h in logger.handlers if hasattr(h, "baseFilename")), None)


def work_list(
    course: Course, chapters: list[str], students: list[str] | None
) -> list[tuple[str, str]]:
    """(student, chapter) pairs to grade; UsageError for a chapter never released or an unknown
    student."""
    with course.gradebook() as gb:
        released = {a.name for a in gb.assignments}
    missing = [c for c in chapters if c not in released]
    if missing:
        raise UsageError(
            f"chapter {', '.join(missing)} was never released: run `microgpt-course release "
            f"{' '.join(missing)}` first"
        )
    pairs = []
    for chapter in chapters:
        present = course.students(chapter)
        chosen = present if students is None else [s for s in students if s in present]
        pairs += [(s, chapter) for s in chosen]
    if students is not None:
        unknown = [s for s in students if not any(s == p[0] for p in pairs)]
        if unknown:
            raise UsageError(
                f"no submission of {', '.join(unknown)} for "
                f"{', '.join(chapters)} in {course.root / 'submitted'}"
            )
    return pairs


STUDENT_TABLES = {"student", "submitted_assignment", "submitted_notebook", "grade", "comment"}


def snapshot_gradebook(course: Course, target: Path):
    """A SQLite gradebook at target with the course gradebook's released chapters (assignments,
    notebooks, cells) and no student: what each private course's Autograde starts from."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text

    source, copy = create_engine(course.db_url), create_engine(f"sqlite:///{target}")
    try:
        # nbgrader's tables (not nbgrader's Gradebook: it runs alembic)
        Base.metadata.create_all(copy)
        with source.connect() as read, copy.begin() as write:
            version = read.execute(text("SELECT version_num FROM alembic_version")).scalar()
            write.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            write.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version}
            )
            for table in Base.metadata.sorted_tables:
                if table.name not in STUDENT_TABLES:
                    rows = [dict(row._mapping) for row in read.execute(table.select())]
                    if rows:
                        write.execute(table.insert(), rows)
    finally:
        source.dispose()
        copy.dispose()
