"""The course directory: its paths, chapters, nbgrader configuration, API, gradebook and run logs.

The course root holds nbgrader_config.py and chapters/NN_name/NN_name.ipynb (the source of each
chapter, one nbgrader assignment each). Everything the pipeline writes lives under the root:
release/, submitted/, autograded/, feedback/, gradebook.db, grading/ (flags, judged results,
logs) and workspace/.

The gradebook is SQLite's gradebook.db unless a database URL names another (`--db URL`, else
`c.CourseDirectory.db_url` in nbgrader_config.py): PostgreSQL, which several machines grading one
class write at once (INSTRUCTORS.md, "One class, many machines").
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import warnings
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ..command_line import UsageError  # the pipeline's modules raise it from here
from ..notebook_format import UnknownChapter, chapter_names, resolve_chapters

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG_NAME = "nbgrader_config.py"


# supported; the driver of a bare name
DB_BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def database_url(text: str):
    """A gradebook URL as SQLAlchemy's URL: a bare `postgresql://` gets the psycopg (3) driver,
    which SQLAlchemy 2.0 and 2.1 both have. UsageError for text that is no URL or names another
    database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError):  # their messages repeat the text, password and all
        raise UsageError(
            f"the gradebook URL {hide_password(text)!r} is not a database URL (e.g. "
            f"postgresql://USER@HOST/DATABASE or sqlite:////PATH/gradebook.db)"
        ) from None
    if url.get_backend_name() not in DB_BACKENDS:
        raise UsageError(
            f"the gradebook URL {shown_url(url)} names {url.get_backend_name()}: the gradebook is "
            f"SQLite or PostgreSQL (postgresql://USER@HOST/DATABASE)"
        )
    return url if "+" in url.drivername else url.set(drivername=DB_BACKENDS[url.get_backend_name()])


def shown_url(url) -> str:
    """A gradebook URL as logs and messages show it: its password as ***."""
    return url.render_as_string(hide_password=True)


def hide_password(text: str) -> str:
    """text with the password of any URL in it (scheme://user:PASSWORD@) as ***."""
    return re.sub(r"(\w://[^\s:/@]*:)[^\s@]*@", r"\1***@", text)


def ensure_tools_on_path():
    """nbgrader runs `alembic` (and `jupyter`) by name: put this interpreter's bin/ first on
    PATH."""
    # not resolved: a venv's python is a link
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + os.pathsep + path


@contextmanager
def quiet_gradebook():
    """Silence SQLAlchemy 2.1's harmless 'not in session' warnings from nbgrader's gradebook."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def find_course_root(start: Path) -> Path | None:
    """The course directory holding `start` (as nbgrader finds it: the folder with
    nbgrader_config.py, here also with chapters/), looking in start and then its parents; None if
    there is none."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / CONFIG_NAME).is_file() and (folder / "chapters").is_dir():
            return folder
    return None


class Course:
    """One nbgrader course directory (the repository, or a copy of its chapters/ and config)."""

    def __init__(self, root: Path | None = None, db: str | None = None):
        """The course at root (default: this repository); db, a gradebook URL overriding the
        config's."""
        self.root = Path(root if root is not None else REPOSITORY).resolve()
        config_file = self.root / CONFIG_NAME
        if not config_file.is_file():
            raise UsageError(f"{self.root} is not a course directory: it has no {CONFIG_NAME}")
        if not (self.root / "chapters").is_dir():
            raise UsageError(f"{self.root} is not a course directory: it has no chapters/ folder")
        self._db = db
        self._config = None
        self._api = None

    # ------------------------------------------------------------------ configuration and nbgrader

    @property
    def config(self):
        """The traitlets Config of nbgrader_config.py with the course root set to self.root."""
        if self._config is None:
            from traitlets.config.loader import PyFileConfigLoader

            config = PyFileConfigLoader(CONFIG_NAME, path=str(self.root)).load_config()
            config.CourseDirectory.root = str(self.root)
            config.Exchange.root = str(self.exchange)  # never the system-wide exchange
            config.NbGraderAPI.log_level = "WARN"
            # feedback shows this course's flags
            config.SanitizeFeedback.course_root = str(self.root)
            configured = (
                self._db
                or config.CourseDirectory.get("db_url")
                or f"sqlite:///{self.root / 'gradebook.db'}"
            )
            url = database_url(configured)
            # nbgrader (release, feedback) and this pipeline read the one value set here
            config.CourseDirectory.db_url = url.render_as_string(hide_password=False)
            if url.get_backend_name() != "sqlite" and not config.CourseDirectory.get("course_id"):
                # nbgrader records assignments under the course id, which must then be a row of its
                # course table (PostgreSQL checks that; SQLite does not): the id nbgrader's
                # Gradebook makes itself
                config.CourseDirectory.course_id = "default_course"
            self._config = config
        return self._config

    def limits(self, overrides: dict | None = None):
        """The grading limits: sandbox.Limits' defaults, then c.GradingLimits.NAME of
        nbgrader_config.py, then `overrides` (the command line's, None values ignored). UsageError
        for a name that is no limit or a value that is not a positive number."""
        from dataclasses import fields, replace

        from .sandbox import Limits

        known = {f.name: type(f.default) for f in fields(Limits)}  # int or float
        configured = {
            **dict(self.config.get("GradingLimits", {})),
            **{k: v for k, v in (overrides or {}).items() if v is not None},
        }
        for name, value in configured.items():
            if name not in known:
                raise UsageError(
                    f"{CONFIG_NAME}: c.GradingLimits.{name} is not a grading limit "
                    f"(they are: {', '.join(known)})"
                )
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 < value < float("inf")
                or (known[name] is int and value != int(value))
            ):
                raise UsageError(
                    f"{CONFIG_NAME}: c.GradingLimits.{name} (or "
                    f"--{name.replace('_', '-')}) must be a positive "
                    f"{'whole number' if known[name] is int else 'number'}, got {value!r}"
                )
        return replace(Limits(), **{k: known[k](v) for k, v in configured.items()})

    def api(self):
        """nbgrader's API for this course (headless: no exchange, no JupyterHub)."""
        if self._api is None:
            ensure_tools_on_path()
            from nbgrader.apps import NbGraderAPI

            self.exchange.mkdir(parents=True, exist_ok=True)  # nbgrader insists that it exists

            with quiet_gradebook():
                self._api = NbGraderAPI(config=self.config)
        return self._api

    @property
    def db_url(self) -> str:
        """The gradebook's URL: --db, else nbgrader_config.py's c.CourseDirectory.db_url, else
        gradebook.db."""
        return self.config.CourseDirectory.db_url

    @property
    def db_shown(self) -> str:
        """The gradebook's URL without its password, for logs and messages."""
        return shown_url(database_url(self.db_url))

    @property
    def shared_gradebook(self) -> bool:
        """Whether the gradebook is a database server's (PostgreSQL), not a SQLite file of this
        machine."""
        return database_url(self.db_url).get_backend_name() != "sqlite"

    def reach_gradebook(self):
        """Connect to a database server's gradebook once: UsageError (password hidden) if it cannot
        be reached or its driver is missing. A SQLite gradebook is a file, made when first
        opened."""
        if not self.shared_gradebook:
            return
        from sqlalchemy import create_engine, text

        try:
            engine = create_engine(self.db_url)
        except ImportError as error:
            how = ": pip install -e '.[postgres]'" if error.name == "psycopg" else ""
            raise UsageError(
                f"the gradebook {self.db_shown} needs the Python "
                f"package {error.name}, which is not installed{how}"
            ) from None
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # refused, unknown host, bad password, no such database ...
            why = " ".join(str(getattr(error, "orig", None) or error).split())
            raise UsageError(
                f"cannot reach the gradebook {self.db_shown}: {hide_password(why)[:300]}"
            ) from None
        finally:
            engine.dispose()

    def has_gradebook(self) -> bool:
        """Whether the gradebook exists, found without making one (opening a gradebook creates
        it)."""
        url = database_url(self.db_url)
        if url.get_backend_name() == "sqlite":
            return bool(url.database) and Path(url.database).is_file()
        from sqlalchemy import create_engine, inspect

        engine = create_engine(self.db_url)
        try:
            return inspect(engine).has_table("assignment")
        finally:
            engine.dispose()

    @contextmanager
    def gradebook(self):
        """nbgrader's Gradebook of this course (created if missing), closed on exit."""
        from nbgrader.api import Gradebook

        with quiet_gradebook(), Gradebook(self.db_url) as gb:
            yield gb

    @contextmanager
    def recording(self):
        """The gradebook in one transaction: what is written through it is committed together on
        exit, or not at all (an exception or a kill). nbgrader's own commits become savepoints."""
        from sqlalchemy import event
        from sqlalchemy.orm import scoped_session, sessionmaker

        with self.gradebook() as gb:
            if gb.engine.dialect.name == "sqlite":
                # pysqlite begins transactions lazily and would commit at the first savepoint's
                # release: SQLAlchemy's recipe (SQLite dialect docs, "Serializable isolation /
                # Savepoints")
                gb.engine.dispose()
                event.listen(
                    gb.engine, "connect", lambda dbapi, _: setattr(dbapi, "isolation_level", None)
                )
                event.listen(
                    gb.engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN")
                )
            gb.db.remove()
            with gb.engine.connect() as connection, connection.begin():
                gb.db = scoped_session(
                    sessionmaker(
                        bind=connection, autoflush=True, join_transaction_mode="create_savepoint"
                    )
                )
                try:
                    yield gb
                    gb.db.flush()
                finally:
                    gb.db.remove()

    # ------------------------------------------------------------------ chapters

    def chapters(self) -> list[str]:
        """Assignment names (NN_name) with a source notebook chapters/NN_name/NN_name.ipynb, in
        order."""
        return chapter_names(self.root / "chapters")

    def resolve(self, names: list[str]) -> list[str]:
        """Full chapter names for "1", "01", "01_autograd" or "autograd"; UsageError for any
        unknown."""
        try:
            return resolve_chapters(names, self.chapters(), self.root / "chapters")
        except UnknownChapter as exc:
            raise UsageError(str(exc)) from None

    def released(self) -> list[str]:
        """Chapters whose learner version exists in release/ (made by `release`)."""
        return [c for c in self.chapters() if (self.release_dir(c) / f"{c}.ipynb").is_file()]

    # ------------------------------------------------------------------ paths

    def source_notebook(self, chapter: str) -> Path:
        return self.root / "chapters" / chapter / f"{chapter}.ipynb"

    def release_dir(self, chapter: str) -> Path:
        return self.root / "release" / chapter

    def submitted(self, student: str, chapter: str) -> Path:
        return self.root / "submitted" / student / chapter

    def autograded(self, student: str, chapter: str) -> Path:
        return self.root / "autograded" / student / chapter

    def feedback_dir(self, student: str, chapter: str) -> Path:
        return self.root / "feedback" / student / chapter

    @property
    def grading_dir(self) -> Path:
        return self.root / "grading"

    @property
    def exchange(self) -> Path:
        """nbgrader's exchange folder; unused (release and collect need none), but nbgrader wants
        one."""
        return self.grading_dir / "exchange"

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    def students(self, chapter: str | None = None) -> list[str]:
        """Students with a submission in submitted/ (of `chapter`, or of any chapter)."""
        folder = self.root / "submitted"
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir()
            and not p.name.startswith(".")
            and (any(p.iterdir()) if chapter is None else (p / chapter).is_dir())
        )

    # ------------------------------------------------------------------ logs

    def open_log(self, command: str) -> tuple[logging.Logger, Path]:
        """A logger writing grading/logs/<timestamp>-<command>.log (one file per run)."""
        folder = self.grading_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = folder / f"{stamp}-{command}.log"
        logger = logging.getLogger(f"microgpt-course.{stamp}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        return logger, path


def copy_chapter_sources(root: Path, target: Path, chapters: list[str] | None = None):
    """Copy nbgrader_config.py and chapters/ (or some chapters) of `root` into a new course at
    `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / CONFIG_NAME, target / CONFIG_NAME)
    for chapter in chapters or Course(root).chapters():
        shutil.copytree(
            root / "chapters" / chapter,
            target / "chapters" / chapter,
            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
        )
    return Course(target)
