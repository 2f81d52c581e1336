"""`microgpt-course gradescope`: the autograder zip run as Gradescope runs it, in a scratch root.

The harness lays out Gradescope's folders (source/ with the zip's contents, submission/,
submission_metadata.json, results/) under a scratch root standing in for /autograder, runs setup.sh
once (as root, as Gradescope builds the image; with Debian's python3, as on Gradescope's Ubuntu
image), then run_autograder for four submissions of chapter 02_tokenization: correct, blank, partial
(encode wrong) and cheating. results.json is checked field by field against Gradescope's autograder
specification (score, execution_time, output, visibility, stdout_visibility, tests: name, number,
score, max_score, status, output, visibility). The cheat imports the reference, reads the
instructor's notebook, writes results.json itself and leaves a process behind to rewrite it later:
it earns nothing and changes nothing. Root is needed (the worker runs as an unprivileged uid), as in
CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline.cli import main
from autograder.pipeline.gradescope import WORKER_USER
from pipeline_course import CHAPTER, learner_notebook, make_course

WRONG_ENCODE = "def encode(doc, chars):\n    return [chars.index(c) + 1 for c in doc]\n"
CHEAT = """def encode(doc, chars):
    import subprocess, sys
    found = []
    try:
        from microgpt.tokenizer import encode as reference
        found.append("reference")
    except ImportError as error:
        found.append(f"no reference ({error.name})")
    for path in ("__ROOT__/source/chapter/__CHAPTER__.ipynb", "__ROOT__/source/gradescope.json"):
        try:
            found.append(open(path).read()[:80])
        except OSError as error:
            found.append(type(error).__name__)
    try:
        open("__ROOT__/results/results.json", "w").write("{}")
        found.append("WROTE results")
    except OSError as error:
        found.append(type(error).__name__)
    later = "import time; time.sleep(4); open('__ROOT__/results/results.json', 'w').write('{}')"
    subprocess.Popen([sys.executable, "-c", later], start_new_session=True)
    raise ValueError("CHEAT " + " | ".join(found))
"""
SPEC_TOP = {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
SPEC_TEST = {"name", "number", "score", "max_score", "status", "output", "visibility"}


def processes_of(uid: int) -> list[str]:
    """The processes of uid still alive (a killed one waiting to be reaped is not), with their
    state."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if entry.stat().st_uid == uid and state != "Z":
                    found.append(f"{entry.name} {state} {(entry / 'cmdline').read_bytes()[:200]!r}")
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory):
    """The zip built by the command, unpacked and set up in a scratch root; returns (root,
    course)."""
    assert os.geteuid() == 0, (
        "the Gradescope harness runs as root, as Gradescope does (the worker drops to a uid)"
    )
    course = make_course(tmp_path_factory.mktemp("course"), chapters=[CHAPTER])
    assert main(["release", "--course", str(course.root), CHAPTER]) == 0
    output = tmp_path_factory.mktemp("zips")
    assert (
        main(
            [
                "gradescope",
                "--course",
                str(course.root),
                CHAPTER,
                "--output",
                str(output),
                "--piece-seconds",
                "30",
            ]
        )
        == 0
    )
    # like /autograder: others may pass through it
    root = Path(tempfile.mkdtemp(prefix="autograder-"))
    root.chmod(0o755)
    with zipfile.ZipFile(output / f"{CHAPTER}.zip") as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder"} <= names, names  # at the root of the archive
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)  # zipfile drops modes; Gradescope keeps them
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    started = time.monotonic()
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root), "HOME": str(root)},
        timeout=900,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    print(f"\nsetup.sh: {time.monotonic() - started:.1f} s")
    yield root, course
    shutil.rmtree(root, ignore_errors=True)


def grade(root: Path, notebook) -> dict:
    """Gradescope's part for one submission: fresh submission/ and results/, then run_autograder."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    nbformat.write(notebook, root / "submission" / f"{CHAPTER}.ipynb")
    (root / "submission_metadata.json").write_text(
        json.dumps({"id": 1, "users": [{"name": "Ada"}]})
    )
    started = time.monotonic()
    done = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root)},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    print(
        f"run_autograder: {time.monotonic() - started:.1f} "
        f"s: {done.stdout.strip().splitlines()[-1]}"
    )
    return json.loads((root / "results" / "results.json").read_text())


def assert_follows_the_spec(results: dict, expected: dict):
    """results.json against Gradescope's specification and the expected {test name prefix:
    score}."""
    assert set(results) == SPEC_TOP, set(results) ^ SPEC_TOP
    assert results["stdout_visibility"] == "hidden" and results["visibility"] == "visible"
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 0
    for test in results["tests"]:
        assert set(test) == SPEC_TEST, (test, set(test) ^ SPEC_TEST)
        assert (
            test["status"] in ("passed", "failed")
            and isinstance(test["output"], str)
            and test["output"]
        )
        assert (test["status"] == "passed") == (test["score"] == test["max_score"]), test
    got = {t["name"].split(" ")[0]: t["score"] for t in results["tests"]}
    assert got == expected, f"scores: got {got}, expected {expected}"
    assert results["score"] == sum(t["score"] for t in results["tests"]), results
    assert [t["max_score"] for t in results["tests"]] == [1.0, 2.0, 1.0], results["tests"]


def test_correct_blank_and_partial_submissions(gradescope):
    root, course = gradescope
    assert_follows_the_spec(
        grade(root, learner_notebook(course)), {"build_vocab": 1, "encode": 2, "decode": 1}
    )
    blank = grade(root, learner_notebook(course, blank=True))
    assert_follows_the_spec(blank, {"build_vocab": 0, "encode": 0, "decode": 0})
    assert all("not written yet" in t["output"] for t in blank["tests"]), blank["tests"]
    partial = grade(root, learner_notebook(course, answers={"encode": WRONG_ENCODE}))
    assert_follows_the_spec(partial, {"build_vocab": 1, "encode": 0, "decode": 1})
    assert partial["output"] == "2/4 points from the automatic checks", partial["output"]


def test_a_cheat_earns_nothing_reads_nothing_and_changes_no_result(gradescope):
    root, course = gradescope
    cheat = CHEAT.replace("__ROOT__", str(root)).replace("__CHAPTER__", CHAPTER)
    results = grade(root, learner_notebook(course, answers={"encode": cheat}))
    assert_follows_the_spec(results, {"build_vocab": 1, "encode": 0, "decode": 1})
    said = next(t["output"] for t in results["tests"] if t["name"].startswith("encode"))
    # the learners' Python has none of the course
    assert "CHEAT no reference (microgpt)" in said, said
    # source/ and results/ are root's
    assert said.count("PermissionError") == 3 and "WROTE" not in said, said
    alive = processes_of(WORKER_USER[0])
    assert not alive, f"processes of the worker's uid outlived run_autograder: {alive}"
    time.sleep(5)  # the process it left would have rewritten results.json by now
    assert json.loads((root / "results" / "results.json").read_text()) == results
    text = json.dumps(results)
    assert "BEGIN HIDDEN TESTS" not in text and "piece_seconds" not in text, text


def test_every_process_of_the_workers_uid_is_killed_even_one_outside_its_group():
    """Gradescope's container may have no cgroup to kill a worker's processes by: kill_all_of ends
    what left the worker's process group (setsid), by uid."""
    from autograder.pipeline.sandbox import kill_all_of

    def become_worker():
        os.setsid()
        os.setgroups([])
        os.setgid(WORKER_USER[1])
        os.setuid(WORKER_USER[0])

    escaped = subprocess.Popen(["sleep", "60"], preexec_fn=become_worker)
    try:
        assert processes_of(WORKER_USER[0]), "the test's process did not start as the worker's uid"
        kill_all_of(WORKER_USER)
        assert escaped.wait(timeout=10) == -9, escaped.returncode
    finally:
        escaped.kill()
