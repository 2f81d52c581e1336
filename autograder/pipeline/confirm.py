"""Confirmation: score each graded piece of a learner's notebook outside the learner's kernel.

For every automatically graded cell (nbgrader grade=true, a code cell with points) the piece is the
nearest solution cell above it. Its confirmation takes the instructor's source notebook, replaces only
that cell's solution regions (### BEGIN/END SOLUTION) with the learner's code of those regions, checks
that code against the policy (policy.py), and runs the instructor's cells it depends on
(dependencies.py) in a fresh sandboxed Python process (run_pieces.py) up to the grade cell, whose
hidden check decides the point. Nothing the learner's kernel did, and no other piece of the learner's
code, can change what this run sees.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import policy, sandbox
from .dependencies import needed_cells
from .flags import Flag

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BASE_SECONDS = 60.0  # the instructor's cells of a chapter, run once per confirmation


@dataclass(frozen=True)
class Piece:
    """One automatically graded cell and the solution cell it grades (indices into the source notebook)."""

    grade_id: str          # the grade cell's grade_id, e.g. "encode_tests"
    solution_id: str       # the solution cell's grade_id, e.g. "encode"
    solution_index: int
    grade_index: int
    points: float


@dataclass
class PieceResult:
    piece: str             # the solution cell's grade_id (what the learner wrote), e.g. "encode"
    grade_id: str          # the grade cell's grade_id, e.g. "encode_tests"
    points: float
    max_points: float
    passed: bool
    message: str
    flag: Flag | None = None


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_pieces(source_nb) -> list[Piece]:
    """The automatically graded cells of a source notebook, each with the nearest solution cell above.
    Manually graded answers (grade and solution both true) are not pieces."""
    found, solution = [], None
    for index, cell in enumerate(source_nb.cells):
        meta = nbgrader(cell)
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            solution = (meta["grade_id"], index)
        elif cell.cell_type == "code" and meta.get("grade") and not meta.get("solution") and solution:
            found.append(Piece(meta["grade_id"], solution[0], solution[1], index, float(meta.get("points", 0))))
    return found


def split_regions(source: str) -> tuple[list[list[str]], list[list[str]]]:
    """(fixed segments, regions) of a solution cell: fixed[0], region[0], fixed[1], ..., fixed[-1];
    the marker lines belong to neither."""
    fixed, regions, current, inside = [[]], [], None, False
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line and not inside:
            inside, current = True, []
        elif END_SOLUTION in line and inside:
            inside = False
            regions.append(current)
            fixed.append([])
        elif inside:
            current.append(line)
        else:
            fixed[-1].append(line)
    return fixed, regions


def find_block(lines: list[str], block: list[str], start: int) -> int | None:
    """First index >= start where `block` occurs in `lines` (trailing spaces ignored)."""
    want = [line.rstrip() for line in block]
    have = [line.rstrip() for line in lines]
    for at in range(start, len(lines) - len(block) + 1):
        if have[at:at + len(block)] == want:
            return at
    return None


def learner_regions(source: str, learner: str) -> list[list[str]] | None:
    """The learner's lines in place of each region: the learner's cell is matched against the source
    cell's fixed segments (def line, docstring, code after the region). None if they do not match."""
    fixed, regions = split_regions(source)
    lines = learner.split("\n")
    if not regions:
        return None
    at = find_block(lines, fixed[0], 0)
    if at != 0:
        return None
    position, found = len(fixed[0]), []
    for segment in fixed[1:-1]:
        start = find_block(lines, segment, position) if segment else position
        if start is None:
            return None
        found.append(lines[position:start])
        position = start + len(segment)
    last = fixed[-1]
    while last and not last[-1].strip():  # trailing blank lines are not required
        last = last[:-1]
    end = len(lines)
    while end > position and not lines[end - 1].strip():
        end -= 1
    start = end - len(last)
    if start < position or [l.rstrip() for l in lines[start:end]] != [l.rstrip() for l in last]:
        return None
    found.append(lines[position:start])
    return found


def assemble(source: str, learner: str) -> tuple[str, set[int] | None]:
    """The solution cell to confirm and the 1-based lines the learner wrote: the source cell with its
    regions replaced by the learner's, or (when the learner changed the code around the regions) the
    learner's whole cell, all of it the learner's (None)."""
    regions = learner_regions(source, learner)
    if regions is None:
        return learner, None
    fixed, _ = split_regions(source)
    lines, mine = list(fixed[0]), set()
    for region, after in zip(regions, fixed[1:]):
        mine |= set(range(len(lines) + 1, len(lines) + len(region) + 1))
        lines += region + after
    return "\n".join(lines), mine


def read_notebook(path_or_nb):
    """(notebook, None) or (None, why it cannot be graded) for a path or an already read notebook."""
    if not isinstance(path_or_nb, (str, Path)):
        return path_or_nb, None
    path = Path(path_or_nb)
    if not path.is_file():
        return None, f"no notebook {path.name}"
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # not JSON, not a notebook, wrong encoding ...
        return None, f"{path.name} is not a readable notebook ({type(error).__name__})"
    if not isinstance(nb.get("cells"), list):
        return None, f"{path.name} has no cells"
    return nb, None


def readable_for_checks() -> list[Path]:
    """What a hidden check imports: the check library and the reference, and autograder's __init__."""
    import autograder
    import microgpt

    package = Path(autograder.__file__).resolve().parent
    return [package / "__init__.py", package / "checks", Path(microgpt.__file__).resolve().parent]


def check_pieces(source_nb, learner_nb, *, sandboxed=True, limits=None, chapter_files=None,
                 student="", chapter="") -> list[PieceResult]:
    """Confirm every automatically graded piece of learner_nb (a path or a notebook) against the
    instructor's source_nb (path or notebook). chapter_files: the folder whose non-notebook files the
    notebook uses (course_tools.py, data); default the source notebook's folder when source_nb is a path.
    sandboxed=False runs without bubblewrap (a learner's own check). Never raises for the learner's input."""
    limits = limits or sandbox.Limits()
    if isinstance(source_nb, (str, Path)):
        chapter_files = chapter_files or Path(source_nb).parent
        source_nb = nbformat.read(source_nb, as_version=4)
    pieces = graded_pieces(source_nb)
    learner, problem = read_notebook(learner_nb)

    def result(piece, passed, message, flag_kind=None):
        flag = Flag(student, chapter, piece.grade_id, flag_kind, message) if flag_kind else None
        return PieceResult(piece.solution_id, piece.grade_id, piece.points if passed else 0.0, piece.points,
                           passed, message, flag)

    if learner is None:
        return [result(p, False, problem) for p in pieces]
    learner_cells = {}
    for cell in learner.cells:
        meta = nbgrader(cell) if isinstance(cell, dict) else {}
        if meta.get("solution") and cell.get("cell_type") == "code" and isinstance(meta.get("grade_id"), str):
            learner_cells.setdefault(meta["grade_id"], str(cell.get("source", "")))
    code_cells = [(i, c.source) for i, c in enumerate(source_nb.cells) if c.cell_type == "code"]
    allowed = policy.allowed_modules([c.source for c in source_nb.cells
                                      if c.cell_type == "code" and nbgrader(c).get("solution")])
    modules = policy.module_aliases([source for _, source in code_cells])
    results, job = {}, []
    for piece in pieces:
        if piece.solution_id not in learner_cells:
            results[piece.grade_id] = result(piece, False, f"the notebook has no solution cell {piece.solution_id!r}")
            continue
        code, mine = assemble(source_nb.cells[piece.solution_index].source, learner_cells[piece.solution_id])
        broken = policy.violations(code, mine, allowed, modules | policy.module_aliases([code]))
        if broken:
            results[piece.grade_id] = result(piece, False, "policy: " + "; ".join(broken), "policy")
            continue
        after = [i for i, _ in code_cells if piece.solution_index < i <= piece.grade_index]
        job.append({"grade_id": piece.grade_id, "solution_index": piece.solution_index, "solution_source": code,
                    "after": after, "seconds": limits.piece_seconds})
    if job:
        kept = needed_cells([(i, source, nbgrader(source_nb.cells[i])) for i, source in code_cells],
                            max(p.grade_index for p in pieces))
        for entry in job:  # the kept cells between the solution and the grade cell, then the grade cell
            entry["after"] = [i for i in entry["after"][:-1] if i in kept] + entry["after"][-1:]
        ran = kept | {i for entry in job for i in entry["after"]}
        runnable = [{"index": i, "source": s, "shared": i in kept} for i, s in code_cells if i in ran]
        results.update(run_job(runnable, job, pieces, limits, chapter_files, sandboxed, result))
    return [results[p.grade_id] for p in pieces]


def run_job(code_cells, job, pieces, limits, chapter_files, sandboxed, result) -> dict:
    """Run run_pieces.py on the job in a sandbox whose only (read-only) folder is a copy of the
    chapter's non-notebook files; PieceResults by grade_id for every piece of the job."""
    driver = Path(__file__).resolve().parent / "run_pieces.py"
    scratch = Path(tempfile.mkdtemp(prefix="microgpt-confirm-"))
    try:
        files = scratch / "chapter"
        files.mkdir()
        if chapter_files:
            for item in Path(chapter_files).iterdir():
                if item.is_file() and item.suffix != ".ipynb":
                    shutil.copy2(item, files / item.name)
        payload = json.dumps({"cells": code_cells, "pieces": job}).encode()
        wall = BASE_SECONDS + sum(p["seconds"] for p in job)
        run = sandbox.run([sys.executable, str(driver)], workdir=files, readable=[driver, *readable_for_checks()],
                          writable_workdir=False, limits=limits, stdin=payload, wall_seconds=wall,
                          env={"MPLBACKEND": "Agg"}, isolate=sandboxed)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    reports = {}
    for line in run.stdout.decode(errors="replace").splitlines():
        try:
            report = json.loads(line)
            reports[report["grade_id"]] = report
        except (ValueError, KeyError, TypeError):
            continue
    by_id = {p.grade_id: p for p in pieces}
    results = {}
    for entry in job:
        piece = by_id[entry["grade_id"]]
        report = reports.get(piece.grade_id)
        if report is None:
            why = ("the confirmation ran past its time limit" if run.timed_out
                   else f"the confirmation process ended early ({run.signal_name or f'exit {run.returncode}'})")
            results[piece.grade_id] = result(piece, False, f"not confirmed: {why}", "crash")
        elif report.get("passed") is True:
            results[piece.grade_id] = result(piece, True, "")
        else:
            kind = {"Timeout": "timeout", "Crash": "crash"}.get(report.get("error"))
            results[piece.grade_id] = result(piece, False, scrub(str(report.get("message", ""))[:2000]), kind)
    return results


def scrub(text: str) -> str:
    """A message without the grading machine's paths: each absolute path under the course code, the
    Python installation or the temporary folder is cut to its file name."""
    import re

    import autograder

    prefixes = {str(Path(autograder.__file__).resolve().parents[1]), sys.prefix, sys.base_prefix,
                tempfile.gettempdir()}
    for prefix in sorted(prefixes, key=len, reverse=True):
        text = re.sub(re.escape(prefix) + r"[^\s'\"():,]*", lambda m: Path(m.group(0)).name, text)
    return text
