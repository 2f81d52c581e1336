"""Where each chapter stands: released, submitted, graded, flagged, needing manual grading, fed back."""

from __future__ import annotations

from .course import Course

HEADERS = ["chapter", "released", "submitted", "graded", "flagged", "manual", "fed back"]


def status_rows(course: Course) -> list[list]:
    """One row per chapter with the HEADERS columns (counts of students; flagged counts students)."""
    from nbgrader.api import MissingEntry

    from .flags import load_flags

    flagged = {}
    for flag in load_flags(course):
        flagged.setdefault(flag.chapter, set()).add(flag.student)
    released = set(course.released())
    rows = []
    with course.gradebook() as gb:
        for chapter in course.chapters():
            students = course.students(chapter)
            graded, manual = 0, 0
            for student in students:
                if not (course.autograded(student, chapter) / f"{chapter}.ipynb").is_file():
                    continue
                try:
                    submission = gb.find_submission(chapter, student)
                except MissingEntry:
                    continue
                graded += 1
                manual += bool(submission.needs_manual_grade)
            fed_back = sum((course.feedback_dir(s, chapter) / f"{chapter}.html").is_file() for s in students)
            rows.append([chapter, "yes" if chapter in released else "no", len(students), graded,
                         len(flagged.get(chapter, ())), manual, fed_back])
    return rows
