"""Nothing a sandbox leaves is trusted: the host takes back only the results it asked for.

A hostile kernel leaves, in its working folder, symbolic links named like the notebook nbgrader
writes (pointing at the chapter's course_tools.py), like a chapter file (pointing at the gradebook)
and at a classmate's files, FIFOs, a socket, a file as large as it can, thousands of small files,
read-only files and a folder it made unreadable. Graded with nbgrader's real Autograde
(autograde_privately), recorded, and given feedback: grading ends in bounded time, the gradebook,
the chapter files and a classmate's files are byte-identical with unchanged modes, the hostile
students' autograded/ and feedback/ folders hold only regular files the host wrote, and each is
flagged alone, its points those of its (correct) code. Plus: the read-back of forged results, the
copy of submitted files, and a notebook of 2,000 empty cells in linear time.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import stat
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.notebook_format import MAX_NOTEBOOK_BYTES
from autograder.pipeline import sandbox
from autograder.pipeline.autograde import autograde_privately, copy_regular_files
from autograder.pipeline.execute import SandboxedExecute
from autograder.pipeline.record import Graded, record
from autograder.pipeline.sandbox import Limits

sys.path.insert(0, str(Path(__file__).parents[1]))
from hostile.graded import alarm, fingerprint, odd_entries  # noqa: E402
from hostile.submissions import CHAPTER, GRADE_CELLS, Student, fill, released_course  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
SCRATCH = {"scratch_bytes": 48 << 20} if "scratch_bytes" in Limits.__dataclass_fields__ else {}
LIMITS = Limits(
    memory_bytes=1536 << 20,
    processes=96,
    wall_seconds=90,
    cell_seconds=20,
    piece_seconds=15,
    output_bytes=500_000,
    **SCRATCH,
)
ALARM_SECONDS = 150  # one submission's grading; a step that blocks for good fails the test instead


def hostile_cell(secrets: dict, fifo: bool) -> str:
    """Code run last in the kernel: what the hostile class left behind, every step tried on its
    own."""
    # no path in the page
    gradebook, tools, mate = (
        f"bytes.fromhex({str(secrets[k]).encode().hex()!r}).decode()"
        for k in ("gradebook", "course_tools", "classmate")
    )
    steps = [f"os.remove('{CHAPTER}.ipynb')", "os.remove('course_tools.py')"]
    if fifo:
        steps += [
            f"os.mkfifo('{CHAPTER}.ipynb')",
            "os.mkfifo('course_tools.py')",
            "os.mkfifo('.grading-output.ipynb')",
            "socket.socket(socket.AF_UNIX).bind('sock')",
            "os.mkdir('locked')",
            "os.chmod('locked', 0)",
            "os.chmod('.', 0)",
        ]
    else:
        steps += [
            f"os.symlink({tools}, '{CHAPTER}.ipynb')",
            f"os.symlink({gradebook}, 'course_tools.py')",
            f"os.symlink({gradebook}, '.grading-output.ipynb')",
            f"os.symlink({mate}, 'classmate.ipynb')",
            f"os.symlink(os.path.dirname({mate}), 'classmate')",
            "[os.chmod(n, 0o444) for n in os.listdir('.') "
            "if os.path.isfile(n) and not os.path.islink(n)]",
            "[open(f'small{n}', 'w').write('s') for n in range(3000)]",
            "big = open('big.bin', 'wb')\nfor _ in range(300):\n"
            "    big.write(b'x' * (1 << 20)); big.flush()",
        ]
    body = "".join(
        f"try:\n    {step.replace(chr(10), chr(10) + '    ')}\nexcept Exception as error:\n"
        f"    print('step failed', type(error).__name__)\n"
        for step in steps
    )
    return "import os, socket\n" + body + "print('hostile cell done')"


def grade_privately(course, student, base_gradebook) -> dict:
    """autograde_privately (nbgrader's Autograde, the sandboxed kernel) of one submission, bounded
    in time."""
    scratch = course.grading_dir / "work" / f"{student}-{uuid.uuid4().hex[:8]}"
    log = []
    started = time.monotonic()
    try:
        with alarm(ALARM_SECONDS):
            autograded = autograde_privately(
                course,
                scratch / "course",
                student,
                CHAPTER,
                LIMITS,
                base_gradebook,
                course.submitted(student, CHAPTER),
                log,
            )
        error = None
    except Exception as problem:  # kept for the assertions (what today's code does)
        autograded, error = None, problem
    kernel, flags = (autograded.kernel, list(autograded.flags)) if autograded else ({}, [])
    folder = autograded.folder if autograded else None
    private = (
        {"odd": odd_entries(folder, 1 << 20), "names": sorted(p.name for p in folder.iterdir())}
        if folder and folder.is_dir()
        else None
    )
    return {
        "result": Graded(
            student, CHAPTER, folder, None, kernel, [], flags, "\n".join(log), scratch
        ),
        "kernel": kernel,
        "flags": flags,
        "error": error,
        "seconds": time.monotonic() - started,
        "private": private,
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.pipeline.feedback import generate
    from autograder.pipeline.progress import progress_factory

    base = tmp_path_factory.mktemp("readback")
    course, notebooks = released_course(PROJECT, base / "course")
    source_nb, release_nb = notebooks[CHAPTER]
    mate = course.submitted("mate", CHAPTER)
    mate.mkdir(parents=True)
    nbformat.write(fill(release_nb, source_nb, Student()), mate / f"{CHAPTER}.ipynb")
    (course.autograded("mate", CHAPTER)).mkdir(parents=True)
    (course.autograded("mate", CHAPTER) / "notes.txt").write_text("graded before\n")
    gradebook = course.root / "gradebook.db"
    secrets = {
        "gradebook": gradebook,
        "course_tools": course.source_notebook(CHAPTER).parent / "course_tools.py",
        "classmate": mate / f"{CHAPTER}.ipynb",
    }
    for name, fifo in (("links", False), ("fifos", True)):
        nb = fill(release_nb, source_nb, Student())
        nb.cells.append(new_code_cell(hostile_cell(secrets, fifo)))
        course.submitted(name, CHAPTER).mkdir(parents=True)
        nbformat.write(nb, course.submitted(name, CHAPTER) / f"{CHAPTER}.ipynb")
    watched = [
        course.root / "chapters",
        mate,
        course.autograded("mate", CHAPTER),
        course.root / "release",
    ]
    before = fingerprint(*watched, gradebook)
    base_gradebook = base / "base-gradebook.db"
    base_gradebook.write_bytes(gradebook.read_bytes())
    outcomes = {name: grade_privately(course, name, base_gradebook) for name in ("links", "fifos")}
    after_autograde = fingerprint(*watched, gradebook)
    for name, outcome in outcomes.items():
        outcome["row"] = record(course, outcome["result"], sandbox.isolation())
    feedback_error = None
    try:
        with alarm(ALARM_SECONDS):
            generate(
                course,
                [CHAPTER],
                ["links", "fifos"],
                progress_factory(io.StringIO()),
                logging.getLogger("readback"),
            )
    except Exception as problem:
        feedback_error = problem
    after_feedback = fingerprint(*watched)
    return {
        "course": course,
        "outcomes": outcomes,
        "before": before,
        "after_autograde": after_autograde,
        "after_feedback": after_feedback,
        "feedback_error": feedback_error,
        "gradebook": gradebook,
    }


def test_grading_ends_and_nothing_outside_the_sandbox_changes(graded):
    for name, outcome in graded["outcomes"].items():
        assert outcome["error"] is None, f"{name}: {outcome['error']!r}"
        assert outcome["seconds"] < 90, f"{name} took {outcome['seconds']:.0f} s"
    assert graded["feedback_error"] is None, repr(graded["feedback_error"])
    before = graded["before"]
    changed = {
        path: (before.get(path), graded["after_autograde"].get(path))
        for path in set(before) | set(graded["after_autograde"])
        if before.get(path) != graded["after_autograde"].get(path)
    }
    assert not changed, f"changed by grading the hostile students (kind, mode, sha256): {changed}"
    changed = {
        path: (before.get(path), graded["after_feedback"].get(path))
        for path in graded["after_feedback"]
        if before.get(path) != graded["after_feedback"].get(path)
    }
    assert not changed, f"changed by recording and feedback: {changed}"
    gradebook = graded["gradebook"]
    info = gradebook.lstat()
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == before[str(gradebook)][1]
    assert gradebook.read_bytes()[:16] == b"SQLite format 3\x00", "the gradebook was replaced"


def test_autograded_and_feedback_hold_only_files_the_host_wrote(graded):
    course = graded["course"]
    expected = {f"{CHAPTER}.ipynb", "course_tools.py"}
    for name in ("links", "fifos"):
        private = graded["outcomes"][name]["private"]
        assert private is not None and not private["odd"], (
            f"{name}'s private autograded folder: {private and private['odd'][:8]}"
        )
        autograded, feedback = course.autograded(name, CHAPTER), course.feedback_dir(name, CHAPTER)
        assert set(p.name for p in autograded.iterdir()) == expected, sorted(
            p.name for p in autograded.iterdir()
        )
        assert not odd_entries(autograded, MAX_NOTEBOOK_BYTES) and not odd_entries(
            feedback, MAX_NOTEBOOK_BYTES
        )
        assert (feedback / f"{CHAPTER}.html").is_file(), sorted(p.name for p in feedback.iterdir())
        for path in [*autograded.rglob("*"), *feedback.rglob("*")]:
            data = path.read_bytes() if path.is_file() else b""
            assert b"SQLite format" not in data, f"{path} holds the gradebook"
            assert b"BEGIN HIDDEN TESTS" not in data or path.parent == autograded, (
                f"{path} shows hidden tests"
            )
        assert (autograded / "course_tools.py").read_bytes() == (
            course.source_notebook(CHAPTER).parent / "course_tools.py"
        ).read_bytes()


def test_each_hostile_student_is_flagged_alone_and_keeps_the_points_of_its_code(graded):
    outcomes = graded["outcomes"]
    for name in ("links", "fifos"):
        flags = outcomes[name]["flags"]
        kinds = {f.kind for f in flags}
        assert "files" in kinds, f"{name}: {flags}"
        assert all(f.student == name for f in flags)
        kernel = outcomes[name]["kernel"]
        assert all(kernel[g].auto_score == 2 for g in GRADE_CELLS), kernel
    reasons = " ".join(f.reason for f in outcomes["links"]["flags"])
    assert "symbolic link" in reasons and any(
        f.kind == "limit" and "writable area" in f.reason for f in outcomes["links"]["flags"]
    ), outcomes["links"]["flags"]
    assert "special file" in " ".join(f.reason for f in outcomes["fifos"]["flags"])
    assert "unreadable" in " ".join(f.reason for f in outcomes["fifos"]["flags"])
    for name in ("links", "fifos"):
        assert (
            outcomes[name]["row"].score == 6
            and outcomes[name]["row"].flags == outcomes[name]["flags"]
        )


# ------------------------------------------------------------------ the read-back itself


def test_forged_result_lines_change_outputs_only():
    from autograder.pipeline.readback import read_results

    nb = new_notebook(
        cells=[new_code_cell("a = 1"), new_markdown_cell("text"), new_code_cell("b = 2")]
    )
    lines = [
        b'{"cell": 0, "execution_count": 1, "outputs": [{"output_type": "stream", "name": '
        b'"stdout", "text": "ok"}, {"output_type": "stream", "name": "evil", "text": ["a", "b"]}, '
        b'{"output_type": "unknown"}, 7, {"output_type": "display_data", "data": {"text/plain": '
        b'["x"], "image/png": 5, "nomime": "y", "application/json": {"k": 1}}, "metadata": []}]}',
        b'{"cell": 1, "execution_count": 2, "outputs": []}',  # a Markdown cell: refused
        b'{"cell": 9, "outputs": []}',
        b'{"cell": true, "outputs": []}',  # no such cell
        b"[1, 2]",
        b"not json",
        b'{"source": "import os"}',
        b'{"cell": 2, "execution_count": "3", "outputs": {"no": "list"}}',
        b'{"end": 0, "leftover": 2, "scratch": {"links": '
        b'3, "special": -1, "files": true}, "other": 1}',
        b'{"cell": 0, "execution_count": 5, "outputs": '
        b'[{"output_type": "error", "ename": 1, "traceback": ["t", 2]}]',
    ]
    back = read_results(b"\n".join(lines) + b"\n" + b'{"cell": 2, "outputs": [', nb)
    # the Markdown cell, two bad indexes, 3 non-results, a broken line, the cut last line
    assert back.rejected == 8
    assert set(back.cells) == {0, 2}
    count, outputs = back.cells[0]
    assert count == 1 and [o["output_type"] for o in outputs] == [
        "stream",
        "stream",
        "display_data",
    ]
    assert outputs[1]["name"] == "stdout" and outputs[1]["text"] == "ab"
    assert (
        outputs[2]["data"] == {"text/plain": "x", "application/json": {"k": 1}}
        and outputs[2]["metadata"] == {}
    )
    assert back.cells[2] == (None, [])
    assert back.end == {
        "end": 0,
        "leftover": 2,
        "scratch": {"links": 3, "special": -1, "files": True},
    }
    assert back.scratch() == {"links": 3}
    assert [c.source for c in nb.cells] == ["a = 1", "text", "b = 2"]


def test_submitted_copies_skip_links_fifos_sockets_and_oversized_files(tmp_path):
    source, target = tmp_path / "submitted", tmp_path / "private"
    source.mkdir()
    secret = tmp_path / "gradebook.db"
    secret.write_bytes(b"SQLite format 3\x00secret")
    (source / f"{CHAPTER}.ipynb").write_text("{}")
    (source / "a_notes.txt").write_text("mine")
    (source / "link.txt").symlink_to(secret)
    (source / "folder_link").symlink_to(tmp_path)
    os.mkfifo(source / "fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(source / "sock"))
    with open(source / "huge.bin", "wb") as big:
        big.truncate(25 << 20)  # sparse: larger than the per-file cap
    for n in range(30):
        (source / f"many{n:02d}.txt").write_text("m")
    finished = []

    def copy():
        try:
            finished.append(copy_regular_files(source, target, max_files=25))
        except Exception as error:
            finished.append(error)

    worker = threading.Thread(target=copy, daemon=True)
    worker.start()
    worker.join(20)
    server.close()
    assert finished, "copying the submitted files blocked (a FIFO was opened?)"
    assert finished[0] == {"links": 2, "special": 2, "large": 1, "over_total": 7}, finished[0]
    assert odd_entries(target, 1 << 20) == [] and len(list(target.iterdir())) == 25
    assert (target / "a_notes.txt").read_text() == "mine" and not (target / "link.txt").exists()


def test_2000_empty_cells_run_in_linear_time(tmp_path):
    folder = tmp_path / "autograded"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 41\n")
    nb = new_notebook(
        cells=[new_code_cell("import helper\nprint(helper.VALUE + 1)")]
        + [new_code_cell("") for _ in range(2000)]
        + [new_code_cell("print('last')")]
    )
    execute = SandboxedExecute(Limits(wall_seconds=60, cell_seconds=10, output_bytes=100_000))
    started = time.monotonic()
    out, _ = execute(nb, {"metadata": {"path": str(folder)}})
    seconds = time.monotonic() - started
    assert [o.get("text") for o in out.cells[0].outputs] == ["42\n"], (
        out.cells[0].outputs,
        execute.run,
    )
    assert [o.get("text") for o in out.cells[-1].outputs] == ["last\n"], (
        out.cells[-1].outputs,
        execute.run,
    )
    assert seconds < 30, f"2,000 empty cells took {seconds:.1f} s"
    assert sorted(p.name for p in folder.iterdir()) == ["helper.py"]  # nothing written next to it
