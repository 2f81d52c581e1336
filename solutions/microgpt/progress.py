"""Progress reporting for long loops: a bar on a terminal, plain lines elsewhere."""

import sys
import time


class Progress:
    """Report `total` units of work. On a TTY, one bar redrawn in place;
    otherwise a line at every tenth of the work (logs stay short and readable)."""

    def __init__(self, total, label="", stream=None, width=30):
        self.total, self.label, self.width = total, label, width
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = getattr(self.stream, "isatty", lambda: False)()
        self.start = time.perf_counter()
        self.every = max(1, total // 10)

    def update(self, done, status=""):
        elapsed = time.perf_counter() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.interactive:
            filled = self.width * done // self.total
            bar = "#" * filled + "-" * (self.width - filled)
            eta = (self.total - done) / rate if rate else 0.0
            self.stream.write(
                f"\r{self.label} [{bar}] {done}/{self.total} {status} {rate:.1f}/s eta {eta:.0f}s "
            )
            if done == self.total:
                self.stream.write("\n")
        elif done % self.every == 0 or done == self.total:
            self.stream.write(f"{self.label} {done}/{self.total} {status} ({elapsed:.1f}s)\n")
        self.stream.flush()

    @property
    def elapsed(self):
        return time.perf_counter() - self.start
