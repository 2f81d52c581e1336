"""HTML a learner puts in a Markdown cell, and how a test finds whether any of it could run in a
feedback page: shared by test_feedback_inert.py (one chapter, every payload kind) and the hostile
classes graded end to end (test_grade_e2e_hostile.py).

Every payload, if it ran, would set `window.pwned_<name>`, change the title and log `PWNED_<name>`.
`active_markup` reads a page as text; `provoke_in_browser` opens it in headless Chromium, clicks
what a reader could click, plants markup as if it had slipped past the cleaning, and returns the
traces.
"""

from __future__ import annotations

import base64
import re
import time

from bs4 import BeautifulSoup
from nbformat.v4 import new_markdown_cell


def act(name):
    """JavaScript (no spaces, no double quotes) that leaves a trace of payload `name` if it runs."""
    return f"top.pwned_{name}=1;top.document.title='PWNED';console.log('PWNED_{name}')"


MARKDOWN_PAYLOADS = {
    "script": f"<script>{act('script')}</script>",
    "img": f'<img src="x" onerror="{act("img")}">',
    "iframe": f'<iframe src="javascript:{act("iframe")}"></iframe>',
    "srcdoc": f'<iframe srcdoc="<script>{act("srcdoc")}</script>"></iframe>',
    "svg": f'<svg onload="{act("svg")}"><rect width="10" height="10"/></svg>',
    "style": "<style>body { background: rgb(1, 2, 3) !important }</style>",
    "details": f'<details open ontoggle="{act("details")}"><summary>more</summary>hidden</details>',
    "body": f'<body onload="{act("body")}">',
    "object": (
        f'<object data="javascript:{act("object")}"></object><embed '
        f'src="javascript:{act("embed")}">'
    ),
    "html_link": f'<a href="javascript:{act("html_link")}">html link</a>',
    "entity_link": f'<a href="jav&#x09;ascript:{act("entity_link")}">entity link</a>',
    "markdown_link": f"[markdown link](javascript:{act('markdown_link')})",
    "data_link": f'<a href="data:text/html,<script>{act("data_link")}</script>">data link</a>',
    "form": f'<form action="javascript:{act("form")}"><button>go</button></form>',
    "meta": f'<meta http-equiv="refresh" content="0;url=javascript:{act("meta")}">',
    "attachment": "![attached](attachment:evil.svg)",
}
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" '
    f'onload="{act("svg_output")}"><script>{act("svg_script")}</script></svg>'
)
ATTACHMENTS = {"evil.svg": {"image/svg+xml": base64.b64encode(SVG.encode()).decode()}}
# what the browser test clicks
CLICKABLE = ["html link", "entity link", "markdown link", "data link", "go"]


def hostile_markdown_cell():
    """A Markdown cell with every payload, and the SVG attachment its last payload shows."""
    cell = new_markdown_cell("\n\n".join(MARKDOWN_PAYLOADS.values()))
    cell.attachments = ATTACHMENTS
    return cell


ACTIVE_TAGS = [
    "script",
    "style",
    "meta",
    "iframe",
    "object",
    "embed",
    "svg",
    "form",
    "details",
    "base",
]
TEMPLATE_TAGS = ("script", "style", "meta")  # the template's own are fine: they hold no payload


def active_markup(html):
    """What in the page could run, embed, restyle or navigate: elements of ACTIVE_TAGS (the
    template's scripts, style sheets and meta tags aside), on* attributes, and javascript: or
    non-picture data: URLs."""
    soup = BeautifulSoup(html, "html.parser")
    found = [
        str(e)[:200]
        for e in soup.find_all(ACTIVE_TAGS)
        if e.name not in TEMPLATE_TAGS or "pwned" in str(e) or "rgb(1, 2, 3)" in str(e)
    ]
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            url = re.sub(
                r"[\x00-\x20]", "", " ".join(value) if isinstance(value, list) else value
            ).lower()
            if (
                name.lower().startswith("on")
                or url.startswith("javascript:")
                or url.startswith("data:")
                and not url.startswith(("data:image/png", "data:image/jpeg"))
            ):
                found.append(f"<{element.name} {name}={url[:80]!r}>")
    return found


# in the page: click what a reader could click in the hostile cell, then plant markup as if it had
# slipped past the cleaning (an inline handler, an inline script): the page's policy must stop both
JS_PROVOKE = """
for (const e of document.querySelectorAll('a, button'))
  if (arguments[0].includes(e.textContent.trim())) e.click();
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


def provoke_in_browser(driver, page) -> dict:
    """Open page (a Path) in driver (a headless Chromium), provoke every payload; returns {pwned:
    the traces' names, title, background: the body's colour, console: console lines naming
    PWNED}."""
    from browser import wait_for

    driver.get(page.as_uri())
    wait_for(
        lambda: driver.execute_script("return document.readyState") == "complete",
        30,
        "the page to load",
    )
    driver.execute_script(JS_PROVOKE, CLICKABLE)
    time.sleep(1)  # time for handlers, the clicked links and a meta refresh to run, if they could
    traces = driver.execute_script(JS_TRACES)
    traces["console"] = [
        entry["message"] for entry in driver.get_log("browser") if "PWNED" in entry["message"]
    ]
    return traces
