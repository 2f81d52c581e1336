"""microgpt-course: one clear line and exit 2 for bad input to every command; release, start,
status; running a command twice changes nothing; every run leaves a log. Real nbgrader, on a
temporary copy of two chapters."""

import fcntl
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.notebook_format import BEGIN_HIDDEN, BEGIN_SOLUTION, CODE_STUB, nbgrader_meta
from autograder.pipeline.cli import main
from pipeline_course import (
    CHAPTER,
    OTHER,
    assert_one_line_error,
    learner_notebook,
    make_course,
    run,
    run_process,
    write_notebook,
)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with both chapters released once (by the command itself)."""
    course = make_course(tmp_path_factory.mktemp("course"))
    assert main(["release", "--course", str(course.root)]) == 0
    return course


def bad_inputs(root, tmp):
    a_file = tmp / "a_file.txt"
    a_file.write_text("not a folder")
    not_a_notebook = tmp / "broken.ipynb"
    not_a_notebook.write_text("{ this is not json")
    course = ["--course", root]
    return [
        ([], "required"),
        (["fly"], "invalid choice"),
        (["status", "--course", tmp / "nowhere"], "is not a course directory"),
        (["status", *course, "extra"], "unrecognized arguments: extra"),
        (["start", *course, "--dir", a_file], "is a file, not a folder"),
        (["release", *course, "99"], "no chapter '99'"),
        (["release", *course, "autograd"], "no chapter 'autograd'"),
        (["collect", *course], "PATH"),
        (["collect", *course, tmp / "no-such-folder"], "does not exist"),
        (["collect", *course, a_file], "neither a folder nor a zip file"),
        (["collect", *course, tmp, "--pattern", "{chapter}.zip"], "{student}"),
        (["collect", *course, tmp, "--pattern", "{student}.zip"], "--chapter"),
        (["grade", *course, "--jobs", "0"], "--jobs"),
        (["grade", *course, "--jobs", "many"], "--jobs"),
        (["grade", *course, "99"], "no chapter '99'"),
        (["grade", *course, "--cell-seconds", "0"], "--cell-seconds: must be a positive number"),
        (["grade", *course, "--memory-bytes", "lots"], "--memory-bytes: must be a positive number"),
        (["grade", *course, "--student", "nobody"], "no submission from nobody"),
        (["grade", *course, "--shard", "3/2"], "--shard: K must be from 1 to N in K/N, got '3/2'"),
        (["grade", *course, "--shard", "x"], "--shard: must be K/N"),
        (
            ["grade", *course, "--shard", "1/2"],
            "--shard 1/2 needs a gradebook all shards share: PostgreSQL",
        ),
        (["status", *course, "--db", "mysql://u@h/d"], "the gradebook is SQLite or PostgreSQL"),
        (["status", *course, "--db", "no url"], "'no url' is not a database URL"),
        # nothing listens on port 1; the password is never shown
        (
            ["export", *course, "--db", "postgresql://u:hunter2@127.0.0.1:1/d"],
            "cannot reach the gradebook "
            "postgresql+psycopg://u:***@127.0.0.1:1/d: connection failed",
        ),
        (["feedback", *course, "7"], "no chapter '7'"),
        (["export", *course, "--format", "xml"], "invalid choice: 'xml'"),
        (["export", *course, "--output", tmp / "missing" / "grades.csv"], "does not exist"),
        (["check", *course], "CHAPTER"),
        (["check", *course, "99"], "no chapter '99'"),
        (["check", *course, "2", tmp / "missing.ipynb"], "no notebook"),
        (["check", *course, "2", not_a_notebook], "not a readable notebook"),
    ]


def test_bad_input_exits_2_with_one_clear_line(course, tmp_path, capsys):
    for args, phrase in bad_inputs(course.root, tmp_path):
        code, out, err = run(capsys, *args)
        assert_one_line_error(code, err, phrase)
        assert "hunter2" not in err, "a gradebook URL's password was shown"


def test_a_second_grade_of_a_course_with_gradebook_db_stops_with_one_line(course, capsys):
    course.grading_dir.mkdir(exist_ok=True)
    with open(course.grading_dir / "grade.lock", "w") as held:
        # as a `grade` running on this course holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = run(capsys, "grade", "--course", course.root)
    assert_one_line_error(code, err, "another `grade` is running on")


def test_the_course_is_found_from_the_working_folder_and_its_limits_from_its_config(
    course, tmp_path
):
    """As nbgrader does: the folder holding nbgrader_config.py (here also chapters/), from any
    folder inside it; outside any course, one line and exit 2. Limits: defaults, then
    c.GradingLimits, then the command line; a name that is no limit, or a bad value, is one line and
    exit 2."""
    inside = run_process("status", cwd=course.root / "chapters" / CHAPTER)
    assert inside.returncode == 0 and CHAPTER in inside.stdout, inside.stderr
    outside = run_process("status", cwd=tmp_path)
    assert_one_line_error(
        outside.returncode, outside.stderr, "is not in a course directory", "--course"
    )
    assert (
        course.limits().cell_seconds == 120 and course.limits({"cell_seconds": 7}).cell_seconds == 7
    )
    strict = make_course(tmp_path / "strict", chapters=[CHAPTER])
    config = strict.root / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.GradingLimits.wall_seconds = 300\n")
    assert (
        strict.limits().wall_seconds == 300
        and strict.limits({"wall_seconds": 30}).wall_seconds == 30
    )
    for line, phrase in (
        ("c.GradingLimits.wall_secs = 300", "c.GradingLimits.wall_secs is not a grading limit"),
        ("c.GradingLimits.processes = 'many'", "must be a positive whole number"),
    ):
        config.write_text(config.read_text() + line + "\n")
        result = run_process("grade", "--course", strict.root)
        assert_one_line_error(result.returncode, result.stderr, phrase)
        config.write_text(config.read_text().replace(line + "\n", ""))


def test_unreleased_chapters_are_refused_by_grade_and_feedback(tmp_path, capsys):
    fresh = make_course(tmp_path / "fresh", chapters=[CHAPTER])
    for command in ("grade", "feedback"):
        code, _, err = run(capsys, command, "--course", fresh.root)
        assert_one_line_error(code, err, "no chapter is released yet", "release")
        code, _, err = run(capsys, command, "--course", fresh.root, "2")
        assert_one_line_error(code, err, f"not released yet: {CHAPTER}")


def test_the_console_script_and_python_m_run_the_same_command(course, tmp_path):
    for module in (True, False):
        result = run_process("release", "--course", course.root, "99", module=module)
        assert_one_line_error(result.returncode, result.stderr, "no chapter '99'")
    result = run_process("status", "--course", course.root)
    assert result.returncode == 0, result.stderr
    assert CHAPTER in result.stdout and "Traceback" not in result.stderr
    help_text = run_process("--help").stdout
    for command in (
        "start",
        "release",
        "collect",
        "grade",
        "feedback",
        "export",
        "check",
        "status",
    ):
        assert command in help_text


def test_release_writes_learner_versions_without_answers(course):
    for chapter in (CHAPTER, OTHER):
        source = nbformat.read(course.source_notebook(chapter), as_version=4)
        released = nbformat.read(course.release_dir(chapter) / f"{chapter}.ipynb", as_version=4)
        text = "\n".join(c.source for c in released.cells)
        assert (
            BEGIN_SOLUTION not in text
            and BEGIN_HIDDEN not in text
            and CODE_STUB.splitlines()[-1] in text
        )
        assert [nbgrader_meta(c).get("grade_id") for c in released.cells] == [
            nbgrader_meta(c).get("grade_id") for c in source.cells
        ]
        assert (course.release_dir(chapter) / "course_tools.py").is_file()


def test_release_twice_gives_the_same_release_and_gradebook(course, capsys):
    def snapshot():
        with course.gradebook() as gb:
            cells = sorted(
                (a.name, c.name, c.max_score)
                for a in gb.assignments
                for n in a.notebooks
                for c in n.grade_cells
            )
        notebooks = {
            c: nbformat.read(course.release_dir(c) / f"{c}.ipynb", as_version=4).cells
            for c in (CHAPTER, OTHER)
        }
        return cells, notebooks

    before = snapshot()
    code, out, _ = run(capsys, "release", "--course", course.root, "02", "components")
    assert code == 0
    assert CHAPTER in out and OTHER in out and "points" in out
    assert snapshot() == before


def test_status_counts_each_step(course, capsys, tmp_path):
    write_notebook(learner_notebook(course), tmp_path / "in" / "ada" / CHAPTER / f"{CHAPTER}.ipynb")
    assert run(capsys, "collect", "--course", course.root, tmp_path / "in")[0] == 0
    code, out, err = run(capsys, "status", "--course", course.root)
    assert code == 0, err
    header, rule, *rows = out.strip().splitlines()
    assert header.split() == [
        "chapter",
        "released",
        "submitted",
        "graded",
        "regrade",
        "flagged",
        "manual",
        "fed",
        "back",
    ]
    table = {row.split()[0]: row.split()[1:] for row in rows}
    assert table[CHAPTER][:2] == ["yes", "1"]
    assert table[OTHER][:2] == ["yes", "0"]


def test_start_makes_a_workspace_and_keeps_the_learners_work(course, capsys, tmp_path):
    target = tmp_path / "my work"
    code, out, err = run(capsys, "start", "--course", course.root, "--dir", target, "--no-lab")
    assert code == 0, err
    notebook = target / CHAPTER / f"{CHAPTER}.ipynb"
    assert notebook.is_file() and (target / OTHER / "course_tools.py").is_file()
    assert "raise NotImplementedError()" in notebook.read_text()
    notebook.write_text(
        notebook.read_text().replace("raise NotImplementedError()", "return 'my own work'")
    )
    edited = notebook.read_bytes()
    code, out, _ = run(capsys, "start", "--course", course.root, "--dir", target, "--no-lab")
    assert code == 0
    assert notebook.read_bytes() == edited, "start ran twice overwrote the learner's notebook"
    rows = {
        line.split()[0]: line.split()[1:]
        for line in out.splitlines()
        if line.startswith(("02_", "03_"))
    }
    # nothing added, the learner's files kept
    assert rows[CHAPTER][0] == "0" and int(rows[CHAPTER][1]) >= 2


def test_every_run_leaves_a_log(course, capsys):
    logs = course.root / "grading" / "logs"
    before = set(logs.iterdir())
    run(capsys, "status", "--course", course.root)
    # refused by the parser: no course yet
    run(capsys, "export", "--course", course.root, "--format", "xml")
    run(capsys, "release", "--course", course.root, "99")
    new = sorted(set(logs.iterdir()) - before)
    assert [p.name.rsplit("-", 1)[-1] for p in new] == ["status.log", "release.log"]
    assert "status" in new[0].read_text() and "exit 0" in new[0].read_text()


def test_check_passes_only_a_correct_notebook_and_touches_no_gradebook(course, capsys, tmp_path):
    wrong_encode = "def encode(doc, chars):\n    return [chars.index(c) for c in doc]\n"
    notebooks = {
        "correct": (learner_notebook(course), 0),
        "blank": (learner_notebook(course, blank=True), 1),
        "wrong": (learner_notebook(course, answers={"encode": wrong_encode}), 1),
    }
    gradebook = (course.root / "gradebook.db").read_bytes()
    for name, (nb, expected_code) in notebooks.items():
        path = write_notebook(nb, tmp_path / name / f"{CHAPTER}.ipynb")
        code, out, err = run(capsys, "check", "--course", course.root, "2", path)
        assert code == expected_code, (name, out, err)
        rows = {
            line.split()[0]: line
            for line in out.splitlines()
            if line.startswith(("build_vocab", "encode", "decode"))
        }
        assert set(rows) == {"build_vocab", "encode", "decode"}, out
        if name == "correct":
            assert "4/4 points, every piece passes" in out
        elif name == "blank":
            assert all("FAIL" in row for row in rows.values()) and "0/4 points" in out
        else:
            assert "FAIL" in rows["encode"] and "pass" in rows["decode"] and "2/4 points" in out
            # the check's message names what was expected
            assert "expected" in rows["encode"], rows["encode"]
    assert (course.root / "gradebook.db").read_bytes() == gradebook


def test_start_opens_jupyterlab_on_the_first_chapter(course, tmp_path):
    """start --no-browser: JupyterLab serves the workspace and announces chapter 1's notebook."""
    command = [
        sys.executable,
        "-m",
        "autograder",
        "start",
        "--course",
        str(course.root),
        "--dir",
        str(tmp_path),
        "--no-browser",
    ]
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(tmp_path / ".runtime"),
        JUPYTER_CONFIG_DIR=str(tmp_path / ".config"),
    )
    lab = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in lab.stdout], daemon=True).start()
    first = course.chapters()[0]
    try:
        deadline, seen, url = time.monotonic() + 180, [], None
        while url is None and time.monotonic() < deadline and lab.poll() is None:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            found = re.search(
                rf"http://127\.0\.0\.1:\d+/lab/tree/{first}/{first}\.ipynb\?token=\w+", seen[-1]
            )
            url = found.group(0) if found else None
        assert url, "JupyterLab did not announce chapter 1:\n" + "".join(seen)
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        # the server may announce itself a moment before it answers
        answer_by = time.monotonic() + 120
        while True:
            try:
                with no_proxy.open(
                    url.replace("/lab/tree/", "/api/contents/"), timeout=60
                ) as response:
                    assert response.status == 200  # the notebook is served from the workspace
                break
            except urllib.error.URLError as error:
                if time.monotonic() > answer_by or lab.poll() is not None:
                    pytest.fail(f"{url}: {error}\n" + "".join(seen))
                time.sleep(1)
        assert (tmp_path / first / f"{first}.ipynb").is_file()
    finally:
        os.killpg(lab.pid, signal.SIGTERM)  # the server this test started, and only it
        lab.wait(timeout=60)


def test_the_guides_tables_of_flag_kinds_are_made_from_flags_py():
    """SANDBOX.md and INSTRUCTORS.md hold the table flags.kinds_table() makes from flags.Kind
    (rewrite them with `python -m autograder.pipeline.flags`), so a new kind cannot be left
    undocumented."""
    from autograder.pipeline.flags import Kind, with_kinds_table

    project = Path(__file__).resolve().parents[2]
    for guide in (
        project / "autograder" / "pipeline" / "SANDBOX.md",
        project / "autograder" / "INSTRUCTORS.md",
    ):
        text = guide.read_text(encoding="utf-8")
        assert with_kinds_table(text) == text, (
            f"{guide.name}: run python -m autograder.pipeline.flags"
        )
        assert all(f"| `{kind}` |" in text for kind in Kind)
