"""`grade`: sandboxed nbgrader autograde of every submission, judged piece by piece, into the gradebook.

First the grader checks itself on every chapter to grade (selfcheck.py): a failure stops `grade`
before anything is recorded; a submission the grader fails on later is flagged `grader`, not scored.

Per (student, chapter), in a worker process (students in parallel, `jobs` workers):
1. a private course under grading/work/ holds copies of the chapter's non-notebook files, of the
   student's submitted regular files (links, FIFOs and other special files are never opened; sizes
   capped) and of the gradebook; nbgrader's real Autograde runs on it, with its Execute step replaced
   by SandboxedExecute: the kernel runs in the sandbox (sandbox.py) in a size-capped tmpfs of its own,
   given a read-only view of the private autograded folder; the outputs come back through a pipe
   (readback.py). No host folder is writable in the sandbox, so every file nbgrader, `record` and
   feedback later copy, chmod or write is one the host wrote itself;
2. every automatically graded piece is judged (confirm.py, judge.py), and the kernel's result compared;
3. the main process writes, one submission at a time: the autograded folder (swapped in by rename),
   each grade cell's auto_score = the judged points (manual scores are kept), the flags and the
   judge's messages (grading/results/CHAPTER/STUDENT.json). Every run regrades what it is asked
   to, so a run killed at any moment and run again ends with the same gradebook as one uninterrupted run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

from . import readback, sandbox
from .confirm import PieceResult, check_pieces, graded_pieces, read_notebook
from .course import Course, UsageError, quiet_gradebook
from .flags import Flag, replace_flags, write_atomically
from .selfcheck import GraderFailure, autogrades_blank_release, confirm_grader, record_grader_failure

MAX_NOTEBOOK_BYTES = 20 << 20   # a submitted notebook larger than this is not read
MAX_SUBMITTED_FILE_BYTES = MAX_NOTEBOOK_BYTES   # a submitted file larger than this is not copied
MAX_SUBMITTED_BYTES = 64 << 20  # submitted files copied at most, together
MAX_SUBMITTED_FILES = 1_000     # submitted files copied at most
MAX_CHAPTER_FILE_BYTES = 1 << 30  # a chapter's own file (the instructor's) larger than this is not copied
NOTEBOOK_RUNNER = Path(__file__).resolve().parent / "run_notebook.py"
RUNNER_INSIDE = "/grader/run_notebook.py"  # no host path inside the sandbox
GIVEN_INSIDE = "/grader/given"  # the private autograded folder, read-only


@dataclass
class GradeRow:
    student: str
    chapter: str
    score: float
    max_score: float
    flags: list = field(default_factory=list)


@dataclass
class GradeSummary:
    rows: list
    warning: str | None = None
    log_path: Path | None = None
    seconds: float = 0.0

    def table(self) -> str:
        """One line per graded submission: student, chapter, score, max, flags (by kind and piece)."""
        from .progress import table

        body = table(["student", "chapter", "score", "max", "flags"],
                     [[r.student, r.chapter, r.score, r.max_score, "; ".join(f.short()[:160] for f in r.flags)]
                      for r in self.rows])
        flagged = sum(1 for r in self.rows if r.flags)
        text = f"{body}\n{len(self.rows)} submission(s) graded, {flagged} flagged, in {self.seconds:.1f} s"
        if self.log_path:
            text += f"; log: {self.log_path}"
        if self.grader_failures:
            text += (f"\nthe grader failed on {len(self.grader_failures)}: "
                     + ", ".join(f"{r.student} {r.chapter}" for r in self.grader_failures)
                     + " (flagged `grader`, their recorded scores left as they were: fix the cause, grade them again)")
        return (self.warning + "\n" + text) if self.warning else text

    @property
    def grader_failures(self) -> list:
        """The rows of submissions the grader itself failed on (flag `grader`): nothing of theirs recorded."""
        return [r for r in self.rows if any(f.kind == "grader" for f in r.flags)]


@dataclass
class WorkResult:
    """What a worker found for one submission (plain data: it crosses process boundaries)."""

    student: str
    chapter: str
    autograded: str | None                     # the private autograded folder to swap in
    timestamp: str | None
    kernel: dict                               # grade_id -> (auto_score, needs_manual_grade) in the kernel run
    confirmed: list                            # PieceResult as dicts
    flags: list                                # Flag as dicts
    log: str = ""
    scratch: str | None = None                 # the private course, removed once recorded


# ------------------------------------------------------------------ the sandboxed Execute step

def sandboxed_execute_class():
    """nbgrader's Execute step, run in the sandbox (a class made on demand: nbgrader imports lazily)."""
    from nbgrader.preprocessors import NbGraderPreprocessor
    from traitlets import Float, Int

    class SandboxedExecute(NbGraderPreprocessor):
        """Runs the notebook in run_notebook.py inside the sandbox, in a size-capped tmpfs holding copies
        of the private autograded folder's files; keeps only outputs and execution counts of what comes
        back through the result pipe, mapped onto the notebook nbgrader sanitised (a forged result
        cannot change cell sources or metadata). Nothing is read from, or left in, a host folder."""

        cell_seconds = Float(120.0).tag(config=True)
        wall_seconds = Float(900.0).tag(config=True)
        memory_bytes = Int(2 << 30).tag(config=True)
        processes = Int(256).tag(config=True)
        output_bytes = Int(2_000_000).tag(config=True)
        scratch_bytes = Int(256 << 20).tag(config=True)
        last_run = {}

        def preprocess(self, nb, resources):
            import nbformat
            from .run_notebook import TRUNCATED, bound_outputs, error_output

            # the private autograded folder nbgrader made (only host-written files): read-only inside
            folder = Path(resources["metadata"]["path"]).resolve()
            limits = sandbox.Limits(memory_bytes=self.memory_bytes, processes=self.processes,
                                    wall_seconds=self.wall_seconds, cell_seconds=self.cell_seconds,
                                    output_bytes=self.output_bytes, scratch_bytes=self.scratch_bytes)
            count = ["--count-leftovers"] if sandbox.isolation().sandboxed else []
            run = sandbox.run([sandbox.PYTHON, RUNNER_INSIDE, "--given", GIVEN_INSIDE,
                               "--cell-seconds", str(self.cell_seconds), "--output-bytes", str(self.output_bytes),
                               *count],
                              workdir=None, limits=limits,
                              mounts={NOTEBOOK_RUNNER: RUNNER_INSIDE, folder: GIVEN_INSIDE},
                              env={"NBGRADER_EXECUTION": "autograde"},
                              stdin=nbformat.writes(without_hidden_tests(nb)).encode("utf-8"),
                              result_bytes=readback.result_cap(self.output_bytes, len(nb.cells)))
            back = readback.read_results(run.result, nb)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                cell.execution_count, cell.outputs = back.cells.get(index, (None, []))
            truncated = bound_outputs(nb, limits.output_bytes) or run.output_truncated or run.result_truncated or any(
                TRUNCATED.split("{")[0] in str(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
                for o in c.outputs)  # the runner already cut it
            why = ("the notebook ran past its time limit of %g s and was stopped" % limits.wall_seconds
                   if run.timed_out else "the kernel died or was stopped before this cell ran")
            not_run = []
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "code" and meta.get("grade") and cell.execution_count is None and not cell.outputs:
                    cell.outputs = [error_output("NotRun", why)]
                    not_run.append(meta.get("grade_id"))
            leftover = (back.end or {}).get("leftover", 0)
            leftover = leftover if readback.is_int(leftover) and leftover > 0 else 0
            out_of_memory = [cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {i}"
                             for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                             and any(o.get("ename") == "MemoryError" for o in cell.outputs)]
            SandboxedExecute.last_run = {"timed_out": run.timed_out, "leftover": leftover,
                                         "out_of_memory": out_of_memory, "returncode": run.returncode,
                                         "truncated": truncated, "not_run": not_run,
                                         "memory_exceeded": run.memory_exceeded,
                                         "processes_exceeded": run.processes_exceeded,
                                         "scratch": back.scratch(), "rejected": back.rejected,
                                         "scratch_capped": bool(sandbox.isolation().sandboxed
                                                                and sandbox.isolation().scratch_cap),
                                         "stderr": run.stderr[-2000:].decode(errors="replace")}
            return nb, resources

    return SandboxedExecute


def without_hidden_tests(nb):
    """A copy of nb whose grade cells keep only their visible tests: the hidden checks run in the judge,
    and their lines never enter the learner's kernel (where a later cell could read them back)."""
    import copy

    from .judge import split_hidden

    visible = copy.deepcopy(nb)
    for cell in visible.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = split_hidden(cell.source)[0]
    return visible


# ------------------------------------------------------------------ one submission (in a worker)

def copy_regular_files(source: Path, target: Path, max_file_bytes: int = MAX_SUBMITTED_FILE_BYTES,
                       max_bytes: int = MAX_SUBMITTED_BYTES, max_files: int = MAX_SUBMITTED_FILES) -> dict:
    """Copy the regular files under source into new files under target (a folder the host makes):
    links are never followed, FIFOs and other special files never opened (readback.copy_regular);
    a file over max_file_bytes, and files past max_bytes or max_files in total, are skipped. Returns
    what was skipped, counted: {"links": n, "special": n, "large": n, "over_total": n}."""
    skipped = {"links": 0, "special": 0, "large": 0, "over_total": 0}
    copied_files = copied_bytes = 0
    for folder, dirs, files in os.walk(source, followlinks=False):
        kept_dirs = []
        for name in dirs:
            if (Path(folder) / name).is_symlink():
                skipped["links"] += 1
            else:
                kept_dirs.append(name)
        dirs[:] = sorted(kept_dirs)
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink():
                skipped["links"] += 1
                continue
            try:
                info = path.lstat()
            except OSError:
                skipped["special"] += 1
                continue
            if not stat.S_ISREG(info.st_mode):  # a FIFO, socket or device: never opened
                skipped["special"] += 1
                continue
            size = info.st_size
            if copied_files >= max_files or copied_bytes + min(size, max_file_bytes) > max_bytes:
                skipped["over_total"] += 1
                continue
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                copied_bytes += readback.copy_regular(path, destination, max_file_bytes)
                copied_files += 1
            except readback.NotRegular as error:
                skipped[error.kind] += 1
            except OSError:
                skipped["special"] += 1
    return {k: v for k, v in skipped.items() if v}


def structure_flags(release_nb, learner_nb, student, chapter) -> list[Flag]:
    """Locked cells (tests, given code) of the release that the learner deleted, edited or moved."""
    def locked(nb):
        return [(c.get("metadata", {}).get("nbgrader", {}).get("grade_id"), c) for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("locked")]

    reference = locked(release_nb)
    theirs = {}
    for grade_id, cell in locked(learner_nb):
        theirs.setdefault(grade_id, cell)
    flags = []
    for grade_id, cell in reference:
        mine = theirs.get(grade_id)
        if mine is None:
            flags.append(Flag(student, chapter, grade_id, "tampered", f"the locked cell {grade_id} was deleted"))
        elif str(mine.get("source", "")).strip() != cell.source.strip() or mine.get("cell_type") != cell.cell_type:
            flags.append(Flag(student, chapter, grade_id, "tampered", f"the locked cell {grade_id} was edited"))
    order = [g for g, _ in reference if g in theirs]
    seen = [g for g, _ in locked(learner_nb) if g in dict(reference)]
    if not flags and order != list(dict.fromkeys(seen)):
        flags.append(Flag(student, chapter, "", "tampered", "the locked cells were moved out of their order"))
    return flags


def grade_one(root: str, student: str, chapter: str, limits: sandbox.Limits, base_gradebook: str) -> WorkResult:
    """Autograde and confirm one submission in a private course; touches nothing of the real course."""
    course = Course(Path(root))
    source_nb_path = course.source_notebook(chapter)
    scratch = course.grading_dir / "work" / f"{student}--{chapter}--{uuid.uuid4().hex[:8]}"
    private = scratch / "course"
    log, flags = [], []
    submitted = course.submitted(student, chapter)
    notebook = submitted / f"{chapter}.ipynb"
    timestamp_file = submitted / "timestamp.txt"
    timestamp = None
    if timestamp_file.is_file() and not timestamp_file.is_symlink():
        timestamp = timestamp_file.read_text(encoding="utf-8", errors="replace").strip()[:64] or None
    problem = None
    if notebook.is_symlink():
        problem = f"{notebook.name} is a symbolic link, not a file"
    elif not notebook.is_file():
        others = sorted(p.name for p in submitted.glob("*.ipynb"))
        problem = f"no {notebook.name} was submitted" + (f" (found: {', '.join(others)})" if others else "")
    elif notebook.stat().st_size > MAX_NOTEBOOK_BYTES:
        problem = f"{notebook.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB"
    learner_nb = None
    if problem is None:
        learner_nb, problem = read_notebook(notebook)
    kernel, autograded = {}, None
    if problem is not None:
        flags.append(Flag(student, chapter, "", "missing", problem))
    else:
        try:
            kernel, autograded = autograde_privately(course, private, student, chapter, limits, base_gradebook,
                                                     submitted, flags, log)
        except Exception as error:  # nbgrader rejected the notebook: the judge still grades it
            log.append(traceback.format_exc())
            if not autogrades_blank_release(course, scratch / "probe", chapter, limits, base_gradebook, log):
                raise GraderFailure(f"nbgrader could not autograde it ({type(error).__name__}), nor the chapter's "
                                    f"blank release: nbgrader or its setup is broken (see the grade log)",
                                    "\n".join(log)[-8000:]) from error
            flags.append(Flag(student, chapter, "", "crash", f"nbgrader could not autograde it ({type(error).__name__})"))
        release_nb_path = course.release_dir(chapter) / f"{chapter}.ipynb"
        if release_nb_path.is_file():
            import nbformat
            flags += structure_flags(nbformat.read(release_nb_path, as_version=4), learner_nb, student, chapter)
    if problem is not None:
        confirmed = [PieceResult(p.solution_id, p.grade_id, 0.0, p.points, False, problem)
                     for p in graded_pieces(read_source(source_nb_path))]
    else:
        confirmed = check_pieces(source_nb_path, learner_nb, limits=limits, student=student, chapter=chapter)
    for result in confirmed:
        if result.flag is not None:
            flags.append(result.flag)
        if result.grade_id in kernel and problem is None:
            in_kernel = kernel[result.grade_id][0]
            if in_kernel is not None and float(in_kernel) != result.points and result.flag is None:
                flags.append(Flag(student, chapter, result.grade_id, "mismatch",
                                  f"the kernel gave {in_kernel:g} of {result.max_points:g}, the judge "
                                  f"{result.points:g}" + (f": {result.message}" if result.message else "")))
    return WorkResult(student, chapter, str(autograded) if autograded else None, timestamp, kernel,
                      [asdict(r) | {"flag": None} for r in confirmed], [asdict(f) for f in flags], "\n".join(log),
                      str(scratch))


def read_source(path):
    import nbformat
    return nbformat.read(path, as_version=4)


def autograde_privately(course, private, student, chapter, limits, base_gradebook, submitted, flags, log):
    """nbgrader's Autograde on a private course; returns ({grade_id: (score, manual)}, autograded folder)."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    chapter_files = private / "chapters" / chapter
    chapter_files.mkdir(parents=True)
    for item in sorted(course.source_notebook(chapter).parent.iterdir()):
        if item.suffix != ".ipynb" and not item.is_symlink() and item.is_file():
            try:
                readback.copy_regular(item, chapter_files / item.name, MAX_CHAPTER_FILE_BYTES)
            except OSError as error:
                log.append(f"chapter file {item.name} not copied: {error}")
    skipped = copy_regular_files(submitted, private / "submitted" / student / chapter)
    if skipped:
        what = ", ".join(f"{count} {SKIPPED_WORDS[kind]}" for kind, count in skipped.items())
        flags.append(Flag(student, chapter, "", "files", f"submitted files not used: {what}"))
    shutil.copyfile(base_gradebook, private / "gradebook.db")
    from traitlets.config import Config

    config = Config(course.config)
    config.CourseDirectory.root = str(private)
    config.Exchange.root = str(private / "exchange")
    execute = sandboxed_execute_class()
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)

    config.Autograde.autograde_preprocessors = [execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                                SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    config.SandboxedExecute.cell_seconds = float(limits.cell_seconds)
    config.SandboxedExecute.wall_seconds = float(limits.wall_seconds)
    config.SandboxedExecute.memory_bytes = int(limits.memory_bytes)
    config.SandboxedExecute.processes = int(limits.processes)
    config.SandboxedExecute.output_bytes = int(limits.output_bytes)
    config.SandboxedExecute.scratch_bytes = int(limits.scratch_bytes)
    with quiet_gradebook():
        api = NbGraderAPI(config=config)
        outcome = api.autograde(chapter, student, force=True, create=True)
    log.append(outcome.get("log") or "")
    if not outcome.get("success"):
        raise RuntimeError((outcome.get("error") or "")[-2000:])
    run = execute.last_run
    if run.get("timed_out"):
        flags.append(Flag(student, chapter, "", "timeout",
                          f"the notebook ran past {limits.wall_seconds:g} s; its sandbox was killed"))
    elif run.get("returncode") not in (0, None) or run.get("not_run"):
        how = {3: "the kernel died", 4: "a cell ignored its interrupt and the kernel was stopped"}.get(
            run.get("returncode"), f"the kernel run ended with code {run.get('returncode')}")
        if run.get("memory_exceeded"):
            how += " (memory limit reached)"
        flags.append(Flag(student, chapter, "", "crash", how + (
            f"; not run: {', '.join(run['not_run'])}" if run.get("not_run") else "")))
    if run.get("out_of_memory") or run.get("memory_exceeded"):
        where = ", ".join(run.get("out_of_memory") or []) or "the kernel"
        flags.append(Flag(student, chapter, "", "limit", f"memory limit ({limits.memory_bytes >> 20} MB) reached in {where}"))
    if run.get("processes_exceeded"):
        flags.append(Flag(student, chapter, "", "limit", f"process limit ({limits.processes}) reached"))
    if run.get("leftover"):
        flags.append(Flag(student, chapter, "", "leftover",
                          f"{run['leftover']} process(es) were still running when the kernel stopped; all were killed"))
    if run.get("truncated"):
        flags.append(Flag(student, chapter, "", "output-limit",
                          f"the notebook printed more than {limits.output_bytes:,} bytes; the rest was dropped"))
    flags += scratch_flags(run, limits, student, chapter, log)
    with quiet_gradebook(), Gradebook(f"sqlite:///{private / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(chapter, chapter, student)
        kernel = {g.name: (g.auto_score, bool(g.needs_manual_grade)) for g in nb.grades}
    return kernel, private / "autograded" / student / chapter


SKIPPED_WORDS = {"links": "symbolic link(s)", "special": "FIFO(s), socket(s) or other special file(s)",
                 "large": f"file(s) over {MAX_SUBMITTED_FILE_BYTES >> 20} MB",
                 "over_total": f"file(s) past {MAX_SUBMITTED_FILES:,} files or {MAX_SUBMITTED_BYTES >> 20} MB in all"}


def scratch_flags(run: dict, limits: sandbox.Limits, student: str, chapter: str, log: list) -> list[Flag]:
    """Flags for what the notebook left in its sandbox's working folder (none of it was kept): links,
    special files or folders it made unreadable ("files"), a full writable area ("limit"). The count
    comes from inside the sandbox: it informs, it decides nothing."""
    found = run.get("scratch") or {}
    log.append(f"sandbox: the notebook left {found.get('files', 0)} file(s) ({found.get('bytes', 0):,} bytes), "
               f"{found.get('links', 0)} link(s), {found.get('special', 0)} special file(s), "
               f"{found.get('unreadable', 0)} unreadable folder(s); none was kept; "
               f"{run.get('rejected', 0)} result line(s) rejected")
    flags = []
    odd = [f"{found[k]} {word}" for k, word in (("links", "symbolic link(s)"), ("special", "FIFO(s), socket(s) "
           "or other special file(s)"), ("unreadable", "folder(s) it made unreadable")) if found.get(k)]
    if odd:
        flags.append(Flag(student, chapter, "", "files", f"the notebook left {', '.join(odd)} in its sandbox; "
                                                         f"ignored (nothing it writes is kept)"))
    if run.get("scratch_capped") and "free_bytes" in found and found["free_bytes"] < (1 << 20):
        flags.append(Flag(student, chapter, "", "limit",
                          f"the notebook filled its writable area ({limits.scratch_bytes >> 20} MB)"))
    return flags


# ------------------------------------------------------------------ the whole class (main process)

def die_with_parent():
    """Worker initializer: SIGKILL this worker (and so its sandboxes) when `grade` itself dies."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


def grade(course: Course, chapters: list[str], students: list[str] | None, jobs: int, progress=None,
          *, limits: sandbox.Limits | None = None, log=None) -> GradeSummary:
    """Grade every submission of `chapters` (of `students`, default all) with `jobs` workers; `log` is
    the run's logger (the command's own; by default a new grading/logs/<timestamp>-grade.log)."""
    started = time.monotonic()
    limits = limits or sandbox.Limits()
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    logger, log_path = (log, log_file(log)) if log is not None else course.open_log("grade")
    iso = sandbox.isolation()
    logger.info("sandbox: %s", iso.describe() if iso.sandboxed else iso.warning)
    pairs = work_list(course, chapters, students)
    lock = exclusive_lock(course)
    try:  # the grader checks itself on every chapter first: a failure stops here, nothing recorded
        seconds = confirm_grader(course, list(dict.fromkeys(c for _, c in pairs)), limits, jobs, logger)
        logger.info("self-check passed: %s", {c: round(t, 1) for c, t in seconds.items()})
    except BaseException:
        lock.close()
        raise
    work = course.grading_dir / "work"
    shutil.rmtree(work, ignore_errors=True)  # what a killed run left behind
    work.mkdir(parents=True)
    base = work / "base-gradebook.db"
    snapshot_gradebook(course, base)
    bar = progress(len(pairs), "grade") if progress else None
    rows = []
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, max(1, len(pairs))), mp_context=get_context("fork"),
                                 initializer=die_with_parent) as pool:
            futures = {pool.submit(grade_one, str(course.root), s, c, limits, str(base)): (s, c) for s, c in pairs}
            for future in as_completed(futures):
                student, chapter = futures[future]
                try:
                    result = future.result()
                except Exception as error:  # the grader failed on it: flagged `grader`, nothing of it recorded
                    logger.error("%s %s: the grader failed:\n%s%s", student, chapter, getattr(error, "details", ""),
                                 "".join(traceback.format_exception(error))[-8000:])
                    row = record_grader_failure(course, student, chapter, error)
                else:
                    row = record(course, result, iso)
                    logger.info("%s %s: %g/%g flags=%s\n%s", student, chapter, row.score, row.max_score,
                                [f.short() for f in row.flags], result.log[-4000:])
                rows.append(row)
                if bar:
                    failed = any(f.kind == "grader" for f in row.flags)
                    bar.advance(f"{student} {chapter} " + ("grader failed" if failed else f"{row.score:g}/{row.max_score:g}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.close()
    rows.sort(key=lambda r: (r.chapter, r.student))
    return GradeSummary(rows, iso.warning, log_path, time.monotonic() - started)


def log_file(logger) -> Path | None:
    """The file a logger writes to (its first file handler), if any."""
    return next((Path(h.baseFilename) for h in logger.handlers if hasattr(h, "baseFilename")), None)


def exclusive_lock(course: Course):
    """An open lock file held for the whole run; UsageError if another `grade` holds it."""
    import fcntl

    course.grading_dir.mkdir(parents=True, exist_ok=True)
    handle = open(course.grading_dir / "grade.lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise UsageError(f"another `grade` is running on {course.root} (lock {course.grading_dir / 'grade.lock'})")
    return handle


def work_list(course: Course, chapters: list[str], students: list[str] | None) -> list[tuple[str, str]]:
    """(student, chapter) pairs to grade; UsageError for a chapter never released or an unknown student."""
    with course.gradebook() as gb:
        released = {a.name for a in gb.assignments}
    missing = [c for c in chapters if c not in released]
    if missing:
        raise UsageError(f"chapter {', '.join(missing)} was never released: run `microgpt-course release "
                         f"{' '.join(missing)}` first")
    pairs = []
    for chapter in chapters:
        present = course.students(chapter)
        chosen = present if students is None else [s for s in students if s in present]
        pairs += [(s, chapter) for s in chosen]
    if students is not None:
        unknown = [s for s in students if not any(s == p[0] for p in pairs)]
        if unknown:
            raise UsageError(f"no submission of {', '.join(unknown)} for {', '.join(chapters)} in {course.root / 'submitted'}")
    return pairs


def snapshot_gradebook(course: Course, target: Path):
    """A consistent copy of the gradebook (sqlite's backup API) for the workers' private courses."""
    import sqlite3

    source = sqlite3.connect(course.root / "gradebook.db")
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    copy.close()
    source.close()


def record(course: Course, result: WorkResult, iso) -> GradeRow:
    """Write one submission's results: autograded folder, gradebook scores, flags, the judge's messages."""
    student, chapter = result.student, result.chapter
    flags = [Flag(**f) for f in result.flags]
    if not iso.sandboxed:
        flags.append(Flag(student, chapter, "", "sandbox", f"graded without the sandbox ({iso.reason})"))
    target = course.autograded(student, chapter)
    if result.autograded and Path(result.autograded).is_dir() and not Path(result.autograded).is_symlink():
        try:
            swap_in(Path(result.autograded), target)
        except OSError as error:  # this submission's autograded folder is not stored; the rest goes on
            flags.append(Flag(student, chapter, "", "crash",
                              f"its autograded notebook could not be stored ({type(error).__name__})"))
    confirmed = {r["grade_id"]: r for r in result.confirmed}
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        kwargs = {"timestamp": result.timestamp} if result.timestamp else {}
        try:
            gb.update_or_create_submission(chapter, student, **kwargs)
        except Exception:
            gb.update_or_create_submission(chapter, student)
        notebook = gb.find_submission_notebook(chapter, chapter, student)
        for grade in notebook.grades:
            if grade.name in confirmed:
                grade.auto_score = confirmed[grade.name]["points"]
                grade.needs_manual_grade = False
            else:  # a manually graded answer: nbgrader's verdict from the kernel run, manual scores kept
                kernel = result.kernel.get(grade.name)
                grade.auto_score = kernel[0] if kernel else None
                grade.needs_manual_grade = grade.manual_score is None
        gb.db.commit()
        submission = gb.find_submission(chapter, student)
        score, max_score = float(submission.score or 0), float(submission.max_score or 0)
    results_file = course.grading_dir / "results" / chapter / f"{student}.json"
    write_atomically(results_file, json.dumps({"student": student, "chapter": chapter,
                                               "pieces": result.confirmed}, indent=1) + "\n")
    replace_flags(course, [(student, chapter)], flags)
    if result.scratch:
        shutil.rmtree(result.scratch, ignore_errors=True)
    return GradeRow(student, chapter, score, max_score, flags)


def swap_in(new: Path, target: Path):
    """Put the folder `new` at `target` by renames (the old one removed after), never half-copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.parent / f".{target.name}.new-{uuid.uuid4().hex[:8]}"
    shutil.move(str(new), staged)
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)
