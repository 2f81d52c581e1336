"""For learners: course_tools.py (copied beside each chapter notebook) and their JupyterLab settings
(jupyter_config/)."""

import os
from pathlib import Path

JUPYTER_CONFIG = Path(__file__).resolve().with_name("jupyter_config")


def learner_jupyter_env(env) -> dict:
    """env with the learners' Jupyter configuration first on JUPYTER_CONFIG_PATH: no instructor
    panels, no news prompt, Validate kept (jupyter_config/README.md)."""
    paths = [
        str(JUPYTER_CONFIG),
        *filter(None, env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep)),
    ]
    return {**env, "JUPYTER_CONFIG_PATH": os.pathsep.join(paths)}
