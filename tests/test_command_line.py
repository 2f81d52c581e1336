"""One command-line convention for every command of the project (autograder/command_line.py): bad
input is one line `PROG: error: ... (see PROG --help)` and exit 2, Ctrl-C one line `PROG:
interrupted` and exit 130. The reference's `microgpt` keeps the same convention with code of its own
(it imports nothing of the course's): these tests keep the two in step."""

import subprocess
import sys

import microgpt.cli
import pytest

from autograder.authoring import build_chapters
from autograder.command_line import INTERRUPTED, run
from conftest import PROJECT
from usage_errors import assert_one_line_error

COMMANDS = {  # prog -> how to start it
    "microgpt": ["-m", "microgpt"],
    "microgpt-course": ["-m", "autograder"],
    build_chapters.PROG: ["-m", "autograder.authoring.build_chapters"],
    "tests/trial_grading.py": ["tests/trial_grading.py"],
    "benchmarks/train_speed.py": ["benchmarks/train_speed.py"],
    "benchmarks/grade_speed.py": ["benchmarks/grade_speed.py"],
    "benchmarks/feedback_truth.py": ["benchmarks/feedback_truth.py"],
}


@pytest.mark.parametrize("prog", COMMANDS)
def test_bad_input_is_one_line_naming_the_help_and_exit_2(prog):
    done = subprocess.run(
        [sys.executable, *COMMANDS[prog], "--bogus"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert_one_line_error(prog, done.returncode, done.stderr, f"(see {prog} --help)")


def test_ctrl_c_is_one_line_and_exit_130_in_the_course_and_in_the_reference(monkeypatch, capsys):
    def interrupted(*args):
        raise KeyboardInterrupt

    assert run("microgpt-course", interrupted) == INTERRUPTED
    assert capsys.readouterr().err == "microgpt-course: interrupted\n"
    monkeypatch.setattr(microgpt.cli, "run_data", interrupted)
    assert microgpt.cli.main(["data"]) == INTERRUPTED
    assert capsys.readouterr().err == "microgpt: interrupted\n"
