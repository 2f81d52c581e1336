"""Grades out of the gradebook, as CSV an LMS can import.

`csv` (default): one row per student and chapter that was released and collected (a chapter counts
as collected once anyone's submission of it is in submitted/), columns student, chapter, score,
max, flags; then one row per student with chapter `total`. A student with no submission of such a
chapter scores 0 with the flag `not submitted`.
`wide`: one row per student, one column per chapter and a total (the shape Moodle's and Canvas's
gradebook imports map column by column).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .course import Course

FORMATS = ("csv", "wide")


@dataclass
class Row:
    student: str
    chapter: str
    score: float
    max_score: float
    flags: list


def grade_rows(course: Course) -> list[Row]:
    """Rows of the `csv` format without totals, ordered by student then chapter."""
    from nbgrader.api import MissingEntry

    from .flags import load_flags

    flags = {}
    for flag in load_flags(course):
        flags.setdefault((flag.student, flag.chapter), []).append(flag.short())
    chapters = [c for c in course.released() if course.students(c)]
    rows = []
    with course.gradebook() as gb:
        known = {a.name for a in gb.assignments}
        students = sorted(set(course.students()) | {s.id for s in gb.students})
        for student in students:
            for chapter in chapters:
                maximum = gb.find_assignment(chapter).max_score if chapter in known else None
                notes = list(flags.get((student, chapter), []))
                if not (course.submitted(student, chapter)).is_dir():
                    rows.append(Row(student, chapter, 0.0, maximum, ["not submitted"] + notes))
                    continue
                try:
                    submission = gb.find_submission(chapter, student)
                except MissingEntry:  # collected, not graded yet
                    rows.append(Row(student, chapter, None, maximum, ["not graded"] + notes))
                    continue
                if submission.needs_manual_grade:
                    notes.insert(0, "needs manual grading")
                rows.append(Row(student, chapter, submission.score, submission.max_score, notes))
    return rows


def render(rows: list[Row], fmt: str = "csv") -> str:
    """CSV text of the rows in the given format (see the module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    students = list(dict.fromkeys(r.student for r in rows))
    chapters = list(dict.fromkeys(r.chapter for r in rows))
    if fmt == "csv":
        writer.writerow(["student", "chapter", "score", "max", "flags"])
        for student in students:
            mine = [r for r in rows if r.student == student]
            for r in mine:
                writer.writerow([r.student, r.chapter, number(r.score), number(r.max_score), "; ".join(r.flags)])
            writer.writerow([student, "total", number(sum(r.score or 0 for r in mine)),
                             number(sum(r.max_score or 0 for r in mine)),
                             "; ".join(f"{r.chapter}: {f}" for r in mine for f in r.flags)])
    else:
        maxima = {r.chapter: r.max_score for r in rows}
        writer.writerow(["student"] + [f"{c} ({number(maxima[c])})" for c in chapters] + ["total", "flags"])
        for student in students:
            mine = {r.chapter: r for r in rows if r.student == student}
            writer.writerow([student] + [number(mine[c].score) for c in chapters]
                            + [number(sum(r.score or 0 for r in mine.values())),
                               "; ".join(f"{c}: {f}" for c, r in mine.items() for f in r.flags)])
    return out.getvalue()


def number(value) -> str:
    """A score as CSV text: blank if unknown, no trailing .0."""
    return "" if value is None else f"{float(value):g}"
