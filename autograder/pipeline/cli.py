"""The console command `microgpt-course` (also `python -m autograder`): one subcommand per step.

Non-interactive. Bad input exits 2 with one line `microgpt-course: error: ...` (the project's
convention, autograder/command_line.py); a step that runs but fails exits 1; every run writes
grading/logs/<timestamp>-<command>.log. Progress goes to stderr (a bar on a terminal, periodic lines
otherwise), the summary table to stdout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

# jsonschema (under nbformat and nbgrader) imports rfc3987_syntax when it is installed, which builds
# a grammar for 2-3 s at import, for an IRI format check no notebook or gradebook uses: skip it
sys.modules.setdefault("rfc3987_syntax", None)

from ..command_line import Parser, UsageError, run  # noqa: E402
from .course import CONFIG_NAME, REPOSITORY, Course, find_course_root, hide_password  # noqa: E402

try:
    from .progress import progress_factory, table  # noqa: E402  (imports the reference, microgpt)
# a broken install of the course itself: one line, not a traceback
except (ImportError, SyntaxError) as error:
    what = (
        f"{error.msg} ({Path(error.filename or '?').name}, line {error.lineno})"
        if isinstance(error, SyntaxError)
        else str(error)
    )
    sys.exit(
        f"microgpt-course: the course's own code cannot be loaded: {type(error).__name__}: {what}; "
        f"reinstall it (make setup)"
    )

PROG = "microgpt-course"


def _jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


_jobs.__name__ = "number of workers"


def _shard(text):
    from .grade import Shard

    try:
        return Shard.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_shard.__name__ = "shard"
# the commands that read or write the gradebook: each takes --db
GRADEBOOK_COMMANDS = ("release", "grade", "feedback", "export", "status", "report")


def build_parser():
    from .collect import DEFAULT_PATTERN
    from .export import CANVAS_ID_COLUMNS, FORMATS

    parser = Parser(
        prog=PROG,
        description="Run the microgpt course: learner workspace, release, collect, "
        "grade, feedback, export, self-check, status, report, gradescope, site.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {project_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=Parser, metavar="COMMAND"
    )

    def command(name, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--course",
            metavar="DIR",
            type=Path,
            default=None,
            help="the course directory (default: the one holding the current folder)",
        )
        if name in GRADEBOOK_COMMANDS:
            sub.add_argument(
                "--db",
                metavar="URL",
                default=None,
                help="the gradebook's database, e.g. postgresql://USER@HOST/DATABASE (default: "
                "c.CourseDirectory.db_url of nbgrader_config.py, else gradebook.db)",
            )
        return sub

    s = command(
        "start",
        "make your workspace (the chapters' learner versions) and open JupyterLab on chapter 1",
    )
    s.add_argument(
        "--dir", metavar="DIR", type=Path, help="where to put the workspace (default: workspace/)"
    )
    s.add_argument(
        "--no-browser", action="store_true", help="start JupyterLab without opening a browser"
    )
    s.add_argument(
        "--no-lab", action="store_true", help="only make the workspace; do not start JupyterLab"
    )

    s = command("release", "make the learner versions in release/ (all chapters by default)")
    s.add_argument(
        "chapters", nargs="*", metavar="CHAPTER", help="1, 01 or 01_autograd (default: all)"
    )

    s = command(
        "collect", "place submissions (per-student folders or LMS zip files) into submitted/"
    )
    s.add_argument("path", metavar="PATH", type=Path, help="a folder, or a zip file of one")
    s.add_argument(
        "--pattern",
        default=DEFAULT_PATTERN,
        help=(
            f"file names of an LMS export; {{student}}, {{chapter}}, * (default: {DEFAULT_PATTERN})"
        ),
    )
    s.add_argument("--chapter", help="the chapter, when the pattern has no {chapter}")

    s = command(
        "grade", "auto-grade every submission, sandboxed and confirmed, students in parallel"
    )
    s.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: every released chapter")
    s.add_argument(
        "--student", action="append", metavar="ID", help="only these students (repeatable)"
    )
    s.add_argument(
        "--jobs",
        type=_jobs,
        default=os.cpu_count() or 1,
        help="parallel workers (default: one per core)",
    )
    s.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="only part K of N of the students (fixed by a hash of each id), so N machines sharing "
        "one PostgreSQL gradebook grade the class together",
    )
    add_limit_options(s)

    s = command(
        "feedback", "write feedback/<student>/<chapter>/<chapter>.html for graded submissions"
    )
    s.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: every released chapter")
    s.add_argument(
        "--student", action="append", metavar="ID", help="only these students (repeatable)"
    )

    s = command("export", "grades as CSV: student, chapter, score, max, flags, and totals")
    s.add_argument(
        "--format",
        choices=FORMATS,
        default="csv",
        help="csv: a row per student and chapter (default); wide: a row per student (Moodle); "
        "canvas: Canvas's gradebook import",
    )
    s.add_argument(
        "--canvas-id",
        choices=CANVAS_ID_COLUMNS,
        default=None,
        help="with --format canvas, the Canvas column your student ids are: "
        + ", ".join(f"{k} ({v})" for k, v in CANVAS_ID_COLUMNS.items())
        + "; default login",
    )
    s.add_argument(
        "--output", metavar="FILE", type=Path, help="write to FILE instead of standard output"
    )

    s = command(
        "check", "check your notebook against the hidden checks, piece by piece (no grades kept)"
    )
    s.add_argument("chapter", metavar="CHAPTER", help="1, 01 or 01_autograd")
    s.add_argument(
        "notebook",
        metavar="NOTEBOOK",
        nargs="?",
        type=Path,
        help="default: workspace/NN_name/NN_name.ipynb",
    )

    command("status", "per chapter: released, submitted, graded, flagged, manual grading, fed back")

    s = command(
        "gradescope",
        "write gradescope/NN_name.zip: an autograder for Gradescope with the same judge",
    )
    s.add_argument("chapters", nargs="+", metavar="CHAPTER", help="1, 01 or 01_autograd")
    s.add_argument(
        "--output",
        metavar="DIR",
        type=Path,
        help="where to write the zip files (default: gradescope/)",
    )
    add_limit_options(s)

    s = command(
        "report",
        "an HTML page of the class: score distributions, each piece's full/partial/no points "
        "and most frequent messages, flags, grading time",
    )
    s.add_argument(
        "chapters", nargs="*", metavar="CHAPTER", help="default: every chapter with grades"
    )
    s.add_argument(
        "--output", metavar="DIR", type=Path, help="write DIR/index.html (default: grading/report/)"
    )
    s.add_argument(
        "--names", action="store_true", help="show which students (default: counts only)"
    )

    s = command(
        "site", "build the course as a static JupyterLite site: every chapter runs in the browser"
    )
    s.add_argument(
        "--output", metavar="DIR", type=Path, help="where to build it (default: build/site/)"
    )
    return parser


def _amount(text):
    """A positive number, with an optional K, M or G (binary) for byte limits: 512M, 2G, 1.5e6."""
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    try:
        value = float(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        value = None
    if value is None or not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"must be a positive number (bytes may end in K, M or G), got {text!r}"
        )
    return int(value) if value == int(value) else value


_amount.__name__ = "limit"


def add_limit_options(parser):
    """--NAME VALUE for every grading limit (sandbox.Limits), overriding nbgrader_config.py's."""
    from dataclasses import fields

    from .sandbox import Limits

    group = parser.add_argument_group(
        "grading limits", "each overrides c.GradingLimits.NAME of nbgrader_config.py"
    )
    for limit in fields(Limits):
        group.add_argument(
            f"--{limit.name.replace('_', '-')}",
            dest=f"limit_{limit.name}",
            type=_amount,
            metavar="N",
            help=f"{limit.metadata['help']} (default: {shown(limit)})",
        )


def shown(limit) -> str:
    """A limit's default as a person writes it: 2G, 256M, 2,000,000, 120."""
    value = limit.default
    if limit.name.endswith("_bytes"):
        for suffix, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
            if value % scale == 0:
                return f"{value // scale}{suffix}"
    return f"{value:,g}" if isinstance(value, float) else f"{value:,}"


def limit_overrides(args) -> dict:
    """The grading limits given on the command line: {name: value}."""
    prefix = "limit_"
    return {
        k[len(prefix) :]: v for k, v in vars(args).items() if k.startswith(prefix) and v is not None
    }


def course_of(args) -> Course:
    """The course the command works on: --course, else the course directory holding the current
    folder. A learner's `start` and `check` fall back to the course this code came with (an editable
    install)."""
    root = args.course or find_course_root(Path.cwd())
    if (
        root is None
        and args.command in ("start", "check")
        and find_course_root(REPOSITORY) == REPOSITORY
    ):
        root = REPOSITORY
    if root is None:
        raise UsageError(
            f"{Path.cwd()} is not in a course directory (a folder holding {CONFIG_NAME} and "
            f"chapters/): run {PROG} there, or give --course DIR"
        )
    course = Course(root, getattr(args, "db", None))
    if args.command in GRADEBOOK_COMMANDS:
        course.reach_gradebook()
    return course


def project_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("microgpt-course")
    except PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------- the commands


def run_start(course, args, log, progress):
    from ..learner import learner_jupyter_env
    from .release import make_workspace

    target = (args.dir if args.dir else course.workspace).resolve()
    if target.exists() and not target.is_dir():
        raise UsageError(f"--dir {args.dir} is a file, not a folder")
    rows = make_workspace(course, target, progress, log)
    print(table(["chapter", "files added", "kept (yours)"], rows))
    first = course.chapters()[0]
    print(f"workspace: {target}")
    if args.no_lab:
        print(f"open it with: jupyter lab {target / first / f'{first}.ipynb'}")
        return 0
    lab = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={target}",
        f"--LabApp.default_url=/lab/tree/{first}/{first}.ipynb",
    ]
    if args.no_browser:
        lab.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        lab.append("--allow-root")  # containers run as root; JupyterLab refuses without it
    log.info("starting %s in %s", lab, target)
    return subprocess.call(lab, cwd=target, env=learner_jupyter_env(os.environ))


def run_release(course, args, log, progress):
    from .release import release

    chapters = course.resolve(args.chapters) if args.chapters else course.chapters()
    rows = release(course, chapters, progress, log)
    print(table(["chapter", "files", "points", "seconds"], rows))
    return 0


def run_collect(course, args, log, progress):
    from .collect import collect

    result = collect(course, args.path, args.pattern, args.chapter, log, progress)
    if result.placed:
        print(table(["student", "chapter", "from", "submission"], [list(r) for r in result.placed]))
    for name, reason in result.skipped:
        print(f"could not place {name}: {reason}")
    print(f"placed {len(result.placed)}, could not place {len(result.skipped)}")
    return 0 if result.placed else 1


def graded_scope(course, args):
    """The chapters (released ones named, or all released) and students (with a submission) to work
    on."""
    released = course.released()
    chapters = course.resolve(args.chapters) if args.chapters else released
    missing = [c for c in chapters if c not in released]
    if missing:
        raise UsageError(f"not released yet: {', '.join(missing)} (run {PROG} release first)")
    if not chapters:
        raise UsageError(f"no chapter is released yet (run {PROG} release first)")
    students = args.student
    if students:
        known = set(course.students())
        unknown = [s for s in students if s not in known]
        if unknown:
            raise UsageError(
                f"no submission from {', '.join(unknown)} in {course.root / 'submitted'}"
            )
    return chapters, students


def run_grade(course, args, log, progress):
    limits = course.limits(limit_overrides(args))
    if args.shard and not course.shared_gradebook:
        raise UsageError(
            f"--shard {args.shard} needs a gradebook all shards share: PostgreSQL (--db "
            f"postgresql://USER@HOST/DATABASE); with a SQLite gradebook, grade on one machine"
        )
    chapters, students = graded_scope(course, args)
    from .grade import grade
    from .selfcheck import SelfCheckFailed

    try:
        summary = grade(
            course,
            chapters,
            students,
            args.jobs,
            progress,
            log=log,
            limits=limits,
            shard=args.shard,
        )
    except SelfCheckFailed as failed:  # nothing was graded or recorded
        log.error("self-check failed: %s", failed)
        print(
            f"{PROG}: grader self-check failed, nothing graded: {' '.join(str(failed).split())}",
            file=sys.stderr,
        )
        return 1
    print(summary.table())
    return 1 if summary.grader_failures or summary.skipped else 0


def run_feedback(course, args, log, progress):
    from .feedback import generate

    chapters, students = graded_scope(course, args)
    rows = generate(course, chapters, students, progress, log)
    if not rows:
        print("no graded submission to give feedback on (run grade first)")
        return 1
    print(table(["student", "chapter", "score", "max", "by hand, pending", "feedback"], rows))
    if any(r[4] for r in rows):
        print(
            "pending: written answers not graded by hand yet (formgrader); their pages say so: "
            f"run {PROG} feedback again once they are graded"
        )
    return 0 if all(r[-1] == "written" for r in rows) else 1


def run_export(course, args, log, progress):
    from .export import canvas_notes, grade_rows, render

    if args.output and not args.output.parent.resolve().is_dir():
        raise UsageError(f"--output {args.output}: folder {args.output.parent} does not exist")
    if args.canvas_id and args.format != "canvas":
        raise UsageError(f"--canvas-id is for --format canvas, not --format {args.format}")
    rows = grade_rows(course)
    text = render(rows, args.format, args.canvas_id or "login")
    # the file has no flags column (Canvas would import it as an assignment)
    if args.format == "canvas":
        for note in canvas_notes(rows):
            print(f"look at: {note}", file=sys.stderr)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
        print(
            f"wrote {len(rows)} rows ({len({r.student for r in rows})} students) to {args.output}"
        )
    else:
        sys.stdout.write(text)
    log.info("exported %d rows", len(rows))
    return 0


def run_check(course, args, log, progress):
    import nbformat

    chapter = course.resolve([args.chapter])[0]
    notebook = args.notebook or course.workspace / chapter / f"{chapter}.ipynb"
    if not notebook.is_file():
        raise UsageError(
            f"no notebook {notebook}"
            + ("" if args.notebook else " (run start, or name the notebook)")
        )
    try:
        nbformat.read(notebook, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a file that is not a notebook
        raise UsageError(
            f"{notebook} is not a readable notebook: {str(exc).splitlines()[0][:200]}"
        ) from None
    from ..notebook_format import hand_graded
    from .confirm import check_pieces
    from .sandbox import UNCONFINED

    started = time.perf_counter()
    # the learner's own code on the learner's own machine: the policy applies, bubblewrap is not
    # needed
    results = check_pieces(
        course.source_notebook(chapter), notebook, confinement=UNCONFINED, chapter=chapter
    )
    by_hand = hand_graded(nbformat.read(course.source_notebook(chapter), as_version=4))
    rows = [
        [r.piece, r.points, r.max_points, "pass" if r.passed else "FAIL", r.message]
        for r in results
    ]
    rows += [
        [answer, "", points, "by hand", "your instructor grades this answer; no check can"]
        for answer, points in by_hand.items()
    ]
    print(table(["piece", "points", "max", "result", "message"], rows))
    score, maximum = sum(r.points for r in results), sum(r.max_points for r in results)
    passed = all(r.passed for r in results)
    later = (
        f"; {sum(by_hand.values()):g} more points ({len(by_hand)} "
        "answers) are graded by hand by your instructor"
        if by_hand
        else ""
    )
    print(
        f"{chapter}: {score:g}/{maximum:g} points, "
        f"{'every piece passes' if passed else 'not every piece passes'}{later} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    log.info("check %s %s: %s", chapter, notebook, [(r.piece, r.points, r.passed) for r in results])
    return 0 if passed else 1


def run_status(course, args, log, progress):
    from .status import HEADERS, status_rows

    print(table(HEADERS, status_rows(course)))
    return 0


def run_gradescope(course, args, log, progress):
    from .gradescope import build

    chapters = course.resolve(args.chapters)
    output = (args.output or course.root / "gradescope").resolve()
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {args.output} is a file, not a folder")
    limits = course.limits(limit_overrides(args))
    bar = progress(len(chapters), "gradescope")
    rows = []
    for chapter in chapters:
        started = time.perf_counter()
        path, size = build(course, chapter, output, log, limits)
        rows.append(
            [chapter, str(path), f"{size / 1e6:.1f} MB", f"{time.perf_counter() - started:.1f}"]
        )
        bar.advance(chapter)
    print(table(["chapter", "autograder zip", "size", "seconds"], rows))
    print(
        f"{len(rows)} autograder zip(s) in {output}: upload each to its Gradescope assignment "
        f'(Ubuntu 24.04 base image); see INSTRUCTORS.md, "Gradescope"'
    )
    return 0


def run_report(course, args, log, progress):
    from .report import write_report

    chapters = course.resolve(args.chapters) if args.chapters else None
    _, summary = write_report(course, chapters, args.output, args.names, progress, log)
    print(summary)
    return 0


def run_site(course, args, log, progress):
    from .site import build_site

    output = (args.output or course.root / "build" / "site").resolve()
    summary = build_site(course, output, progress, log)
    print(
        table(
            ["chapter", "time", "points"],
            [[r["chapter"], r["time"], r["points"]] for r in summary["chapters"]],
        )
    )
    print(
        f"site: {output} ({summary['files']} files, {summary['bytes'] / 1e6:.1f} MB; "
        f"{len(summary['chapters'])} chapters, {summary['points']:g} points; "
        f"{len(summary['bundled'])} kernel wheels bundled) in {summary['seconds']:.0f} "
        f"s; serve it from any static host, e.g. python -m http.server -d {output}"
    )
    return 0


COMMANDS = {
    "start": run_start,
    "release": run_release,
    "collect": run_collect,
    "grade": run_grade,
    "feedback": run_feedback,
    "export": run_export,
    "check": run_check,
    "status": run_status,
    "gradescope": run_gradescope,
    "report": run_report,
    "site": run_site,
}


def main(argv=None):
    return run(PROG, lambda: run_command(argv))


def run_command(argv):
    """Parse argv and run its command, logged; a step that fails is one line here, its traceback in
    the log."""
    log, log_path = None, None
    try:
        args = build_parser().parse_args(argv)
        course = course_of(args)
        log, log_path = course.open_log(args.command)
        log.info(
            "%s %s (course %s)",
            PROG,
            hide_password(" ".join(sys.argv[1:] if argv is None else argv)),
            course.root,
        )
        code = COMMANDS[args.command](course, args, log, progress_factory())
        log.info("exit %d", code)
        return code
    except UsageError as exc:
        if log:
            log.error("usage: %s", exc)
        raise
    except Exception as exc:  # a step failed: one line here, the traceback in the log
        if log:
            log.error("failed:\n%s", hide_password(traceback.format_exc()))
        where = f" (details: {log_path})" if log_path else ""
        first = hide_password(str(exc).splitlines()[0]) if str(exc) else ""
        print(f"{PROG}: failed: {type(exc).__name__}: {first}{where}", file=sys.stderr)
        return 1
