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
        return subprocess.run([sys.executable, "-m", "microgpt", *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=1800, **kwargs)

    return run


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under pytest-xdist's --dist loadgroup, every test module runs on one worker, so that its
    module-scoped fixtures (a trial course, a graded class, a browser) are made once; test_chapters
    groups its tests by chapter instead (its own xdist_group marks)."""
    for item in items:
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
