"""Shared by the microgpt-course tests: a temporary course (a copy of chapters and
nbgrader_config.py), learner notebooks built from a chapter's source and release, and ways to run
the command."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import nbformat

import usage_errors
from autograder.notebook_format import submission
from autograder.pipeline.cli import main
from autograder.pipeline.course import REPOSITORY, copy_chapter_sources

CHAPTER = "02_tokenization"  # small and quick: 3 pieces, 4 points
OTHER = "03_components"


def make_course(root: Path, chapters=(CHAPTER, OTHER)):
    """A course at root holding copies of the given chapters (nothing released)."""
    return copy_chapter_sources(REPOSITORY, root, list(chapters))


def run(capsys, *args):
    """Run `microgpt-course ARGS` in this process; returns (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_process(*args, module=True, cwd=None):
    """Run the command in a new process (`python -m autograder` or the installed console script)."""
    command = (
        [sys.executable, "-m", "autograder"]
        if module
        else [str(Path(sys.executable).with_name("microgpt-course"))]
    )
    env = dict(
        os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    )
    return subprocess.run(
        command + [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


# (code, err, *phrases)
assert_one_line_error = functools.partial(usage_errors.assert_one_line_error, "microgpt-course")


def learner_notebook(course, chapter=CHAPTER, answers=None, blank=False):
    """The released notebook with every solution cell filled in from the instructor's source, except
    those named in `answers` (grade_id -> source written instead); `blank` keeps every stub."""
    source = nbformat.read(course.source_notebook(chapter), as_version=4)
    release = nbformat.read(course.release_dir(chapter) / f"{chapter}.ipynb", as_version=4)
    return release if blank else submission(source, release, answers)


def write_notebook(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def tree_fingerprint(folder: Path) -> dict:
    """relative path -> (sha256, mtime_ns, mode) of every file and folder under folder."""
    found = {}
    for path in sorted(folder.rglob("*")):
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[str(path.relative_to(folder))] = (digest, stat.st_mtime_ns, stat.st_mode)
    return found
