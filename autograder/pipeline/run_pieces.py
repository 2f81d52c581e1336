"""Confirm graded pieces in plain Python processes: the program the sandbox runs for confirmation.

    python run_pieces.py < job.json       (prints one JSON line per piece as it finishes)

job: {"cells": [{"index": i, "source": code, "shared": bool}, ...]   the instructor's code cells, in order
      "pieces": [{"grade_id", "solution_index", "solution_source", "after": [indices], "seconds"}]}
The shared cells run once, in order, in one namespace (the others only in the pieces that list them
in `after`). Just before the solution cell of a piece, the process forks: the child runs the piece's
solution cell with the learner's regions (solution_source), then the instructor's cells `after` it
up to its grade cell (the last of `after`), and reports whether the grade cell raised. The parent
carries on with the instructor's version, so every piece starts from a clean instructor state and
one piece's code never sees another's. A child past its `seconds` is killed. Stdlib only: the
sandbox binds nothing else of the course.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback

MESSAGE_CHARS = 2_000


def forbid_inspection():
    """PR_SET_DUMPABLE 0: a child cannot open this process's file descriptors or memory via /proc."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


def run_cell(source, namespace, name):
    """Execute one cell; returns None or (exception type name, message)."""
    try:
        exec(compile(source, name, "exec"), namespace)
    except BaseException as error:  # SystemExit and KeyboardInterrupt in a cell are failures too
        return type(error).__name__, describe(error)
    return None


def describe(error) -> str:
    """The error's message for the learner; never empty (a stub's bare NotImplementedError has none)."""
    text = str(error).strip()
    if isinstance(error, SyntaxError):
        text = f"{error.msg} (line {error.lineno})"
    elif isinstance(error, NotImplementedError) and not text:
        text = "not written yet: the function still raises NotImplementedError"
    elif not text:
        text = f"{type(error).__name__} (with no message)"
    return text[:MESSAGE_CHARS]


def child(piece, cells, namespace, write_fd):
    """In the forked child: run the learner's cell and the instructor's cells up to the grade cell."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, write_fd)
    os.closerange(write_fd + 1, 1 << 16)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    by_index = {cell["index"]: cell["source"] for cell in cells}
    solution_error = run_cell(piece["solution_source"], namespace, "<solution>")
    grade_error = None
    for index in piece["after"]:
        error = run_cell(by_index[index], namespace, f"<cell {index}>")
        if index == piece["after"][-1]:
            grade_error = error
    if grade_error is None:
        report = {"passed": True, "error": "", "message": ""}
    elif solution_error is not None:  # the grade cell failed because the solution cell did
        report = {"passed": False, "error": solution_error[0],
                  "message": f"your solution cell raised {solution_error[0]}: {solution_error[1]}"}
    else:
        report = {"passed": False, "error": grade_error[0], "message": grade_error[1]}
    os.write(write_fd, json.dumps(report).encode())
    os._exit(0)


def confirm(piece, cells, namespace):
    """Fork, run the piece in the child, wait at most piece['seconds']; the child's report or a failure."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            child(piece, cells, namespace, write_fd)
        finally:
            os._exit(1)
    os.close(write_fd)
    deadline = time.monotonic() + piece["seconds"]
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            return {"passed": False, "error": "Timeout",
                    "message": f"the check did not finish within {piece['seconds']:g} s (an endless loop?)"}
        ready, _, _ = select.select([read_fd], [], [], left)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            data += chunk
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    try:
        return json.loads(data.decode())
    except ValueError:
        how = (f"was killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
               else f"exited with code {os.WEXITSTATUS(status)}")
        return {"passed": False, "error": "Crash", "message": f"the process running your code {how} before the check ended"}


def main():
    forbid_inspection()
    sys.path[0] = os.getcwd()  # like a notebook: the chapter's files import by bare name, this folder does not
    job = json.load(sys.stdin)
    cells, pieces = job["cells"], job["pieces"]
    namespace = {"__name__": "__main__"}
    out = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr = open(os.devnull, "w")  # the instructor's cells print: keep the channel clean
    starts = {}
    for piece in pieces:
        starts.setdefault(piece["solution_index"], []).append(piece)
    last = max(starts, default=-1)
    for cell in cells:
        for piece in starts.get(cell["index"], []):
            result = confirm(piece, cells, namespace)
            out.write(json.dumps({"grade_id": piece["grade_id"], **result}) + "\n")
            out.flush()
        if cell["index"] >= last:
            break
        if cell["shared"]:
            run_cell(cell["source"], namespace, f"<cell {cell['index']}>")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc(file=sys.__stderr__)
        sys.exit(1)
