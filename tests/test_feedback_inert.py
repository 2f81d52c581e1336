"""Feedback pages are inert: HTML a learner puts in Markdown cells, raw cells, attachments or outputs
never runs in the browser of whoever opens the page, and never reaches the page as active markup.

The hostile notebook is written straight into autograded/ (with its submission in the gradebook), so
only `microgpt-course feedback` runs: no kernel, no grading. Every payload, if it ran, would set
`window.pwned_<name>`, change the title and log `PWNED_<name>`; the browser part opens the page from
a file:// URL in headless Chromium and finds none of that (it is skipped only without Chromium).
"""

import base64
import re
import time
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from browser import APT_HINT, CHROMEDRIVER, CHROMIUM, OFFLINE_ARGS, start_chromium, wait_for
from autograder.pipeline.cli import main
from pipeline_course import CHAPTER, learner_notebook, make_course, write_notebook

STUDENT = "mallory"


def act(name):
    """JavaScript (no spaces, no double quotes) that leaves a trace of payload `name` if it runs."""
    return f"top.pwned_{name}=1;top.document.title='PWNED';console.log('PWNED_{name}')"


SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{act("svg_output")}"><script>{act("svg_script")}</script></svg>'
MARKDOWN_PAYLOADS = {
    "script": f"<script>{act('script')}</script>",
    "img": f'<img src="x" onerror="{act("img")}">',
    "iframe": f'<iframe src="javascript:{act("iframe")}"></iframe>',
    "srcdoc": f'<iframe srcdoc="<script>{act("srcdoc")}</script>"></iframe>',
    "svg": f'<svg onload="{act("svg")}"><rect width="10" height="10"/></svg>',
    "style": "<style>body { background: rgb(1, 2, 3) !important }</style>",
    "details": f'<details open ontoggle="{act("details")}"><summary>more</summary>hidden</details>',
    "body": f'<body onload="{act("body")}">',
    "object": f'<object data="javascript:{act("object")}"></object><embed src="javascript:{act("embed")}">',
    "html_link": f'<a href="javascript:{act("html_link")}">html link</a>',
    "entity_link": f'<a href="jav&#x09;ascript:{act("entity_link")}">entity link</a>',
    "markdown_link": f"[markdown link](javascript:{act('markdown_link')})",
    "data_link": f'<a href="data:text/html,<script>{act("data_link")}</script>">data link</a>',
    "form": f'<form action="javascript:{act("form")}"><button>go</button></form>',
    "meta": f'<meta http-equiv="refresh" content="0;url=javascript:{act("meta")}">',
    "attachment": "![attached](attachment:evil.svg)",
}
CLICKABLE = ["html link", "entity link", "markdown link", "data link", "go"]  # what the browser test clicks
ATTACHMENTS = {"evil.svg": {"image/svg+xml": base64.b64encode(SVG.encode()).decode()}}
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
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
    return nbformat.v4.new_output(kind, data=data, metadata=metadata or {},
                                  **({"execution_count": 1} if kind == "execute_result" else {}))


HOSTILE_OUTPUTS = [
    output({"text/html": f"<script>{act('html_output')}</script><img src=x onerror=\"{act('html_img')}\">",
            "text/plain": "<HTML object>"}),
    output({"image/svg+xml": SVG}),
    output({"application/javascript": act("javascript_output")}),
    output({"text/markdown": f"<script>{act('markdown_output')}</script>"}),
    output({"text/html; charset=utf-8": f"<script>{act('odd_mime')}</script>",
            "TEXT/HTML": f"<script>{act('upper_mime')}</script>"}, kind="execute_result"),
    output({"image/png": f'"><img src=x onerror="{act("png_value")}">'},
           metadata={"image/png": {"width": f"1 onerror={act('png_width')}"}, "text/html": {"isolated": True}}),
    nbformat.v4.new_output("stream", name="stdout", text=f"<script>{act('stream')}</script>"),
    nbformat.v4.new_output("error", ename=f"<img src=x onerror={act('ename')}>", evalue="<script>x</script>",
                           traceback=[f"<script>{act('traceback')}</script>"]),
]


def hostile_notebook(course):
    """The solved release plus a Markdown cell with every payload and an SVG attachment, ordinary
    Markdown with a pasted picture, a code cell with hostile outputs and two raw HTML cells."""
    nb = learner_notebook(course)
    markdown = nbformat.v4.new_markdown_cell("\n\n".join(MARKDOWN_PAYLOADS.values()))
    markdown.attachments = ATTACHMENTS
    code = nbformat.v4.new_code_cell("display(something)", execution_count=1)
    code.outputs = HOSTILE_OUTPUTS
    raw_cells = [nbformat.v4.new_raw_cell(f"<script>{act('raw')}</script>", metadata={"raw_mimetype": "text/html"}),
                 nbformat.v4.new_raw_cell(f'<img src=x onerror="{act("raw_img")}">', metadata={"format": "text/html"})]
    normal = nbformat.v4.new_markdown_cell(NORMAL_MARKDOWN, attachments={"pasted.png": {"image/png": PIXEL}})
    nb.cells += [markdown, normal, code, *raw_cells]
    return nb


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """Release chapter 02, put the hostile notebook in submitted/ and autograded/, record the
    submission in the gradebook and write its feedback. Returns the page's path."""
    course = make_course(tmp_path_factory.mktemp("course"), chapters=(CHAPTER,))
    assert main(["release", "--course", str(course.root), CHAPTER]) == 0
    nb = hostile_notebook(course)
    write_notebook(nb, course.root / "submitted" / STUDENT / CHAPTER / f"{CHAPTER}.ipynb")
    write_notebook(nb, course.autograded(STUDENT, CHAPTER) / f"{CHAPTER}.ipynb")
    with course.gradebook() as gb:
        gb.update_or_create_student(STUDENT)
        gb.add_submission(CHAPTER, STUDENT)
    assert main(["feedback", "--course", str(course.root), CHAPTER]) == 0
    return course.feedback_dir(STUDENT, CHAPTER) / f"{CHAPTER}.html"


ACTIVE_TAGS = ["script", "style", "meta", "iframe", "object", "embed", "svg", "form", "details", "base"]
TEMPLATE_TAGS = ("script", "style", "meta")  # the template's own are fine: they hold no payload


def active_markup(html):
    """What in the page could run, embed, restyle or navigate: elements of ACTIVE_TAGS (the template's
    scripts, style sheets and meta tags aside), on* attributes, and javascript: or non-picture data: URLs."""
    soup = BeautifulSoup(html, "html.parser")
    found = [str(e)[:200] for e in soup.find_all(ACTIVE_TAGS)
             if e.name not in TEMPLATE_TAGS or "pwned" in str(e) or "rgb(1, 2, 3)" in str(e)]
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            url = re.sub(r"[\x00-\x20]", "", " ".join(value) if isinstance(value, list) else value).lower()
            if (name.lower().startswith("on") or url.startswith("javascript:")
                    or url.startswith("data:") and not url.startswith(("data:image/png", "data:image/jpeg"))):
                found.append(f"<{element.name} {name}={url[:80]!r}>")
    return found


def test_page_holds_no_active_markup_from_the_learner(page):
    found = active_markup(page.read_text(encoding="utf-8"))
    assert not found, "\n".join(found)


def test_ordinary_markdown_still_renders(page):
    html = page.read_text(encoding="utf-8")
    assert re.search(r"<h2[^>]*>A fine heading", html)
    assert "<em>emphasis</em>" in html and "<code>inline code</code>" in html
    assert "$a &lt; b^2$" in html  # math left for MathJax, which reads the text
    assert '<a href="https://example.org/page">link</a>' in html
    assert "<li>one</li>" in html and 'print</span>' in html
    assert re.search(r'<th style="text-align: ?center;?">centred</th>', html)  # column alignment kept
    assert f'<img alt="pasted" src="data:image/png;base64,{PIXEL}"/>' in html


# in the page: click what a reader could click in the hostile cell, then plant markup as if it had
# slipped past the cleaning (an inline handler, an inline script): the page's policy must stop both
JS_PROVOKE = """
for (const e of document.querySelectorAll('a, button')) if (arguments[0].includes(e.textContent.trim())) e.click();
const probe = document.createElement('div');
probe.innerHTML = '<img src="x" onerror="top.pwned_planted_handler=1">';
document.body.appendChild(probe);
const script = document.createElement('script');
script.textContent = 'top.pwned_planted_script=1';
document.body.appendChild(script);
"""
JS_TRACES = """
return {pwned: Object.keys(window).filter(k => k.startsWith('pwned_')), title: document.title,
        background: getComputedStyle(document.body).backgroundColor};
"""


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                    reason=f"no headless Chromium ({CHROMIUM}, {CHROMEDRIVER}); install it with `{APT_HINT}`")
def test_no_payload_runs_in_a_browser(page):
    driver = start_chromium()
    try:
        driver.get(page.as_uri())
        wait_for(lambda: driver.execute_script("return document.readyState") == "complete", 30, "the page to load")
        driver.execute_script(JS_PROVOKE, CLICKABLE)
        time.sleep(1)  # time for handlers, the clicked links and a meta refresh to run, if they could
        traces = driver.execute_script(JS_TRACES)
        console = [entry["message"] for entry in driver.get_log("browser") if "PWNED" in entry["message"]]
    finally:
        driver.quit()
    assert traces["pwned"] == [] and traces["title"] == CHAPTER, traces
    assert traces["background"] != "rgb(1, 2, 3)", "the learner's style sheet applies to the page"
    assert not console, console


JS_MATH = """
return {rendered: document.querySelectorAll('.MathJax, .MathJax_Display').length,
        errors: document.querySelectorAll('.MathJax_Error, merror').length,
        raw: document.body.innerText.includes('$a < b^2$'),
        requests: performance.getEntriesByType('resource').map(e => e.name).filter(u => /^(https?|wss?):/.test(u))};
"""


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                    reason=f"no headless Chromium ({CHROMIUM}, {CHROMEDRIVER}); install it with `{APT_HINT}`")
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
            raise AssertionError(f"math not rendered offline: got {state}, expected rendered > 0 and no raw TeX; "
                                 f"console: {console}") from error
    finally:
        driver.quit()
    assert state["errors"] == 0 and state["requests"] == [], state
