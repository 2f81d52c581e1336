"""Learner versions of chapters (nbgrader generate_assignment) and the learner's workspace
(`start`)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..notebook_format import points
from .course import Course, quiet_gradebook


class ReleaseError(Exception):
    """nbgrader could not make a chapter's learner version; the message ends with its log's tail."""


def release(course: Course, chapters: list[str], progress, log) -> list[list]:
    """Run generate_assignment for each chapter (release/NN_name/, solutions stubbed, hidden tests
    removed), after placing every file a chapter needs into its folder (chapter_files.py; a chapter
    missing one is refused before anything is released). Returns rows [chapter, files, points,
    seconds]."""
    from .chapter_files import place

    place(course, chapters, log)
    api = course.api()
    work = progress(len(chapters), "release")
    rows = []
    for chapter in chapters:
        started = time.perf_counter()
        with quiet_gradebook():
            result = api.generate_assignment(chapter, force=True)
        log.info(
            "generate_assignment %s: success=%s\n%s",
            chapter,
            result.get("success"),
            result.get("log", ""),
        )
        if not result.get("success"):
            tail = "\n".join(
                ((result.get("log") or "") + (result.get("error") or "")).strip().splitlines()[-20:]
            )
            raise ReleaseError(f"nbgrader could not release {chapter}:\n{tail}")
        files = sorted(p for p in course.release_dir(chapter).rglob("*") if p.is_file())
        seconds = time.perf_counter() - started
        rows.append(
            [chapter, len(files), max_points(course.source_notebook(chapter)), round(seconds, 1)]
        )
        work.advance(chapter)
    return rows


def max_points(notebook: Path) -> float:
    """Total points of a notebook's graded cells (nbgrader metadata grade=true, points=P)."""
    import nbformat

    return float(sum(points(nbformat.read(notebook, as_version=4)).values()))


def make_workspace(course: Course, target: Path, progress, log) -> list[list]:
    """Copy every chapter's learner version into target/NN_name/, releasing chapters whose release
    is missing or older than their source. Never overwrites a file the learner already has. The
    files a notebook needs (chapter_files.py) are added from the chapter's folder or data/ if the
    release lacks them. Returns summary rows [chapter, added, kept]."""
    from .chapter_files import needed_files

    stale = [c for c in course.chapters() if not is_fresh(course, c)]
    if stale:
        release(course, stale, progress, log)
    rows = []
    for chapter in course.chapters():
        added, kept = [], []
        source, folder = course.release_dir(chapter), target / chapter
        wanted = {p.relative_to(source): p for p in source.rglob("*") if p.is_file()}
        # a release made before release placed them
        for name, origin in needed_files(course, chapter).items():
            placed = course.source_notebook(chapter).parent / name
            if Path(name) not in wanted and (placed.is_file() or origin.is_file()):
                wanted[Path(name)] = placed if placed.is_file() else origin
        for relative, origin in sorted(wanted.items()):
            destination = folder / relative
            if destination.exists():
                kept.append(str(relative))
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, destination)
            added.append(str(relative))
        log.info("workspace %s: added %s, kept %s", folder, added, kept)
        rows.append([chapter, len(added), len(kept)])
    return rows


def is_fresh(course: Course, chapter: str) -> bool:
    """True if release/NN_name/ holds the notebook and is newer than every file of the chapter's
    source."""
    released = course.release_dir(chapter) / f"{chapter}.ipynb"
    if not released.is_file():
        return False
    newest_source = max(
        p.stat().st_mtime for p in course.source_notebook(chapter).parent.rglob("*") if p.is_file()
    )
    return released.stat().st_mtime >= newest_source
