"""Run one notebook cell by cell in a Jupyter kernel: the program the sandbox runs for autograding.

    python run_notebook.py --given FOLDER --cell-seconds S --output-bytes N < NOTEBOOK.ipynb

The notebook comes on stdin. The regular files of FOLDER (a read-only folder the host made: the
chapter's files and the learner's submitted ones) are first copied into the working folder, which in
the sandbox is a private size-capped tmpfs that vanishes with it. Results go to the pipe named by
$MICROGPT_RESULT_FD (stdout without it), one JSON line per code cell as soon as it has run:
{"cell": INDEX, "execution_count": N, "outputs": [...]}, so the cells run before the sandbox was
killed keep their outputs, and the cost stays linear in the number of cells; last a line {"end":
CODE, "leftover": N, "scratch": {...}} that counts what the notebook left in its working folder
(files, bytes, links, special files, unreadable folders); the host keeps none of it.

Like nbgrader's Execute (errors do not stop the run; a cell past its time gets an interrupt and a
CellTimeoutError output), and also: once the notebook's outputs reach N bytes, further output is
dropped with one note (errors are kept, cut to one line); a cell that stays busy after its
interrupt, or a kernel that dies, ends the run (the cells not run get no line). Run as a script
(stdlib, nbformat and nbclient only), so the sandbox needs nothing else of the course.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import stat
import sys

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which builds a grammar
# for 2-3 s at import (once per graded notebook), for an IRI format check notebooks never use: skip
# it
sys.modules.setdefault("rfc3987_syntax", None)

TRUNCATED = "\n[output truncated: this notebook printed more than {limit:,} bytes]\n"
TRACEBACK_LINES = 60  # lines of one error's traceback kept
LINE_CHARS = 2_000  # characters of one traceback line kept
SURVEY_ENTRIES = 10_000  # entries of the working folder looked at when counting what was left
RESULT_FD_VARIABLE = "MICROGPT_RESULT_FD"
TIMED_OUT = "the cell ran longer than {seconds} s and was interrupted"


def output_size(output) -> int:
    """Bytes an output adds to the notebook file (its text, data and traceback; each stored line
    costs about 10 bytes of JSON around it)."""
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        return len(text) + 10 * text.count("\n")
    if output.get("output_type") == "error":
        return sum(len(line) for line in output.get("traceback", [])) + len(
            output.get("evalue", "")
        )
    return len(json.dumps(output.get("data", {})))


def bound_error(output):
    """An error output with its traceback and message cut to a readable size (in place)."""
    traceback = [line[:LINE_CHARS] for line in output.get("traceback", [])]
    if len(traceback) > TRACEBACK_LINES:
        traceback = (
            traceback[: TRACEBACK_LINES // 2]
            + ["... traceback truncated ..."]
            + traceback[-TRACEBACK_LINES // 2 :]
        )
    output["traceback"] = traceback
    output["evalue"] = str(output.get("evalue", ""))[:LINE_CHARS]
    return output


def bound_outputs(nb, limit: int) -> bool:
    """Cut the outputs of a notebook to `limit` bytes in total (errors always kept, shortened).
    Returns True if anything was cut. Used inside the sandbox while running, and outside on what
    comes back."""
    used, cut = 0, False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                kept.append(bound_error(output))
                continue
            size = output_size(output)
            if used + size <= limit:
                kept.append(output)
                used += size
                continue
            cut = True
            if output.get("output_type") == "stream" and used < limit:
                output["text"] = output["text"][: limit - used]
                kept.append(output)
                used = limit
            if not any(
                o.get("name") == "stderr" and TRUNCATED.format(limit=limit) in o.get("text", "")
                for o in kept
            ):
                kept.append(truncation_note(limit))
        cell["outputs"] = kept
    return cut


def truncation_note(limit: int):
    from nbformat.v4 import new_output

    return new_output("stream", name="stderr", text=TRUNCATED.format(limit=limit))


def make_client(nb, cell_seconds, output_bytes):
    from nbclient import NotebookClient

    class BoundedClient(NotebookClient):
        """nbclient keeping at most output_bytes of outputs over the whole notebook."""

        used = 0
        noted = False
        limit = output_bytes

        def output(self, outs, msg, display_id, cell_index):
            from nbformat.v4 import output_from_msg

            try:
                size = output_size(output_from_msg(msg))
            except ValueError:
                size = 0
            if msg["msg_type"] == "error" or self.used + size <= output_bytes:
                self.used += size
                return super().output(outs, msg, display_id, cell_index)
            if not self.noted:
                self.noted = True
                outs.append(truncation_note(output_bytes))
            return None

    def show_timeout(cell, cell_index, execute_reply):
        """nbclient ends a cell past its time with the error_on_timeout reply below, without waiting
        for the kernel (which may ignore the interrupt) and without an output: give the cell that
        output, so that it says why it stopped and execute() checks that the kernel answers
        again."""
        if execute_reply["content"].get("ename") == "CellTimeoutError":
            cell.outputs.append(
                error_output("CellTimeoutError", TIMED_OUT.format(seconds=int(cell_seconds)))
            )

    return BoundedClient(
        nb,
        timeout=int(cell_seconds),
        interrupt_on_timeout=True,
        allow_errors=True,
        raise_on_iopub_timeout=False,
        iopub_timeout=4,
        kernel_name="python3",
        error_on_timeout={"ename": "CellTimeoutError", "evalue": ""},
        on_cell_error=show_timeout,
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
        resources={"metadata": {"path": os.getcwd()}},
        record_timing=False,
    )


class Results:
    """Writes one JSON line per message to a descriptor (the result pipe), whole lines only."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, message: dict):
        data = (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
            "utf-8", "replace"
        )
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError:  # the host stopped reading (the sandbox is being killed)
            pass

    def cell(self, index: int, cell, client):
        """One executed code cell: its execution count and outputs, errors cut to a readable size
        (to one line once the notebook's output budget is spent)."""
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output = bound_error(output)
                if client.used > client.limit:
                    line = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"[:200]
                    output["traceback"], output["evalue"] = (
                        [line],
                        str(output.get("evalue", ""))[:200],
                    )
            outputs.append(output)
        self.send(
            {"cell": index, "execution_count": cell.get("execution_count"), "outputs": outputs}
        )


async def execute(nb, results: Results, cell_seconds, output_bytes):
    """Run every code cell; each one's result is sent as soon as it has run (never the whole
    notebook again: that cost time quadratic in the number of cells)."""
    from nbclient.exceptions import DeadKernelError

    client = make_client(nb, cell_seconds, output_bytes)
    async with client.async_setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                await client.async_execute_cell(cell, index)
            except DeadKernelError:
                cell.outputs.append(
                    error_output("DeadKernelError", "the kernel died while running this cell")
                )
                results.cell(index, cell, client)
                return 3
            if has_timeout(cell) and not await responsive(client):
                cell.outputs.append(
                    error_output(
                        "CellTimeoutError",
                        "the cell ignored the interrupt: the kernel "
                        "was stopped, later cells did not run",
                    )
                )
                results.cell(index, cell, client)
                return 4
            results.cell(index, cell, client)
    return 0


def copy_given(given: str, target: str) -> list[str]:
    """Copy the regular files under `given` (links and special files skipped) into `target`; returns
    their relative paths. A file that does not fit (the working folder is size-capped) is
    skipped."""
    copied = []
    for folder, dirs, files in os.walk(given):
        dirs[:] = [d for d in dirs if stat.S_ISDIR(os.lstat(os.path.join(folder, d)).st_mode)]
        for name in files:
            source = os.path.join(folder, name)
            relative = os.path.relpath(source, given)
            destination = os.path.join(target, relative)
            try:
                if not stat.S_ISREG(os.lstat(source).st_mode):
                    continue
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copyfile(source, destination, follow_symlinks=False)
                copied.append(relative)
            except OSError as error:
                print(f"run_notebook: {relative} not copied: {error}", file=sys.stderr)
    return copied


def survey(folder: str, given: list[str]) -> dict:
    """What the notebook left in its working folder (never followed: links and special files are
    only counted): files not given, their bytes, links, special files, folders it could not read."""
    found = {"files": 0, "bytes": 0, "links": 0, "special": 0, "unreadable": 0, "entries": 0}
    given = set(given)
    pending = [folder]
    while pending and found["entries"] < SURVEY_ENTRIES:
        current = pending.pop()
        try:
            if not os.access(current, os.R_OK | os.X_OK):
                found["unreadable"] += 1
                # a folder (not a link: see below) of this sandbox's user; to count it
                os.chmod(current, 0o700)
            with os.scandir(current) as entries:
                for entry in entries:
                    found["entries"] += 1
                    if found["entries"] >= SURVEY_ENTRIES:
                        break
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISLNK(info.st_mode):
                        found["links"] += 1
                    elif stat.S_ISDIR(info.st_mode):
                        pending.append(entry.path)
                    elif not stat.S_ISREG(info.st_mode):
                        found["special"] += 1
                    elif os.path.relpath(entry.path, folder) not in given:
                        found["files"] += 1
                        found["bytes"] += info.st_size
        except OSError:
            pass
    try:
        space = os.statvfs(folder)
        found["free_bytes"] = space.f_bavail * space.f_frsize
    except OSError:
        pass
    return found


def has_timeout(cell) -> bool:
    return any(
        o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
        for o in cell.outputs
    )


async def responsive(client) -> bool:
    """After an interrupt: does the kernel answer within a few seconds (it is idle again)?"""
    try:
        await client.kc.kernel_info(reply=True, timeout=5)
        return True
    except Exception:
        return False


def error_output(ename, evalue):
    from nbformat.v4 import new_output

    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--given", help="a folder whose regular files are copied into the working folder first"
    )
    parser.add_argument("--cell-seconds", type=float, required=True)
    parser.add_argument("--output-bytes", type=int, default=2_000_000)
    parser.add_argument(
        "--count-leftovers",
        action="store_true",
        help="in a PID namespace: report processes still alive after the kernel stopped",
    )
    args = parser.parse_args(argv)
    import nbformat

    fd = int(os.environ.get(RESULT_FD_VARIABLE) or sys.stdout.fileno())
    if fd != sys.stdout.fileno():
        os.set_inheritable(fd, False)  # the kernel and what it starts do not get the result pipe
    results = Results(fd)
    nb = nbformat.reads(sys.stdin.buffer.read().decode("utf-8"), as_version=4)
    given = copy_given(args.given, os.getcwd()) if args.given else []
    workdir = os.getcwd()
    code = asyncio.run(execute(nb, results, args.cell_seconds, args.output_bytes))
    results.send(
        {
            "end": code,
            "leftover": leftover_processes() if args.count_leftovers else 0,
            "scratch": survey(workdir, given),
        }
    )
    return code


def leftover_processes() -> int:
    """Live processes of this PID namespace other than its init (bwrap) and this one."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, os.getpid()):
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    state = stat.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            count += state != "Z"
    return count


if __name__ == "__main__":
    sys.exit(main())
