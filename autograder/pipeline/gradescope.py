"""Gradescope: a chapter's autograder zip, and the grading its `run_autograder` does in Gradescope's
container.

`build` writes gradescope/NN_name.zip (Gradescope's autograder specification): setup.sh,
run_autograder, this project's Python packages (lib/: the checks, the pipeline, the reference), the
chapter's source notebook and files, and gradescope.json (the chapter and the grading limits).
setup.sh makes two environments: the judge's (nbformat; it runs lib/, and both are readable by root
only) and the learners' (the packages the chapters import, none of the course).

`run` grades the one submitted notebook with the same judge as `grade`: every automatically graded
piece is judged in this (root) process, the learner's code runs in a worker started for each piece.
Docker's default seccomp profile forbids the namespaces bubblewrap needs, so the container is the
sandbox and the worker is kept apart by the operating system instead: it runs as WORKER_USER, an
unprivileged uid nothing else uses, with the learners' interpreter, in a folder of its own holding
copies of what it may read; the course's files, the judge's environment and the submission are
readable by root only, results.json is written by root after every process of that uid was killed.
A failure of the judge itself (judge.JudgeFailed) ends run_autograder with an error, never a score.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, fields
from importlib.metadata import version
from pathlib import Path

from .course import Course

WORKER_USER = (61999, 61999)  # the worker's uid and gid: no account, so no other process runs as it
RESULTS_NAME = "results.json"
SETTINGS_NAME = "gradescope.json"

SETUP_SH = (
    """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 24.04 base
# image: the course needs Python 3.11 or newer).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "microgpt-course needs Python 3.11+; this image has $(python3 --version):" \\
        "choose Gradescope's Ubuntu 24.04 base image" >&2
    exit 1; }
# the judge: this course (checks, reference) and what it reads notebooks with; readable by root only
python3 -m venv "$ROOT/judge-env"
"$ROOT/judge-env/bin/pip" install --quiet -r "$SOURCE/judge-requirements.txt"
# the learners' code: the packages the chapters import, and nothing of the course
python3 -m venv "$ROOT/learner-env"
"$ROOT/learner-env/bin/pip" install --quiet -r "$SOURCE/learner-requirements.txt"
chmod -R go-rwx "$ROOT/judge-env" "$SOURCE"
"""
    + f"""# the worker's user must be able to run the learners' Python (a python3 under /root would
# not do)
setpriv --reuid={WORKER_USER[0]} --regid={WORKER_USER[1]} --clear-groups \\
    "$ROOT/learner-env/bin/python" -c 'import matplotlib' || {{
    echo "the learners' Python ($ROOT/learner-env) cannot run as an unprivileged user:" \\
        "use a system python3" >&2
    exit 1; }}
"""
)

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this, as root, for every submission: the judge grades /autograder/submission.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHONPATH="$ROOT/source/lib" exec "$ROOT/judge-env/bin/python" -m autograder.pipeline.gradescope \\
    --root "$ROOT"
"""


# ---------------------------------------------------------------------------- build (the
# instructor's machine)


def build(course: Course, chapter: str, output: Path, log, limits) -> tuple[Path, int]:
    """Write output/CHAPTER.zip; returns (its path, its size in bytes).
    chapter_files.MissingChapterFiles (a UsageError) for a chapter whose files are missing."""
    from ..notebook_format import FROZEN_SETTINGS, nbgrader_settings
    from .chapter_files import needed_files, place

    place(course, [chapter], log)
    output.mkdir(parents=True, exist_ok=True)
    target, partial = output / f"{chapter}.zip", output / f".{chapter}.zip.partial"
    settings = {"chapter": chapter, "limits": asdict(limits)}
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        add_script(archive, "setup.sh", SETUP_SH)
        add_script(archive, "run_autograder", RUN_AUTOGRADER)
        archive.writestr(SETTINGS_NAME, json.dumps(settings, indent=1) + "\n")
        archive.writestr("judge-requirements.txt", pinned("nbformat"))
        archive.writestr("learner-requirements.txt", pinned("matplotlib"))
        # the judge there has no nbgrader to ask
        frozen = json.dumps(nbgrader_settings(), indent=1) + "\n"
        archive.writestr(f"lib/autograder/{FROZEN_SETTINGS.name}", frozen)
        for package in judge_packages():
            for path in sorted(package.rglob("*.py")):
                if not {"__pycache__", "chapter_sources"} & set(path.relative_to(package).parts):
                    archive.write(path, f"lib/{package.name}/{path.relative_to(package)}")
        notebook = course.source_notebook(chapter)
        for name in [notebook.name, *sorted(needed_files(course, chapter))]:
            archive.write(notebook.parent / name, f"chapter/{name}")
    os.replace(partial, target)
    log.info("wrote %s", target)
    return target, target.stat().st_size


def judge_packages() -> list[Path]:
    """The folders of the packages the judge runs: autograder (checks, pipeline) and microgpt (the
    reference)."""
    import microgpt

    import autograder

    return [Path(autograder.__file__).parent, Path(microgpt.__file__).parent]


def pinned(package: str) -> str:
    """A requirements line pinning `package` to the version this machine grades with."""
    return f"{package}=={version(package)}\n"


def add_script(archive: zipfile.ZipFile, name: str, text: str):
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # executable: Gradescope runs them as they are
    archive.writestr(info, text)


# ---------------------------------------------------------------------------- run (in Gradescope's
# container)


def submitted_notebook(folder: Path, chapter: str):
    """(notebook, None) or (None, why it cannot be graded) for Gradescope's submission folder: the
    chapter's notebook by name, else the one notebook there."""
    from ..notebook_format import MAX_NOTEBOOK_BYTES
    from . import readback
    from .confirm import read_notebook

    named = folder / f"{chapter}.ipynb"
    found = (
        [named]
        if named.is_file()
        else sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    )
    if len(found) != 1:
        return None, (
            f"no notebook was submitted (expected {chapter}.ipynb)"
            if not found
            else (
                f"{len(found)} notebooks were submitted and none "
                f"is named {chapter}.ipynb: submit only that one"
            )
        )
    try:
        data = readback.read_regular(found[0], MAX_NOTEBOOK_BYTES)
    except OSError as error:
        return None, f"{found[0].name} cannot be read ({error})"
    scratch = Path(tempfile.mkdtemp())
    try:
        (scratch / found[0].name).write_bytes(data)
        return read_notebook(scratch / found[0].name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def results(pieces, manual, problem, seconds) -> dict:
    """results.json (Gradescope's autograder specification): one test per automatically graded
    piece, the answers graded by hand ({grade id: points}) listed with no points of the
    autograder's, the score."""
    tests = [
        {
            "name": f"{p.piece} ({p.grade_id})",
            "number": str(i),
            "score": p.points,
            "max_score": p.max_points,
            "status": "passed" if p.passed else "failed",
            "output": p.message or "passes",
            "visibility": "visible",
        }
        for i, p in enumerate(pieces, 1)
    ]
    tests += [
        {
            "name": f"{grade_id} (graded by hand)",
            "number": str(len(tests) + i),
            "score": 0.0,
            "max_score": 0.0,
            "status": "passed",
            "output": (
                f"worth {points:g} point(s), graded by hand "
                "after the deadline: not part of this score"
            ),
            "visibility": "visible",
        }
        for i, (grade_id, points) in enumerate(manual.items(), 1)
    ]
    score, maximum = sum(p.points for p in pieces), sum(p.max_points for p in pieces)
    summary = problem or (
        f"{score:g}/{maximum:g} points from the automatic checks"
        + (f"; {sum(manual.values()):g} more are graded by hand" if manual else "")
    )
    return {
        "score": score,
        "execution_time": round(seconds),
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def run(root: Path) -> dict:
    """Grade root/submission with the chapter of root/source; write root/results/results.json."""
    import nbformat

    from ..notebook_format import graded_pieces, hand_graded
    from .confirm import PieceResult, check_pieces
    from .sandbox import Confinement, Limits, is_root

    started = time.monotonic()
    source = root / "source"
    settings = json.loads((source / SETTINGS_NAME).read_text())
    chapter = settings["chapter"]
    known = {f.name for f in fields(Limits)}
    limits = Limits(**{k: v for k, v in settings.get("limits", {}).items() if k in known})
    source_nb = nbformat.read(source / "chapter" / f"{chapter}.ipynb", as_version=4)
    learner_nb, problem = submitted_notebook(root / "submission", chapter)
    if problem is None:
        user = WORKER_USER if is_root() else None
        # only a test outside a container gets here; say so where the instructor looks
        if user is None:
            print("warning: not root, so the worker runs as this user: not confined", flush=True)
        confinement = Confinement(
            bubblewrap=False, user=user, python=str(root / "learner-env" / "bin" / "python")
        )
        pieces = check_pieces(
            source_nb,
            learner_nb,
            confinement=confinement,
            limits=limits,
            chapter_files=source / "chapter",
            chapter=chapter,
        )
    else:
        pieces = [
            PieceResult(p.solution_id, p.grade_id, 0.0, p.points, False, problem)
            for p in graded_pieces(source_nb)
        ]
    for piece in pieces:  # for the instructor (stdout is hidden from students)
        print(
            f"{piece.grade_id}: {piece.points:g}/{piece.max_points:g}"
            + (f" [{piece.flag.kind}: {piece.flag.reason}]" if piece.flag else ""),
            flush=True,
        )
    report = results(pieces, hand_graded(source_nb), problem, time.monotonic() - started)
    (root / "results").mkdir(exist_ok=True)
    (root / "results" / RESULTS_NAME).write_text(json.dumps(report, indent=1) + "\n")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="run_autograder", description="Grade one Gradescope submission."
    )
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    report = run(args.root)
    print(f"score {report['score']:g}: {report['output']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
