"""The grader checks itself: before any student, and when it fails on one.

Before `grade` grades anyone, `confirm_grader` confirms, for each chapter about to be graded, the
instructor's source notebook (chapters/NN_name/NN_name.ipynb: every automatic point) and the blank
release as nbgrader made it (release/NN_name/NN_name.ipynb: zero points) with check_pieces, the same
code, limits and sandbox as the class, after checking that the chapter folder holds every file the
notebook needs. Nothing is cached: a grader that cannot import its checks or its reference, a
chapter missing its data, a broken source notebook or a release that passes unwritten all show up
here, and `grade` stops (SelfCheckFailed, one line) before touching the gradebook, the flags or
autograded/.

During the run, a submission the grader itself fails on (the worker raised, check_pieces raised, or
nbgrader could not autograde it and cannot autograde the chapter's blank release either) is flagged
`grader` (`record_grader_failure`): its recorded scores, judged results and autograded folder
stay as they were, and `grade` exits 1 once the others are done. A submission nbgrader rejects while
it still autogrades the blank release is the submission's doing: `crash`, graded by the judge.
"""

from __future__ import annotations

import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from .flags import Flag, replace_flags, submission_flags

MESSAGE_CHARS = 160


class SelfCheckFailed(Exception):
    """The grader failed its own check; the message is one line: chapter, what, expected vs got,
    why."""


class GraderFailure(Exception):
    """Grading one submission failed because of the grader, not the submission: `reason` for the
    flag, `details` (what went wrong, from the worker) for the grade log."""

    def __init__(self, reason: str, details: str = ""):
        super().__init__(reason, details)  # both survive the trip from the worker process
        self.reason, self.details = reason, details

    def __str__(self):
        return self.reason


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    """A check's message on one line: its last non-empty line (where the error is), at most `limit`
    characters."""
    lines = [" ".join(line.split()) for line in str(text).splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def verdict(chapter: str, which: str, results) -> str | None:
    """Why the results of the source ("source") or the blank release ("release") are not what they
    must be (every point / none), naming the first wrong piece; None when they are."""
    if which == "source":
        wrong = [r for r in results if not (r.passed and r.points == r.max_points)]
        expected, what = (lambda r: r.max_points), "the instructor's source notebook"
    else:
        wrong = [r for r in results if r.points != 0]
        expected, what = (lambda r: 0), "the blank release"
    if not wrong:
        return None
    first = wrong[0]
    more = (
        f" (and {len(wrong) - 1} more piece{'s' if len(wrong) > 2 else ''})"
        if len(wrong) > 1
        else ""
    )
    why = (
        shorten(first.message)
        if first.message
        else ("it passes unwritten" if which == "release" else "no message")
    )
    return (
        f"{chapter}: {what} got {first.points:g}/{first.max_points:g} on "
        f"{first.piece} ({first.grade_id}), expected {expected(first):g}{more}: {why}"
    )


def confirm_grader(
    course, chapters: list[str], limits, jobs: int = 1, log=None
) -> dict[str, float]:
    """Check the grader on each chapter (see the module's docstring); SelfCheckFailed on the first
    chapter (in order) that fails. Returns {chapter: seconds of its two confirmations}."""
    import nbformat

    from .chapter_files import problems
    from .grade import die_with_parent

    for chapter in chapters:
        try:
            nbformat.read(course.source_notebook(chapter), as_version=4)
        except Exception as error:  # not JSON (a merge conflict), not a notebook, unreadable
            raise SelfCheckFailed(
                f"{chapter}: the instructor's source notebook {course.source_notebook(chapter)} "
                f"cannot be read ({type(error).__name__}: {shorten(error) or 'no message'})"
            ) from None
        missing = problems(course, chapter, placing=False)
        if missing:
            raise SelfCheckFailed(
                missing[0] + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
    keys = [(c, w) for c in chapters for w in ("source", "release")]
    # processes, not threads: check_pieces parses code with `ast`, which Python 3.11 does not allow
    # in two threads at once ("AST constructor recursion depth mismatch")
    try:
        with ProcessPoolExecutor(
            max_workers=max(1, min(int(jobs or 1), len(keys))),
            mp_context=get_context("fork"),
            initializer=die_with_parent,
        ) as pool:
            outcomes = dict(
                zip(
                    keys,
                    pool.map(
                        confirm_one, [str(course.root)] * len(keys), keys, [limits] * len(keys)
                    ),
                )
            )
    except Exception as error:  # a worker died
        if log:
            log.error("self-check could not run:\n%s", traceback.format_exc())
        raise SelfCheckFailed(
            f"the self-check itself could not run ({type(error).__name__}: "
            f"{shorten(error) or 'no message'})"
        ) from None
    for key in keys:
        line, seconds, details = outcomes[key]
        if log:
            (log.error if line else log.info)(
                "self-check %s %s in %.1f s: %s", *key, seconds, details
            )
    for key in keys:
        if outcomes[key][0]:
            raise SelfCheckFailed(outcomes[key][0])
    return {c: sum(outcomes[c, w][1] for w in ("source", "release")) for c in chapters}


def confirm_one(root: str, key: tuple[str, str], limits) -> tuple[str | None, float, str]:
    """One confirmation of the self-check (in a worker process): the chapter's source ("source") or
    blank release ("release"); (why it fails or None, seconds, what to log)."""
    from .confirm import check_pieces
    from .course import Course

    course, (chapter, which) = Course(Path(root)), key
    notebook = (
        course.source_notebook(chapter)
        if which == "source"
        else course.release_dir(chapter) / f"{chapter}.ipynb"
    )
    started = time.perf_counter()
    try:
        results = check_pieces(
            course.source_notebook(chapter), notebook, limits=limits, chapter=chapter
        )
    except Exception as error:  # a confirmation that cannot start, a notebook it cannot read ...
        what = "the instructor's source notebook" if which == "source" else "the blank release"
        return (
            f"{chapter}: confirming {what} raised "
            f"{type(error).__name__}: {shorten(error) or 'no message'}",
            time.perf_counter() - started,
            traceback.format_exc(),
        )
    return (
        verdict(chapter, which, results),
        time.perf_counter() - started,
        f"{notebook}: "
        f"{[(r.grade_id, r.points, r.max_points, shorten(r.message)) for r in results]}",
    )


def autogrades_blank_release(
    course, scratch: Path, chapter: str, limits, base_gradebook, log: list
) -> bool:
    """Whether nbgrader, run exactly as for a submission, autogrades the chapter's blank release:
    the test that tells a submission nbgrader rejects (True) from an nbgrader that is itself broken
    (False)."""
    from .autograde import autograde_privately

    submitted = scratch / "blank-release"
    submitted.mkdir(parents=True)
    notebook = course.release_dir(chapter) / f"{chapter}.ipynb"
    (submitted / notebook.name).write_bytes(notebook.read_bytes())
    try:
        autograde_privately(
            course,
            scratch / "blank-release-course",
            "blank-release",
            chapter,
            limits,
            base_gradebook,
            submitted,
            log,
        )
    except Exception:
        log.append(
            "nbgrader could not autograde the blank release either:\n" + traceback.format_exc()
        )
        return False
    return True


def reason(error: BaseException) -> str:
    """The flag's reason for a grader failure (no paths: the log has the traceback)."""
    if isinstance(error, GraderFailure):
        return str(error)
    return (
        f"the grader failed on this submission ({type(error).__name__}); its recorded score, "
        "if any, is from an earlier run: see the grade log, fix the cause and grade it again"
    )


def record_grader_failure(course, student: str, chapter: str, error: BaseException):
    """Flag the submission `grader`, keeping its other flags and everything it had recorded; a
    GradeRow with its recorded score (None if it has none)."""
    from nbgrader.api import MissingEntry

    from .record import GradeRow

    kept = [f for f in submission_flags(course, student, chapter) if f.kind != "grader"]
    flags = kept + [Flag(student, chapter, "", "grader", reason(error))]
    replace_flags(course, student, chapter, flags)
    score = max_score = None
    with course.gradebook() as gb:
        try:
            submission = gb.find_submission(chapter, student)
            score, max_score = float(submission.score or 0), float(submission.max_score or 0)
        except MissingEntry:
            pass
    return GradeRow(student, chapter, score, max_score, flags)
