"""Submissions into nbgrader's layout submitted/<student>/<chapter>/<chapter>.ipynb.

From a folder (or a zip of it) holding per-student folders (<student>/<chapter>/<chapter>.ipynb or
<student>/<chapter>.ipynb) and/or files an LMS exports, one per student and chapter, whose names
match a pattern such as `{student}_{chapter}.zip` (a zip holding the notebook, or the .ipynb itself).
A folder whose name matches the pattern (Moodle's `Name_123_assignsubmission_file_`) takes its
student id, and chapter if any, from the pattern; any other folder's name is the student id.
The input is only read, never modified; what cannot be placed is reported by name.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course, UsageError

DEFAULT_PATTERN = "{student}_{chapter}.zip"
STUDENT_ID = re.compile(r"^[A-Za-z0-9@_+-][A-Za-z0-9@._+-]*$")
MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024  # a notebook larger than this is not a submission


@dataclass
class Collected:
    placed: list = field(default_factory=list)      # [(student, chapter, source name, "new"/"updated"/"unchanged")]
    skipped: list = field(default_factory=list)     # [(source name, reason)]


def pattern_regex(pattern: str, chapter_names: list[str]) -> re.Pattern:
    """The regex of a file-name pattern: {student} any text (as short as fits), {chapter} a chapter's
    number or name, * any text (as long as fits); everything else literal. UsageError unless {student} appears exactly once."""
    if pattern.count("{student}") != 1 or pattern.count("{chapter}") > 1:
        raise UsageError(f"--pattern {pattern!r} must contain {{student}} once and {{chapter}} at most once")
    alternatives = "|".join(re.escape(n) for n in sorted(chapter_names, key=len, reverse=True))
    parts = re.split(r"(\{student\}|\{chapter\}|\*)", pattern)
    regex = "".join({"{student}": r"(?P<student>.+?)", "{chapter}": f"(?P<chapter>{alternatives})",
                     "*": r".*"}.get(p, re.escape(p)) for p in parts)
    return re.compile(f"^{regex}$", re.IGNORECASE)


def chapter_aliases(course: Course, chapters: list[str]) -> list[str]:
    """Every spelling of the chapters a file name may use: 01_autograd, autograd, 01, 1."""
    names = []
    for chapter in chapters:
        number, _, title = chapter.partition("_")
        names += [chapter, title, number, str(int(number))]
    return names


def collect(course: Course, path: Path, pattern: str = DEFAULT_PATTERN, chapter: str | None = None,
            log=None, progress=None) -> Collected:
    """Place every submission found under `path` (a folder or a zip file). `chapter` names the
    chapter when the pattern has no {chapter}."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    released = course.released()
    if "{chapter}" not in pattern and chapter is None:
        raise UsageError(f"--pattern {pattern!r} has no {{chapter}}: say which chapter with --chapter")
    regex = pattern_regex(pattern, chapter_aliases(course, course.chapters()))
    fixed_chapter = course.resolve([chapter])[0] if chapter else None
    result = Collected()
    with tempfile.TemporaryDirectory(prefix="microgpt-collect-") as scratch:
        if path.is_file():
            if not zipfile.is_zipfile(path):
                raise UsageError(f"{path} is neither a folder nor a zip file")
            folder = Path(scratch) / "input"
            extract_zip(path, folder)
        else:
            folder = path
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX")))
        work = progress(len(entries), "collect") if progress else None
        for entry in entries:
            if entry.is_dir():
                match = regex.match(entry.name)
                student, hint = (match.group("student") if match else entry.name), fixed_chapter
                if match and match.groupdict().get("chapter"):
                    hint = Course.match_chapter(match.group("chapter"), course.chapters())
                collect_student_folder(course, entry, student, hint, released, result)
            else:
                collect_file(course, entry, pattern, regex, fixed_chapter, released, result)
            if work:
                work.advance(entry.name)
    if log:
        for row in result.placed:
            log.info("placed %s %s from %s (%s)", *row)
        for name, reason in result.skipped:
            log.warning("could not place %s: %s", name, reason)
    return result


def collect_student_folder(course: Course, folder: Path, student: str, hint: str | None, released: list[str],
                           result: Collected):
    """<student>/<chapter>/<chapter>.ipynb or <student>/<chapter>.ipynb (any depth; checkpoints ignored);
    a notebook whose name and folder name no chapter is of chapter `hint`, if given."""
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        result.skipped.append((f"{folder.name}/", "no .ipynb notebook inside"))
        return
    for notebook in notebooks:
        name = notebook.relative_to(folder.parent).as_posix()
        chapter = Course.match_chapter(notebook.stem, course.chapters()) or \
            Course.match_chapter(notebook.parent.name, course.chapters()) or hint
        if chapter is None:
            result.skipped.append((name, "neither its name nor its folder names a chapter"))
            continue
        place(course, student, chapter, notebook.read_bytes(), name, released, result)


def collect_file(course: Course, file: Path, pattern: str, regex, fixed_chapter, released, result: Collected):
    """One LMS file named by the pattern: a zip holding the chapter's notebook, or the notebook."""
    match = regex.match(file.name)
    if not match:
        result.skipped.append((file.name, f"name does not match the pattern {pattern}"))
        return
    student = match.group("student")
    chapter = fixed_chapter or Course.match_chapter(match.group("chapter"), course.chapters())
    if file.suffix.lower() == ".ipynb":
        content = file.read_bytes()
    elif zipfile.is_zipfile(file):
        content, reason = notebook_in_zip(file, chapter)
        if content is None:
            result.skipped.append((file.name, reason))
            return
    else:
        result.skipped.append((file.name, "neither a zip file nor a .ipynb notebook"))
        return
    place(course, student, chapter, content, file.name, released, result)


def notebook_in_zip(file: Path, chapter: str) -> tuple[bytes | None, str]:
    """The bytes of the chapter's notebook inside a zip: <chapter>.ipynb at any depth, else the only
    .ipynb; (None, reason) when there is none or more than one candidate."""
    with zipfile.ZipFile(file) as archive:
        notebooks = [i for i in archive.infolist() if i.filename.lower().endswith(".ipynb")
                     and ".ipynb_checkpoints" not in i.filename and not i.is_dir()]
        exact = [i for i in notebooks if Path(i.filename).name == f"{chapter}.ipynb"]
        chosen = exact if exact else notebooks
        if not chosen:
            return None, "no .ipynb notebook inside"
        if len(chosen) > 1:
            return None, f"{len(chosen)} notebooks inside and none named {chapter}.ipynb"
        if chosen[0].file_size > MAX_NOTEBOOK_BYTES:
            return None, f"{chosen[0].filename} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
        return archive.read(chosen[0]), ""


def extract_zip(file: Path, folder: Path):
    """Extract a zip of submissions into folder, refusing members that would land outside it."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            target = (folder / info.filename).resolve()
            if not target.is_relative_to(folder.resolve()):
                raise UsageError(f"{file} holds {info.filename!r}, a path outside the zip's folder")
        archive.extractall(folder)


def place(course: Course, student: str, chapter: str, content: bytes, name: str, released, result: Collected):
    """Write content as submitted/<student>/<chapter>/<chapter>.ipynb (replacing an older copy)."""
    if not STUDENT_ID.match(student):
        result.skipped.append((name, f"student id {student!r} may hold only letters, digits and @ . _ + -"))
        return
    if chapter not in released:
        result.skipped.append((name, f"chapter {chapter} has not been released (microgpt-course release "
                                     f"{chapter[:2]})"))
        return
    target = course.submitted(student, chapter) / f"{chapter}.ipynb"
    if any(s == student and c == chapter for s, c, _, _ in result.placed):
        result.skipped.append((name, f"a second notebook for {student} {chapter} in the same input"))
        return
    if target.exists():
        state = "unchanged" if target.read_bytes() == content else "updated"
    else:
        state = "new"
    if state != "unchanged":
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".ipynb.partial")
        partial.write_bytes(content)
        partial.replace(target)
    result.placed.append((student, chapter, name, state))
