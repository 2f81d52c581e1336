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

