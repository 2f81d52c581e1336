"""The course published (autograder/published.toml): a chapter opened alone fetches its files, the
links follow the one configuration, every picture carries alt text, and the chapters recommend only
what a learner can run.

The bare kernel: chapter 02's release (nbgrader, the notebook only) is copied alone into an empty
folder and run top to bottom in a fresh kernel of this environment, with a local http.server on
127.0.0.1 standing in for the published site (the configured address in its first cell replaced by
the server's):
- the site up: the first cell fetches course_tools.py and names.txt, checks them, and the untouched
  chapter then runs to its first unwritten exercise, whose error is course_tools' friendly sentence;
- the site unreachable: the first cell stops the run with one line saying what to do, and writes
  nothing;
- one file tampered with on the site: one line saying its SHA-256 differs, and that file is not
  kept.
"""

import functools
import hashlib
import html
import http.server
import os
import re
import shutil
import socket
import threading
import time

import nbformat
import pytest

from autograder import notebook_format, published
from autograder.authoring import build_chapters
from autograder.pipeline.site import landing_page
from conftest import PROJECT
from trial_grading import TrialCourse

CHAPTER = "02_tokenization"  # the cheapest chapter that needs a data file (names.txt)
LINK = re.compile(r"\]\((https?://[^)\s]+)\)|href=\"(https?://[^\"]+)\"")


# --------------------------------------------------------------------------- the bare kernel


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The chapter's release folder (nbgrader), and a copy of the site's files/ folder made from
    it."""
    course = TrialCourse(PROJECT / "chapters" / CHAPTER, tmp_path_factory.mktemp("course"))
    course.release()
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(course.release_dir, site / "files" / CHAPTER)
    return course.release_dir, site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """serve(folder) -> the address of an http.server on 127.0.0.1 serving folder (stopped
    afterwards)."""
    servers = []

    def start(folder):
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_Quiet, directory=folder)
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()


def closed_address():
    """An address on 127.0.0.1 where nothing listens (a connection is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def run_alone(release_dir, site_address, folder):
    """Copy the released notebook alone into folder, point its first cell at site_address, run it
    top to bottom in a fresh kernel (stopping at the first error, as Run All does). Returns
    (notebook with its outputs, (index, "Name: message") of the first error)."""
    nb = nbformat.read(release_dir / f"{CHAPTER}.ipynb", as_version=4)
    fetch = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert fetch.source.count(published.files_url(CHAPTER)) == 1, (
        "the first cell names the published site once"
    )
    fetch.source = fetch.source.replace(
        published.files_url(CHAPTER), f"{site_address}/files/{CHAPTER}/"
    )
    folder.mkdir()
    nbformat.write(nb, folder / f"{CHAPTER}.ipynb")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MICROGPT_DATA", "NBGRADER_EXECUTION", "PYTHONPATH")
    }
    env.update(HOME=str(folder.parent), PYTHONDONTWRITEBYTECODE="1")
    with pytest.raises(build_chapters.ExecutionFailed) as failed:
        build_chapters.execute_notebook(nb, folder, env=env)
    return nb, failed.value.args


def error_lines(cell):
    return [
        line
        for output in cell.outputs
        if output.output_type == "error"
        for line in output.traceback
    ]


def test_alone_with_the_site_up_fetches_checks_and_runs(release, serve, tmp_path):
    release_dir, site = release
    started = time.perf_counter()
    nb, (index, message) = run_alone(release_dir, serve(site), tmp_path / "alone")
    print(
        "\n"
        f"{CHAPTER} alone, files fetched, to its first "
        f"exercise: {time.perf_counter() - started:.1f} s"
    )
    fetched = sorted(p.name for p in (tmp_path / "alone").iterdir())
    assert fetched == sorted(
        [f"{CHAPTER}.ipynb", *(p.name for p in release_dir.iterdir() if p.suffix != ".ipynb")]
    )
    for name in fetched:
        assert (tmp_path / "alone" / name).read_bytes() == (
            release_dir / name
        ).read_bytes() or name.endswith("ipynb")
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert nb.cells[first_code].outputs == [], nb.cells[first_code].outputs
    shown = "\n".join(error_lines(nb.cells[index]))
    assert index > first_code and "build_vocab is not written yet" in shown, (index, message, shown)


def test_alone_with_the_site_unreachable_says_so_in_one_line(release, tmp_path):
    nb, (index, message) = run_alone(release[0], closed_address(), tmp_path / "offline")
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    lines = error_lines(nb.cells[first_code])
    assert index == first_code and len(lines) == 1, lines
    assert (
        lines[0].startswith(
            "CourseFilesMissing: course_tools.py is not beside this notebook and could not be "
            "fetched"
        )
        and "check your connection and run this cell again" in lines[0]
    ), lines
    assert sorted(p.name for p in (tmp_path / "offline").iterdir()) == [f"{CHAPTER}.ipynb"]


def test_alone_with_a_tampered_file_on_the_site_keeps_nothing_of_it(release, serve, tmp_path):
    release_dir, site = release
    tampered = tmp_path / "tampered-site"
    shutil.copytree(site, tampered)
    names = tampered / "files" / CHAPTER / "names.txt"
    names.write_bytes(names.read_bytes().replace(b"emma", b"emmy", 1))
    nb, (index, message) = run_alone(release_dir, serve(tampered), tmp_path / "tampered")
    lines = error_lines(nb.cells[index])
    assert (
        len(lines) == 1
        and "names.txt from http://127.0.0.1:" in lines[0]
        and "is not the course's file (its SHA-256 differs)" in lines[0]
    ), lines
    assert sorted(p.name for p in (tmp_path / "tampered").iterdir()) == [
        f"{CHAPTER}.ipynb",
        "course_tools.py",
    ]


# --------------------------------------------------------------------------- what the builder
# derives


def test_the_first_cell_lists_every_shipped_file_with_its_sha256():
    from microgpt.data import NAMES_SHA256

    for chapter in build_chapters.discover_chapters():
        nb = nbformat.read(chapter.notebook, as_version=4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert code[0].metadata.get("fetch") and not any(
            c.metadata.get("fetch") for c in code[1:]
        ), chapter.name
        listed = dict(
            reversed(line.split())
            for line in re.findall(r"^[0-9a-f]{64} \S+$", code[0].source, re.M)
        )
        files = build_chapters.shipped_files(nb)
        assert listed == {
            name: NAMES_SHA256
            if name == "names.txt"
            else hashlib.sha256(path.read_bytes()).hexdigest()
            for name, path in files.items()
        }, chapter.name
        assert f'"{published.files_url(chapter.name)}"' in code[0].source


def test_check_finds_a_stale_fingerprint(tmp_path, monkeypatch):
    """A changed course_tools.py or names.txt fingerprint makes --check name the first cell."""
    import microgpt.data

    chapter = build_chapters.Chapter(CHAPTER)
    assert build_chapters.check_chapter(chapter) == []
    tools = tmp_path / "course_tools.py"
    tools.write_text(
        notebook_format.COURSE_TOOLS.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8"
    )
    monkeypatch.setattr(notebook_format, "COURSE_TOOLS", tools)
    first = next(
        i
        for i, c in enumerate(build_chapters.build_notebook(chapter).cells)
        if c.cell_type == "code"
    )
    assert any(
        p.startswith(f"cell {first} ") and p.endswith("source differs")
        for p in build_chapters.check_chapter(chapter)
    )
    monkeypatch.undo()
    monkeypatch.setattr(microgpt.data, "NAMES_SHA256", "0" * 64)
    stale = [p for p in build_chapters.check_chapter(chapter) if p.startswith("cell ")]
    assert stale and all(p.startswith(f"cell {first} ") for p in stale), stale


def test_a_source_without_the_fetch_cell_gets_it_and_a_misplaced_one_is_refused(tmp_path):
    source = tmp_path / "09_try" / "09_try.py"
    source.parent.mkdir()
    source.write_text("# %% [markdown]\n# Title\n\n# %%\nx = open('names.txt')\n", encoding="utf-8")
    chapter = build_chapters.Chapter("09_try", source, tmp_path / "chapters" / "09_try")
    cells = build_chapters.build_notebook(chapter).cells
    assert (
        cells[1].metadata["fetch"]
        and cells[1].metadata["nbgrader"]["locked"]
        and " names.txt\n" in cells[1].source
    )
    source.write_text(
        "# %% [markdown]\n# Title\n\n# %%\nx = 1\n\n# %% fetch=true\n", encoding="utf-8"
    )
    with pytest.raises(
        build_chapters.BuildError, match=r"09_try.py:7: the fetch cell is the chapter's first code"
    ):
        build_chapters.build_notebook(chapter)


# --------------------------------------------------------------------------- links, pictures, prose


def test_readme_and_landing_page_links_follow_the_configuration():
    chapters = [chapter.name for chapter in build_chapters.discover_chapters()]
    colab = {published.colab_url(chapter) for chapter in chapters}
    readme = [a or b for a, b in LINK.findall((PROJECT / "README.md").read_text(encoding="utf-8"))]
    ours = [
        url
        for url in readme
        if url.startswith(published.COLAB) or url.startswith(published.config()["site"])
    ]
    assert published.site_url() in ours and published.colab_url(chapters[0]) in ours, ours
    assert all(url in colab | {published.site_url()} for url in ours), (
        f"README links not from the config: {ours}"
    )
    page = landing_page(
        [{"chapter": c, "title": c, "time": "1 hour", "points": 1} for c in chapters]
    )
    assert [a or b for a, b in LINK.findall(page) if (a or b).startswith(published.COLAB)] == [
        published.colab_url(chapter) for chapter in chapters
    ]


def test_every_picture_has_alt_text_as_its_text_form():
    pictures = 0
    for chapter in build_chapters.discover_chapters():
        nb = nbformat.read(chapter.notebook, as_version=4)
        assert build_chapters.pictures_without_alt(nb) == [], chapter.name
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if "image/png" in output.get("data", {}):
                    pictures += 1
                    alt = output.metadata["image/png"]["alt"]
                    assert (
                        output.data["text/plain"] == alt and alt.endswith(".") and len(alt) > 40
                    ), alt
                    # what JupyterLab, JupyterLite, VS Code and Colab render: the same picture, with
                    # its alt
                    img = (
                        f'<img src="data:image/png;base64,{output.data["image/png"]}" '
                        f'alt="{html.escape(alt)}"'
                    )
                    assert output.data["text/html"].startswith(img), output.data["text/html"][-300:]
                    assert f'show("{alt[:30]}' in cell.source, (chapter.name, alt)
    assert pictures >= 20, pictures


def test_no_chapter_recommends_nbgrader_validate():
    """`nbgrader validate` exits 0 when validation fails: the chapters point to the Validate button
    and `microgpt-course check` instead."""
    for chapter in build_chapters.discover_chapters():
        nb = nbformat.read(chapter.notebook, as_version=4)
        said = [
            cell.source for cell in nb.cells if re.search(r"nbgrader\s+validate", cell.source, re.I)
        ]
        assert not said, f"{chapter.name} recommends `nbgrader validate`: {said[0][:300]}"
