"""Speed of `grade` (sandbox and judge on) against plain sequential `nbgrader autograde`.

    python benchmarks/grade_speed.py [--students 20] [--jobs 2]

Makes two identical throwaway courses from chapters/ (every chapter with a notebook), releases every
chapter, and hands in one notebook per student, the students spread over the chapters in turn (even
students complete, odd ones with their last piece left as the stub). Then, in the same run: plain
nbgrader (`nbgrader autograde CHAPTER`, one command per chapter, students one after the other) on
one course, and `grade --jobs N` on the other. Prints wall and CPU seconds per notebook both ways
(CPU of every process involved, so the figure holds on a loaded machine), the ratios, whether both
gave the same scores, and the time of a learner's `microgpt-course check` of each chapter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.command_line import Parser, run  # noqa: E402
from autograder.notebook_format import is_exercise, nbgrader_meta, submission as filled  # noqa: E402
from autograder.pipeline.course import (  # noqa: E402
    Course,
    copy_chapter_sources,
    ensure_tools_on_path,
    quiet_gradebook,
)
from autograder.pipeline.grade import grade  # noqa: E402


def submission(source_nb, release_nb, leave_last_stub: bool):
    """The release with each exercise filled in from the instructor's source (the last one kept a
    stub if asked)."""
    exercises = [nbgrader_meta(c)["grade_id"] for c in release_nb.cells if is_exercise(c)]
    return filled(source_nb, release_nb, stubs=exercises[-1:] if leave_last_stub else ())


def make_course(target: Path, students: int) -> tuple[Course, dict]:
    course = copy_chapter_sources(ROOT, target)
    chapters = course.chapters()
    api = course.api()
    for chapter in chapters:
        with quiet_gradebook():
            assert api.generate_assignment(chapter, force=True)["success"], chapter
    handed_in = {}
    for index in range(students):
        chapter = chapters[index % len(chapters)]
        student = f"student{index:02d}"
        source = nbformat.read(course.source_notebook(chapter), as_version=4)
        release = nbformat.read(course.release_dir(chapter) / f"{chapter}.ipynb", as_version=4)
        folder = course.submitted(student, chapter)
        folder.mkdir(parents=True)
        nbformat.write(submission(source, release, index % 2 == 1), folder / f"{chapter}.ipynb")
        handed_in.setdefault(chapter, []).append(student)
    return course, handed_in


def scores(course: Course, handed_in: dict) -> dict:
    with quiet_gradebook(), course.gradebook() as gb:
        return {
            (s, c): gb.find_submission(c, s).score
            for c, students in handed_in.items()
            for s in students
        }


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of every process it started and waited for (the
    grading workers, their sandboxes, nbgrader and its kernels): a figure that holds on a loaded
    machine."""
    import resource

    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


PROG = "benchmarks/grade_speed.py"


def main(argv=None):
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    ensure_tools_on_path()
    base = Path(tempfile.mkdtemp(prefix="microgpt-grade-speed-"))
    try:
        plain, handed_in = make_course(base / "plain", args.students)
        ours, _ = make_course(base / "ours", args.students)
        notebooks = sum(len(s) for s in handed_in.values())
        print(
            f"{notebooks} notebooks over {len(handed_in)} chapters ({', '.join(handed_in)}), "
            f"{os.cpu_count()} cores, load average %.2f %.2f %.2f" % os.getloadavg()
        )

        started, cpu = time.perf_counter(), cpu_seconds()
        for chapter in handed_in:
            subprocess.run(
                ["nbgrader", "autograde", chapter, "--force"],
                cwd=plain.root,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        nbgrader_seconds, nbgrader_cpu = time.perf_counter() - started, cpu_seconds() - cpu

        started, cpu = time.perf_counter(), cpu_seconds()
        summary = grade(ours, list(handed_in), None, args.jobs)
        grade_seconds, grade_cpu = time.perf_counter() - started, cpu_seconds() - cpu

        same = scores(plain, handed_in) == scores(ours, handed_in)
        print(
            f"plain nbgrader autograde, sequential: {nbgrader_seconds / notebooks:.2f} "
            f"s per notebook ({nbgrader_seconds:.1f} s), CPU "
            f"{nbgrader_cpu / notebooks:.2f} s per notebook"
        )
        print(
            f"grade --jobs {args.jobs} (sandbox + judge): {grade_seconds / notebooks:.2f} s per "
            f"notebook ({grade_seconds:.1f} s), CPU {grade_cpu / notebooks:.2f} s per notebook"
        )
        print(
            f"wall ratio: {nbgrader_seconds / grade_seconds:.2f}x; CPU: grade "
            f"uses {grade_cpu / nbgrader_cpu:.2f}x nbgrader's; same scores: "
            f"{same}; flagged: {sum(1 for r in summary.rows if r.flags)}"
        )

        for chapter, students in handed_in.items():  # the learner's command, start to end
            learner = ours.submitted(students[0], chapter) / f"{chapter}.ipynb"
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "autograder",
                    "check",
                    "--course",
                    str(ours.root),
                    chapter,
                    str(learner),
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            print(
                f"microgpt-course check {chapter}: "
                f"{time.perf_counter() - started:.2f} s (exit {done.returncode}: "
                f"{(done.stdout.strip().splitlines() or [done.stderr.strip()])[-1]})"
            )
        print("load average (1, 5, 15 min) at the end: %.2f %.2f %.2f" % os.getloadavg())
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(run(PROG, main))
