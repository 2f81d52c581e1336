"""The files a chapter's notebook needs beside it: course_tools.py and the data files it opens by
name.

Which files: autograder.notebook_format.shipped_files (its DATA_FILES), the one list; `make setup`
(build_chapters --files) and `release` place the same ones. From where: the course's data/ folder
(the repository's data/ when the course has none) and the package's learner/course_tools.py.
`release` copies each into chapters/NN_name/ before nbgrader releases that folder (so the learners
and the grading sandbox get them); a file already in the chapter folder is kept when data/ has no
copy of it. A needed file found nowhere refuses the chapter (one line saying how to get it) before
anything is released.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..notebook_format import DATA_FILES, NAMES, REPOSITORY_DATA, shipped_files
from .course import Course, UsageError


class MissingChapterFiles(UsageError):
    """A chapter needs a file that is neither in its folder nor in data/ (or is not the right
    file)."""


def data_folder(course: Course) -> Path:
    """Where the data files come from: the course's data/, else the repository's (where `make setup`
    puts names.txt)."""
    own = course.root / "data"
    return own if own.is_dir() else REPOSITORY_DATA


def needed_files(course: Course, chapter: str) -> dict[str, Path]:
    """{file name in chapters/NN_name/: where it comes from} of every file the chapter's notebook
    needs."""
    import nbformat

    return shipped_files(
        nbformat.read(course.source_notebook(chapter), as_version=4), data_folder(course)
    )


def wrong_file(name: str, path: Path) -> str | None:
    """Why the file at path is not the one the chapter needs (names.txt: its SHA-256), or None."""
    if name != NAMES:
        return None
    from microgpt.data import NAMES_SHA256, sha256_of

    return (
        None
        if sha256_of(path) == NAMES_SHA256
        else f"{path} is not makemore's names.txt (its SHA-256 differs)"
    )


def _where(path: Path, course: Course) -> str:
    for base in (course.root, Path.cwd()):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def problems(
    course: Course, chapter: str, *, placing: bool, needed: dict | None = None
) -> list[str]:
    """Why the chapter cannot have its files: placing=True (release) looks in data/ and the chapter
    folder; placing=False (grade) only in the chapter folder, as nbgrader and the confirmation
    will."""
    folder = course.source_notebook(chapter).parent
    found = []
    for name, origin in (needed if needed is not None else needed_files(course, chapter)).items():
        target = folder / name
        present = origin if placing and origin.is_file() else target if target.is_file() else None
        if present is None:
            how = DATA_FILES.get(name, "")
            if placing:
                found.append(
                    f"{chapter} needs {name}, which is neither in {_where(folder, course)}/ nor in "
                    f"{_where(origin.parent, course)}/" + (f": {how}" if how else "")
                )
            else:
                found.append(
                    f"{chapter} needs {name}, which is not in {_where(folder, course)}/: "
                    f"`microgpt-course release {chapter[:2]}` places it"
                    + (f"; if data/ lacks it too, {how}" if how else "")
                )
        elif (why := wrong_file(name, present)) is not None:
            found.append(f"{chapter} needs {name}: {why}")
    return found


def place(course: Course, chapters: list[str], log=None) -> dict[str, list[str]]:
    """Copy every needed file into each chapter's folder (those that differ or are missing), after
    checking all chapters first: MissingChapterFiles names every missing file and nothing is
    copied."""
    needed = {chapter: needed_files(course, chapter) for chapter in chapters}
    missing = [
        line
        for chapter in chapters
        for line in problems(course, chapter, placing=True, needed=needed[chapter])
    ]
    if missing:
        raise MissingChapterFiles("; ".join(missing))
    placed = {}
    for chapter in chapters:
        folder = course.source_notebook(chapter).parent
        placed[chapter] = []
        for name, origin in needed[chapter].items():
            target = folder / name
            if origin.is_file() and (
                not target.is_file() or target.read_bytes() != origin.read_bytes()
            ):
                shutil.copyfile(origin, target)
                placed[chapter].append(name)
        if log and placed[chapter]:
            log.info("placed %s into %s", placed[chapter], folder)
    return placed
