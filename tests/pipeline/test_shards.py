"""One class graded by several machines into one PostgreSQL gradebook (issue 16, item 5).

A real PostgreSQL server (Debian's package; the test fails, not skips, without it) is started in a
temporary folder, as an unprivileged user when the test runs as root. The class (one chapter, five
students: full, partial, tampered; blank, a wrong notebook) is graded once on one machine into
gradebook.db, and once by `grade --shard 1/2` and `grade --shard 2/2` running at the same time into
PostgreSQL, started as autograder/deploy/'s Kubernetes Job and Slurm script start them. Asserted:
- the two shards split the class and, together, record exactly the single-machine gradebook: every
  grade cell, score and flag, the judged points, and what `status` and `export --db` print;
- shard 1 run again and SIGKILLed after a seeded number of its submissions were recorded, then run
  again while another run holds one submission's claim: that submission is skipped and said so
  (exit 1), the killed run's work folder is removed, and the gradebook is still the single-machine
  one;
- `feedback --db` writes pages from the PostgreSQL gradebook; the password is in no output and no
  log.
Also, without a server: the shard of a student is fixed by their id alone.
"""

from __future__ import annotations

import glob
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from autograder.pipeline.claims import DatabaseClaims
from autograder.pipeline.cli import main
from autograder.pipeline.course import Course
from autograder.pipeline.grade import Shard
from pipeline_course import CHAPTER, learner_notebook, make_course, run, write_notebook

sys.path.insert(0, str(Path(__file__).parents[1]))
from hostile.graded import gradebook_dump  # noqa: E402

PASSWORD = "pw-" + secrets.token_hex(8)  # must show nowhere: no output, no log
WRONG_ENCODE = "def encode(doc, chars):\n    return [chars.index(c) for c in doc]\n"
# student -> shard 1 or 2 of 2 (Shard.holds; asserted below)
CLASS = {"ada": 1, "cy": 1, "ivy": 1, "bo": 2, "fay": 2}
KILL_SEED = 16
DEPLOY = Path(__file__).resolve().parents[2] / "autograder" / "deploy"


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin/ (Debian's layout); fails the test when there is
    none."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if not found:
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (.ci/run installs it)")
    return Path(found[-1]).parent


@pytest.fixture(scope="module")
def server():
    """A PostgreSQL server on a Unix socket in a new folder, user `grader` with PASSWORD (scram);
    yields the URL of a new database `course`. Run as nobody when we are root (postgres refuses
    root)."""
    bindir = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))  # short: a socket path has ~100 bytes
    as_user = []
    if os.geteuid() == 0:
        os.chown(folder, 65534, 65534)
        as_user = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    (folder / "pw").write_text(PASSWORD)
    os.chmod(folder / "pw", 0o644)
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}

    def pg(*argv):
        done = subprocess.run(
            [*as_user, *map(str, argv)], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, f"{argv[0]} failed: {done.stdout}{done.stderr}"

    pg(
        bindir / "initdb",
        "-D",
        folder / "data",
        "-U",
        "grader",
        f"--pwfile={folder / 'pw'}",
        "--auth=scram-sha-256",
        "--no-locale",
        "-E",
        "UTF8",
        "--no-sync",
    )
    pg(
        bindir / "pg_ctl",
        "-D",
        folder / "data",
        "-l",
        folder / "server.log",
        "-w",
        "-o",
        f"-k {folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off",
        "start",
    )
    try:
        from sqlalchemy import create_engine

        engine = create_engine(f"postgresql+psycopg://grader:{PASSWORD}@/postgres?host={folder}")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CREATE DATABASE course")
        engine.dispose()
        yield {"url": f"postgresql://grader:{PASSWORD}@/course?host={folder}", "socket": folder}
    finally:
        pg(bindir / "pg_ctl", "-D", folder / "data", "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def hand_in(course):
    """The class's notebooks into submitted/."""
    full = learner_notebook(course)
    tampered = learner_notebook(course)
    test_cell = next(
        c
        for c in tampered.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("locked")
        and c.metadata.nbgrader.get("grade")
    )
    test_cell.source += "\n# edited by the learner"
    notebooks = {
        "ada": full,
        "bo": learner_notebook(course, blank=True),
        "ivy": tampered,
        "cy": learner_notebook(course, answers={"encode": WRONG_ENCODE}),
    }
    for student, nb in notebooks.items():
        write_notebook(nb, course.submitted(student, CHAPTER) / f"{CHAPTER}.ipynb")
    # not the chapter's notebook
    write_notebook(full, course.submitted("fay", CHAPTER) / "notes.ipynb")


def grade_process(course, url, shard, *more):
    """`microgpt-course grade --shard K/2` of the PostgreSQL course, in a new process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            "--course",
            str(course.root),
            "--db",
            url,
            "--shard",
            shard,
            "--jobs",
            "1",
            *more,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def deployed_shards(course, url) -> list:
    """Shard 1/2 as the Kubernetes Job's pod of index 0 runs it (its container's command), and shard
    2/2 as the Slurm array's task 1 (the script), both started at once; the course's environment is
    ours."""
    job = yaml.safe_load((DEPLOY / "grade-job.yaml").read_text(encoding="utf-8"))
    container = job["spec"]["template"]["spec"]["containers"][0]
    settings = {e["name"]: e.get("value") for e in container["env"]}
    assert job["spec"]["completions"] == int(settings["SHARDS"]), (
        "the Job's completions are not its SHARDS"
    )
    ours = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GRADEBOOK": url,
        "SHARDS": "2",
    }
    pod = {**ours, "JOB_COMPLETION_INDEX": "0", "JOBS": "1"}
    task = {**ours, "SLURM_ARRAY_TASK_ID": "1", "SLURM_CPUS_PER_TASK": "1"}
    return [
        subprocess.Popen(
            argv,
            cwd=course.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for argv, env in (
            (container["command"], pod),
            (["bash", str(DEPLOY / "slurm-grade.sh")], task),
        )
    ]


def recorded(course) -> dict:
    """What grading recorded: the gradebook's cells, scores and flags per student, the judged
    points."""
    results = {}
    for path in sorted((course.grading_dir / "results" / CHAPTER).glob("*.json")):
        pieces = json.loads(path.read_text())["pieces"]
        results[path.stem] = [
            (p["grade_id"], p["points"], p["max_points"], p["passed"]) for p in pieces
        ]
    return {"gradebook": gradebook_dump(course, CHAPTER, CLASS), "results": results}


def printed(capsys, course, *args) -> str:
    """stdout of a command (given the course) that must succeed."""
    code, out, err = run(capsys, *args, "--course", course.root)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def graded(server, tmp_path_factory):
    """The class graded on one machine (SQLite), and by two shards at once (PostgreSQL)."""
    single = make_course(tmp_path_factory.mktemp("single"), chapters=(CHAPTER,))
    assert main(["release", "--course", str(single.root), CHAPTER]) == 0
    hand_in(single)
    assert main(["grade", "--course", str(single.root), "--jobs", "2"]) == 0
    shared = make_course(tmp_path_factory.mktemp("shared"), chapters=(CHAPTER,))
    assert main(["release", "--course", str(shared.root), "--db", server["url"], CHAPTER]) == 0
    hand_in(shared)
    shards = deployed_shards(shared, server["url"])
    outputs = [process.communicate(timeout=600) for process in shards]
    return {
        "single": single,
        "shared": Course(shared.root, server["url"]),
        "url": server["url"],
        "codes": [p.returncode for p in shards],
        "outputs": outputs,
    }


def test_a_students_shard_is_fixed_by_their_id_alone():
    # fixed values: a changed partition would move students to other machines in the middle of a
    # term
    assert {student: 1 if Shard(1, 2).holds(student) else 2 for student in CLASS} == CLASS
    ids = [f"s{i:03d}" for i in range(300)]
    for count in (1, 2, 3, 7):
        owners = [[k for k in range(1, count + 1) if Shard(k, count).holds(s)] for s in ids]
        assert all(len(found) == 1 for found in owners), (
            f"a student in no shard or in two, of {count}"
        )
        sizes = [sum(found == [k] for found in owners) for k in range(1, count + 1)]
        assert min(sizes) > 300 / count / 2, f"uneven shards of {count}: {sizes}"
    assert (Shard.parse("2/3"), str(Shard.parse(" 2 / 3 "))) == (Shard(2, 3), "2/3")
    for text in ("3/2", "0/2", "x", "1/0", "1/2/3", "-1/2"):
        with pytest.raises(ValueError):
            Shard.parse(text)


def test_two_shards_at_once_record_the_single_machine_gradebook(graded, capsys):
    assert graded["codes"] == [0, 0], graded["outputs"]
    for k, (out, _) in enumerate(graded["outputs"], 1):
        mine = {student for student, shard in CLASS.items() if shard == k}
        assert (
            f"shard {k}/2 holds {len(mine)} of the {len(CLASS)} "
            f"student(s); {len(mine)} submission(s) graded" in out
        )
        assert {
            line.split()[0] for line in out.splitlines() if line.split()[1:2] == [CHAPTER]
        } == mine, out
    single = recorded(graded["single"])
    scores = {student: score for student, (_, score, _) in single["gradebook"].items()}
    flags = {student: kinds for student, (_, _, kinds) in single["gradebook"].items() if kinds}
    # the class is what it says, so that equal gradebooks mean something
    assert scores == {"ada": 4, "bo": 0, "cy": 2, "ivy": 4, "fay": 0}, scores
    assert {s: sorted({kind for _, kind in k}) for s, k in flags.items()} == {
        "ivy": ["tampered"],
        "fay": ["missing"],
    }
    assert recorded(graded["shared"]) == single
    db = ["--db", graded["url"]]
    for command in (["export"], ["export", "--format", "wide"], ["status"]):
        shown = printed(capsys, graded["shared"], *command, *db)
        assert shown == printed(capsys, graded["single"], *command), command
        assert PASSWORD not in shown


def test_a_shard_killed_then_run_again_ends_with_the_same_gradebook(graded):
    shared, url = graded["shared"], graded["url"]
    mine = sorted(student for student, shard in CLASS.items() if shard == 1)
    results = shared.grading_dir / "results" / CHAPTER
    before = {student: (results / f"{student}.json").stat().st_mtime_ns for student in mine}
    # how many it records before the kill
    records = random.Random(KILL_SEED).randint(1, len(mine) - 1)
    process = grade_process(shared, url, "1/2")
    while sum((results / f"{s}.json").stat().st_mtime_ns != before[s] for s in mine) < records:
        assert process.poll() is None, (
            f"grade ended before {records} record(s): {process.communicate()}"
        )
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert list((shared.grading_dir / "work").iterdir()), (
        "the killed run left no work folder behind"
    )

    held = mine[-1]  # claimed by another run while the shard runs again: skipped, its record kept
    claims = DatabaseClaims(shared)
    try:
        assert claims.claim(held, CHAPTER)
        again = grade_process(shared, url, "1/2")
        out, err = again.communicate(timeout=600)
    finally:
        claims.close()
    assert again.returncode == 1, out + err
    assert f"skipped 1, being graded by another run: {held} {CHAPTER}" in out, out
    assert (
        f"shard 1/2 holds {len(mine)} of the {len(CLASS)} "
        f"student(s); {len(mine) - 1} submission(s) graded" in out
    )
    assert not (shared.grading_dir / "work").exists(), (
        "the killed run's work folder was not removed"
    )
    assert recorded(shared) == recorded(graded["single"])


def test_feedback_reads_the_postgresql_gradebook_and_the_password_shows_nowhere(
    graded, server, capsys
):
    shared, url = graded["shared"], graded["url"]
    out = printed(capsys, shared, "feedback", "--db", url, "--student", "ada", CHAPTER)
    assert (
        "(Score: 4.0 / 4.0)"
        in (shared.feedback_dir("ada", CHAPTER) / f"{CHAPTER}.html").read_text()
    ), out
    wrong = url.replace(PASSWORD, "not-" + PASSWORD)
    code, _, err = run(capsys, "status", "--course", shared.root, "--db", wrong)
    assert (
        code == 2 and "cannot reach the gradebook postgresql+psycopg://grader:***@/course" in err
    ), err
    assert "password authentication failed" in err and len(err.strip().splitlines()) == 1, err
    logs = {path.name: path.read_text() for path in (shared.grading_dir / "logs").glob("*.log")}
    texts = {
        **logs,
        **{f"shard {k} output": o + e for k, (o, e) in enumerate(graded["outputs"], 1)},
        "error": err,
    }
    assert not [name for name, text in texts.items() if PASSWORD in text]
    assert all(
        re.search(r"--db postgresql://grader:\*\*\*@/course", text)
        for name, text in logs.items()
        if name.endswith(("-grade.log", "-feedback.log"))
    ), "a log does not name its gradebook"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_record_is_one_transaction_all_or_nothing(graded, backend):
    course = graded["single"] if backend == "sqlite" else graded["shared"]
    with pytest.raises(RuntimeError), course.recording() as gb:
        gb.update_or_create_student("zed")  # nbgrader commits here: inside a record, a savepoint
        gb.update_or_create_submission(CHAPTER, "zed")
        raise RuntimeError("killed halfway")
    with course.gradebook() as gb:
        assert "zed" not in {s.id for s in gb.students}, "half a record stayed in the gradebook"
    with course.recording() as gb:
        gb.update_or_create_student("zed")
    with course.gradebook() as gb:
        assert "zed" in {s.id for s in gb.students}
        gb.remove_student("zed")
