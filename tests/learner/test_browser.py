"""A released chapter in JupyterLab in a real browser (headless Chromium), as a learner meets it.

One chapter with Markdown math and matplotlib figures is released with the real nbgrader, and
two copies of the released folder, each alone in its own folder, are served by one JupyterLab:
- `untouched/`: the release as handed out. It opens without the unsaved mark, its math renders,
  Run All Cells stops at the first exercise with the friendly "<stub> is not written yet" message,
  and nbgrader's Validate button reports failure naming that stub.
- `solved/`: the release with every solution filled in from the instructor's notebook. Run All
  Cells gives no error output, every figure loads with its alt text, and Validate reports success.
In both, the browser console shows no errors. The server is configured as `microgpt-course start`
configures a learner's (autograder/learner/jupyter_config): Validate, and no instructor panels or
news prompt.

Needs Debian's chromium, chromium-driver and fonts-dejavu, and selenium (the `test` extra).
A missing browser is a failure, not a skip: this test is part of the required suite.
"""

import re
import shutil
import time

import nbformat
import pytest

from autograder.notebook_format import submission
from browser import JupyterLab, NotebookPage, picture_alts, start_chromium, stub_names, wait_for
from conftest import PROJECT
from trial_grading import TrialCourse

# Markdown math in most sections, two matplotlib figures after the exercises
CHAPTER = "03_components"

MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def has_math(markdown):
    """Whether Markdown source holds $...$ or $$...$$ math outside code spans and blocks."""
    return bool(MATH.search(CODE.sub("", markdown)))


def image_outputs(nb):
    """How many image outputs the notebook's stored outputs hold."""
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if any(k.startswith("image/") for k in output.get("data", {}))
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def clock():
    """Prints the time of the whole module (server, browser, release and both runs) at its end."""
    started = time.perf_counter()
    yield started
    print(f"\nbrowser smoke test ({CHAPTER}): {time.perf_counter() - started:.1f} s in all")


@pytest.fixture(scope="module")
def lab(clock, tmp_path_factory):
    """A JupyterLab serving an empty learner folder; it boots while the chapter is released."""
    base = tmp_path_factory.mktemp("browser")
    (base / "learner").mkdir()
    server = JupyterLab(base / "learner", base / "jupyter")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium; the test fails (never skips) when it cannot start."""
    try:
        driver = start_chromium()
    except RuntimeError as exc:
        pytest.fail(f"the browser smoke test needs a headless Chromium: {exc}", pytrace=False)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def chapter(lab, tmp_path_factory):
    """The chapter released by nbgrader, copied alone into learner/untouched/ and learner/solved/
    (there with the instructor's solutions filled in). Returns (source notebook, release
    notebook)."""
    started = time.perf_counter()
    course = TrialCourse(PROJECT / "chapters" / CHAPTER, tmp_path_factory.mktemp("course"))
    release_nb = course.release()
    print(f"\n{CHAPTER} released by nbgrader in {time.perf_counter() - started:.1f} s")
    for copy in ("untouched", "solved"):
        shutil.copytree(course.release_dir, lab.root / copy / CHAPTER)
    nbformat.write(
        submission(course.source_nb, release_nb), lab.root / "solved" / CHAPTER / f"{CHAPTER}.ipynb"
    )
    return course.source_nb, release_nb


@pytest.fixture
def page(lab, browser, tmp_path):
    """The browser, its console emptied, for one notebook; afterwards the notebook's kernel is
    stopped."""
    browser.get_log("browser")
    yield NotebookPage(browser, lab, tmp_path)
    browser.get("about:blank")
    lab.stop_kernels()


# --------------------------------------------------------------------------- shared checks


def open_and_run(page, folder, nb):
    """Open folder/CHAPTER.ipynb; assert it is not marked unsaved; Run All Cells; wait until every
    cell is on the page; assert its math renders."""
    path = f"{folder}/{CHAPTER}/{CHAPTER}.ipynb"
    page.open(path)
    assert not page.unsaved(), (
        f"{path} is marked unsaved right after opening (before running anything): "
        f"{page.state()}; screenshot {page.screenshot(folder + '-opened')}"
    )
    page.run_all()
    page.wait_all_cells(len(nb.cells))
    page.screenshot(f"{folder}-ran")
    math_cells = {
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown" and has_math(cell.source)
    }
    assert math_cells, f"{CHAPTER} has no Markdown math: choose a chapter with math for this test"

    def typeset():
        reports = page.markdown()
        done = all(
            r["rendered"] and (r["math"] > 0 or r["index"] not in math_cells) for r in reports
        )
        return reports if done else None

    reports = wait_for(
        typeset,
        30,
        f"MathJax to typeset the math of Markdown cells {sorted(math_cells)}",
        describe=lambda _: [(r["index"], r.get("math")) for r in page.markdown()],
    )
    for report in reports:
        assert not report["math_errors"], (
            f"cell {report['index']}: MathJax errors {report['math_errors']}"
        )
        assert "$" not in report["text"], (
            f"cell {report['index']}: a raw $ is left in the rendered Markdown "
            f"(math not typeset?): {report['text'][:300]!r}"
        )


def assert_images_load(page, expected=None):
    """Every image in the notebook has finished loading with a natural width above 0; if `expected`
    is given, there are that many."""

    def settled():
        images = page.images()
        return ("all complete", images) if all(image["complete"] for image in images) else None

    _, images = wait_for(
        settled, 15, "every image to finish loading", describe=lambda _: page.images()
    )
    broken = [image for image in images if image["width"] == 0]
    assert not broken, f"images that did not load (naturalWidth 0): {broken}"
    if expected is not None:
        assert len(images) == expected, (
            f"{len(images)} images on the page, expected {expected}: {images}"
        )


def assert_console_clean(page):
    # JupyterLab 4.6 itself logs only DEBUG/INFO/WARNING here (plugin timings), no errors: so no
    # allow-list
    errors = [message for level, message in page.console() if level == "SEVERE"]
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


# --------------------------------------------------------------------------- the two runs
# `page` before `chapter`: the server and the browser start first, then boot while nbgrader releases


def test_untouched_release(page, chapter):
    started = time.perf_counter()
    _, release_nb = chapter
    first_stub = stub_names(release_nb)[0]
    open_and_run(page, "untouched", release_nb)
    outputs = page.outputs()
    errors = [output for output in outputs if output["type"] == "error"]
    assert errors, (
        f"Run All Cells on the untouched release gave no error output; outputs: {outputs}"
    )
    first = errors[0]
    assert (
        first["ename"] == "NotImplementedError"
        and f"{first_stub} is not written yet" in first["shown"]
    ), (
        f"the first error (cell {first['cell']}, {first['ename']}) should say that {first_stub!r} "
        f"is not written yet; it shows:\n{first['shown']}"
    )
    assert_images_load(page)

    result = page.validate()
    assert result["result"] == ["validation-failed"], f"Validate on the untouched release: {result}"
    furniture = page.instructor_furniture()
    assert furniture == [], (
        f"a learner's JupyterLab offers the instructor's nbgrader or the news prompt: {furniture}"
    )
    assert f"{first_stub} is not written yet" in result["text"], (
        f"Validate's failure should name the unwritten {first_stub!r}: {result['text'][:1000]}"
    )
    assert_console_clean(page)
    print(f"\nuntouched release: {time.perf_counter() - started:.1f} s ({page.timing()})")


def test_solved_notebook(page, chapter):
    started = time.perf_counter()
    source_nb, release_nb = chapter
    figures = image_outputs(source_nb)
    assert figures, (
        f"{CHAPTER}'s notebook shows no figure: choose a chapter with pictures for this test"
    )
    open_and_run(page, "solved", release_nb)
    errors = [output for output in page.outputs() if output["type"] == "error"]
    assert not errors, "error outputs in the solved notebook:\n" + "\n".join(
        f"cell {e['cell']}: {e['shown']}" for e in errors
    )
    assert_images_load(page, expected=figures)
    shown = [image["alt"] for image in page.images() if image["output"]]
    assert shown == picture_alts(source_nb), (
        "the pictures' alt texts on the page (what a screen reader "
        f"says) differ from the ones course_tools.show stores: {shown}"
    )

    result = page.validate()
    assert result["result"] == ["validation-success"], f"Validate on the solved notebook: {result}"
    assert "Success! Your notebook passes all the tests." in result["text"], result
    assert_console_clean(page)
    print(f"\nsolved notebook: {time.perf_counter() - started:.1f} s ({page.timing()})")
