"""Where each chapter stands: released, submitted, graded, to regrade (collected again after
grading), flagged, needing manual grading, fed back."""

from __future__ import annotations

from .course import Course

HEADERS = ["chapter", "released", "submitted", "graded", "regrade", "flagged", "manual", "fed back"]


def status_rows(course: Course) -> list[list]:
    """One row per chapter with the HEADERS columns, each a count of students: `graded` those whose
    recorded grade is of the notebook in submitted/, `regrade` those collected again since (stale,
    standing.py), `manual` graded ones waiting for hand grading, `flagged` those with a flag."""
    from .flags import load_flags
    from .standing import Standing, standing

    flagged = {}
    for flag in load_flags(course):
        flagged.setdefault(flag.chapter, set()).add(flag.student)
    released = set(course.released())
    rows = []
    with course.gradebook() as gb:
        for chapter in course.chapters():
            students = course.students(chapter)
            found = [standing(course, gb, student, chapter) for student in students]
            graded = sum(f.standing is Standing.GRADED for f in found)
            stale = sum(f.standing is Standing.STALE for f in found)
            manual = sum(f.needs_manual_grade for f in found)
            fed_back = sum(
                (course.feedback_dir(s, chapter) / f"{chapter}.html").is_file() for s in students
            )
            rows.append(
                [
                    chapter,
                    "yes" if chapter in released else "no",
                    len(students),
                    graded,
                    stale,
                    len(flagged.get(chapter, ())),
                    manual,
                    fed_back,
                ]
            )
    return rows
