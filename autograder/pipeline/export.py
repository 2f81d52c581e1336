"""Grades out of the gradebook, as CSV an LMS can import.

`csv` (default): one row per student and chapter that was released and collected (a chapter counts
as collected once anyone's submission of it is in submitted/), columns student, chapter, score,
max, flags; then one row per student with chapter `total`. A student with no submission of such a
chapter scores 0 with the flag `not submitted`.
`wide`: one row per student, one column per chapter and a total (the shape Moodle's and Canvas's
gradebook imports map column by column).
Text cells are quoted and scores are bare numbers; a text cell a spreadsheet would read as a formula
(one starting with = + - @, a tab or a carriage return) gets a ' in front (OWASP's advice on CSV
injection).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .course import Course

FORMATS = ("csv", "wide")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    # every text cell quoted: with "\n" ending rows, a bare carriage return in an id would end one too
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)

    def write(*values):
        """One row: text neutralised, scores as numbers."""
        writer.writerow([neutral(v) if isinstance(v, str) else number(v) for v in values])

    students = list(dict.fromkeys(r.student for r in rows))
    chapters = list(dict.fromkeys(r.chapter for r in rows))
    if fmt == "csv":
        write("student", "chapter", "score", "max", "flags")
        for student in students:
            mine = [r for r in rows if r.student == student]
            for r in mine:
                write(r.student, r.chapter, r.score, r.max_score, "; ".join(r.flags))
            write(student, "total", sum(r.score or 0 for r in mine), sum(r.max_score or 0 for r in mine),
                  "; ".join(f"{r.chapter}: {f}" for r in mine for f in r.flags))
    else:
        maxima = {r.chapter: r.max_score for r in rows}
        write("student", *[f"{c} ({'' if maxima[c] is None else number(maxima[c])})" for c in chapters],
              "total", "flags")
        for student in students:
            mine = {r.chapter: r for r in rows if r.student == student}
            write(student, *[mine[c].score for c in chapters], sum(r.score or 0 for r in mine.values()),
                  "; ".join(f"{c}: {f}" for c, r in mine.items() for f in r.flags))
    return out.getvalue()


def neutral(text: str) -> str:
    """A text cell as a spreadsheet shows it rather than runs it: a ' before a formula's first character."""
    return "'" + text if text.startswith(FORMULA_START) else text


def number(value) -> int | float | None:
    """A score as the CSV writes it: None (a blank) if unknown, a whole number without .0."""
    if value is None:
        return None
    value = float(f"{float(value):g}")  # six significant digits, as before: 0.1 + 0.2 is written 0.3
    return int(value) if value.is_integer() else value
