"""Grading stage 1, execute: one notebook run by a kernel in the sandbox, and the flags of that run.

The learner's notebook runs in run_notebook.py inside the sandbox (sandbox.py), in a size-capped
tmpfs holding copies of the private autograded folder's files (read-only). Outputs come back through
a bounded pipe (readback.py) and are mapped onto the notebook the host holds, so a forged result can
change what a cell shows, never its source, metadata or the count of cells. Nothing is read from, or
left in, a host folder. The run's facts are handed on as a `KernelRun`; `kernel_flags` turns them
into flags.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from ..notebook_format import is_tests, nbgrader_meta, split_hidden
from . import readback, sandbox
from .flags import Flag

NOTEBOOK_RUNNER = Path(__file__).resolve().parent / "run_notebook.py"
RUNNER_INSIDE = "/grader/run_notebook.py"  # no host path inside the sandbox
GIVEN_INSIDE = "/grader/given"  # the private autograded folder, read-only


@dataclass(frozen=True)
class KernelRun:
    """What the sandboxed kernel run did (the host's own observations, and counts from inside)."""

    returncode: int | None
    timed_out: bool  # killed by the notebook's wall clock
    not_run: tuple = ()  # grade ids of grade cells that never ran
    out_of_memory: tuple = ()  # grade ids (or "cell N") of cells that raised MemoryError
    memory_exceeded: bool = False  # the memory cgroup hit its limit
    processes_exceeded: bool = False  # the pids cgroup refused a fork
    # processes still running when the kernel stopped (from inside)
    leftover: int = 0
    truncated: bool = False  # outputs were cut at the output limit
    # what it left in its working folder (counts from inside)
    scratch: dict = field(default_factory=dict)
    scratch_capped: bool = False  # its writable area had a byte cap
    rejected: int = 0  # result lines that were not valid
    stderr: str = ""  # the runner's last words (for the log)


class SandboxedExecute:
    """nbgrader's Execute step, run in the sandbox: a preprocessor (called as pp(nb, resources), as
    nbconvert calls any callable it is given) whose run is kept in `self.run` for the next stage."""

    def __init__(self, limits: sandbox.Limits):
        self.limits = limits
        self.run: KernelRun | None = None

    def __call__(self, nb, resources):
        # the private autograded folder nbgrader made (only host-written files): read-only inside
        folder = Path(resources["metadata"]["path"]).resolve()
        self.run = execute(nb, folder, self.limits)
        return nb, resources


def execute(nb, folder: Path, limits: sandbox.Limits) -> KernelRun:
    """Run nb (its hidden tests removed) in the sandbox with `folder`'s files beside it; nb's code
    cells get the outputs and execution counts that came back. A grade cell that never ran gets a
    NotRun error."""
    import nbformat

    from .run_notebook import TRUNCATED, bound_outputs, error_output

    count = ["--count-leftovers"] if sandbox.isolation().sandboxed else []
    run = sandbox.run(
        [
            sandbox.PYTHON,
            RUNNER_INSIDE,
            "--given",
            GIVEN_INSIDE,
            "--cell-seconds",
            str(limits.cell_seconds),
            "--output-bytes",
            str(limits.output_bytes),
            *count,
        ],
        workdir=None,
        limits=limits,
        mounts={NOTEBOOK_RUNNER: RUNNER_INSIDE, folder: GIVEN_INSIDE},
        env={"NBGRADER_EXECUTION": "autograde"},
        stdin=nbformat.writes(without_hidden_tests(nb)).encode("utf-8"),
        result_bytes=readback.result_cap(limits.output_bytes, len(nb.cells)),
    )
    back = readback.read_results(run.result, nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = back.cells.get(index, (None, []))
    cut_by_runner = TRUNCATED.split("{")[0]
    truncated = (
        bound_outputs(nb, limits.output_bytes)
        or run.output_truncated
        or run.result_truncated
        or any(
            cut_by_runner in str(o.get("text", ""))
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
    )
    why = (
        "the notebook ran past its time limit of %g s and was stopped" % limits.wall_seconds
        if run.timed_out
        else "the kernel died or was stopped before this cell ran"
    )
    not_run = []
    for cell in nb.cells:
        if is_tests(cell) and cell.execution_count is None and not cell.outputs:
            cell.outputs = [error_output("NotRun", why)]
            not_run.append(nbgrader_meta(cell).get("grade_id"))
    leftover = (back.end or {}).get("leftover", 0)
    out_of_memory = [
        nbgrader_meta(cell).get("grade_id") or f"cell {i}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and any(o.get("ename") == "MemoryError" for o in cell.outputs)
    ]
    iso = sandbox.isolation()
    return KernelRun(
        returncode=run.returncode,
        timed_out=run.timed_out,
        not_run=tuple(not_run),
        out_of_memory=tuple(out_of_memory),
        memory_exceeded=run.memory_exceeded,
        processes_exceeded=run.processes_exceeded,
        leftover=leftover if readback.is_int(leftover) and leftover > 0 else 0,
        truncated=bool(truncated),
        scratch=back.scratch(),
        scratch_capped=bool(iso.sandboxed and iso.scratch_cap),
        rejected=back.rejected,
        stderr=run.stderr[-2000:].decode(errors="replace"),
    )


def without_hidden_tests(nb):
    """A copy of nb whose grade cells keep only their visible tests: the hidden checks run in the
    judge, and their lines never enter the learner's kernel (where a later cell could read them
    back)."""
    visible = copy.deepcopy(nb)
    for cell in visible.cells:
        if is_tests(cell):
            cell.source = split_hidden(cell.source)[0]
    return visible


def kernel_flags(run: KernelRun, limits: sandbox.Limits, student: str, chapter: str) -> list[Flag]:
    """The flags of a kernel run: timeout, crash, limit, leftover, output-limit, files."""

    def flag(kind, reason):
        return Flag(student, chapter, "", kind, reason)

    flags = []
    if run.timed_out:
        flags.append(
            flag(
                "timeout",
                f"the notebook ran past {limits.wall_seconds:g} s; its sandbox was killed",
            )
        )
    elif run.returncode not in (0, None) or run.not_run:
        how = {
            3: "the kernel died",
            4: "a cell ignored its interrupt and the kernel was stopped",
        }.get(run.returncode, f"the kernel run ended with code {run.returncode}")
        if run.memory_exceeded:
            how += " (memory limit reached)"
        flags.append(
            flag("crash", how + (f"; not run: {', '.join(run.not_run)}" if run.not_run else ""))
        )
    if run.out_of_memory or run.memory_exceeded:
        where = ", ".join(run.out_of_memory) or "the kernel"
        flags.append(
            flag("limit", f"memory limit ({limits.memory_bytes >> 20} MB) reached in {where}")
        )
    if run.processes_exceeded:
        flags.append(flag("limit", f"process limit ({limits.processes}) reached"))
    if run.leftover:
        flags.append(
            flag(
                "leftover",
                f"{run.leftover} process(es) were still running when the kernel stopped; "
                f"all were killed",
            )
        )
    if run.truncated:
        flags.append(
            flag(
                "output-limit",
                f"the notebook printed more than {limits.output_bytes:,} bytes; "
                f"the rest was dropped",
            )
        )
    found = run.scratch
    odd = [
        f"{found[k]} {word}"
        for k, word in (
            ("links", "symbolic link(s)"),
            ("special", "FIFO(s), socket(s) or other special file(s)"),
            ("unreadable", "folder(s) it made unreadable"),
        )
        if found.get(k)
    ]
    if odd:  # counted inside the sandbox: it informs, it decides nothing (none of it was kept)
        flags.append(
            flag(
                "files",
                f"the notebook left {', '.join(odd)} in its sandbox; "
                f"ignored (nothing it writes is kept)",
            )
        )
    if run.scratch_capped and "free_bytes" in found and found["free_bytes"] < (1 << 20):
        flags.append(
            flag(
                "limit", f"the notebook filled its writable area ({limits.scratch_bytes >> 20} MB)"
            )
        )
    return flags


def describe(run: KernelRun) -> str:
    """One log line: what the notebook left in its sandbox and how many result lines were
    rejected."""
    found = run.scratch
    return (
        f"sandbox: the notebook left {found.get('files', 0)} file(s) "
        f"({found.get('bytes', 0):,} bytes), {found.get('links', 0)} link(s), "
        f"{found.get('special', 0)} special file(s), {found.get('unreadable', 0)} "
        f"unreadable folder(s); none was kept; {run.rejected} result line(s) rejected"
    )
