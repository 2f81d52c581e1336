"""A hostile class of chapters 01_autograd, 05_gpt and 08_generation graded end to end: one course,
one `grade` of the three chapters (real nbgrader, real kernels, the sandbox, the judge), then
`feedback` and `export` (csv and wide), as an instructor runs them.

The class (tests/hostile/families.py): full, blank and partial, and one student per family of issue
17, each with every chapter's own version of the attack: (a) points for wrong code past the policy,
(b) forged verdicts, (c) harm through the host, (d) secrets leaked encoded with (e) HTML in
Markdown, (f) memory and fork bombs (chapter 1). Asserted, per student and chapter:
- the recorded points of each grade cell are exactly those of the student's own correct code;
- each hostile case is flagged with its kind (and the summary says so); the clean students are not;
- `grade` finishes, with no grader failure; nothing of the course outside autograded/, feedback/,
  grading/ (flags, results, logs) and the gradebook changes, hash and mode of every file and folder;
  autograded/ and feedback/ hold only folders and regular files;
- no feedback page or export holds a path of the grading machine, a check's source, or a hidden
  test's line, in plain, reversed or base64 form; the leak probe ran;
- the Markdown payloads reach no page as active markup, and run in no headless Chromium (when
  there).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.notebook_format import MAX_NOTEBOOK_BYTES, hidden_lines
from autograder.pipeline.cli import main
from autograder.pipeline.flags import load_flags
from autograder.pipeline.grade import grade
from autograder.pipeline.sandbox import Limits

sys.path.insert(0, str(Path(__file__).parents[1]))
from browser import CHROMEDRIVER, CHROMIUM, start_chromium  # noqa: E402
from hostile.attacks import LEAK_PROBE_MARK  # noqa: E402
from hostile.families import CHAPTERS, CLASSMATE, CLEAN, hostile_classes  # noqa: E402
from hostile.graded import alarm, changes, fingerprint, gradebook_dump, odd_entries, secrets_found  # noqa: E402
from hostile.markup import active_markup, provoke_in_browser  # noqa: E402
from hostile.submissions import expected_points, grade_points, released_course, write_submission  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
# gpt's and generate's checks need a minute on a busy machine; the rest short, as in
# test_grade_hostile
LIMITS = Limits(
    memory_bytes=1536 << 20,
    processes=96,
    wall_seconds=120,
    cell_seconds=10,
    piece_seconds=60,
    output_bytes=500_000,
)
GRADE_ALARM = 900  # seconds: a `grade` that would never finish fails the fixture instead
# what grading and feedback may change; everything else of the course is fingerprinted before and
# after
WRITABLE = {"autograded", "feedback", "grading", "gradebook.db"}
SOURCES = {
    chapter: nbformat.read(PROJECT / "chapters" / chapter / f"{chapter}.ipynb", as_version=4)
    for chapter in CHAPTERS
}
# the class's shape does not depend on the grading machine's paths: the parameters are known at
# collection
SHAPE = hostile_classes({chapter: {} for chapter in CHAPTERS}, SOURCES)
KNOWN_FAILURES = {}  # (student, chapter) -> why it fails today (xfail, strict)


def cases(students=None):
    """pytest params (student, chapter), each xfail (strict) when it is a known failure."""
    return [
        pytest.param(
            name,
            chapter,
            id=f"{name}-{chapter}",
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name, chapter])]
            if (name, chapter) in KNOWN_FAILURES
            else [],
        )
        for chapter, students_of in SHAPE.items()
        for name in students_of
        if students is None or name in students
    ]


def course_entries(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.name not in WRITABLE]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course, notebooks = released_course(
        PROJECT, tmp_path_factory.mktemp("e2e-hostile") / "course", CHAPTERS
    )
    secrets = {
        chapter: {
            "gradebook": course.root / "gradebook.db",
            "classmate": course.submitted(CLASSMATE, chapter) / f"{chapter}.ipynb",
            "chapter_source": course.source_notebook(chapter),
            "course_tools": course.source_notebook(chapter).parent / "course_tools.py",
            "instructor_source": PROJECT
            / "autograder"
            / "chapter_sources"
            / chapter
            / f"{chapter}.py",
        }
        for chapter in CHAPTERS
    }
    classes = hostile_classes(
        secrets, {chapter: source for chapter, (source, _) in notebooks.items()}
    )
    for chapter, students in classes.items():
        source_nb, release_nb = notebooks[chapter]
        for name, student in students.items():
            write_submission(course.submitted(name, chapter), student, release_nb, source_nb)
    before = fingerprint(*course_entries(course.root))
    with alarm(GRADE_ALARM):
        summary = grade(course, list(CHAPTERS), None, 2, limits=LIMITS)
    feedback_exit = main(["feedback", "--course", str(course.root), *CHAPTERS])
    exports = {
        fmt: subprocess.run(
            [
                sys.executable,
                "-m",
                "autograder",
                "export",
                "--course",
                str(course.root),
                "--format",
                fmt,
            ],
            capture_output=True,
            text=True,
            cwd=PROJECT,
            timeout=120,
        )
        for fmt in ("csv", "wide")
    }
    return {
        "course": course,
        "classes": classes,
        "summary": summary,
        "before": before,
        "after": fingerprint(*course_entries(course.root)),
        "feedback_exit": feedback_exit,
        "exports": exports,
        "dumps": {
            chapter: gradebook_dump(course, chapter, students)
            for chapter, students in classes.items()
        },
        "flags": load_flags(course),
    }


def flag_kinds(graded, name, chapter) -> dict:
    return {f.kind: f.reason for f in graded["flags"] if (f.student, f.chapter) == (name, chapter)}


@pytest.mark.parametrize("name, chapter", cases())
def test_each_student_gets_exactly_the_points_of_their_own_correct_code(graded, name, chapter):
    cells, score, _ = graded["dumps"][chapter][name]
    student = graded["classes"][chapter][name]
    expected = dict(zip(grade_points(SOURCES[chapter]), expected_points(student, SOURCES[chapter])))
    got = {cell: cells[cell][0] for cell in expected}
    assert got == expected and score == sum(expected.values()), (
        f"{name} {chapter}: recorded {got} (total {score}), expected {expected}; "
        f"flags {flag_kinds(graded, name, chapter)}"
    )
    assert not [cell for cell in expected if cells[cell][2]], (
        f"{name} {chapter}: a cell left for manual grading"
    )


@pytest.mark.parametrize("name, chapter", cases())
def test_each_hostile_case_is_flagged_by_kind_and_the_clean_ones_are_not(graded, name, chapter):
    kinds = flag_kinds(graded, name, chapter)
    if name in CLEAN:
        assert not kinds, f"{name} {chapter} is clean but flagged: {kinds}"
        return
    wanted = graded["classes"][chapter][name].flags
    assert wanted, f"{name} {chapter}: a hostile case must expect a flag"
    missing = [kind for kind in wanted if not set(kind.split("|")) & set(kinds)]
    assert not missing, (
        f"{name} {chapter}: flagged {kinds}, expected a flag of each of {sorted(wanted)}"
    )
    line = next(
        line
        for line in graded["summary"].table().splitlines()
        if line.split()[:2] == [name, chapter]
    )
    assert all(any(kind in line for kind in want.split("|")) for want in wanted), (
        f"the summary does not name {sorted(wanted)} for {name} {chapter}: {line}"
    )


def test_grade_finishes_every_submission_without_a_grader_failure(graded):
    summary = graded["summary"]
    graded_pairs = sorted((row.student, row.chapter) for row in summary.rows)
    assert graded_pairs == sorted(
        (n, c) for c, students in graded["classes"].items() for n in students
    ), graded_pairs
    assert not summary.grader_failures, summary.table()
    assert graded["exports"]["csv"].returncode == 0 and graded["exports"]["wide"].returncode == 0, (
        graded["exports"]
    )


def test_nothing_of_the_course_outside_autograded_and_feedback_changes(graded):
    """Submissions (a classmate's included), chapter sources and files, releases: hash and mode,
    links and special files not followed; autograded/ and feedback/ hold only folders and regular
    files."""
    assert not changes(graded["before"], graded["after"]), changes(
        graded["before"], graded["after"]
    )
    course = graded["course"]
    for folder in ("autograded", "feedback"):
        odd = odd_entries(course.root / folder, MAX_NOTEBOOK_BYTES)
        assert not odd, odd
    with course.gradebook() as gb:  # still a working gradebook with every student
        assert {s.id for s in gb.students} == {
            n for students in graded["classes"].values() for n in students
        }


def test_no_secret_or_host_path_in_any_feedback_page_or_export_even_encoded(graded):
    course = graded["course"]
    assert graded["feedback_exit"] in (0, 1)  # 1: a page withheld because it would show a path
    texts = {
        f"{name} {chapter}": page.read_text(encoding="utf-8")
        for chapter, students in graded["classes"].items()
        for name in students
        if (page := course.feedback_dir(name, chapter) / f"{chapter}.html").is_file()
    }
    for chapter in CHAPTERS:
        for name in ("full", "leaks", "harms_host"):
            assert f"{name} {chapter}" in texts, f"no feedback page for {name} {chapter}"
    texts |= {f"export {fmt}": run.stdout for fmt, run in graded["exports"].items()}
    secrets = [
        str(PROJECT),
        str(course.root),
        sys.prefix,
        str(Path(sys.executable).resolve().parent),
        "def check_",
        "CASE_SECRET",
        "RUN_SECRET",
        "case_rng(",
        "BEGIN HIDDEN",
        *{line for source in SOURCES.values() for line in hidden_lines(source)},
    ]
    assert not secrets_found(texts, secrets), secrets_found(texts, secrets)
    for chapter in CHAPTERS:
        page = texts[f"leaks {chapter}"]
        assert secrets_found({chapter: page}, [LEAK_PROBE_MARK]), (
            f"the leak probe did not run in {chapter}"
        )


def leaks_pages(graded) -> dict:
    """chapter -> the leaks student's feedback page (the one with the Markdown payloads), which must
    exist."""
    pages = {
        chapter: graded["course"].feedback_dir("leaks", chapter) / f"{chapter}.html"
        for chapter in CHAPTERS
    }
    assert all(page.is_file() for page in pages.values()), f"feedback pages missing: {pages}"
    return pages


def test_html_in_markdown_reaches_no_feedback_page_as_active_markup(graded):
    found = {
        chapter: active_markup(page.read_text(encoding="utf-8"))
        for chapter, page in leaks_pages(graded).items()
    }
    assert not any(found.values()), found


@pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()), reason="no headless Chromium"
)
def test_html_in_markdown_runs_in_no_browser(graded):
    driver = start_chromium()
    try:
        traces = {
            chapter: provoke_in_browser(driver, page)
            for chapter, page in leaks_pages(graded).items()
        }
    finally:
        driver.quit()
    ran = {
        chapter: t
        for chapter, t in traces.items()
        if t["pwned"] or t["title"] != chapter or t["background"] == "rgb(1, 2, 3)" or t["console"]
    }
    assert not ran, ran
