"""Grading stage 4, record: one graded submission written into the course (the main process only).

What is written, from a `Graded` (the hand-off of stages 1-3): the autograded folder (swapped in by
rename, never half-copied), each grade cell's auto_score = the judged points (manual scores kept) in
one gradebook transaction, the flags (grading/flags/CHAPTER/STUDENT.json) and the judge's messages
with the graded notebook's digest (grading/results/CHAPTER/STUDENT.json). Everything written is the
submission's own: runs grading other students at once write other rows and files.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .confirm import PieceResult
from .course import Course
from .flags import Flag, replace_flags, write_atomically
from .standing import DIGEST_KEY, results_path


@dataclass(frozen=True)
class Graded:
    """One submission, executed, autograded and judged: what a grading worker hands to `record`."""

    student: str
    chapter: str
    # the private autograded folder to swap in (None: nbgrader made none)
    autograded: Path | None
    timestamp: str | None  # the submission's timestamp.txt, if any
    kernel: dict  # grade_id -> autograde.KernelGrade, from the kernel run
    pieces: list  # PieceResult per automatically graded piece: the points recorded
    flags: list  # Flag
    log: str = ""
    scratch: Path | None = None  # the private course, removed once recorded
    # SHA-256 of the submitted notebook, taken before grading it (standing.py)
    digest: str | None = None


@dataclass
class GradeRow:
    student: str
    chapter: str
    score: float | None
    max_score: float | None
    flags: list = field(default_factory=list)


def record(course: Course, graded: Graded, iso) -> GradeRow:
    """Write one submission's results: autograded folder, gradebook scores, flags, the judge's
    messages."""
    student, chapter = graded.student, graded.chapter
    flags = list(graded.flags)
    if not iso.sandboxed:
        flags.append(
            Flag(student, chapter, "", "sandbox", f"graded without the sandbox ({iso.reason})")
        )
    target = course.autograded(student, chapter)
    if graded.autograded and graded.autograded.is_dir() and not graded.autograded.is_symlink():
        try:
            swap_in(graded.autograded, target)
        # this submission's autograded folder is not stored; the rest goes on
        except OSError as error:
            flags.append(
                Flag(
                    student,
                    chapter,
                    "",
                    "crash",
                    f"its autograded notebook could not be stored ({type(error).__name__})",
                )
            )
    judged = {p.grade_id: p for p in graded.pieces}
    with course.recording() as gb:  # one transaction: readers see all of it or none
        gb.update_or_create_student(student)
        kwargs = {"timestamp": graded.timestamp} if graded.timestamp else {}
        try:
            gb.update_or_create_submission(chapter, student, **kwargs)
        except Exception:
            gb.update_or_create_submission(chapter, student)
        notebook = gb.find_submission_notebook(chapter, chapter, student)
        for grade in notebook.grades:
            if grade.name in judged:
                grade.auto_score = judged[grade.name].points
                grade.needs_manual_grade = False
            # a manually graded answer: nbgrader's verdict from the kernel run, manual scores kept
            else:
                kernel = graded.kernel.get(grade.name)
                grade.auto_score = kernel.auto_score if kernel else None
                grade.needs_manual_grade = grade.manual_score is None
        gb.db.commit()
        submission = gb.find_submission(chapter, student)
        score, max_score = float(submission.score or 0), float(submission.max_score or 0)
    write_atomically(
        results_path(course, student, chapter),
        json.dumps(
            {
                "student": student,
                "chapter": chapter,
                DIGEST_KEY: graded.digest,
                "pieces": [piece_json(p) for p in graded.pieces],
            },
            indent=1,
        )
        + "\n",
    )
    replace_flags(course, student, chapter, flags)
    if graded.scratch:
        shutil.rmtree(graded.scratch, ignore_errors=True)
    return GradeRow(student, chapter, score, max_score, flags)


def piece_json(piece: PieceResult) -> dict:
    """A judged piece as stored in the results file (its flag lives in the submission's flags
    file)."""
    return {k: v for k, v in asdict(piece).items() if k != "flag"}


def swap_in(new: Path, target: Path):
    """Put the folder `new` at `target` by renames (the old one removed after), never
    half-copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.parent / f".{target.name}.new-{uuid.uuid4().hex[:8]}"
    shutil.move(str(new), staged)
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)
