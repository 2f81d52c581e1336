"""Grades that say what they are, and Canvas's import format.

A notebook collected again after it was graded is stale: `status` counts it under `regrade` (not
`graded`), `export` keeps its old score and marks it `stale`, and the next `grade` regrades it; a
notebook collected again unchanged stays graded. `export --format canvas` writes Canvas's gradebook
import: its identity columns, one column per chapter with no `(id)` in the header, a Points Possible
row, no total or flags column. Real nbgrader, real kernels, the sandbox on.
"""

import csv
import io

import pytest

from autograder.pipeline.cli import main
from autograder.pipeline.export import CANVAS_POINTS_ROW, Row, render
from pipeline_course import (
    CHAPTER,
    OTHER,
    assert_one_line_error,
    learner_notebook,
    make_course,
    run,
    write_notebook,
)

WRONG_ENCODE = (
    "def encode(doc, chars):\n    return [chars.index(c) for c in doc]  # a resubmission\n"
)
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def status_table(capsys, course):
    """chapter -> {column: value} of `status`."""
    code, out, err = run(capsys, "status", "--course", course.root)
    assert code == 0, err
    header, _, *rows = out.strip().splitlines()
    names = header.replace("fed back", "fed_back").split()
    return {row.split()[0]: dict(zip(names, row.split())) for row in rows}


def export_table(capsys, course):
    """(student, chapter) -> row of `export` (csv)."""
    code, out, err = run(capsys, "export", "--course", course.root)
    assert code == 0, err
    return {(r["student"], r["chapter"]): r for r in csv.DictReader(io.StringIO(out))}


def collect(course, inbox, notebooks):
    """Write {student: notebook} into inbox as per-student folders and collect them; the collect
    table."""
    for student, nb in notebooks.items():
        write_notebook(nb, inbox / student / CHAPTER / f"{CHAPTER}.ipynb")
    code = main(["collect", "--course", str(course.root), str(inbox)])
    assert code == 0, code


@pytest.fixture(scope="module")
def resubmitted(tmp_path_factory):
    """02 and 03 released; ada and bo hand in correct notebooks of 02, graded; then ada hands in a
    notebook with encode wrong and bo the same notebook again, both collected (not graded again)."""
    course = make_course(tmp_path_factory.mktemp("course"))
    assert main(["release", "--course", str(course.root)]) == 0
    first = {"ada": learner_notebook(course), "bo": learner_notebook(course)}
    collect(course, tmp_path_factory.mktemp("inbox"), first)
    assert main(["grade", "--course", str(course.root), CHAPTER]) == 0
    collect(
        course,
        tmp_path_factory.mktemp("inbox"),
        {"ada": learner_notebook(course, answers={"encode": WRONG_ENCODE}), "bo": first["bo"]},
    )
    return course


def test_a_notebook_collected_after_grading_is_stale_until_graded_again(resubmitted, capsys):
    row = status_table(capsys, resubmitted)[CHAPTER]
    assert (row["submitted"], row["graded"], row["regrade"]) == ("2", "1", "1"), (
        f"status after ada's resubmission: got {row}, expected "
        "2 submitted, 1 graded (bo), 1 to regrade (ada)"
    )
    table = export_table(capsys, resubmitted)
    ada, bo = table["ada", CHAPTER], table["bo", CHAPTER]
    assert (ada["score"], ada["flags"]) == (
        "4",
        "stale: collected again after grading (run grade)",
    ), f"ada's export row after a resubmission: got {ada}, expected the old score 4 marked stale"
    assert (bo["score"], bo["flags"]) == ("4", ""), (
        f"bo resubmitted the same notebook: got {bo}, expected 4, no flag"
    )

    code, out, err = run(capsys, "grade", "--course", resubmitted.root, CHAPTER)
    assert code == 0, err
    row = status_table(capsys, resubmitted)[CHAPTER]
    assert (row["graded"], row["regrade"]) == ("2", "0"), (
        f"status after grade: got {row}, expected 2 graded, 0 to regrade"
    )
    ada = export_table(capsys, resubmitted)["ada", CHAPTER]
    assert (ada["score"], ada["flags"]) == ("2", ""), (
        f"ada after regrading: got {ada}, expected 2 (encode wrong), no flag"
    )


def test_canvas_export_has_canvas_columns_and_a_points_possible_row(resubmitted, capsys):
    code, out, err = run(capsys, "export", "--course", resubmitted.root, "--format", "canvas")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    # 03 is released but collected by none
    assert rows[0] == CANVAS_HEADER + [CHAPTER], f"header: got {rows[0]}"
    assert rows[1] == [CANVAS_POINTS_ROW, "", "", "", "", "4"], f"points row: got {rows[1]}"
    assert [r[0] for r in rows[2:]] == ["ada", "bo"] and all(
        r[3] == r[0] and r[1] == r[2] == r[4] == "" for r in rows[2:]
    ), rows


def render_rows(fmt, **options):
    rows = [
        Row("ada", CHAPTER, 4.0, 4.0, []),
        Row("ada", OTHER, None, 6.0, ["not graded"]),
        Row("=bo", CHAPTER, 2.5, 4.0, ["stale: collected again after grading (run grade)"]),
        Row("=bo", OTHER, 0.0, 6.0, ["not submitted"]),
    ]
    return list(csv.reader(io.StringIO(render(rows, fmt, **options))))


def test_canvas_render_one_column_per_chapter_without_an_id_in_its_header():
    got = render_rows("canvas")
    expected = [
        CANVAS_HEADER + [CHAPTER, OTHER],
        [CANVAS_POINTS_ROW, "", "", "", "", "4", "6"],
        ["ada", "", "", "ada", "", "4", ""],
        ["'=bo", "", "", "'=bo", "", "2.5", "0"],
    ]
    assert got == expected, f"canvas render:\ngot      {got}\nexpected {expected}"
    # Canvas reads "Name (123)" as assignment 123
    assert not any("(" in cell for cell in got[0]), got[0]
    assert render_rows("canvas", canvas_id="id")[2] == ["ada", "ada", "", "", "", "4", ""]
    assert render_rows("canvas", canvas_id="sis")[3][:5] == ["'=bo", "", "'=bo", "", ""]


def test_canvas_id_only_with_the_canvas_format(resubmitted, capsys):
    code, out, err = run(capsys, "export", "--course", resubmitted.root, "--canvas-id", "id")
    assert_one_line_error(code, err, "--canvas-id is for --format canvas")
    code, out, err = run(
        capsys, "export", "--course", resubmitted.root, "--format", "canvas", "--canvas-id", "name"
    )
    assert_one_line_error(code, err, "--canvas-id", "invalid choice")
