"""What the host takes back from a sandboxed run, and how it copies files it did not write itself.

Nothing a sandbox leaves is trusted. The notebook runner (run_notebook.py) writes its results to a
pipe the host reads up to a byte cap (sandbox.run's `result_bytes`); `read_results` parses those
bytes as JSON lines and keeps, per code cell of the notebook the host already holds, only an
execution count and outputs rebuilt field by field (`clean_outputs`): a forged line can change what
a cell shows, never a cell's source, metadata or count of cells. Files are never read back from a
sandbox: its writable area is a tmpfs that vanishes with it.

`read_regular` and `copy_regular` are how the host reads files that someone else may have made (a
submitted folder, a chapter folder): opened without following links and without blocking on a FIFO,
checked to be a regular file of bounded size, read through that one descriptor.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

RESULT_LINE_BYTES = 64 << 20  # one result line larger than this is not parsed
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")


def result_cap(output_bytes: int, cells: int) -> int:
    """Bytes of results read from a notebook run: its outputs (cut at output_bytes by the runner;
    JSON escapes can grow them), one line per cell and the final line."""
    return 8 * int(output_bytes) + 600 * int(cells) + (1 << 20)


@dataclass
class Readback:
    cells: dict = field(default_factory=dict)  # index -> (execution_count, outputs)
    # the runner's last line (exit code, leftover, scratch survey)
    end: dict | None = None
    rejected: int = 0  # lines that were not a valid result

    def scratch(self) -> dict:
        """The runner's count of what the notebook left in its working folder (ints only)."""
        found = (self.end or {}).get("scratch")
        return (
            {
                k: v
                for k, v in found.items()
                if isinstance(v, int) and not isinstance(v, bool) and v >= 0
            }
            if isinstance(found, dict)
            else {}
        )


def read_results(data: bytes, nb) -> Readback:
    """Parse a runner's result lines against `nb` (the notebook the host sent): a line for a cell
    that is not a code cell of nb, or that is not valid, is counted and ignored; the last valid line
    of a cell wins. An unterminated last line (the run was killed while writing) is ignored."""
    back = Readback()
    lines = data.split(b"\n")
    if lines and lines[-1]:
        back.rejected += 1
    for line in lines[:-1]:
        if not line.strip():
            continue
        try:
            if len(line) > RESULT_LINE_BYTES:
                raise ValueError("line too long")
            message = json.loads(line)
            if not isinstance(message, dict):
                raise ValueError("not an object")
            if "cell" in message:
                index = message["cell"]
                if (
                    not is_int(index)
                    or not 0 <= index < len(nb.cells)
                    or nb.cells[index].cell_type != "code"
                ):
                    raise ValueError("not a code cell")
                count = message.get("execution_count")
                count = count if is_int(count) else None
                back.cells[index] = (count, clean_outputs(message.get("outputs")))
            elif "end" in message:
                back.end = {k: v for k, v in message.items() if k in ("end", "leftover", "scratch")}
            else:
                raise ValueError("unknown line")
        except (ValueError, TypeError, RecursionError):
            back.rejected += 1
    return back


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text_of(value) -> str | None:
    """A notebook 'multiline string' (a string or a list of strings) as one string, else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def clean_outputs(outputs) -> list:
    """Notebook outputs rebuilt from untrusted JSON: only the four output types, only their fields,
    each of the type the notebook format requires; anything else is dropped."""
    from nbformat.v4 import new_output

    kept = []
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict) or output.get("output_type") not in OUTPUT_TYPES:
            continue
        kind = output["output_type"]
        if kind == "stream":
            text = text_of(output.get("text"))
            if text is not None:
                name = (
                    output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
                )
                kept.append(new_output("stream", name=name, text=text))
        elif kind == "error":
            traceback = output.get("traceback")
            traceback = (
                [line for line in traceback if isinstance(line, str)]
                if isinstance(traceback, list)
                else []
            )
            kept.append(
                new_output(
                    "error",
                    ename=str(output.get("ename", "Error"))
                    if isinstance(output.get("ename"), str)
                    else "Error",
                    evalue=output.get("evalue") if isinstance(output.get("evalue"), str) else "",
                    traceback=traceback,
                )
            )
        else:
            data = {}
            for mime, value in (
                (output.get("data") or {}).items() if isinstance(output.get("data"), dict) else ()
            ):
                if not isinstance(mime, str) or "/" not in mime:
                    continue
                if mime == "application/json" or mime.endswith("+json"):
                    data[mime] = value
                elif (text := text_of(value)) is not None:
                    data[mime] = text
            metadata = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
            if kind == "execute_result":
                count = output.get("execution_count")
                kept.append(
                    new_output(
                        kind,
                        data=data,
                        metadata=metadata,
                        execution_count=count if is_int(count) else None,
                    )
                )
            else:
                kept.append(new_output(kind, data=data, metadata=metadata))
    return kept


class NotRegular(OSError):
    """The path is a link, a FIFO, a socket, a device or a folder (kind "links" or "special"), or
    larger than allowed (kind "large")."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def open_regular(path: Path, max_bytes: int) -> int:
    """A descriptor of the regular file at path, opened without following a link (O_NOFOLLOW) and
    without blocking on a FIFO (O_NONBLOCK), checked with fstat; NotRegular if it is not a regular
    file or is larger than max_bytes."""
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if os.path.islink(path):
            raise NotRegular(f"{path} is a symbolic link", "links") from error
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(f"{path} is not a regular file", "special")
        if info.st_size > max_bytes:
            raise NotRegular(f"{path} is larger than {max_bytes:,} bytes", "large")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at path (see open_regular), at most max_bytes of them."""
    fd = open_regular(path, max_bytes)
    try:
        chunks, left = [], max_bytes + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise NotRegular(f"{path} is larger than {max_bytes:,} bytes", "large")
    return data


def copy_regular(source: Path, target: Path, max_bytes: int) -> int:
    """Copy the regular file at source (see open_regular) to a new file at target, created with
    O_EXCL (never written through something already there, link or not); returns the bytes copied. A
    source that grows past max_bytes while being copied leaves no target."""
    fd = open_regular(source, max_bytes)
    try:
        flags = (
            os.O_WRONLY
            | os.O_CREAT
            | os.O_EXCL
            | getattr(os, "O_NOFOLLOW", 0)
            | getattr(os, "O_CLOEXEC", 0)
        )
        out = os.open(target, flags, 0o644)
        copied = 0
        try:
            while chunk := os.read(fd, 1 << 20):
                copied += len(chunk)
                if copied > max_bytes:
                    raise NotRegular(f"{source} is larger than {max_bytes:,} bytes", "large")
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view) :]
        except BaseException:
            os.close(out)
            os.unlink(target)
            raise
        os.close(out)
        return copied
    finally:
        os.close(fd)
