"""Grades out of the gradebook, as CSV an LMS can import.

`csv` (default): one row per student and chapter that was released and collected (a chapter counts
as collected once anyone's submission of it is in submitted/), columns student, chapter, score,
max, flags; then one row per student with chapter `total`. A student with no submission of such a
chapter scores 0 with the flag `not submitted`; a submission collected but not graded has no score
(`not graded`); one collected again after it was graded keeps its old score, flagged `stale`
(standing.py); written answers not graded by hand yet are flagged `needs manual grading`.
`wide`: one row per student, one column per chapter headed `NAME (MAX)` and a total (the shape
Moodle's gradebook import maps column by column).
`canvas`: Canvas's gradebook import: columns Student, ID, SIS User ID, SIS Login ID, Section, then
one column per chapter headed by its bare name (never `NAME (NUMBER)`, which Canvas reads as an
assignment id); a second row `Points Possible` with each chapter's maximum, as Canvas's own export
writes it; then one row per student, the id in one identity column (SIS Login ID by default). No
total and no flags column: Canvas would import either as an assignment; `canvas_notes` lists the
cells to look at. Text cells are quoted and scores are bare numbers; a text cell a spreadsheet would
read as a formula (one starting with = + - @, a tab or a carriage return) gets a ' in front (OWASP's
advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .course import Course

FORMATS = ("csv", "wide", "canvas")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# --canvas-id: which of Canvas's identity columns the course's student ids are
CANVAS_ID_COLUMNS = {"login": "SIS Login ID", "sis": "SIS User ID", "id": "ID"}
CANVAS_POINTS_ROW = "    Points Possible"  # as Canvas's own gradebook export writes it
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
    from .flags import load_flags
    from .standing import Standing, standing

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
                found = standing(course, gb, student, chapter)
                if found.needs_manual_grade:
                    notes.insert(0, "needs manual grading")
                if found.standing is not Standing.GRADED:
                    notes.insert(0, found.standing.value)
                if found.standing is Standing.NOT_SUBMITTED:
                    rows.append(Row(student, chapter, 0.0, maximum, notes))
                elif found.standing is Standing.NOT_GRADED:
                    rows.append(Row(student, chapter, None, maximum, notes))
                else:  # graded, or stale: the recorded score, marked
                    rows.append(
                        Row(
                            student,
                            chapter,
                            found.submission.score,
                            found.submission.max_score,
                            notes,
                        )
                    )
    return rows


def render(rows: list[Row], fmt: str = "csv", canvas_id: str = "login") -> str:
    """CSV text of the rows in the given format (see the module docstring); `canvas_id` (a key of
    CANVAS_ID_COLUMNS) names the identity column the ids go into in the `canvas` format."""
    out = io.StringIO()
    # every text cell quoted: with "\n" ending rows, a bare carriage return in an id would end one
    # too
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
            write(
                student,
                "total",
                sum(r.score or 0 for r in mine),
                sum(r.max_score or 0 for r in mine),
                "; ".join(f"{r.chapter}: {f}" for r in mine for f in r.flags),
            )
    elif fmt == "canvas":
        maxima = {r.chapter: r.max_score for r in rows}
        write(*CANVAS_IDENTITY, *chapters)
        write(CANVAS_POINTS_ROW, *[""] * (len(CANVAS_IDENTITY) - 1), *[maxima[c] for c in chapters])
        where = CANVAS_IDENTITY.index(CANVAS_ID_COLUMNS[canvas_id])
        for student in students:
            mine = {r.chapter: r for r in rows if r.student == student}
            identity = [student if i in (0, where) else "" for i in range(len(CANVAS_IDENTITY))]
            write(*identity, *[mine[c].score for c in chapters])
    else:
        maxima = {r.chapter: r.max_score for r in rows}
        write(
            "student",
            *[f"{c} ({'' if maxima[c] is None else number(maxima[c])})" for c in chapters],
            "total",
            "flags",
        )
        for student in students:
            mine = {r.chapter: r for r in rows if r.student == student}
            write(
                student,
                *[mine[c].score for c in chapters],
                sum(r.score or 0 for r in mine.values()),
                "; ".join(f"{c}: {f}" for c, r in mine.items() for f in r.flags),
            )
    return out.getvalue()


def canvas_notes(rows: list[Row]) -> list[str]:
    """'student chapter: flags' for every row with a flag: what the canvas format cannot carry."""
    return [f"{r.student} {r.chapter}: {'; '.join(r.flags)}" for r in rows if r.flags]


def neutral(text: str) -> str:
    """A text cell as a spreadsheet shows it rather than runs it: a ' before a formula's first
    character."""
    return "'" + text if text.startswith(FORMULA_START) else text


def number(value) -> int | float | None:
    """A score as the CSV writes it: None (a blank) if unknown, a whole number without .0."""
    if value is None:
        return None
    # six significant digits, as before: 0.1 + 0.2 is written 0.3
    value = float(f"{float(value):g}")
    return int(value) if value.is_integer() else value
