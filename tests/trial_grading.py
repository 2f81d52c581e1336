"""Trial grading of a chapter with nbgrader, in a throwaway course directory.

    .venv/bin/python tests/trial_grading.py [NN ...] [--keep DIR]

For each chapter this copies chapters/NN_name into a temporary course (configured by the
repository's nbgrader_config.py, with the root moved), releases it with nbgrader's
generate_assignment, and autogrades a set of made-up learners in one loop:

- `source`: the instructor's notebook submitted as is (should score full marks on every
  automatically graded cell; written answers are left for grading by hand);
- `release`: the learners' version submitted untouched (should score 0);
- `wrong_<piece>`: the release with every solution filled in from the source except <piece>,
  which keeps the release stub `raise NotImplementedError()` (should lose exactly the points of
  the hidden cells that grade <piece>).

It prints a table of scores per hidden cell. The tests' support code:
tests/authoring/test_chapters.py, test_browser.py and test_published.py use it; the course itself
(nbgrader's configuration and API, the gradebook) is autograder.pipeline.course's Course.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.command_line import Parser, UsageError, run
from autograder.notebook_format import (
    UnknownChapter,
    chapter_names,
    graded_pieces,
    is_grade,
    is_written_answer,
    nbgrader_meta,
    points,
    resolve_chapters,
    submission,
)
from autograder.pipeline.course import Course, quiet_gradebook

PROG = "tests/trial_grading.py"
ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = ROOT / "nbgrader_config.py"
CHAPTERS = ROOT / "chapters"


class GradingError(Exception):
    """An nbgrader step failed; the message ends with the tail of its log."""


# --------------------------------------------------------------------------- notebook helpers


def written_answers(nb):
    """grade_ids of the answers graded by hand."""
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if is_written_answer(c)]


def pieces(nb):
    """[(exercise grade_id, [grade_ids of the tests cells that grade it])]
    (notebook_format.graded_pieces)."""
    found = {}
    for piece in graded_pieces(nb):
        found.setdefault(piece.solution_id, []).append(piece.grade_id)
    return list(found.items())


# --------------------------------------------------------------------------- the trial course


class TrialCourse:
    """A temporary nbgrader course holding one chapter as its only assignment."""

    def __init__(self, chapter_folder, root):
        self.chapter = Path(chapter_folder)
        self.assignment = self.chapter.name
        self.root = Path(root)
        target = self.root / "chapters" / self.assignment
        shutil.copytree(
            self.chapter, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
        )
        shutil.copy(CONFIG_FILE, self.root / CONFIG_FILE.name)
        self.course = Course(self.root)
        self.api = self.course.api()
        self.source_nb = nbformat.read(target / f"{self.assignment}.ipynb", as_version=4)

    @property
    def release_dir(self):
        return self.root / "release" / self.assignment

    def release(self):
        """Run generate_assignment; returns the released notebook."""
        with quiet_gradebook():
            self._run(
                "generate_assignment", self.api.generate_assignment(self.assignment, force=True)
            )
        return nbformat.read(self.release_dir / f"{self.assignment}.ipynb", as_version=4)

    def submit(self, student, nb):
        folder = self.root / "submitted" / student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{self.assignment}.ipynb")

    def autograde(self, student):
        with quiet_gradebook():
            self._run(
                f"autograde of {student}", self.api.autograde(self.assignment, student, force=True)
            )

    def grades(self, student):
        """grade_id -> (score, max_score, needs_manual_grade) of every grade cell."""
        with self.course.gradebook() as gb:
            nb = gb.find_submission_notebook(self.assignment, self.assignment, student)
            return {g.name: (g.score, g.max_score, g.needs_manual_grade) for g in nb.grades}

    def total(self, student):
        """(score, max_score) of a submission."""
        with self.course.gradebook() as gb:
            sub = gb.find_submission(self.assignment, student)
            return sub.score, sub.max_score

    def validate(self, name, nb):
        """What nbgrader's validate (the Validate button) says of nb, run beside the release's
        files: ("failed" or "passed", [grade_id of each failing tests cell])."""
        from nbgrader.validator import Validator

        folder = self.root / "validate" / name
        shutil.copytree(self.release_dir, folder, dirs_exist_ok=True)
        path = folder / f"{self.assignment}.ipynb"
        nbformat.write(nb, path)
        with quiet_gradebook():
            results = Validator(config=self.course.config).validate(str(path))
        graded = [(c.source.strip(), nbgrader_meta(c)["grade_id"]) for c in nb.cells if is_grade(c)]
        failed = []
        # in notebook order; unanswered written answers share a text
        for cell in results.get("failed", []):
            match = next(pair for pair in graded if pair[0] == cell["source"])
            graded.remove(match)
            failed.append(match[1])
        return ("failed" if failed or set(results) - {"failed"} else "passed"), failed

    def feedback(self, student):
        """The HTML feedback of an autograded student."""
        with quiet_gradebook():
            self._run(
                f"feedback for {student}",
                self.api.generate_feedback(self.assignment, student, force=True),
            )
        path = self.root / "feedback" / student / self.assignment / f"{self.assignment}.html"
        return path.read_text(encoding="utf-8")

    def _run(self, what, result):
        if not result.get("success"):
            log = (result.get("log") or "") + "\n" + (result.get("error") or "")
            tail = "\n".join(log.strip().splitlines()[-40:])
            raise GradingError(f"{self.assignment}: {what} failed:\n{tail}")


@dataclass
class TrialResult:
    assignment: str
    source_nb: object
    release_nb: object
    release_files: list
    pieces: list  # [(solution id, [grade ids])] of the automatically graded exercises
    points: dict  # grade id -> points, every graded cell
    manual: list  # grade ids of the written answers, graded by hand
    grades: dict = field(default_factory=dict)  # student -> {grade id -> (score, max, manual)}
    totals: dict = field(default_factory=dict)  # student -> (score, max)
    seconds: dict = field(default_factory=dict)  # step -> seconds
    course: object = None

    @property
    def max_points(self):
        return sum(self.points.values())

    @property
    def auto_points(self):
        """The points graded automatically (the written answers' points left out)."""
        return self.max_points - sum(self.points[g] for g in self.manual)

    def lost(self, student):
        """automatically graded cells where the student scored below the cell's points."""
        return sorted(
            g
            for g, (score, mx, _) in self.grades[student].items()
            if g not in self.manual and score < mx
        )


def trial_grade(chapter_folder, root, log=None):
    """Release the chapter in a course at `root` and autograde source, release and one
    submission per solution piece done wrong. Returns a TrialResult."""
    started = time.perf_counter()
    course = TrialCourse(chapter_folder, root)
    release_nb = course.release()
    released = time.perf_counter()
    result = TrialResult(
        assignment=course.assignment,
        source_nb=course.source_nb,
        release_nb=release_nb,
        release_files=sorted(
            str(p.relative_to(course.release_dir))
            for p in course.release_dir.rglob("*")
            if p.is_file()
        ),
        pieces=pieces(course.source_nb),
        points=points(course.source_nb),
        manual=written_answers(course.source_nb),
        course=course,
    )
    students = {"source": course.source_nb, "release": release_nb}
    for piece, _ in result.pieces:
        students[f"wrong_{piece}"] = submission(course.source_nb, release_nb, stubs={piece})
    for student, nb in students.items():
        course.submit(student, nb)
        t0 = time.perf_counter()
        course.autograde(student)
        result.seconds[f"autograde {student}"] = time.perf_counter() - t0
        result.grades[student] = course.grades(student)
        result.totals[student] = course.total(student)
        if log:
            score, mx = result.totals[student]
            log(
                f"{course.assignment}: {student}: {score:g}/{mx:g} "
                f"({result.seconds[f'autograde {student}']:.1f} s)"
            )
    result.seconds["release"] = released - started
    result.seconds["total"] = time.perf_counter() - started
    return result


def report(result):
    """A text table: one row per student, one column per grade cell."""
    ids = list(result.points)
    width = max(len(s) for s in result.grades)
    lines = [
        f"{result.assignment}: {len(ids)} graded cells, {result.max_points:g} points",
        " " * width + "  " + "  ".join(ids) + "  total",
    ]
    for student, grades in result.grades.items():
        cells = "  ".join(
            f"{'by hand' if g in result.manual else format(grades[g][0], 'g'):>{len(g)}}"
            for g in ids
        )
        score, mx = result.totals[student]
        lines.append(f"{student:<{width}}  {cells}  {score:g}/{mx:g}")
    lines.append(
        f"release {result.seconds['release']:.1f} s, everything {result.seconds['total']:.1f} s"
    )
    return "\n".join(lines)


def main(argv=None):
    """Trial-grade the chapters argv names and print their tables: the exit code."""
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument(
        "chapters", nargs="*", metavar="NN", help="chapters (default: all in chapters/)"
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="build the trial courses in DIR and keep them"
    )
    args = parser.parse_args(argv)
    names = chapter_names(CHAPTERS)
    try:
        folders = [
            CHAPTERS / name for name in (resolve_chapters(args.chapters, names, CHAPTERS) or names)
        ]
    except UnknownChapter as exc:
        raise UsageError(exc) from None
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="microgpt-grading-"))
    try:
        for folder in folders:
            root = base / folder.name
            if root.exists():
                shutil.rmtree(root)
            result = trial_grade(folder, root)
            print(report(result))
    except GradingError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(run(PROG, main))
