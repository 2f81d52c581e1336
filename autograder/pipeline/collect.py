"""Submissions into nbgrader's layout submitted/<student>/<chapter>/<chapter>.ipynb.

From a folder (or a zip of it) holding per-student folders (<student>/<chapter>/<chapter>.ipynb or
<student>/<chapter>.ipynb) and/or files an LMS exports, one per student and chapter, whose names
match a pattern such as `{student}_{chapter}.zip` (a zip holding the notebook, or the .ipynb
itself). A folder whose name matches the pattern (Moodle's `Name_123_assignsubmission_file_`) takes
its student id, and chapter if any, from the pattern; any other folder's name is the student id. The
input is only read, never modified; what cannot be placed is reported by name, and one bad file
never stops the others. Links (in folders, or zip members marked as links) are never followed, and
every file is read through a byte counter that stops at the caps below, whatever a zip's headers
claim.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..notebook_format import MAX_NOTEBOOK_BYTES, chapter_aliases, match_chapter
from .course import Course, UsageError

DEFAULT_PATTERN = "{student}_{chapter}.zip"
# the set INSTRUCTORS.md documents; never a first character a spreadsheet reads as a formula (= + -
# @)
STUDENT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9@._+-]*")
# no notebook is larger than MAX_NOTEBOOK_BYTES (the limit `grade` reads notebooks up to); no other
# file unpacked from a whole class's export zip (a student's zip, say) is larger
MAX_MEMBER_BYTES = 100 * 2**20
MAX_UNZIPPED_BYTES = 2 * 2**30  # no zip (a student's, or a whole class's export) unpacks to more
MAX_ZIP_MEMBERS = 20_000  # nor holds more files
CHUNK_BYTES = 2**20
LINK = "a symbolic link (links are never followed)"
# what reading a damaged zip raises: zipfile's own error, a broken deflate stream, a truncated file,
# a compression method zipfile lacks
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


class Refused(Exception):
    """A file that cannot be a submission; the message says why."""


@dataclass
class Collected:
    # [(student, chapter, source name, "new"/"updated"/"unchanged")]
    placed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # [(source name, reason)]

    def skip(self, name: str, reason: str):
        """Record a file that was not placed, and why."""
        self.skipped.append((printable(name), printable(reason)))


def printable(text: str) -> str:
    """text with control characters escaped: a hostile file name cannot forge lines of the
    report."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def pattern_regex(pattern: str, chapter_names: list[str]) -> re.Pattern:
    """The regex (to fullmatch) of a file-name pattern: {student} any text (as short as fits),
    {chapter} a chapter's number or name, * any text (as long as fits); everything else literal.
    UsageError unless {student} appears exactly once."""
    if pattern.count("{student}") != 1 or pattern.count("{chapter}") > 1:
        raise UsageError(
            f"--pattern {pattern!r} must contain {{student}} once and {{chapter}} at most once"
        )
    alternatives = "|".join(re.escape(n) for n in sorted(chapter_names, key=len, reverse=True))
    parts = re.split(r"(\{student\}|\{chapter\}|\*)", pattern)
    regex = "".join(
        {
            "{student}": r"(?P<student>.+?)",
            "{chapter}": f"(?P<chapter>{alternatives})",
            "*": r".*",
        }.get(p, re.escape(p))
        for p in parts
    )
    return re.compile(regex, re.IGNORECASE)


def collect(
    course: Course,
    path: Path,
    pattern: str = DEFAULT_PATTERN,
    chapter: str | None = None,
    log=None,
    progress=None,
) -> Collected:
    """Place every submission found under `path` (a folder or a zip file). `chapter` names the
    chapter when the pattern has no {chapter}."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    released = course.released()
    if "{chapter}" not in pattern and chapter is None:
        raise UsageError(
            f"--pattern {pattern!r} has no {{chapter}}: say which chapter with --chapter"
        )
    regex = pattern_regex(pattern, [name for c in course.chapters() for name in chapter_aliases(c)])
    fixed_chapter = course.resolve([chapter])[0] if chapter else None
    result = Collected()
    with tempfile.TemporaryDirectory(prefix="microgpt-collect-") as scratch:
        if path.is_file():
            if not zipfile.is_zipfile(path):
                raise UsageError(f"{path} is neither a folder nor a zip file")
            folder = Path(scratch) / "input"
            extract_zip(path, folder, result)
        else:
            folder = path
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX")))
        work = progress(len(entries), "collect") if progress else None
        for entry in entries:
            if entry.is_symlink():
                result.skip(entry.name, LINK)
            elif entry.is_dir():
                match = regex.fullmatch(entry.name)
                student, hint = (match.group("student") if match else entry.name), fixed_chapter
                if match and match.groupdict().get("chapter"):
                    hint = match_chapter(match.group("chapter"), course.chapters())
                collect_student_folder(course, entry, student, hint, released, result)
            else:
                collect_file(course, entry, pattern, regex, fixed_chapter, released, result)
            if work:
                work.advance(printable(entry.name))
    if log:
        for row in result.placed:
            log.info("placed %s %s from %s (%s)", *row)
        for name, reason in result.skipped:
            log.warning("could not place %s: %s", name, reason)
    return result


def collect_student_folder(
    course: Course,
    folder: Path,
    student: str,
    hint: str | None,
    released: list[str],
    result: Collected,
):
    """<student>/<chapter>/<chapter>.ipynb or <student>/<chapter>.ipynb (any depth; checkpoints
    ignored); a notebook whose name and folder name no chapter is of chapter `hint`, if given."""
    found = read_or_skip(f"{folder.name}/", result, notebooks_under, folder)
    if found is None:
        return
    notebooks, links = found
    for link in links:
        result.skip(link.relative_to(folder.parent).as_posix(), LINK)
    if not notebooks and not links:
        result.skip(f"{folder.name}/", "no .ipynb notebook inside")
    for notebook in notebooks:
        name = notebook.relative_to(folder.parent).as_posix()
        chapter = (
            match_chapter(notebook.stem, course.chapters())
            or match_chapter(notebook.parent.name, course.chapters())
            or hint
        )
        if chapter is None:
            result.skip(name, "neither its name nor its folder names a chapter")
            continue
        content = read_or_skip(name, result, read_notebook, notebook)
        if content is not None:
            place(course, student, chapter, content, name, released, result)


def notebooks_under(folder: Path) -> tuple[list[Path], list[Path]]:
    """The .ipynb files under folder at any depth (checkpoints ignored), and the links met on the
    way, never followed."""
    notebooks, links, pending = [], [], [folder]
    # a loop, not recursion: a hostile zip may nest folders deeper than Python's stack
    while pending:
        for entry in pending.pop().iterdir():
            if entry.is_symlink():
                links.append(entry)
            elif entry.is_dir():
                if entry.name != ".ipynb_checkpoints":
                    pending.append(entry)
            elif entry.suffix == ".ipynb":
                notebooks.append(entry)
    return sorted(notebooks), sorted(links)


def collect_file(
    course: Course, file: Path, pattern: str, regex, fixed_chapter, released, result: Collected
):
    """One LMS file named by the pattern: a zip holding the chapter's notebook, or the notebook."""
    match = regex.fullmatch(file.name)
    if not match:
        result.skip(file.name, f"name does not match the pattern {pattern}")
        return
    student = match.group("student")
    chapter = fixed_chapter or match_chapter(match.group("chapter"), course.chapters())
    content = read_or_skip(file.name, result, read_submission, file, chapter)
    if content is not None:
        place(course, student, chapter, content, file.name, released, result)


def read_or_skip(name: str, result: Collected, read, *args):
    """read(*args), or None once the reason it failed is recorded under `name`: one bad file never
    stops the others."""
    try:
        return read(*args)
    except Refused as exc:
        reason = str(exc)
    except DAMAGED as exc:
        reason = f"damaged zip data ({exc or type(exc).__name__})"
    except OSError as exc:
        reason = f"cannot be read or unpacked ({exc.strerror or exc})"
    result.skip(name, reason)
    return None


def read_submission(file: Path, chapter: str) -> bytes:
    """The notebook one LMS file holds: the file itself (.ipynb), or the chapter's notebook in it (a
    zip)."""
    with open_regular(file) as stream:
        if file.suffix.lower() == ".ipynb":
            return read_capped(stream)
        if zipfile.is_zipfile(stream):
            return notebook_in_zip(stream, chapter)
    raise Refused("neither a zip file nor a .ipynb notebook")


def read_notebook(path: Path) -> bytes:
    """A notebook file's bytes, through the byte counter."""
    with open_regular(path) as stream:
        return read_capped(stream)


def open_regular(path: Path):
    """path opened for reading bytes; Refused unless it is a regular file (a FIFO would block)."""
    if not path.is_file():
        raise Refused("not a regular file")
    # callers have set links aside; O_NOFOLLOW makes the open itself refuse one (Windows has no such
    # flag)
    no_follow = getattr(os, "O_NOFOLLOW", 0)
    return open(path, "rb", opener=lambda name, flags: os.open(name, flags | no_follow))


def notebook_in_zip(source, chapter: str) -> bytes:
    """The chapter's notebook inside an open zip file: <chapter>.ipynb at any depth, else the only
    .ipynb; Refused when there is none or more than one candidate, or the zip or that member is over
    a cap, a link or encrypted."""
    with zipfile.ZipFile(source) as archive:
        members = archive.infolist()
        excess = zip_over_caps(members)
        if excess:
            raise Refused(excess)
        notebooks = [
            i
            for i in members
            if i.filename.lower().endswith(".ipynb")
            and ".ipynb_checkpoints" not in i.filename
            and not i.is_dir()
        ]
        exact = [i for i in notebooks if Path(i.filename).name == f"{chapter}.ipynb"]
        chosen = exact if exact else notebooks
        if not chosen:
            raise Refused("no .ipynb notebook inside")
        if len(chosen) > 1:
            raise Refused(f"{len(chosen)} notebooks inside and none named {chapter}.ipynb")
        try:
            with open_member(archive, chosen[0], MAX_NOTEBOOK_BYTES) as stream:
                return read_capped(stream)
        except Refused as exc:
            raise Refused(f"{chosen[0].filename} is {exc}") from None


def zip_over_caps(members: list[zipfile.ZipInfo]) -> str | None:
    """Why a zip is refused before anything is unpacked (from the sizes its headers claim), or
    None."""
    if len(members) > MAX_ZIP_MEMBERS:
        return f"holds more than {MAX_ZIP_MEMBERS:,} files"
    if sum(i.file_size for i in members) > MAX_UNZIPPED_BYTES:
        return f"would unpack to more than {megabytes(MAX_UNZIPPED_BYTES)}"
    return None


def open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int):
    """A zip member opened for reading; Refused if it is a link, encrypted, or its header claims
    more than `limit` bytes."""
    if stat.S_ISLNK(info.external_attr >> 16):  # the Unix mode sits in the high 16 bits
        raise Refused(LINK)
    if info.flag_bits & 0x1:
        raise Refused("encrypted (ask for it without a password)")
    if info.file_size > limit:
        raise Refused(f"larger than {megabytes(limit)}")
    return archive.open(info)


def read_capped(stream) -> bytes:
    """All of stream, through the byte counter at MAX_NOTEBOOK_BYTES."""
    buffer = io.BytesIO()
    copy_capped(stream, buffer, MAX_NOTEBOOK_BYTES)
    return buffer.getvalue()


def copy_capped(source, target, limit: int) -> int:
    """Copy source into target chunk by chunk and return the bytes copied; Refused once past
    `limit`, whatever a header claimed (a zip bomb's headers lie)."""
    copied = 0
    while chunk := source.read(CHUNK_BYTES):
        copied += len(chunk)
        if copied > limit:
            raise Refused(f"larger than {megabytes(limit)}")
        target.write(chunk)
    return copied


def megabytes(size: int) -> str:
    """A size in bytes as the reports show it."""
    return f"{size / 2**20:g} MB"


def extract_zip(file: Path, folder: Path, result: Collected):
    """Unpack a zip of submissions into folder member by member through the byte counter (a link,
    encrypted or oversized member is reported and skipped); UsageError if the zip is unreadable,
    over a cap, or holds a path outside folder."""
    folder.mkdir(parents=True)
    try:
        archive = zipfile.ZipFile(file)
    except DAMAGED as exc:
        raise UsageError(f"{file} is not a readable zip file ({exc})") from None
    with archive:
        members = archive.infolist()
        excess = zip_over_caps(members)
        if excess:
            raise UsageError(
                f"{file} {excess}: if it is genuine, unzip it yourself and collect the folder"
            )
        for info in members:
            target = (folder / info.filename).resolve()
            if not target.is_relative_to(folder.resolve()):
                raise UsageError(f"{file} holds {info.filename!r}, a path outside the zip's folder")
        left = MAX_UNZIPPED_BYTES  # counted as written, not as the headers claim
        for info in members:
            if not info.is_dir():
                left -= (
                    read_or_skip(
                        info.filename,
                        result,
                        unpack,
                        archive,
                        info,
                        folder / info.filename,
                        min(left, MAX_MEMBER_BYTES),
                    )
                    or 0
                )


def unpack(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> int:
    """Write one member to target through the byte counter; the bytes written (nothing kept if
    refused)."""
    with open_member(archive, info, limit) as source:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(target, "wb") as out:
                return copy_capped(source, out, limit)
        except Exception:
            target.unlink(missing_ok=True)  # neither bytes past a cap nor half a file stay behind
            raise


def place(
    course: Course,
    student: str,
    chapter: str,
    content: bytes,
    name: str,
    released,
    result: Collected,
):
    """Write content as submitted/<student>/<chapter>/<chapter>.ipynb (replacing an older copy)."""
    if not STUDENT_ID.fullmatch(student):
        result.skip(
            name,
            f"student id {student!r} may hold only letters, digits and @ . _ + -, and must start "
            f"with a letter, digit or _ (a spreadsheet reads a leading = + - @ as a formula)",
        )
        return
    if chapter not in released:
        result.skip(
            name, f"chapter {chapter} has not been released (microgpt-course release {chapter[:2]})"
        )
        return
    target = course.submitted(student, chapter) / f"{chapter}.ipynb"
    if any(s == student and c == chapter for s, c, _, _ in result.placed):
        result.skip(name, f"a second notebook for {student} {chapter} in the same input")
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
    result.placed.append((student, chapter, printable(name), state))
