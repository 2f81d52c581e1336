"""Feedback pages are inert: HTML a learner puts in Markdown cells, raw cells, attachments or
outputs never runs in the browser of whoever opens the page, and never reaches the page as active
markup.

The hostile notebook is written straight into autograded/ (with its submission in the gradebook), so
only `microgpt-course feedback` runs: no kernel, no grading. Every payload
(tests/hostile/markup.py), if it ran, would set `window.pwned_<name>`, change the title and log
`PWNED_<name>`; the browser part opens the page from a file:// URL in headless Chromium and finds
none of that (it is skipped only without Chromium).
"""

import re
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline.cli import main
from browser import APT_HINT, CHROMEDRIVER, CHROMIUM, OFFLINE_ARGS, start_chromium, wait_for
from hostile.markup import SVG, act, active_markup, hostile_markdown_cell, provoke_in_browser
from pipeline_course import CHAPTER, learner_notebook, make_course, write_notebook

STUDENT = "mallory"
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
    "AAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
ALT = "A single white pixel, as course_tools.show stores it (alt text in the output's metadata)."
NORMAL_MARKDOWN = """## A fine heading

Some *emphasis*, `inline code`, math $a < b^2$ and a [link](https://example.org/page).

- one
- two

| left | centred |
|:-----|:-------:|
| 1    | 2       |

```python
print("hello")
```

![pasted](attachment:pasted.png)
"""


def output(data, kind="display_data", metadata=None):
    return nbformat.v4.new_output(
        kind,
        data=data,
        metadata=metadata or {},
        **({"execution_count": 1} if kind == "execute_result" else {}),
    )


HOSTILE_OUTPUTS = [
    output(
        {
            "text/html": (
                f'<script>{act("html_output")}</script><img src=x onerror="{act("html_img")}">'
            ),
            "text/plain": "<HTML object>",
        }
    ),
    output({"image/svg+xml": SVG}),
    output({"application/javascript": act("javascript_output")}),
    output({"text/markdown": f"<script>{act('markdown_output')}</script>"}),
    output(
        {
            "text/html; charset=utf-8": f"<script>{act('odd_mime')}</script>",
            "TEXT/HTML": f"<script>{act('upper_mime')}</script>",
        },
        kind="execute_result",
    ),
    output(
        {"image/png": f'"><img src=x onerror="{act("png_value")}">'},
        metadata={
            "image/png": {"width": f"1 onerror={act('png_width')}"},
            "text/html": {"isolated": True},
        },
    ),
    output(
        {"image/png": PIXEL, "text/plain": "a picture"},
        metadata={
            "image/png": {
                "alt": f'"><script>{act("png_alt")}</script><img src=x onerror="{act("alt_img")}">'
            }
        },
    ),
    nbformat.v4.new_output("stream", name="stdout", text=f"<script>{act('stream')}</script>"),
    nbformat.v4.new_output(
        "error",
        ename=f"<img src=x onerror={act('ename')}>",
        evalue="<script>x</script>",
        traceback=[f"<script>{act('traceback')}</script>"],
    ),
]


def hostile_notebook(course):
    """The solved release plus a Markdown cell with every payload and an SVG attachment, ordinary
    Markdown with a pasted picture, a code cell with hostile outputs and two raw HTML cells."""
    nb = learner_notebook(course)
    markdown = hostile_markdown_cell()
    code = nbformat.v4.new_code_cell("display(something)", execution_count=1)
    code.outputs = HOSTILE_OUTPUTS
    raw_cells = [
        nbformat.v4.new_raw_cell(
            f"<script>{act('raw')}</script>", metadata={"raw_mimetype": "text/html"}
        ),
        nbformat.v4.new_raw_cell(
            f'<img src=x onerror="{act("raw_img")}">', metadata={"format": "text/html"}
        ),
    ]
    normal = nbformat.v4.new_markdown_cell(
        NORMAL_MARKDOWN, attachments={"pasted.png": {"image/png": PIXEL}}
    )
    picture = nbformat.v4.new_code_cell('show("A single white pixel.")', execution_count=2)
    picture.outputs = [
        output({"image/png": PIXEL, "text/plain": ALT}, metadata={"image/png": {"alt": ALT}})
    ]
    nb.cells += [markdown, normal, picture, code, *raw_cells]
    return nb


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """Release chapter 02, put the hostile notebook in submitted/ and autograded/, record the
    submission in the gradebook and write its feedback. Returns the page's path."""
    course = released_course(tmp_path_factory.mktemp("course"))
    assert feedback_of(course, hostile_notebook(course)) == 0
    return course.feedback_dir(STUDENT, CHAPTER) / f"{CHAPTER}.html"


def released_course(folder: Path):
    course = make_course(folder, chapters=(CHAPTER,))
    assert main(["release", "--course", str(course.root), CHAPTER]) == 0
    return course


def feedback_of(course, nb) -> int:
    """Put nb in submitted/ and autograded/ of STUDENT, record the submission in the gradebook and
    run `feedback`; returns its exit code."""
    write_notebook(nb, course.root / "submitted" / STUDENT / CHAPTER / f"{CHAPTER}.ipynb")
    write_notebook(nb, course.autograded(STUDENT, CHAPTER) / f"{CHAPTER}.ipynb")
    with course.gradebook() as gb:
        gb.update_or_create_student(STUDENT)
        gb.add_submission(CHAPTER, STUDENT)
    return main(["feedback", "--course", str(course.root), CHAPTER])


def test_a_markdown_link_to_a_missing_attachment_still_gets_a_page(tmp_path):
    """nbconvert's Markdown renderer raises for an attachment: link the cell does not carry; the
    page is written all the same, the link pointing at nothing."""
    course = released_course(tmp_path)
    nb = learner_notebook(course)
    nb.cells.append(nbformat.v4.new_markdown_cell("![gone](attachment:missing.png)"))
    assert feedback_of(course, nb) == 0
    html = (course.feedback_dir(STUDENT, CHAPTER) / f"{CHAPTER}.html").read_text()
    assert '<img alt="gone"/>' in html and "missing.png" not in html, re.findall(
        r"<img[^>]*>", html
    )


def test_page_holds_no_active_markup_from_the_learner(page):
    found = active_markup(page.read_text(encoding="utf-8"))
    assert not found, "\n".join(found)


def test_ordinary_markdown_still_renders(page):
    html = page.read_text(encoding="utf-8")
    assert re.search(r"<h2[^>]*>A fine heading", html)
    assert "<em>emphasis</em>" in html and "<code>inline code</code>" in html
    assert "$a &lt; b^2$" in html  # math left for MathJax, which reads the text
    assert '<a href="https://example.org/page">link</a>' in html
    assert "<li>one</li>" in html and "print</span>" in html
    # column alignment kept
    assert re.search(r'<th style="text-align: ?center;?">centred</th>', html)
    assert f'<img alt="pasted" src="data:image/png;base64,{PIXEL}"/>' in html


@pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason=f"no headless Chromium ({CHROMIUM}, {CHROMEDRIVER}); install it with `{APT_HINT}`",
)
def test_no_payload_runs_in_a_browser(page):
    driver = start_chromium()
    try:
        traces = provoke_in_browser(driver, page)
    finally:
        driver.quit()
    assert traces["pwned"] == [] and traces["title"] == CHAPTER, traces
    assert traces["background"] != "rgb(1, 2, 3)", "the learner's style sheet applies to the page"
    assert not traces["console"], traces["console"]


@pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason=f"no headless Chromium ({CHROMIUM}, {CHROMEDRIVER}); install it with `{APT_HINT}`",
)
def test_a_picture_keeps_its_alt_text(page):
    """A picture output's alt text (output metadata image/png: alt) is its <img>'s alt in the
    browser."""
    driver = start_chromium(OFFLINE_ARGS)
    try:
        driver.get(page.as_uri())
        alts = driver.execute_script(
            "return Array.from(document.querySelectorAll('.output_png img'), i => i.alt)"
        )
    finally:
        driver.quit()
    assert ALT in alts, f"alt texts of the page's output pictures: {alts}"


JS_MATH = """
return {rendered: document.querySelectorAll('.MathJax, .MathJax_Display').length,
        errors: document.querySelectorAll('.MathJax_Error, merror').length,
        raw: document.body.innerText.includes('$a < b^2$'),
        requests: performance.getEntriesByType('resource').map(e => e.name)
          .filter(u => /^(https?|wss?):/.test(u))};
"""


@pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason=f"no headless Chromium ({CHROMIUM}, {CHROMEDRIVER}); install it with `{APT_HINT}`",
)
def test_math_renders_with_no_network(page):
    html = page.read_text(encoding="utf-8")
    remote = re.findall(r'<script[^>]+src="(https?:[^"]*)"', html)
    assert not remote, f"the page loads scripts from the network: {remote}"
    driver = start_chromium(OFFLINE_ARGS)
    try:
        driver.get(page.as_uri())
        state = {}

        def typeset():
            state.update(driver.execute_script(JS_MATH))
            return state["rendered"] > 0 and not state["raw"]

        try:
            wait_for(typeset, 30, "MathJax to typeset $a < b^2$")
        except Exception as error:
            console = [e["message"] for e in driver.get_log("browser")]
            raise AssertionError(
                f"math not rendered offline: got {state}, expected rendered > 0 and no raw TeX; "
                f"console: {console}"
            ) from error
    finally:
        driver.quit()
    assert state["errors"] == 0 and state["requests"] == [], state
