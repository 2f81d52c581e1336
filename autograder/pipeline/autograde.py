"""Grading stage 2, autograde: nbgrader's own Autograde of one submission on a private course.

The private course (under the run's grading/work/RUN/) holds copies of the chapter's non-notebook
files, of the student's submitted regular files (links, FIFOs and other special files are never
opened; sizes capped) and of the run's SQLite snapshot of the gradebook (the released chapters, no
student: grade.snapshot_gradebook), whatever the course's gradebook is. nbgrader's Autograde runs on
it with its default preprocessors, Execute replaced by the sandboxed one (execute.py); the result is
handed on as an `Autograded`: the kernel's scores per grade cell, the autograded folder nbgrader
wrote there, the kernel run and the flags. Nothing of the real course is touched here.
"""

from __future__ import annotations

import copy
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from ..notebook_format import MAX_NOTEBOOK_BYTES
from . import readback, sandbox
from .course import Course, quiet_gradebook
from .execute import KernelRun, SandboxedExecute, describe, kernel_flags
from .flags import Flag

MAX_SUBMITTED_FILE_BYTES = MAX_NOTEBOOK_BYTES  # a submitted file larger than this is not copied
MAX_SUBMITTED_BYTES = 64 << 20  # submitted files copied at most, together
MAX_SUBMITTED_FILES = 1_000  # submitted files copied at most
# a chapter's own file (the instructor's) larger than this is not copied
MAX_CHAPTER_FILE_BYTES = 1 << 30
SKIPPED_WORDS = {
    "links": "symbolic link(s)",
    "special": "FIFO(s), socket(s) or other special file(s)",
    "large": f"file(s) over {MAX_SUBMITTED_FILE_BYTES >> 20} MB",
    "over_total": (
        f"file(s) past {MAX_SUBMITTED_FILES:,} files or {MAX_SUBMITTED_BYTES >> 20} MB in all"
    ),
}


@dataclass(frozen=True)
class KernelGrade:
    """nbgrader's verdict on one grade cell in the kernel run."""

    auto_score: float | None
    needs_manual_grade: bool


@dataclass(frozen=True)
class Autograded:
    """What stage 2 hands on: the kernel's grades, nbgrader's autograded folder, the run, its
    flags."""

    kernel: dict  # grade_id -> KernelGrade
    folder: Path  # the private autograded/<student>/<chapter> folder nbgrader wrote
    run: KernelRun
    flags: tuple  # Flag: the kernel run's, and submitted files not used


def after_execute() -> list:
    """nbgrader's own autograde preprocessors that come after its Execute step (read from
    nbgrader)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    if not defaults or defaults[0] is not Execute:
        raise RuntimeError(f"nbgrader's autograde steps no longer start with Execute: {defaults}")
    return list(defaults[1:])


def autograde_privately(
    course: Course,
    private: Path,
    student: str,
    chapter: str,
    limits: sandbox.Limits,
    base_gradebook: str,
    submitted: Path,
    log: list,
) -> Autograded:
    """nbgrader's Autograde of `submitted` in a new private course at `private`; raises RuntimeError
    with nbgrader's error when nbgrader rejects the submission."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde
    from nbgrader.utils import capture_log

    chapter_files = private / "chapters" / chapter
    chapter_files.mkdir(parents=True)
    for item in sorted(course.source_notebook(chapter).parent.iterdir()):
        if item.suffix != ".ipynb" and not item.is_symlink() and item.is_file():
            try:
                readback.copy_regular(item, chapter_files / item.name, MAX_CHAPTER_FILE_BYTES)
            except OSError as error:
                log.append(f"chapter file {item.name} not copied: {error}")
    flags = []
    skipped = copy_regular_files(submitted, private / "submitted" / student / chapter)
    if skipped:
        what = ", ".join(f"{count} {SKIPPED_WORDS[kind]}" for kind, count in skipped.items())
        flags.append(Flag(student, chapter, "", "files", f"submitted files not used: {what}"))
    shutil.copyfile(base_gradebook, private / "gradebook.db")
    # Config(course.config) would share, and change, its sections
    config = copy.deepcopy(course.config)
    config.CourseDirectory.root = str(private)
    # never the course's own gradebook
    config.CourseDirectory.db_url = f"sqlite:///{private / 'gradebook.db'}"
    config.Exchange.root = str(private / "exchange")
    execute = SandboxedExecute(limits)
    with quiet_gradebook():
        api = NbGraderAPI(config=config)
        api.coursedir.assignment_id, api.coursedir.student_id = chapter, student
        converter = Autograde(coursedir=api.coursedir, parent=api)
        converter.force, converter.create_student = True, True
        # set on the converter, not through config (which traitlets deep-copies): the run stays ours
        converter.autograde_preprocessors = [execute, *after_execute()]
        outcome = capture_log(converter)
    log.append(outcome.get("log") or "")
    if not outcome.get("success") or execute.run is None:
        raise RuntimeError((outcome.get("error") or "nbgrader never ran the notebook")[-2000:])
    log.append(describe(execute.run))
    flags += kernel_flags(execute.run, limits, student, chapter)
    with quiet_gradebook(), Gradebook(config.CourseDirectory.db_url) as gb:
        nb = gb.find_submission_notebook(chapter, chapter, student)
        kernel = {g.name: KernelGrade(g.auto_score, bool(g.needs_manual_grade)) for g in nb.grades}
    return Autograded(kernel, private / "autograded" / student / chapter, execute.run, tuple(flags))


def copy_regular_files(
    source: Path,
    target: Path,
    max_file_bytes: int = MAX_SUBMITTED_FILE_BYTES,
    max_bytes: int = MAX_SUBMITTED_BYTES,
    max_files: int = MAX_SUBMITTED_FILES,
) -> dict:
    """Copy the regular files under source into new files under target (a folder the host makes):
    links are never followed, FIFOs and other special files never opened (readback.copy_regular);
    a file over max_file_bytes, and files past max_bytes or max_files in total, are skipped. Returns
    what was skipped, counted: {"links": n, "special": n, "large": n, "over_total": n}."""
    skipped = {"links": 0, "special": 0, "large": 0, "over_total": 0}
    copied_files = copied_bytes = 0
    for folder, dirs, files in os.walk(source, followlinks=False):
        kept_dirs = []
        for name in dirs:
            if (Path(folder) / name).is_symlink():
                skipped["links"] += 1
            else:
                kept_dirs.append(name)
        dirs[:] = sorted(kept_dirs)
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink():
                skipped["links"] += 1
                continue
            try:
                info = path.lstat()
            except OSError:
                skipped["special"] += 1
                continue
            if not stat.S_ISREG(info.st_mode):  # a FIFO, socket or device: never opened
                skipped["special"] += 1
                continue
            size = info.st_size
            if copied_files >= max_files or copied_bytes + min(size, max_file_bytes) > max_bytes:
                skipped["over_total"] += 1
                continue
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                copied_bytes += readback.copy_regular(path, destination, max_file_bytes)
                copied_files += 1
            except readback.NotRegular as error:
                skipped[error.kind] += 1
            except OSError:
                skipped["special"] += 1
    return {k: v for k, v in skipped.items() if v}
