"""Feedback pages: feedback/<student>/<chapter>/<chapter>.html, one per graded submission.

nbgrader's generate_feedback renders the autograded notebook with the score of every graded cell.
SanitizeFeedback (run after ClearHiddenTests, configured in nbgrader_config.py) makes sure a page
shows the learner's code, bounded outputs and each check's message, and never the source of a
hidden test, a traceback into the check library or the reference, or a path of the grading machine:
errors become one line `Name: message`, every output is cut to MAX_OUTPUT_CHARS, only text and
bitmap outputs are kept, and absolute paths become <path>. A page is checked for leaks before it
is kept (`leaks`).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

from .course import Course, quiet_gradebook

MAX_OUTPUT_CHARS = 20_000
MAX_IMAGE_CHARS = 1_000_000  # base64 of a picture
KEPT_MIME = ("text/plain", "image/png", "image/jpeg")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
POSIX_PATH = re.compile(r"(?<![\w.~/\\-])(?:file://)?/(?:[^\s/'\"<>:;,()\[\]{}|]+/)+[^\s/'\"<>:;,()\[\]{}|]*")
WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\(?:[^\s\\'\"<>:;|]+\\)*[^\s\\'\"<>:;|]*")
HOME_PATH = re.compile(r"~/(?:[^\s/'\"<>]+/?)+")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def scrub(text: str) -> str:
    """text without ANSI colours and without absolute paths (each becomes <path>)."""
    text = ANSI.sub("", text)
    for local in sorted({str(Path.home()), sys.prefix, tempfile.gettempdir(), os.getcwd()}, key=len, reverse=True):
        if len(local) > 1:
            text = text.replace(local, "<path>")
    for pattern in (WINDOWS_PATH, POSIX_PATH, HOME_PATH):
        text = pattern.sub("<path>", text)
    return text


def bound(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit:,} more characters not shown]"


def clean_output(output):
    """One output made safe to show: errors as one line, text scrubbed and bounded, only KEPT_MIME."""
    kind = output.get("output_type")
    if kind == "error":
        message = scrub(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
        output["traceback"] = [bound(message)]
        output["evalue"] = bound(scrub(output.get("evalue", "")))
        return output
    if kind == "stream":
        output["text"] = bound(scrub(output.get("text", "")))
        return output
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        kept = {}
        for mime in KEPT_MIME:
            if mime not in data:
                continue
            value = data[mime]
            if mime == "text/plain":
                kept[mime] = bound(scrub(value if isinstance(value, str) else "".join(value)))
            elif len(value) <= MAX_IMAGE_CHARS:
                kept[mime] = value
        if not kept:
            kept["text/plain"] = "[an output that feedback does not show]"
        output["data"] = kept
        output["metadata"] = {}
        return output
    return None


class SanitizeFeedback(Preprocessor):
    """nbconvert preprocessor for feedback: see the module docstring. Also drops any cell still
    holding a hidden-test marker (a hidden block ClearHiddenTests could not remove)."""

    enabled = Bool(True).tag(config=True)  # nbconvert runs only enabled preprocessors
    course_root = Unicode("", help="the course whose confirmation results and flags are shown (set by Course)").tag(
        config=True)

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not any(m in c.source for m in HIDDEN_MARKERS)]
        if self.course_root:
            self.add_flag_notes(nb, resources["nbgrader"]["student"], resources["nbgrader"]["assignment"])
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in (clean_output(o) for o in cell.get("outputs", [])) if o is not None]
            cell.metadata.pop("collapsed", None)
        nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info", "nbgrader")}
        return nb, resources

    def add_flag_notes(self, nb, student, chapter):
        """Under each graded piece's test cell, a note with the points its confirmation gave and the
        check's message (grading/results/<chapter>/<student>.json, written by `grade`) and the reasons
        of its flags; flags of the whole notebook go at the top. The gradebook's points are these."""
        import json

        import nbformat

        from .flags import load_flags

        course = Course(Path(self.course_root))
        results_file = course.grading_dir / "results" / chapter / f"{student}.json"
        pieces = json.loads(results_file.read_text(encoding="utf-8"))["pieces"] if results_file.is_file() else []
        notes = {}
        for piece in pieces:
            verdict = "passes" if piece["passed"] else "does not pass"
            text = f"**Checked on its own, this piece {verdict}: {piece['points']:g} of {piece['max_points']:g} points.**"
            notes[piece["grade_id"]] = [text] + ([fenced(piece["message"])] if piece["message"] else [])
        messages = {p["grade_id"]: p["message"] for p in pieces}
        for flag in load_flags(course):
            if (flag.student, flag.chapter) == (student, chapter) and flag.reason != messages.get(flag.piece):
                notes.setdefault(flag.piece, []).append(f"**Grading note ({flag.kind}):**\n\n{fenced(flag.reason)}")
        for grade_id, lines in notes.items():
            where = next((i + 1 for i, c in enumerate(nb.cells)
                          if grade_id and c.metadata.get("nbgrader", {}).get("grade_id") == grade_id), 0)
            nb.cells.insert(where, nbformat.v4.new_markdown_cell("\n\n".join(lines)))


def fenced(text: str) -> str:
    """text as a Markdown code block (shown verbatim, never rendered as HTML), scrubbed and bounded."""
    return "```\n" + bound(scrub(text), 2000).replace("```", "` ` `") + "\n```"


def leaks(html: str, course: Course, source_nb) -> list[str]:
    """What a feedback page must never contain, if it does: hidden-test source lines, frames of the
    check library or the reference, and paths of this machine."""
    found = []
    for marker in HIDDEN_MARKERS:
        if marker in html:
            found.append(f"hidden-test marker {marker!r}")
    for line in hidden_lines(source_nb):
        if line in html:
            found.append(f"hidden-test line {line!r}")
    for text in (str(course.root), sys.prefix, str(Path.home()), "autograder/checks", "site-packages",
                 'File "', "Traceback (most recent call last)"):
        if len(text) > 1 and text in html:
            found.append(repr(text))
    return found


def hidden_lines(source_nb) -> list[str]:
    """The non-blank lines inside the hidden-test blocks of the instructor's notebook."""
    lines, inside = [], False
    for cell in source_nb.cells:
        for line in cell.source.splitlines():
            if HIDDEN_MARKERS[0] in line:
                inside = True
            elif HIDDEN_MARKERS[1] in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def generate(course: Course, chapters: list[str], students: list[str] | None, progress, log) -> list[list]:
    """Feedback for every autograded submission of the chapters (and students). Returns summary rows
    [student, chapter, score, max, result]; a page that would leak is deleted and reported."""
    import nbformat

    api = course.api()
    work_items = [(s, c) for c in chapters for s in (students or course.students(c))
                  if (course.autograded(s, c) / f"{c}.ipynb").is_file()]
    work = progress(len(work_items), "feedback")
    rows = []
    with course.gradebook() as gb:
        for student, chapter in work_items:
            with quiet_gradebook():
                result = api.generate_feedback(chapter, student, force=True)
            log.info("generate_feedback %s %s: success=%s\n%s", student, chapter, result.get("success"),
                     result.get("log", ""))
            page = course.feedback_dir(student, chapter) / f"{chapter}.html"
            submission = gb.find_submission(chapter, student)
            outcome = "written"
            if not result.get("success") or not page.is_file():
                outcome = "failed (see the log)"
            else:
                found = leaks(page.read_text(encoding="utf-8"), course,
                              nbformat.read(course.source_notebook(chapter), as_version=4))
                if found:
                    page.unlink()
                    outcome = "withheld: would show " + ", ".join(found)
                    log.error("feedback %s %s withheld: %s", student, chapter, found)
            rows.append([student, chapter, submission.score, submission.max_score, outcome])
            work.advance(f"{student} {chapter}")
    return rows
