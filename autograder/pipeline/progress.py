"""Progress of a command's work (a bar on a terminal, periodic lines otherwise) and its summary
table."""

from __future__ import annotations

import sys
import threading

from microgpt.progress import Progress


class WorkProgress(Progress):
    """Counts finished items of work; thread-safe so parallel workers can report.

    progress = WorkProgress(total, "grade");  progress.advance("alice 01_autograd 10/10")
    """

    def __init__(self, total, label="", stream=None):
        super().__init__(max(total, 1), label=label, stream=stream)
        self.done = 0
        self._lock = threading.Lock()

    def advance(self, status=""):
        with self._lock:
            self.done += 1
            self.update(min(self.done, self.total), status)


def progress_factory(stream=None):
    """A callable (total, label) -> WorkProgress: what commands are handed to report their work."""

    def make(total, label=""):
        return WorkProgress(total, label, stream if stream is not None else sys.stderr)

    return make


def table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table: numbers right-aligned, text left-aligned, a rule under the headers."""
    cells = [[format_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], (int, float)) or row[i] in ("", None) for row in rows) and rows
        for i in range(len(headers))
    ]

    def line(values):
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def format_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
