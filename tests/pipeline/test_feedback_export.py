"""microgpt-course feedback and export on a small class graded by `grade` (sandboxed, confirmed):
feedback shows the learner's code, bounded outputs, each graded piece's points and the check's
message, and never hidden-test source, frames of the check library or the reference, or paths of
this machine; export gives one row per student and released-and-collected chapter, plus totals, and
no cell a spreadsheet would run as a formula."""

import csv
import io
import re
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.notebook_format import hidden_lines
from autograder.pipeline.cli import main
from autograder.pipeline.export import Row, render
from pipeline_course import CHAPTER, OTHER, learner_notebook, make_course, run, write_notebook

NEVER_RELEASED = "04_parameters"
WRONG_ENCODE = (
    "def encode(doc, chars):\n    return [chars.index(c) for c in doc]  # MY_WRONG_ENCODE\n"
)
NOSY_CELL = """import os, sys, random
import course_tools
print("where:", os.getcwd(), sys.prefix, course_tools.__file__, sys.path)
print("x" * 300_000)
random.choice([])  # an error raised inside the standard library
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Release 02 and 03 (never 04); ada hands in a correct 02, bo a blank one, cy one with encode
    wrong plus a cell printing this machine's paths, a huge line and a stdlib traceback; ada also
    hands in 03, which stays ungraded. Collect, grade 02 (a limit set in the course's config, one on
    the command line), write feedback."""
    course = make_course(
        tmp_path_factory.mktemp("course"), chapters=(CHAPTER, OTHER, NEVER_RELEASED)
    )
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write("c.GradingLimits.piece_seconds = 45\nc.GradingLimits.cell_seconds = 90\n")
    assert main(["release", "--course", str(course.root), CHAPTER, OTHER]) == 0
    inbox = tmp_path_factory.mktemp("inbox")
    nosy = learner_notebook(course, answers={"encode": WRONG_ENCODE})
    nosy.cells.append(nbformat.v4.new_code_cell(NOSY_CELL))
    for student, nb in {
        "ada": learner_notebook(course),
        "bo": learner_notebook(course, blank=True),
        "cy": nosy,
    }.items():
        write_notebook(nb, inbox / student / CHAPTER / f"{CHAPTER}.ipynb")
    write_notebook(learner_notebook(course, OTHER), inbox / "ada" / OTHER / f"{OTHER}.ipynb")
    assert main(["collect", "--course", str(course.root), str(inbox)]) == 0
    assert (
        main(
            ["grade", "--course", str(course.root), CHAPTER, "--jobs", "2", "--cell-seconds", "100"]
        )
        == 0
    )
    assert main(["feedback", "--course", str(course.root), CHAPTER]) == 0
    return course


def test_grade_uses_the_limits_of_the_config_and_of_its_command_line(graded):
    log = next(graded.grading_dir.glob("logs/*-grade.log")).read_text()
    used = next(line for line in log.splitlines() if "limits: " in line)
    assert (
        "piece_seconds=45.0" in used
        and "cell_seconds=100.0" in used
        and "wall_seconds=900.0" in used
    ), used


def page(course, student):
    return (course.feedback_dir(student, CHAPTER) / f"{CHAPTER}.html").read_text(encoding="utf-8")


def test_feedback_scores_each_piece_with_the_checks_message(graded):
    html = page(graded, "cy")
    assert "MY_WRONG_ENCODE" in html, "the learner's code is missing"
    assert "(Score: 2.0 / 4.0)" in html
    # each tests cell named by the piece it grades, in the contents and in its heading
    assert re.search(r'href="#encode_tests">Tests of encode</a> \(Score: 0\.0 / 2\.0\)', html)
    assert re.search(r'href="#decode_tests">Tests of decode</a> \(Score: 1\.0 / 1\.0\)', html)
    assert re.search(r'<span class="nbgrader-label">Tests of <code>encode</code>', html)
    assert "Test cell" not in html and "Grade cell:" not in html
    # the confirmation's verdict and the check's message (what came back, what was expected) under
    # the piece
    note = re.search(
        r"Checked on its own, this piece does not pass: 0 of "
        r"2 points\.</strong></p>\s*<pre><code>(.*?)</code>",
        html,
        re.S,
    )
    assert note and "expected" in note.group(1) and "encode(" in note.group(1), note
    assert html.count("Checked on its own, this piece passes") == 2
    full = page(graded, "ada")
    assert "(Score: 4.0 / 4.0)" in full and full.count("Checked on its own, this piece passes") == 3
    blank = page(graded, "bo")
    assert (
        "(Score: 0.0 / 4.0)" in blank
        and blank.count("Checked on its own, this piece does not pass") == 3
    )
    unwritten = re.findall(
        r"this piece does not pass: 0 of [0-9.]+ points\.</strong></p>\s*<pre><code>([^<]*)", blank
    )
    assert len(unwritten) == 3 and all("not written yet" in n for n in unwritten), unwritten


def test_feedback_never_shows_hidden_tests_check_frames_or_paths(graded):
    source = nbformat.read(graded.source_notebook(CHAPTER), as_version=4)
    forbidden = hidden_lines(source) + [
        "BEGIN HIDDEN TESTS",
        "autograder/checks",
        "autograder.checks",
        "site-packages",
        'File "',
        "Traceback (most recent call last)",
        str(graded.root),
        sys.prefix,
        "/tmp/",
        "/usr/lib/python",
        "/work/",
    ]
    for student in ("ada", "bo", "cy"):
        html = page(graded, student)
        shown = [text for text in forbidden if text in html]
        assert not shown, f"{student}'s feedback shows {shown}"
    html = page(graded, "cy")
    # the paths printed are replaced
    assert "where: &lt;path&gt;" in html or "where: <path>" in html
    assert "IndexError: Cannot choose from an empty sequence" in html  # the error, as one line
    assert "more characters not shown" in html and len(html) < 1_000_000  # the huge line is cut


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_export_has_a_row_per_student_and_released_collected_chapter(graded, capsys):
    code, out, err = run(capsys, "export", "--course", graded.root)
    assert code == 0, err
    rows = read_csv(out)
    assert [(r["student"], r["chapter"]) for r in rows] == [
        ("ada", CHAPTER),
        ("ada", OTHER),
        ("ada", "total"),
        ("bo", CHAPTER),
        ("bo", OTHER),
        ("bo", "total"),
        ("cy", CHAPTER),
        ("cy", OTHER),
        ("cy", "total"),
    ]
    table = {(r["student"], r["chapter"]): r for r in rows}
    assert (table["ada", CHAPTER]["score"], table["ada", CHAPTER]["max"]) == ("4", "4")
    assert (table["bo", CHAPTER]["score"], table["cy", CHAPTER]["score"]) == ("0", "2")
    assert table["ada", OTHER]["score"] == "" and table["ada", OTHER]["flags"] == "not graded"
    assert table["bo", OTHER]["score"] == "0" and table["bo", OTHER]["flags"].startswith(
        "not submitted"
    )
    assert (table["ada", "total"]["score"], table["ada", "total"]["max"]) == ("4", "10")
    assert (table["cy", "total"]["score"], table["cy", "total"]["max"]) == ("2", "10")
    assert NEVER_RELEASED not in out


def test_export_to_a_file_and_in_the_wide_shape(graded, capsys, tmp_path):
    target = tmp_path / "grades.csv"
    code, out, err = run(capsys, "export", "--course", graded.root, "--output", target)
    assert code == 0, err
    assert f"to {target}" in out
    code, stdout_text, _ = run(capsys, "export", "--course", graded.root)
    assert target.read_text() == stdout_text
    code, out, err = run(capsys, "export", "--course", graded.root, "--format", "wide")
    assert code == 0, err
    rows = read_csv(out)
    assert list(rows[0]) == ["student", f"{CHAPTER} (4)", f"{OTHER} (6)", "total", "flags"]
    assert [(r["student"], r[f"{CHAPTER} (4)"], r["total"]) for r in rows] == [
        ("ada", "4", "4"),
        ("bo", "0", "0"),
        ("cy", "2", "2"),
    ]


def test_status_after_grading_and_feedback(graded, capsys):
    code, out, _ = run(capsys, "status", "--course", graded.root)
    assert code == 0
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert table[CHAPTER] == ["yes", "3", "3", "0", table[CHAPTER][4], "0", "3"]
    assert table[OTHER] == ["yes", "1", "0", "0", "0", "0", "0"]
    assert table[NEVER_RELEASED] == ["no", "0", "0", "0", "0", "0", "0"]


# ids collect refuses, but a gradebook may hold (nbgrader's own collect, the formgrader)
FORMULA_IDS = ['=HYPERLINK("http://evil.example","x")', "+1", "-1", "@SUM(1)", "\tada", "\rbo"]


@pytest.fixture(scope="module")
def formula_ids(tmp_path_factory):
    """CHAPTER released, ada's notebook in submitted/ (not graded), and FORMULA_IDS in the
    gradebook."""
    course = make_course(tmp_path_factory.mktemp("course"), chapters=(CHAPTER,))
    assert main(["release", "--course", str(course.root), CHAPTER]) == 0
    write_notebook(learner_notebook(course), course.submitted("ada", CHAPTER) / f"{CHAPTER}.ipynb")
    with Gradebook(course.db_url) as gb:
        for student in FORMULA_IDS:
            gb.add_student(student)
    return course


def test_export_quotes_ids_a_spreadsheet_reads_as_formulas_and_keeps_scores_numbers(
    formula_ids, capsys
):
    neutral = ["'" + s for s in FORMULA_IDS]
    code, out, err = run(capsys, "export", "--course", formula_ids.root)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert {r[0] for r in rows[1:]} == {"ada", *neutral}
    for student in neutral:
        assert [r[1:4] for r in rows if r[0] == student] == [
            [CHAPTER, "0", "4"],
            ["total", "0", "4"],
        ]
    code, out, err = run(capsys, "export", "--course", formula_ids.root, "--format", "wide")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert sorted(r[:3] for r in rows[1:]) == sorted(
        [["ada", "", "0"]] + [[s, "0", "0"] for s in neutral]
    )


def test_render_quotes_every_text_cell_starting_a_formula_and_no_number():
    rows = [
        Row("=ada", "=x", -1.5, 4.0, ["=cmd|' /C calc'!A0", "@flag"]),
        Row("bo", "=x", 2.0, 4.0, []),
    ]
    assert list(csv.reader(io.StringIO(render(rows, "csv")))) == [
        ["student", "chapter", "score", "max", "flags"],
        ["'=ada", "'=x", "-1.5", "4", "'=cmd|' /C calc'!A0; @flag"],
        ["'=ada", "total", "-1.5", "4", "'=x: =cmd|' /C calc'!A0; =x: @flag"],
        ["bo", "'=x", "2", "4", ""],
        ["bo", "total", "2", "4", ""],
    ]
    assert list(csv.reader(io.StringIO(render(rows, "wide")))) == [
        ["student", "'=x (4)", "total", "flags"],
        ["'=ada", "-1.5", "-1.5", "'=x: =cmd|' /C calc'!A0; =x: @flag"],
        ["bo", "2", "2", ""],
    ]
