"""What a newcomer meets on a fresh machine: the Python 3.11+ guard and a wrong-Python .venv
replaced, `microgpt --version`, `--save` checked before any training, .gitignore and `make clean`
covering what the pipeline writes, and a README that starts learners with `make start`."""

import re
import shutil
import subprocess
import sys

import pytest

from conftest import PROJECT
from reference.test_cli import assert_one_line_error

OLD_PYTHON = '#!/bin/sh\ncase "$1" in --version) echo "Python 3.10.12";; *) exit 1;; esac\n'
PIPELINE_OUTPUTS = [
    "release/01_autograd/01_autograd.ipynb",
    "submitted/ada/01_autograd/01_autograd.ipynb",
    "autograded/ada/01_autograd/01_autograd.ipynb",
    "feedback/ada/01_autograd/01_autograd.html",
    "gradebook.db",
    "grading/logs/20250101-000000-000000-grade.log",
    "grading/flags/01_autograd/ada.json",
    "grading/exchange/x",
    "workspace/01_autograd/01_autograd.ipynb",
    "chapters/02_tokenization/names.txt",
    "gradescope/02_tokenization.zip",
]


def test_version(run_cli):
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"microgpt \d+\.\d+\.\d+\n", result.stdout), result.stdout


@pytest.mark.parametrize(
    "where, phrase",
    [
        ("missing/deeper/model.json", "does not exist (make it first)"),
        (".", "is a folder, not a file"),
        ("/proc/model.json", "is not writable"),
    ],
)
def test_save_is_checked_before_training_and_makes_no_folder(run_cli, tmp_path, where, phrase):
    target = tmp_path / where if not where.startswith("/") else where
    result = run_cli("train", "--save", str(target), "--steps", "1000", cwd=tmp_path)
    assert_one_line_error(result, phrase)
    assert "documents" not in result.stderr and result.stdout == "", (
        "training started before --save was checked"
    )
    assert not (tmp_path / "missing").exists(), "--save created a folder"


def copy_makefile(tmp_path):
    shutil.copy(PROJECT / "Makefile", tmp_path / "Makefile")
    return tmp_path


def make(folder, *args):
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_stops_with_a_clear_message_on_an_old_python(tmp_path):
    folder = copy_makefile(tmp_path)
    old = folder / "python3.10"
    old.write_text(OLD_PYTHON)
    old.chmod(0o755)
    result = make(folder, "setup", f"PYTHON={old}")
    assert result.returncode != 0
    assert (
        "the course needs Python 3.11 or newer" in result.stderr
        and "Python 3.10.12" in result.stderr
    )
    assert "make PYTHON=python3.11 setup" in result.stderr
    assert not (folder / ".venv").exists()
    missing = make(folder, "setup", "PYTHON=no-such-python")
    assert missing.returncode != 0 and "no-such-python is not found" in missing.stderr


def test_a_venv_made_by_a_wrong_python_is_replaced_not_reused(tmp_path):
    folder = copy_makefile(tmp_path)
    (folder / ".venv" / "bin").mkdir(parents=True)
    (folder / ".venv" / "bin" / "python").write_text(OLD_PYTHON)
    (folder / ".venv" / "bin" / "python").chmod(0o755)
    (folder / ".venv" / ".installed").touch()
    result = make(folder, "python-check", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stderr
    assert "replacing .venv: it was made by Python 3.10.12" in result.stderr
    assert not (folder / ".venv").exists()
    # a good .venv is kept
    (folder / ".venv" / "bin").mkdir(parents=True)
    (folder / ".venv" / "bin" / "python").symlink_to(sys.executable)
    result = make(folder, "python-check", "PYTHON=no-such-python")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert (folder / ".venv" / "bin" / "python").exists()


def test_gitignore_covers_what_the_pipeline_writes():
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "-v", *PIPELINE_OUTPUTS],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    ignored = {line.split("\t")[-1] for line in result.stdout.splitlines()}
    assert ignored == set(PIPELINE_OUTPUTS), (
        f"not ignored: {sorted(set(PIPELINE_OUTPUTS) - ignored)}"
    )


def test_make_clean_removes_what_can_be_remade_and_clean_grading_the_class_data(tmp_path):
    folder = copy_makefile(tmp_path)
    for path in PIPELINE_OUTPUTS + [
        ".venv/bin/python",
        "build/lib/x.py",
        "tests/__pycache__/x.pyc",
    ]:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text("x")
    assert make(folder, "clean").returncode == 0
    left = {p for p in PIPELINE_OUTPUTS if (folder / p).exists()}
    assert left == {
        "submitted/ada/01_autograd/01_autograd.ipynb",
        "autograded/ada/01_autograd/01_autograd.ipynb",
        "gradebook.db",
        "grading/logs/20250101-000000-000000-grade.log",
        "grading/flags/01_autograd/ada.json",
        "grading/exchange/x",
        "workspace/01_autograd/01_autograd.ipynb",
        "chapters/02_tokenization/names.txt",
    }
    assert not any(
        (folder / p).exists()
        for p in (".venv", "build", "tests/__pycache__", "release", "feedback")
    )
    assert make(folder, "clean-grading").returncode == 0
    assert {p for p in left if (folder / p).exists()} == {
        "workspace/01_autograd/01_autograd.ipynb",
        "chapters/02_tokenization/names.txt",
    }


def test_readme_starts_learners_with_make_start_and_names_python_311():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^make \w+", readme, re.MULTILINE)
    assert commands and commands[0] == "make start", commands
    assert "Python 3.11" in readme
    for claim in re.finditer(
        r"\d\s*(steps per second|steps/s|times faster|x faster|seconds per)", readme
    ):
        context = readme[max(0, claim.start() - 200) : claim.end() + 200]
        assert re.search(r"original|measured on", context), (
            f"speed claim without a reference: {context}"
        )


def test_environment_yml_installs_what_make_setup_installs():
    """conda's route and make's cannot drift: environment.yml adds nothing of its own beyond Python
    and pip, and installs this project with the Makefile's extras (the package lists live in
    pyproject.toml)."""
    import tomllib

    import yaml

    environment = yaml.safe_load((PROJECT / "environment.yml").read_text())
    makefile = (PROJECT / "Makefile").read_text()
    make_extras = re.search(r'pip install --quiet -e "\.\[([a-z,]+)\]"', makefile)
    assert make_extras, "the Makefile's pip install line changed: update this test"
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    requires = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert conda == [f"python{requires}", "pip"], (conda, requires)
    assert pip == [f"-e .[{make_extras.group(1)}]"], (pip, make_extras.group(1))


def test_offline_first_run_says_where_to_put_the_names_in_one_line(tmp_path):
    """make setup's data step (python -m microgpt data) with no names.txt and no network: one line,
    no traceback."""
    offline = {
        "PATH": "/usr/bin:/bin",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "-m", "microgpt", "data", "--path", str(tmp_path / "names.txt")],
        capture_output=True,
        text=True,
        env=offline,
        cwd=tmp_path,
        timeout=120,
    )
    assert_one_line_error(result, "Copy names.txt there by hand")
