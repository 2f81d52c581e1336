"""Chapter 9's written answers through microgpt-course: `grade` scores the automatic pieces and
leaves the answers "needs manual grading" (status counts them, export flags them); once an
instructor scores them (as nbgrader's formgrader does, in the gradebook) export adds the points, and
a later `grade` keeps them. Real nbgrader, real kernels, the sandbox on."""

import csv
import io
import re

import pytest
from nbgrader.api import Gradebook

from autograder.notebook_format import nbgrader_meta
from autograder.pipeline.cli import main
from pipeline_course import learner_notebook, make_course, run, write_notebook

CHAPTER = "09_analysis"


def written_answers(course):
    """grade_id -> points of the chapter's manually graded answers (Markdown cells, grade and
    solution)."""
    import nbformat

    source = nbformat.read(course.source_notebook(CHAPTER), as_version=4)
    return {
        nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
        for c in source.cells
        if c.cell_type == "markdown"
        and nbgrader_meta(c).get("grade")
        and nbgrader_meta(c).get("solution")
    }


def export_row(capsys, course):
    code, out, err = run(capsys, "export", "--course", course.root)
    assert code == 0, err
    return {(r["student"], r["chapter"]): r for r in csv.DictReader(io.StringIO(out))}[
        "ada", CHAPTER
    ]


def status_row(capsys, course):
    code, out, err = run(capsys, "status", "--course", course.root)
    assert code == 0, err
    header, _, *rows = out.strip().splitlines()
    row = next(r.split() for r in rows if r.startswith(CHAPTER))
    return dict(
        zip(
            [
                "chapter",
                "released",
                "submitted",
                "graded",
                "regrade",
                "flagged",
                "manual",
                "fed_back",
            ],
            row,
        )
    )


def feedback_page(capsys, course, pending):
    """Run `feedback`; check its table's pending column for ada is `pending`; the page's HTML."""
    code, out, err = run(capsys, "feedback", "--course", course.root, CHAPTER)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("ada"))
    cells = [c.strip() for c in re.split(r"\s{2,}", row)]
    assert cells[4:5] == ([pending] if pending else ["written"]), (
        f"feedback's row for ada: got {cells}, expected pending {pending!r} then written"
    )
    return (course.feedback_dir("ada", CHAPTER) / f"{CHAPTER}.html").read_text(encoding="utf-8")


def test_check_names_the_points_graded_by_hand(graded, capsys):
    answers = written_answers(graded)
    notebook = graded.submitted("ada", CHAPTER) / f"{CHAPTER}.ipynb"
    code, out, err = run(capsys, "check", "--course", graded.root, CHAPTER, notebook)
    assert code == 0, err
    last = out.strip().splitlines()[-1]
    expected = f"{sum(answers.values()):g} more points ({len(answers)} answers) are graded by hand"
    assert "every piece passes" in last and expected in last, (
        f"check {CHAPTER}: got {last!r}, expected {expected!r}"
    )
    for answer in answers:
        assert re.search(rf"^{answer}\s.*by hand", out, re.M), f"no row for {answer} in:\n{out}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Chapter 9 released, ada's complete notebook collected and graded once (grade_logs: the logs
    that run wrote)."""
    course = make_course(tmp_path_factory.mktemp("course"), chapters=(CHAPTER,))
    assert main(["release", "--course", str(course.root)]) == 0
    inbox = tmp_path_factory.mktemp("inbox")
    write_notebook(learner_notebook(course, CHAPTER), inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb")
    assert main(["collect", "--course", str(course.root), str(inbox)]) == 0
    logs = course.root / "grading" / "logs"
    before = set(logs.iterdir())
    assert main(["grade", "--course", str(course.root), CHAPTER]) == 0
    course.grade_logs = sorted(set(logs.iterdir()) - before)
    return course


def test_written_answers_wait_for_the_instructor_then_count(graded, capsys):
    answers = written_answers(graded)
    assert len(answers) == 3, answers
    manual_points = sum(answers.values())
    with Gradebook(f"sqlite:///{graded.root / 'gradebook.db'}") as gb:
        maximum = gb.find_assignment(CHAPTER).max_score
    automatic = maximum - manual_points

    # after grade: every automatic point, the answers waiting
    row = export_row(capsys, graded)
    assert (float(row["score"]), float(row["max"])) == (automatic, maximum), row
    assert row["flags"] == "needs manual grading", row
    status = status_row(capsys, graded)
    assert (status["graded"], status["manual"], status["flagged"]) == ("1", "1", "0"), status
    page = feedback_page(capsys, graded, f"{manual_points:g} points")
    pending = re.findall(r"\(Score: not graded yet / ([0-9.]+)\)", page)
    assert sorted(map(float, pending)) == sorted(answers.values()), (
        f"pending answers in the page's contents: got {pending}, expected one per answer {answers}"
    )
    assert (
        f"Not graded yet: {manual_points:g} points" in page
        and page.count("your instructor grades this answer") == 3
    )

    # the instructor scores the answers, full marks but one point, writing what the formgrader's
    # PUT /formgrader/api/grade writes (nbgrader/server_extensions/formgrader/apihandlers.py)
    docked = next(iter(answers))
    with Gradebook(f"sqlite:///{graded.root / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(CHAPTER, CHAPTER, "ada")
        for grade in notebook.grades:
            if grade.name in answers:
                grade.manual_score = answers[grade.name] - (grade.name == docked)
                grade.needs_manual_grade = False
        gb.db.commit()
    row = export_row(capsys, graded)
    assert (float(row["score"]), row["flags"]) == (maximum - 1, ""), row
    assert status_row(capsys, graded)["manual"] == "0"
    page = feedback_page(capsys, graded, "")
    assert "not graded yet" not in page.lower(), (
        "the page still calls hand-graded answers pending once graded"
    )

    # grading again re-runs the automatic pieces and keeps the instructor's scores
    code, out, err = run(capsys, "grade", "--course", graded.root, CHAPTER)
    assert code == 0, err
    assert (float(export_row(capsys, graded)["score"])) == maximum - 1


def test_a_grade_run_writes_one_log_naming_each_submission(graded):
    assert [p.name.rsplit("-", 1)[-1] for p in graded.grade_logs] == ["grade.log"], (
        graded.grade_logs
    )
    text = graded.grade_logs[0].read_text()
    assert "sandbox:" in text and f"ada {CHAPTER}: " in text and "exit 0" in text
