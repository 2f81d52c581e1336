"""The check library as the learner's kernel sees it while `grade` runs the notebook: a stand-in.

The hidden test cells call `check_<piece>(...)` from `autograder.checks`; in the kernel those calls do
nothing, because the real checks run in the judge (judge.py), outside the learner's process, and the
real library is never inside the sandbox. The stand-in is mounted at STAND_IN and put on PYTHONPATH.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

STAND_IN = "/grader/stand-in"  # inside the sandbox
CHECKS = '''"""Stand-in: in grading, the hidden checks run in the grader, outside this notebook."""


def __getattr__(name):
    if name.startswith("check_"):
        return lambda *args, **kwargs: None
    raise AttributeError(name)
'''


@lru_cache(maxsize=None)
def stand_in_folder() -> Path:
    """A folder holding the stand-in package autograder.checks (made once per process)."""
    folder = Path(tempfile.mkdtemp(prefix="microgpt-stand-in-"))
    (folder / "autograder" / "checks").mkdir(parents=True)
    (folder / "autograder" / "__init__.py").write_text('"""Stand-in (see autograder.checks)."""\n')
    (folder / "autograder" / "checks" / "__init__.py").write_text(CHECKS)
    return folder
