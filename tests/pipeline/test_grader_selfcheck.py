"""A grader that checks itself: `grade` first confirms each chapter's source notebook (every point)
and blank release (no point) in the class's sandbox, and stops with exit 1 and one line, recording
nothing, when that fails: a check the source cannot import, a reference the sandbox cannot read, a
chapter data file missing or unreadable, an unreadable source notebook, a release that passes
unwritten. A submission the grader fails on while grading is flagged `grader` with its recorded
scores kept, and `grade` exits 1; a submission nbgrader rejects because of the notebook itself is
still the learner's `crash`. `release` places the files a chapter needs and refuses a chapter whose
files are missing. Real nbgrader, real sandbox, on copies of one small chapter graded once."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.notebook_format import nbgrader_meta
from autograder.pipeline import grade as grade_module, sandbox
from autograder.pipeline.cli import main
from autograder.pipeline.course import REPOSITORY, Course
from autograder.pipeline.flags import load_flags
from pipeline_course import (
    CHAPTER,
    learner_notebook,
    make_course,
    run,
    tree_fingerprint,
    write_notebook,
)

STUDENTS = ("ada", "bo")  # ada: every piece right (4/4); bo: blank (0/4)
needs_sandbox = pytest.mark.skipif(
    not sandbox.isolation().sandboxed,
    reason="needs the bubblewrap sandbox (uid 65534 inside, only bound folders visible)",
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Chapter 2 released, ada's full-marks and bo's blank notebook collected and graded once."""
    course = make_course(tmp_path_factory.mktemp("course"), chapters=(CHAPTER,))
    assert main(["release", "--course", str(course.root)]) == 0
    inbox = tmp_path_factory.mktemp("inbox")
    write_notebook(learner_notebook(course), inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb")
    write_notebook(
        learner_notebook(course, blank=True), inbox / "bo" / CHAPTER / f"{CHAPTER}.ipynb"
    )
    assert main(["collect", "--course", str(course.root), str(inbox)]) == 0
    assert main(["grade", "--course", str(course.root), "--jobs", "2"]) == 0
    assert scores(course) == {"ada": 4.0, "bo": 0.0}
    return course


def copy_of(course, tmp_path) -> Course:
    target = tmp_path / "course"
    shutil.copytree(course.root, target)
    return Course(target)


def scores(course) -> dict:
    with course.gradebook() as gb:
        return {s: gb.find_submission(CHAPTER, s).score for s in STUDENTS}


def recorded(course) -> dict:
    """Everything `grade` records: the gradebook (bytes and scores), flags, autograded/, results."""
    gradebook = hashlib.sha256((course.root / "gradebook.db").read_bytes()).hexdigest()
    with course.gradebook() as gb:
        cells = {
            s: sorted(
                (g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                for g in gb.find_submission_notebook(CHAPTER, CHAPTER, s).grades
            )
            for s in STUDENTS
        }
    flags = course.grading_dir / "flags"
    return {
        "gradebook": gradebook,
        "cells": cells,
        "scores": scores(course),
        "flags": tree_fingerprint(flags) if flags.exists() else None,
        "autograded": tree_fingerprint(course.root / "autograded"),
        "results": tree_fingerprint(course.grading_dir / "results"),
    }


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def edit_source(course, grade_id, old, new):
    """Replace text in one cell of the course's source notebook (the instructor's reference)."""
    path = course.source_notebook(CHAPTER)
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)


# ---------------------------------------------------------------------------- the self-check


def missing_check(course):
    edit_source(
        course,
        "encode_tests",
        "import check_encode\n",
        "import check_encode_renamed as check_encode\n",
    )
    return [
        "self-check failed",
        CHAPTER,
        "the instructor's source notebook got 0/2 on encode (encode_tests)",
        "expected 2",
        "check_encode_renamed",
    ]


def missing_data(course):
    (course.source_notebook(CHAPTER).parent / "names.txt").unlink()
    return [
        "self-check failed",
        f"{CHAPTER} needs names.txt",
        "not in",
        f"microgpt-course release {CHAPTER[:2]}",
        "make setup",
    ]


def unreadable_data(course):  # the file is there, but the sandbox (uid 65534) may not read it
    (course.source_notebook(CHAPTER).parent / "names.txt").chmod(0)
    return [
        "self-check failed",
        CHAPTER,
        "the instructor's source notebook got 0/1 on build_vocab",
        "expected 1",
        "(and 1 more piece)",
    ]


def unreadable_source(course):  # a merge left conflict markers in the instructor's notebook
    path = course.source_notebook(CHAPTER)
    path.write_text("<<<<<<< HEAD\n" + path.read_text() + "=======\n>>>>>>> theirs\n")
    return ["self-check failed", CHAPTER, "the instructor's source notebook", "cannot be read"]


def release_passes_unwritten(course):  # the learners' version hands out the answer to encode
    path = course.release_dir(CHAPTER) / f"{CHAPTER}.ipynb"
    nb = nbformat.read(path, as_version=4)
    source = nbformat.read(course.source_notebook(CHAPTER), as_version=4)
    answer = next(c.source for c in source.cells if nbgrader_meta(c).get("grade_id") == "encode")
    next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "encode").source = answer
    nbformat.write(nb, path)
    return [
        "self-check failed",
        CHAPTER,
        "the blank release got 2/2 on encode (encode_tests), expected 0",
    ]


@pytest.mark.parametrize(
    "breaks",
    [
        missing_check,
        missing_data,
        pytest.param(unreadable_data, marks=needs_sandbox),
        unreadable_source,
        release_passes_unwritten,
    ],
    ids=lambda f: f.__name__,
)
def test_a_grader_that_fails_its_self_check_grades_nobody(graded, tmp_path, capsys, breaks):
    course = copy_of(graded, tmp_path)
    before = recorded(course)
    phrases = breaks(course)
    code, out, err = run(capsys, "grade", "--course", course.root, "--jobs", "2")
    assert code == 1, (out, err)
    assert out == "", "a summary was printed: something was graded"
    line = one_line(err)
    assert line.startswith("microgpt-course: grader self-check failed, nothing graded: "), line
    for phrase in phrases:
        assert phrase in line, (phrase, line)
    assert recorded(course) == before


def test_an_unreadable_reference_stops_grade(graded, tmp_path):
    """The judge's reference is broken where the grader imports it (here: a truncated copy of
    microgpt/nn.py first on PYTHONPATH), so every check would fail, correct work included. grade
    stops before any student gets 0, with one line naming the file."""
    course = copy_of(graded, tmp_path)
    copy = tmp_path / "elsewhere" / "microgpt"
    shutil.copytree(REPOSITORY / "solutions" / "microgpt", copy)
    source = (copy / "nn.py").read_text()
    (copy / "nn.py").write_text(source[: len(source) // 2] + "\ndef (\n")  # cut off mid-way
    before = recorded(course)
    env = dict(
        os.environ,
        PYTHONPATH=str(tmp_path / "elsewhere"),
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.util; print(importlib.util.find_spec('microgpt').origin)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # the grader's reference is the broken copy
    assert probe.stdout.startswith(str(copy)), probe.stdout
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--course", str(course.root)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    line = one_line(result.stderr)
    # one line naming what cannot be read
    assert "cannot be loaded" in line and "nn.py" in line, line
    assert recorded(course) == before


def test_the_self_check_passes_on_a_sound_course_and_is_logged(graded, capsys):
    logs = graded.root / "grading" / "logs"
    log = sorted(p for p in logs.iterdir() if p.name.endswith("-grade.log"))[0].read_text()
    assert (
        "self-check passed" in log
        and f"self-check {CHAPTER} source" in log
        and f"self-check {CHAPTER} release" in log
    )


# ---------------------------------------------------------------------------- the grader flag


def test_nbgrader_broken_for_everyone_flags_grader_and_keeps_the_scores(graded, tmp_path, capsys):
    course = copy_of(graded, tmp_path)
    before = recorded(course)
    # a typo in the course's nbgrader settings
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write('\nc.LimitOutput.max_lines = "1000 lines"\n')
    code, out, err = run(capsys, "grade", "--course", course.root, "--jobs", "2")
    assert code == 1, (out, err)
    assert "the grader failed on 2: ada 02_tokenization, bo 02_tokenization" in out, out
    flags = {(f.student, f.kind) for f in load_flags(course)}
    assert flags == {("ada", "grader"), ("bo", "grader")}, flags
    after = recorded(course)
    assert after["flags"] != before["flags"]
    assert {k: v for k, v in after.items() if k != "flags"} == {
        k: v for k, v in before.items() if k != "flags"
    }
    assert after["scores"] == {"ada": 4.0, "bo": 0.0}


def test_check_pieces_raising_on_one_submission_flags_only_it(
    graded, tmp_path, capsys, monkeypatch
):
    course = copy_of(graded, tmp_path)
    before = recorded(course)
    real = grade_module.check_pieces

    def fails_on_ada(*args, **kwargs):  # the workers are forked: they see this
        if kwargs.get("student") == "ada":
            raise OSError("the confirmation could not start")
        return real(*args, **kwargs)

    monkeypatch.setattr(grade_module, "check_pieces", fails_on_ada)
    code, out, err = run(capsys, "grade", "--course", course.root, "--jobs", "2")
    assert code == 1, (out, err)
    assert "the grader failed on 1: ada 02_tokenization" in out, out
    assert [(f.student, f.kind) for f in load_flags(course)] == [("ada", "grader")]
    assert "OSError" in load_flags(course)[0].reason
    assert scores(course) == {"ada": 4.0, "bo": 0.0}  # ada's 4 kept, not overwritten with 0
    results = course.grading_dir / "results" / CHAPTER / "ada.json"
    assert (
        results.read_text() == (graded.grading_dir / "results" / CHAPTER / "ada.json").read_text()
    )
    assert recorded(course)["autograded"]["ada"] == before["autograded"]["ada"]


def test_a_submission_whose_results_cannot_be_recorded_is_flagged_and_the_run_goes_on(
    graded, tmp_path, capsys, monkeypatch
):
    course = copy_of(graded, tmp_path)
    real = grade_module.record

    # recording runs in the grading process, after the workers
    def fails_on_ada(course, graded_one, iso):
        if graded_one.student == "ada":
            raise OSError("the gradebook's disk is full")
        return real(course, graded_one, iso)

    monkeypatch.setattr(grade_module, "record", fails_on_ada)
    code, out, err = run(capsys, "grade", "--course", course.root, "--jobs", "2")
    assert code == 1, (out, err)
    assert "the grader failed on 1: ada 02_tokenization" in out, out
    assert [(f.student, f.kind) for f in load_flags(course)] == [("ada", "grader")]
    assert "OSError" in load_flags(course)[0].reason
    # bo recorded after ada's failure; ada's earlier 4 kept
    assert scores(course) == {"ada": 4.0, "bo": 0.0}


def test_a_notebook_nbgrader_rejects_is_still_the_learners_crash(graded, tmp_path, capsys):
    course = copy_of(graded, tmp_path)
    path = course.submitted("bo", CHAPTER) / f"{CHAPTER}.ipynb"
    # every piece right, but a metadata version nbgrader does not know
    nb = learner_notebook(course)
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"]["schema_version"] = 99
    write_notebook(nb, path)
    code, out, err = run(capsys, "grade", "--course", course.root, "--student", "bo")
    assert code == 0, (out, err)
    assert "the grader failed" not in out
    flags = load_flags(course)
    assert [(f.student, f.kind) for f in flags] == [("bo", "crash")], flags
    assert "nbgrader could not autograde it" in flags[0].reason
    assert scores(course) == {"ada": 4.0, "bo": 4.0}  # recorded: the confirmation's points


# ---------------------------------------------------------------------------- release places the
# files


def test_release_refuses_a_chapter_whose_data_is_missing(graded, tmp_path, capsys):
    course = copy_of(graded, tmp_path)
    (course.source_notebook(CHAPTER).parent / "names.txt").unlink()
    (course.root / "data").mkdir()  # the course's own data/, without names.txt (no `make setup`)
    released = tree_fingerprint(course.release_dir(CHAPTER))
    code, out, err = run(capsys, "release", "--course", course.root)
    assert code == 2, (out, err)
    line = one_line(err)
    assert line.startswith("microgpt-course: error: ") and f"{CHAPTER} needs names.txt" in line, (
        line
    )
    assert "make setup" in line and "data/" in line, line
    assert tree_fingerprint(course.release_dir(CHAPTER)) == released  # nothing released


def test_release_after_a_pip_only_install_places_the_files(graded, tmp_path, capsys):
    """`pip install -e .` without `make setup`: data/ has names.txt (downloaded by `microgpt train`)
    and the checkpoint, the chapter folders lack them. release puts them beside the notebook and in
    release/."""
    course = copy_of(graded, tmp_path)
    folder = course.source_notebook(CHAPTER).parent
    (folder / "names.txt").unlink()
    (folder / "course_tools.py").write_text("# an old copy\n")
    (course.root / "data").mkdir()
    shutil.copyfile(REPOSITORY / "data" / "names.txt", course.root / "data" / "names.txt")
    code, out, err = run(capsys, "release", "--course", course.root, "2")
    assert code == 0, (out, err)
    names = (course.root / "data" / "names.txt").read_bytes()
    assert (folder / "names.txt").read_bytes() == names
    assert (course.release_dir(CHAPTER) / "names.txt").read_bytes() == names
    tools = (REPOSITORY / "autograder" / "learner" / "course_tools.py").read_bytes()
    assert (course.release_dir(CHAPTER) / "course_tools.py").read_bytes() == tools
