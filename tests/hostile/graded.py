"""What the tests of a graded hostile class read back: the gradebook's points and flags,
fingerprints of files (kind, mode and hash), and the forms in which a secret could hide in a page.
Shared by test_grade_hostile.py, test_grade_e2e_hostile.py and test_host_readback.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
import signal
import stat
from contextlib import contextmanager
from pathlib import Path

from autograder.pipeline.course import quiet_gradebook
from autograder.pipeline.flags import load_flags


def gradebook_dump(course, chapter: str, students) -> dict:
    """student -> ({grade cell: (auto, manual, needs manual)}, score, sorted (piece, kind) flags) in
    chapter."""
    flags = load_flags(course)
    dump = {}
    with quiet_gradebook(), course.gradebook() as gb:
        for student in students:
            nb = gb.find_submission_notebook(chapter, chapter, student)
            cells = {
                g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in nb.grades
            }
            score = gb.find_submission(chapter, student).score
            dump[student] = (
                cells,
                score,
                sorted(
                    (f.piece, f.kind)
                    for f in flags
                    if f.student == student and f.chapter == chapter
                ),
            )
    return dump


def fingerprint(*folders: Path) -> dict:
    """path -> (kind, mode, sha256) of every entry under folders, links and special files not
    followed."""
    found = {}
    for folder in folders:
        for path in sorted([folder, *folder.rglob("*")]):
            info = path.lstat()
            digest = (
                hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
            )
            found[str(path)] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), digest)
    return found


def changes(before: dict, after: dict) -> dict:
    """path -> (before, after) for every entry of two fingerprints that differs, appeared or
    vanished."""
    return {
        path: (before.get(path), after.get(path))
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    }


def odd_entries(folder: Path, cap: int) -> list[str]:
    """Entries under folder that are not plain folders or regular files of at most cap bytes."""
    odd = []
    for path in folder.rglob("*"):
        info = path.lstat()
        if not (stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_size <= cap)):
            odd.append(
                f"{path.relative_to(folder)} ({stat.filemode(info.st_mode)}, {info.st_size} bytes)"
            )
    return odd


def decoded_forms(text: str) -> list[str]:
    """text, reversed, and every base64-looking run in it decoded (and reversed): where an encoded
    leak hides."""
    forms = [text, text[::-1]]
    for run in re.findall(r"[A-Za-z0-9+/]{24,}={0,2}", text):
        try:
            plain = base64.b64decode(run + "=" * (-len(run) % 4)).decode("utf-8", "ignore")
        except ValueError:
            continue
        forms += [plain, plain[::-1]]
    return forms


def secrets_found(texts: dict, secrets) -> dict:
    """name -> the secrets found in texts[name] in any of its decoded forms, for each text that
    holds one."""
    found = {}
    for name, text in texts.items():
        forms = decoded_forms(text)
        hits = [secret for secret in secrets if any(secret in form for form in forms)]
        if hits:
            found[name] = hits
    return found


@contextmanager
def alarm(seconds: int):
    """Raise TimeoutError in this (main) thread after seconds: a step blocked for good fails, not
    hangs."""

    def ring(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
