"""Flags: what an instructor should look at in a graded submission, stored per submission in
grading/flags/CHAPTER/STUDENT.json.

A flag names the student, the chapter, the piece (a grade cell's grade_id, or "" for the whole
notebook), its kind and the reason. `grade` replaces the flags of every (student, chapter) it
grades, so grading twice gives the same flags. One file per submission: runs grading different
students at once (the shards of one class) never write the same file; each is written atomically (a
kill never leaves half a file).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

FOLDER = "flags"


class Kind(str, Enum):
    """The kinds of flag, each with what it means (the guides' tables are made from this)."""

    def __new__(cls, value: str, meaning: str):
        member = str.__new__(cls, value)
        member._value_, member.meaning = value, meaning
        return member

    def __str__(self) -> str:
        return self.value

    MISMATCH = "mismatch", "the kernel's result differs from the judge's"
    POLICY = (
        "policy",
        "the solution code does what the policy warns "
        "about (a warning: the points are the judge's)",
    )
    TAMPERED = "tampered", "a test cell or the notebook's graded structure was changed"
    TIMEOUT = "timeout", "the notebook or a piece ran past its time limit"
    CRASH = "crash", "the kernel or the judge's worker died, or the worker broke the wire"
    OUTPUT_LIMIT = "output-limit", "the notebook printed more than the output limit"
    LIMIT = "limit", "the notebook reached the memory, the process or the writable-area limit"
    LEFTOVER = (
        "leftover",
        "processes started by the notebook were still running after it; they were killed",
    )
    FILES = (
        "files",
        "links, special files or unreadable folders were left or submitted; they were ignored",
    )
    MISSING = "missing", "no gradable notebook was submitted"
    SANDBOX = "sandbox", "the submission ran without the full sandbox"
    GRADER = (
        "grader",
        "the grader itself failed on the submission; its recorded scores were left as they were",
    )


TABLE_START, TABLE_END = (
    "<!-- flag kinds: made by flags.kinds_table() -->",
    "<!-- end of flag kinds -->",
)


def kinds_table() -> str:
    """The Markdown table of flag kinds that the guides hold between TABLE_START and TABLE_END."""
    rows = "\n".join(f"| `{kind}` | {kind.meaning} |" for kind in Kind)
    return f"{TABLE_START}\n| flag | what it means |\n|---|---|\n{rows}\n{TABLE_END}"


def with_kinds_table(text: str) -> str:
    """text with its flag-kinds table (between the markers) made anew from Kind."""
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    return text[:start] + kinds_table() + text[end:]


@dataclass(frozen=True)
class Flag:
    student: str
    chapter: str
    piece: str  # grade_id of the grade cell, or "" for the whole notebook
    kind: Kind  # given as a Kind or its value; an unknown kind raises ValueError
    reason: str

    def __post_init__(self):
        object.__setattr__(self, "kind", Kind(self.kind))

    def short(self) -> str:
        """'kind piece: reason' for a summary cell."""
        where = f" {self.piece}" if self.piece else ""
        return f"{self.kind}{where}: {self.reason}"


def flags_path(course, student: str, chapter: str) -> Path:
    """grading/flags/CHAPTER/STUDENT.json: the flags of one submission (a list, empty when it has
    none)."""
    return Path(course.grading_dir) / FOLDER / chapter / f"{student}.json"


def order(flags) -> list[Flag]:
    """Flags sorted by student, chapter, piece, kind and reason."""
    return sorted(flags, key=lambda f: (f.student, f.chapter, f.piece, f.kind, f.reason))


def load_flags(course) -> list[Flag]:
    """Every stored flag of the course, ordered by student, chapter, piece (empty if none)."""
    folder = Path(course.grading_dir) / FOLDER
    return order(
        Flag(**row)
        for path in sorted(folder.glob("*/*.json"))
        for row in json.loads(path.read_text(encoding="utf-8"))
    )


def submission_flags(course, student: str, chapter: str) -> list[Flag]:
    """The stored flags of one submission (empty if none)."""
    path = flags_path(course, student, chapter)
    return (
        [Flag(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
        if path.is_file()
        else []
    )


def replace_flags(course, student: str, chapter: str, new: list[Flag]) -> None:
    """Store `new` as the flags of one submission, replacing its earlier ones (atomically)."""
    write_atomically(
        flags_path(course, student, chapter),
        json.dumps([asdict(f) for f in order(set(new))], indent=1) + "\n",
    )


def write_atomically(path: Path, text: str) -> None:
    """Write text to path so that readers see the old or the new file, never a part (fsync +
    rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


# python -m autograder.pipeline.flags: rewrite the guides' tables of flag kinds
if __name__ == "__main__":
    for guide in (
        Path(__file__).parent / "SANDBOX.md",
        Path(__file__).parents[1] / "INSTRUCTORS.md",
    ):
        guide.write_text(with_kinds_table(guide.read_text(encoding="utf-8")), encoding="utf-8")
