"""Execute one notebook cell by cell in a Jupyter kernel: the program the sandbox runs for autograding.

    python run_notebook.py IN.ipynb OUT.ipynb --cell-seconds S --output-bytes N

Like nbgrader's Execute (errors do not stop the run; a cell past its time gets an interrupt and a
CellTimeoutError output), and also: OUT is rewritten after every cell, so the cells run before the
sandbox was killed keep their outputs; once the notebook's outputs reach N bytes, further output is
dropped with one note; a cell that stays busy after its interrupt, or a kernel that dies, ends the run
(the cells not run are left without outputs and without execution count). Run as a script (stdlib,
nbformat and nbclient only), so the sandbox needs nothing else of the course.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

# jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which builds a grammar for
# 2-3 s at import (once per graded notebook), for an IRI format check notebooks never use: skip it
sys.modules.setdefault("rfc3987_syntax", None)

TRUNCATED = "\n[output truncated: this notebook printed more than {limit:,} bytes]\n"
TRACEBACK_LINES = 60       # lines of one error's traceback kept
LINE_CHARS = 2_000         # characters of one traceback line kept


def output_size(output) -> int:
    """Bytes an output adds to the notebook file (its text, data and traceback; each stored line
    costs about 10 bytes of JSON around it)."""
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        return len(text) + 10 * text.count("\n")
    if output.get("output_type") == "error":
        return sum(len(line) for line in output.get("traceback", [])) + len(output.get("evalue", ""))
    return len(json.dumps(output.get("data", {})))


def bound_error(output):
    """An error output with its traceback and message cut to a readable size (in place)."""
    traceback = [line[:LINE_CHARS] for line in output.get("traceback", [])]
    if len(traceback) > TRACEBACK_LINES:
        traceback = traceback[: TRACEBACK_LINES // 2] + ["... traceback truncated ..."] + traceback[-TRACEBACK_LINES // 2:]
    output["traceback"] = traceback
    output["evalue"] = str(output.get("evalue", ""))[:LINE_CHARS]
    return output


def bound_outputs(nb, limit: int) -> bool:
    """Cut the outputs of a notebook to `limit` bytes in total (errors always kept, shortened). Returns
    True if anything was cut. Used inside the sandbox while running, and outside on what comes back."""
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
            if not any(o.get("name") == "stderr" and TRUNCATED.format(limit=limit) in o.get("text", "")
                       for o in kept):
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

    return BoundedClient(nb, timeout=int(cell_seconds), interrupt_on_timeout=True, allow_errors=True,
                         raise_on_iopub_timeout=False, iopub_timeout=4, kernel_name="python3",
                         error_on_timeout={"ename": "CellTimeoutError", "evalue": "",
                                           "traceback": [f"CellTimeoutError: the cell ran longer than "
                                                         f"{int(cell_seconds)} s and was interrupted"]},
                         extra_arguments=["--HistoryManager.hist_file=:memory:"],
                         resources={"metadata": {"path": os.getcwd()}}, record_timing=False)


def save(nb, path):
    import nbformat

    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as handle:
        nbformat.write(nb, handle)
    os.replace(partial, path)


async def execute(nb, out_path, cell_seconds, output_bytes):
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    client = make_client(nb, cell_seconds, output_bytes)
    async with client.async_setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                await client.async_execute_cell(cell, index)
            except DeadKernelError:
                cell.outputs.append(error_output("DeadKernelError", "the kernel died while running this cell"))
                save(nb, out_path)
                return 3
            except CellTimeoutError:
                cell.outputs.append(error_output("CellTimeoutError", f"the cell ran longer than {cell_seconds:g} s"))
            if has_timeout(cell) and not await responsive(client):
                cell.outputs.append(error_output(
                    "CellTimeoutError", "the cell ignored the interrupt: the kernel was stopped, later cells did not run"))
                save(nb, out_path)
                return 4
            save(nb, out_path)
    return 0


def has_timeout(cell) -> bool:
    return any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in cell.outputs)


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
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("--cell-seconds", type=float, default=120)
    parser.add_argument("--output-bytes", type=int, default=2_000_000)
    parser.add_argument("--count-leftovers", action="store_true",
                        help="in a PID namespace: report processes still alive after the kernel stopped")
    args = parser.parse_args(argv)
    import nbformat

    nb = nbformat.read(args.notebook, as_version=4)
    save(nb, args.output)
    code = asyncio.run(execute(nb, args.output, args.cell_seconds, args.output_bytes))
    if args.count_leftovers:
        print(json.dumps({"leftover": leftover_processes()}), flush=True)
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
