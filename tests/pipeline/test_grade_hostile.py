"""A hostile class graded end to end by `grade` (real nbgrader, real kernels, real sandbox).

One chapter (03_components, 6 points), short limits, one submission per family of issue 8's list
(tests/hostile/submissions.py). Asserted: every student gets exactly the points of their own correct
code, no cheat gains a point, every hostile case is flagged by kind, the clean students are not
flagged, nothing of the grading machine is read, changed or reached over the network, nothing
survives grading, outputs are bounded; and a `grade` killed with SIGKILL then run again gives the
uninterrupted gradebook.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline.flags import load_flags
from autograder.pipeline.grade import grade
from autograder.pipeline.sandbox import Limits

sys.path.insert(0, str(Path(__file__).parents[1]))
from hostile.attacks import LEAK_PROBE_MARK  # noqa: E402
from hostile.graded import fingerprint, gradebook_dump, secrets_found  # noqa: E402
from hostile.submissions import (  # noqa: E402
    CHAPTER,
    GRADE_CELLS,
    LEFTOVER_MARKER,
    expected_points,
    hostile_class,
    released_course,
    write_submission,
)

PROJECT = Path(__file__).resolve().parents[2]
# wall_seconds: the slowest student that must finish (many_lines) takes about 16 s on a loaded
# machine; one student waits the wall clock out (slow_cells), so it is no longer than that margin
# needs
LIMITS = Limits(
    memory_bytes=1536 << 20,
    processes=96,
    wall_seconds=60,
    cell_seconds=10,
    piece_seconds=15,
    output_bytes=500_000,
)
# graded first, longest wait first (grade takes the students in the order given), so that their
# waits overlap the others' work instead of ending the run with one worker idle
WAITS_OUT_A_LIMIT = ("slow_cells", "ignores_interrupt", "endless_loop", "fork_bomb")
CLEAN = {"full", "blank", "partial"}
KILLED_CLASS = ("full", "partial", "patches_checks", "exits_kernel")


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    course, notebooks = released_course(PROJECT, base / "course")
    source_nb, release_nb = notebooks[CHAPTER]
    secrets = {
        "gradebook": course.root / "gradebook.db",
        "classmate": course.submitted("full", CHAPTER) / f"{CHAPTER}.ipynb",
        "chapter_source": course.source_notebook(CHAPTER),
        "course_tools": course.source_notebook(CHAPTER).parent / "course_tools.py",
        "instructor_source": PROJECT / "autograder" / "chapter_sources" / CHAPTER / f"{CHAPTER}.py",
    }
    server = socket.create_server(("127.0.0.1", 0))
    connections = []
    threading.Thread(target=lambda: connections.append(server.accept()), daemon=True).start()
    students = hostile_class(
        secrets, server.getsockname()[1], LIMITS.cell_seconds, LIMITS.wall_seconds
    )
    for name, student in students.items():
        write_submission(course.submitted(name, CHAPTER), student, release_nb, source_nb)
    killed_root = base / "killed"
    shutil.copytree(course.root, killed_root)
    for folder in (killed_root / "submitted").iterdir():
        if folder.name not in KILLED_CLASS:
            shutil.rmtree(folder)
    before = {
        "submitted": fingerprint(course.root / "submitted"),
        "chapters": fingerprint(course.root / "chapters"),
    }
    gradebook_file = secrets["gradebook"]
    order = sorted(students, key=lambda name: ((WAITS_OUT_A_LIMIT + (name,)).index(name), name))
    # the whole class, as grade(..., None, ...) would take it
    assert course.students(CHAPTER) == sorted(order)
    summary = grade(course, [CHAPTER], order, 2, limits=LIMITS)
    server.close()
    return {
        "course": course,
        "students": students,
        "summary": summary,
        "before": before,
        "source_nb": source_nb,
        "connections": connections,
        "killed_root": killed_root,
        "gradebook_file": gradebook_file,
    }


def test_every_student_gets_exactly_the_points_of_their_own_correct_code(graded):
    dump = gradebook_dump(graded["course"], CHAPTER, graded["students"])
    wrong = {}
    for name, student in graded["students"].items():
        cells, score, _ = dump[name]
        got, expected = (
            tuple(cells[g][0] for g in GRADE_CELLS),
            expected_points(student, graded["source_nb"]),
        )
        if got != expected or score != sum(expected):
            wrong[name] = (got, score, expected)
        assert not any(cells[g][2] for g in GRADE_CELLS), (
            f"{name}: an autograded cell left for manual grading"
        )
    assert not wrong, f"students whose points differ from (got, total, expected): {wrong}"


def test_every_hostile_case_is_flagged_by_kind_and_clean_students_are_not(graded):
    flags = load_flags(graded["course"])
    kinds = {name: {f.kind for f in flags if f.student == name} for name in graded["students"]}
    for name in CLEAN:
        assert not kinds[name], (
            f"{name} is clean but flagged: {[f for f in flags if f.student == name]}"
        )
    missing = {
        name: (student.flags, kinds[name])
        for name, student in graded["students"].items()
        if not all(set(wanted.split("|")) & kinds[name] for wanted in student.flags)
    }
    assert not missing, f"students missing an expected flag kind (expected, got): {missing}"
    table = graded["summary"].table()
    for name, student in graded["students"].items():
        line = next(line for line in table.splitlines() if line.startswith(name + " "))
        for wanted in student.flags:
            assert any(kind in line for kind in wanted.split("|")), (
                f"the summary does not name {wanted} for {name}: {line}"
            )


def test_policy_and_mismatch_flags_give_the_reason(graded):
    flags = {(f.student, f.kind): f for f in load_flags(graded["course"])}
    assert "microgpt" in flags["imports_reference", "policy"].reason
    assert "open" in flags["reads_secrets", "policy"].reason
    assert "socket" in flags["network", "policy"].reason
    assert "__subclasses__" in flags["dunder_escape", "policy"].reason
    assert "math.exp" in flags["patches_module_in_region", "policy"].reason
    # stopped at its cell's limit (a kernel that does not answer after the interrupt), not by the
    # wall clock
    assert "a cell ignored its interrupt" in flags["ignores_interrupt", "crash"].reason
    # its patched helpers change what the visible tests say in the kernel; the judge is not moved
    mismatch = next(
        f
        for f in load_flags(graded["course"])
        if (f.student, f.kind) == ("patches_checks", "mismatch")
    )
    assert re.search(r"the kernel gave \d of 2, the judge \d", mismatch.reason), mismatch.reason


def test_nothing_of_the_grading_machine_was_read_changed_or_reached(graded):
    course = graded["course"]
    assert fingerprint(course.root / "submitted") == graded["before"]["submitted"], (
        "a submission was modified"
    )
    assert fingerprint(course.root / "chapters") == graded["before"]["chapters"], (
        "a chapter source was modified"
    )
    assert not graded["connections"], "a submission reached the loopback server"
    for name in ("reads_secrets", "writes_outside", "network"):
        notebook = nbformat.read(
            course.autograded(name, CHAPTER) / f"{CHAPTER}.ipynb", as_version=4
        )
        # what its code printed
        text = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
        for leak in ("READ ", "CONNECTED", "SQLite format", "BEGIN SOLUTION"):
            assert leak not in text, f"{name}'s autograded notebook shows {leak!r}"
        assert "refused" in text, f"{name}'s probe did not run"
    # a write to a path of the grading machine lands, at most, in the sandbox's private /tmp
    assert b"HACKED" not in graded["gradebook_file"].read_bytes()
    with course.gradebook() as gb:  # still a working gradebook with every student
        assert {s.id for s in gb.students} >= set(graded["students"])


def test_no_secret_or_host_path_in_feedback_even_encoded(graded):
    """The whole class's feedback pages and the export: no path of the grading machine and nothing
    of the checks, the reference or the hidden tests, in plain, reversed or base64 form
    (leaks_encoded tries all)."""
    from autograder.pipeline.cli import main

    course = graded["course"]
    # 1: pages that would show a path are withheld (students who typed the course's paths into their
    # code)
    assert main(["feedback", "--course", str(course.root), CHAPTER]) in (0, 1)
    pages = {
        name: (course.feedback_dir(name, CHAPTER) / f"{CHAPTER}.html")
        for name in graded["students"]
    }
    texts = {
        name: page.read_text(encoding="utf-8") for name, page in pages.items() if page.is_file()
    }
    assert "leaks_encoded" in texts and "full" in texts
    texts["export"] = subprocess.run(
        [sys.executable, "-m", "autograder", "export", "--course", str(course.root)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    ).stdout
    secrets = [
        str(PROJECT),
        str(course.root),
        sys.prefix,
        str(Path(sys.executable).resolve().parent),
        "def check_",
        "CASE_SECRET",
        "check_linear(",
        "BEGIN HIDDEN",
        "def backpropagate",
    ]
    assert not secrets_found(texts, secrets), secrets_found(texts, secrets)
    assert secrets_found({"leaks_encoded": texts["leaks_encoded"]}, [LEAK_PROBE_MARK]), (
        "the leak probe did not run"
    )


def test_nothing_survives_and_outputs_are_bounded(graded):
    assert not processes_with(LEFTOVER_MARKER), "a process started by a submission outlived grading"
    course = graded["course"]
    for name in ("many_lines", "one_huge_line"):
        size = (course.autograded(name, CHAPTER) / f"{CHAPTER}.ipynb").stat().st_size
        assert size < 3 * LIMITS.output_bytes, f"{name}: autograded notebook of {size:,} bytes"
    assert not (course.grading_dir / "work").exists(), "grade left its private courses behind"


def test_sigkill_during_grade_then_grade_again_gives_the_uninterrupted_gradebook(graded):
    from autograder.pipeline.course import Course

    root = graded["killed_root"]
    code = (
        f"from pathlib import Path\nfrom autograder.pipeline.course import Course\n"
        "from autograder.pipeline.grade import grade\n"
        "from autograder.pipeline.sandbox import Limits\n"
        f"grade(Course(Path({str(root)!r})), [{CHAPTER!r}], None, "
        f"2, limits=Limits(**{json.dumps(LIMITS.__dict__)}))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = root / "grading" / "results" / CHAPTER
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (results.is_dir() and any(results.iterdir())):
        assert process.poll() is None, "grade ended before it could be killed"
        time.sleep(0.2)
    assert any(results.iterdir()), "grade recorded nothing within 240 s"
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(2)
    assert not processes_with(str(root)), "workers or sandboxes outlived the killed grade"
    course = Course(root)
    grade(course, [CHAPTER], None, 2, limits=LIMITS)
    assert gradebook_dump(course, CHAPTER, KILLED_CLASS) == gradebook_dump(
        graded["course"], CHAPTER, KILLED_CLASS
    )
