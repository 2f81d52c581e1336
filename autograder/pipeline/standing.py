"""Where one (student, chapter) stands: not submitted, collected but not graded, graded, or graded
but collected again since (stale). `status` counts these and `export` marks them, from this one
place.

A submission is stale when the notebook in submitted/ is not the one its recorded grade is of:
`grade` stores the SHA-256 of the notebook it graded (taken before grading starts) in
grading/results/CHAPTER/STUDENT.json, and `collect` replacing the notebook changes the file's
digest. A result written before digests were stored has none, and its grade is taken as current.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .course import Course

DIGEST_KEY = "submission_sha256"  # the key of the graded notebook's digest in a results file


class Standing(str, Enum):
    """What an export row says of a submission (its value is the row's note; GRADED has none)."""

    NOT_SUBMITTED = "not submitted"
    NOT_GRADED = "not graded"
    STALE = "stale: collected again after grading (run grade)"
    GRADED = ""


@dataclass(frozen=True)
class Found:
    """A submission's standing, and its nbgrader gradebook Submission when one is recorded."""

    standing: Standing
    submission: object | None  # nbgrader.api.SubmittedAssignment, or None

    @property
    def needs_manual_grade(self) -> bool:
        """Whether a recorded grade still waits for hand-graded answers (the formgrader)."""
        return bool(self.submission is not None and self.submission.needs_manual_grade)


def file_digest(path: Path) -> str | None:
    """The SHA-256 (hex) of a regular file's bytes, or None if there is no such file."""
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def results_path(course: Course, student: str, chapter: str) -> Path:
    """grading/results/CHAPTER/STUDENT.json: the judge's messages and the graded notebook's
    digest."""
    return course.grading_dir / "results" / chapter / f"{student}.json"


def graded_digest(course: Course, student: str, chapter: str) -> str | None:
    """The digest of the notebook the recorded grade is of, or None (no results file, or one
    without)."""
    path = results_path(course, student, chapter)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get(DIGEST_KEY)
    except (ValueError, AttributeError):  # a damaged results file: nothing to compare with
        return None


def standing(course: Course, gb, student: str, chapter: str) -> Found:
    """Where (student, chapter) stands, reading the open gradebook `gb` and the course's files."""
    from nbgrader.api import MissingEntry

    if not course.submitted(student, chapter).is_dir():
        return Found(Standing.NOT_SUBMITTED, None)
    try:
        submission = gb.find_submission(chapter, student)
    except MissingEntry:
        return Found(Standing.NOT_GRADED, None)
    graded = graded_digest(course, student, chapter)
    current = file_digest(course.submitted(student, chapter) / f"{chapter}.ipynb")
    stale = graded is not None and current != graded
    return Found(Standing.STALE if stale else Standing.GRADED, submission)


def pending_manual(gb, student: str, chapter: str) -> dict[str, float]:
    """{grade_id: points} of the chapter's hand-graded answers of this student that no one has
    graded yet (nbgrader's needs_manual_grade, no manual score); empty if none or no such
    submission."""
    from nbgrader.api import MissingEntry

    try:
        notebook = gb.find_submission_notebook(chapter, chapter, student)
    except MissingEntry:
        return {}
    return {
        g.name: float(g.max_score or 0)
        for g in notebook.grades
        if g.needs_manual_grade and g.manual_score is None
    }
