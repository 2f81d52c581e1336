"""Shared by the builder and `site`: where the course is published (published.toml) and the
addresses made from it."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().with_name("published.toml")
COLAB = "https://colab.research.google.com/github"


@functools.cache
def config() -> dict:
    """{"site", "repository", "branch"} of published.toml, the site's address without a final
    slash."""
    values = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    return {**values, "site": values["site"].rstrip("/")}


def site_url() -> str:
    """The built site's address: "Open in the browser"."""
    return config()["site"] + "/"


def files_url(chapter: str) -> str:
    """The folder of the site that holds a chapter's learner version and its files (JupyterLite's
    files/)."""
    return f"{config()['site']}/files/{chapter}/"


def colab_url(chapter: str) -> str:
    """ "Open in Colab": the chapter's learner version in the published branch, opened by Colab."""
    repository, branch = config()["repository"], config()["branch"]
    return f"{COLAB}/{repository}/blob/{branch}/files/{chapter}/{chapter}.ipynb"
