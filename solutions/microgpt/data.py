"""Finding, downloading and reading the training documents.

The default dataset is makemore's names.txt (32,033 names, one per line). It is
looked for in the project's data/ folder (or the user's cache when the package is
installed elsewhere), downloaded on first use and verified by its SHA-256.
"""

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/refs/heads/master/names.txt"
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
DATA_ENV = "MICROGPT_DATA"


class DataError(Exception):
    """The dataset is missing, unreadable or not what it should be."""


def default_names_path():
    """Where names.txt lives: <project>/data/ in a checkout, else ~/.cache/microgpt-course/."""
    project = Path(__file__).resolve().parents[2]
    if (project / "pyproject.toml").is_file() and (project / "data").is_dir():
        return project / "data" / "names.txt"
    return Path.home() / ".cache" / "microgpt-course" / "names.txt"


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def download_names(path, url=NAMES_URL, timeout=30):
    """Download names.txt to path, verifying its checksum before it is kept."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(
            f"{path} is missing and downloading it from {url} failed ({exc}). "
            f"Copy names.txt there by hand."
        ) from None
    if hashlib.sha256(payload).hexdigest() != NAMES_SHA256:
        raise DataError(
            f"the file downloaded from {url} has the wrong SHA-256; {path} was not written"
        )
    # write beside the target, then rename, so an interrupted download leaves nothing half-written
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(payload)
    os.chmod(tmp.name, 0o644)  # temporary files are private; the dataset is not
    os.replace(tmp.name, path)
    return path


def ensure_names(path):
    """path (a Path) of a verified names.txt, downloading it there first if it is missing."""
    path = Path(path)
    if not path.exists():
        return download_names(path)
    digest = sha256_of(path)
    if digest != NAMES_SHA256:
        raise DataError(
            f"{path} has SHA-256 {digest}, expected {NAMES_SHA256}: "
            f"it is not makemore's names.txt. Delete it to download a fresh copy."
        )
    return path


def read_docs(path):
    """Non-empty lines of a UTF-8 text file, stripped: one document per line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if b"\0" in raw:
        raise DataError(
            f"{path} looks binary (it contains NUL bytes): give a text file, one document per line"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(
            f"{path} is not UTF-8 text: give a text file, one document per line"
        ) from None
    docs = [line.strip() for line in text.splitlines() if line.strip()]
    if not docs:
        raise DataError(f"{path} holds no documents: give a text file with one document per line")
    return docs


def load_docs(path=None):
    """The training documents: from path, else from $MICROGPT_DATA, else the verified names.txt."""
    path = path or os.environ.get(DATA_ENV)
    return read_docs(path if path else ensure_names(default_names_path()))
