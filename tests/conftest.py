"""Shared fixtures and the CI's test scheduling. The tests sit in one package per audience
(reference, checks, learner, authoring, pipeline); their support modules sit here, in tests/, which
pytest puts on sys.path."""

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def names():
    """The verified names dataset (32,033 documents)."""
    from microgpt.data import default_names_path, ensure_names, read_docs

    return read_docs(ensure_names(default_names_path()))


@pytest.fixture
def run_cli():
    """Run `python -m microgpt ARGS...` and return the completed process (text output)."""
    import subprocess
    import sys

    def run(*args, **kwargs):
        return subprocess.run(
            [sys.executable, "-m", "microgpt", *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=1800,
            **kwargs,
        )

    return run


# ------------------------------------------------------------------ scheduling on the CI's two
# workers `make test` runs `pytest -n 2 --dist loadscope`: a scope's tests run on one worker, so its
# module-scoped fixtures are made once. test_chapters.py is one module, but its fixtures are made
# per chapter (the module-scoped `chapter` parameter) and take about half of the whole suite's time:
# each chapter is a scope of its own, so the chapters spread over both workers instead of holding
# one for the whole run. The scopes known to take minutes start first (longest first), so that no
# long scope starts last while the other worker idles; the rest follow in collection order.
CHAPTERS_MODULE = "tests/authoring/test_chapters.py"
CHAPTER_PARAM = re.compile(rf"({re.escape(CHAPTERS_MODULE)})::[^\[]*\[(\d\d_[a-z_]+)\]$")
LONG_SCOPES = (
    "tests/pipeline/test_grade_e2e_hostile.py",
    f"{CHAPTERS_MODULE}[10_experiments]",
    "tests/pipeline/test_site.py",
    "tests/reference/test_checkpoint.py",
    "tests/pipeline/test_grade_hostile.py",
    f"{CHAPTERS_MODULE}[09_analysis]",
    f"{CHAPTERS_MODULE}[05_gpt]",
    f"{CHAPTERS_MODULE}[04_parameters]",
    f"{CHAPTERS_MODULE}[07_training]",
    f"{CHAPTERS_MODULE}[08_generation]",
    f"{CHAPTERS_MODULE}[01_autograd]",
    f"{CHAPTERS_MODULE}[03_components]",
)


def scope_of(nodeid: str) -> str:
    """The scope a test runs in under --dist loadscope: its module, or its module and chapter for
    test_chapters.py's per-chapter tests."""
    chapter = CHAPTER_PARAM.match(nodeid)
    return f"{chapter[1]}[{chapter[2]}]" if chapter else nodeid.split("::", 1)[0]


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture parameters
def pytest_collection_modifyitems(items):
    rank = {scope: index for index, scope in enumerate(LONG_SCOPES)}
    # stable: scopes stay whole
    items.sort(key=lambda item: rank.get(scope_of(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)  # xdist's hook: `-p no:xdist` runs without it
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ChapterScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return scope_of(nodeid)

    config.option.loadscopereorder = False  # keep the collection order set above
    return ChapterScopes(config, log)
