"""Who grades what: a `grade` run claims each submission from before grading it until it is
recorded, and works in a folder of its own, grading/work/RUN/.

With a SQLite gradebook (one machine), the run holds grading/grade.lock (flock) from start to end,
so it is the course's only `grade`: every claim is granted, and whatever is left in grading/work/ is
from an earlier run that was killed, and is removed.

With a PostgreSQL gradebook (any number of machines or shards writing one class's gradebook), the
claims are session advisory locks in that database, held on one connection of the run: a lock per
submission (pg_try_advisory_lock, taken before it is graded, freed once it is recorded) and one on
the run's work folder. The server frees a session's locks when its connection ends, so a run that
dies in any way (SIGKILL, a lost machine: TCP keepalives below) frees its claims. A run that meets a
submission claimed by another run skips it and says so; a folder in grading/work/ whose lock can be
taken belongs to a run that has ended, and is removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from .course import Course, UsageError

# the server notices a client gone without closing its connection (a lost machine) after about
# idle + interval * count seconds, and frees that run's claims
KEEPALIVE = {"tcp_keepalives_idle": 60, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 6}


def lock_key(*words: str) -> int:
    """A signed 64-bit advisory lock key for words (the first 8 bytes of their SHA-256)."""
    digest = hashlib.sha256("\0".join(("microgpt-course", *words)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FileClaims:
    """A SQLite course's run: the course's lock file held, every claim granted."""

    def __init__(self, course: Course):
        course.grading_dir.mkdir(parents=True, exist_ok=True)
        self.path = course.grading_dir / "grade.lock"
        self.handle = open(self.path, "w")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise UsageError(
                f"another `grade` is running on {course.root} (lock {self.path})"
            ) from None

    def claim(self, student: str, chapter: str) -> bool:
        return True

    def release(self, student: str, chapter: str):
        pass

    def hold_run(self, run: str):
        pass  # the lock file covers the run's work folder

    def run_has_ended(self, run: str) -> bool:
        return True  # this run is the only one

    def close(self):
        self.handle.close()


class DatabaseClaims:
    """A run on a database server's gradebook: its claims are advisory locks on one connection."""

    def __init__(self, course: Course):
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        self.text = text
        # one connection, closed with the run
        self.engine = create_engine(course.db_url, poolclass=NullPool)
        self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        for name, value in KEEPALIVE.items():
            self.connection.execute(text(f"SET {name} = {int(value)}"))

    def _try(self, key: int) -> bool:
        """Take the advisory lock `key` if no other session holds it; whether it was taken."""
        return bool(
            self.connection.execute(
                self.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}
            ).scalar()
        )

    def _unlock(self, key: int):
        self.connection.execute(self.text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    def claim(self, student: str, chapter: str) -> bool:
        """Claim a submission for this run; False if another run holds it."""
        return self._try(lock_key("submission", chapter, student))

    def release(self, student: str, chapter: str):
        """Give up the claim on a submission (it is recorded, or the grader failed on it)."""
        self._unlock(lock_key("submission", chapter, student))

    def hold_run(self, run: str):
        """Claim this run's own work folder for as long as the run lasts."""
        if not self._try(lock_key("run", run)):
            raise RuntimeError(f"the work folder {run} is another run's")

    def run_has_ended(self, run: str) -> bool:
        """Whether the run owning the work folder `run` has ended (no session holds its lock)."""
        if not self._try(lock_key("run", run)):
            return False
        self._unlock(lock_key("run", run))
        return True

    def close(self):
        self.connection.close()  # frees every claim of this run
        self.engine.dispose()


@contextmanager
def grading_run(course: Course):
    """(claims, work folder) of one `grade` run: UsageError if another run holds a SQLite course's
    lock; the work folders of runs that ended removed first; the run's own removed at the end."""
    claims = DatabaseClaims(course) if course.shared_gradebook else FileClaims(course)
    try:
        run = uuid.uuid4().hex[:12]
        claims.hold_run(run)
        work = course.grading_dir / "work"
        for folder in sorted(work.iterdir()) if work.is_dir() else []:
            if claims.run_has_ended(folder.name):
                remove(folder)
        mine = work / run
        mine.mkdir(parents=True)
        try:
            yield claims, mine
        finally:
            remove(mine)
            try:
                work.rmdir()  # the last run out leaves no work folder
            except OSError:
                pass
    finally:
        claims.close()


def remove(path: Path):
    """Remove a work folder (or a stray file left in grading/work/)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
