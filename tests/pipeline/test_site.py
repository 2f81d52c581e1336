"""The JupyterLite site (`microgpt-course site`) in a real browser, offline.

The site is built once for this module by the real command, served on 127.0.0.1 and opened in
headless Chromium whose every request that is not to 127.0.0.1 goes to a proxy of this test that
logs it and refuses it (so nothing leaves the machine, and the test sees every attempt, also the
kernel's worker's). For chapters 01 and 05, on one page with one kernel, as a learner works:
- the untouched notebook (as the site hands it out): Run All Cells stops at the first exercise, with
  the friendly "<stub> is not written yet" message;
- then every solution typed into its cell (through the notebook's model) and saved into the site's
  browser storage (where a learner's edits go): Run All Cells gives no error, every visible test
  prints its "ok" lines, and each picture cell says in one line that the picture is skipped
  (offline).
A notebook saved with its pictures shows each with the alt text course_tools.show stored with it.
Then: no request tried to leave loopback but Chromium's own services and the picture packages of the
Pyodide CDN (matplotlib, which the site does not bundle: it loads when online); the console holds no
error but Pyodide's report of those packages; axe-core finds no serious or critical violation on the
landing page or a rendered chapter; the built site holds nothing of the hidden checks or the
reference.

Needs Debian's chromium and chromium-driver, selenium (the `test` extra), and what `make site-deps`
installs (JupyterLite's environment build/jupyterlite-tools/; node_modules/ and wheels/ in
autograder/jupyterlite/). Missing ones fail, never skip.
"""

from __future__ import annotations

import functools
import http.server
import json
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.notebook_format import submission
from autograder.pipeline.course import Course
from autograder.pipeline.site import SITE_INPUTS, kernel_constants, leaks
from autograder.published import COLAB, colab_url
from browser import (
    CHROME_ARGS,
    CHROMEDRIVER,
    CHROMIUM,
    PANEL,
    NotebookPage,
    picture_alts,
    stub_names,
    wait_for,
)
from conftest import PROJECT

CHAPTERS = ["01_autograd", "05_gpt"]
AXE = SITE_INPUTS / "node_modules" / "axe-core" / "axe.min.js"
# Chromium's own background services (updates, sign-in, autofill): not the site's requests
BROWSER_SERVICES = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")
QUIET_CHROME = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
]
TIMINGS = {}


# --------------------------------------------------------------------------- the site, its server,
# the browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built by `microgpt-course site --output DIR` (once for the module), with
    JupyterLab's app exposed to the page's scripts (window.jupyterapp) for the test to read."""
    output = tmp_path_factory.mktemp("site") / "site"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "site", "--output", str(output)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    TIMINGS["build"] = time.perf_counter() - started
    assert result.returncode == 0, f"microgpt-course site failed:\n{result.stdout}\n{result.stderr}"
    print("\n" + result.stdout.splitlines()[-1])
    config = output / "jupyter-lite.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["jupyter-config-data"]["exposeAppInBrowser"] = "true"
    config.write_text(json.dumps(data), encoding="utf-8")
    TIMINGS["bytes"] = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    yield output
    print(
        "\nsite: "
        + ", ".join(
            f"{k} {v / 1e6:.1f} MB" if k == "bytes" else f"{k} {v:.1f} s"
            for k, v in TIMINGS.items()
        )
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args):
        pass


class _Refuse(socketserver.BaseRequestHandler):
    """A proxy that answers every request 502 and records its first line (CONNECT host:443, GET
    URL)."""

    def handle(self):
        first = self.request.recv(8192).split(b"\r\n", 1)[0].decode("latin-1")
        self.server.attempts.append(first)
        self.request.sendall(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )


def _serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def web(site):
    """The site on http://127.0.0.1:PORT/, as any static host serves it."""
    server = _serve(
        http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=site))
    )
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def proxy():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Refuse)
    server.daemon_threads = True
    server.attempts = []
    yield _serve(server)
    server.shutdown()


@pytest.fixture(scope="module")
def browser(proxy):
    """Headless Chromium sending everything not for 127.0.0.1 to the refusing proxy."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: apt-get install -y chromium chromium-driver",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in [
        *CHROME_ARGS,
        *QUIET_CHROME,
        f"--proxy-server=http://127.0.0.1:{proxy.server_address[1]}",
        "--proxy-bypass-list=<-loopback>;127.0.0.1",
    ]:
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    driver.console = []  # every console message of the module, read by test_console_clean
    yield driver
    driver.quit()


class LiteSite:
    """What NotebookPage needs of a server: the address that opens a notebook."""

    def __init__(self, base):
        self.base = base

    def url(self, path):
        return f"{self.base}/lab/index.html?path={path}"

    def log_tail(self, lines=0):
        return "(a static site: no server log)"


@pytest.fixture
def page(web, browser, tmp_path):
    yield NotebookPage(browser, LiteSite(web.base), tmp_path)
    browser.console.extend(entry for entry in browser.get_log("browser"))
    browser.get("about:blank")


def axe(driver, include=None):
    """axe-core's violations on the page (or within the `include` selectors): id, impact, nodes,
    help, target."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const context = arguments[0] ? {include: arguments[0]} : document;
        axe.run(context, {resultTypes: ['violations']}).then(
          r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                           target: v.nodes[0].target.join(' ').slice(0, 120)}))),
          e => done([{id: 'axe failed', impact: 'critical', help: String(e)}]));""",
        include,
    )
    return found


def serious(violations):
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def run_chapter(page, chapter, timeout):
    path = f"{chapter}/{chapter}.ipynb"
    started = time.perf_counter()
    page.open(path, timeout=180)
    TIMINGS.setdefault(f"kernel running ({chapter}, first open)", time.perf_counter() - started)
    started = time.perf_counter()
    page.run_all(timeout=timeout)
    return page.outputs(), time.perf_counter() - started


# --------------------------------------------------------------------------- the tests


def test_site_holds_no_hidden_material(site):
    """Only the learner versions are in files/, and nothing of the checks, reference or solutions
    anywhere."""
    release = PROJECT / "release"
    shipped = sorted(
        p.relative_to(site / "files") for p in (site / "files").rglob("*") if p.is_file()
    )
    expected = sorted(p.relative_to(release) for p in release.glob("*/*") if p.is_file())
    assert shipped == expected, (
        f"files/ of the site differs from release/: {set(shipped) ^ set(expected)}"
    )
    assert not list(site.rglob("checks")) and not list(site.rglob("microgpt/*.py")), (
        "checks or reference shipped"
    )
    assert leaks(site, release, Course(PROJECT)) == []


def test_landing_page_is_accessible(site, web, browser):
    browser.get(f"{web.base}/index.html")
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('tbody tr')).map(r => r.innerText)"
    )
    chapters = json.loads((site / "microgpt-site.json").read_text(encoding="utf-8"))["chapters"]
    assert len(rows) == len(chapters), rows
    colab = browser.execute_script(
        "return Array.from(document.querySelectorAll('tbody a'), a => a.href)"
        ".filter(h => h.startsWith(arguments[0]))",
        COLAB,
    )
    assert colab == [colab_url(chapter) for chapter in chapters], colab
    violations = axe(browser)
    print(f"\naxe-core, landing page: {len(violations)} violations {violations}")
    assert not serious(violations), serious(violations)
    browser.console.extend(browser.get_log("browser"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_untouched_then_solved(page, chapter):
    """One page and one kernel per chapter, as a learner meets it: the notebook as handed out, Run
    All Cells stops at the first stub; every solution then typed into its cell (through the
    notebook's model) and saved into the site's browser storage, Run All Cells again runs clean."""
    release_nb = nbformat.read(PROJECT / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    source_nb = nbformat.read(PROJECT / "chapters" / chapter / f"{chapter}.ipynb", as_version=4)
    first_stub = stub_names(release_nb)[0]
    outputs, _ = run_chapter(page, chapter, timeout=180)
    errors = [output for output in outputs if output["type"] == "error"]
    assert errors, f"Run All Cells on the untouched {chapter} gave no error; outputs: {outputs}"
    assert f"{first_stub} is not written yet" in errors[0]["shown"], (
        f"the first error (cell {errors[0]['cell']}) should "
        f"say that {first_stub} is not written yet:\n"
        f"{errors[0]['shown']}"
    )
    if chapter == CHAPTERS[0]:
        # the chapter's content (its rendered text and outputs) is the course's; JupyterLab's own
        # editor and toolbars around it are upstream's, reported but not held against the course
        notebook = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
        content = axe(
            page.driver, [f"{notebook} .jp-RenderedMarkdown", f"{notebook} .jp-OutputArea"]
        )
        whole = axe(page.driver, [notebook])
        print(
            "\n"
            f"axe-core, {chapter} rendered, content: {content}; "
            "the whole notebook area (with JupyterLab's "
            f"editor and toolbars): {whole}"
        )
        assert not serious(content), serious(content)

    solved = submission(source_nb, release_nb)
    edits = {
        str(i): cell.source
        for i, (cell, handed) in enumerate(zip(solved.cells, release_nb.cells))
        if cell.source != handed.source
    }
    assert edits, f"{chapter}: the instructor's solutions change no cell of the release"
    stored = page.driver.execute_async_script(
        PANEL
        + """
        const done = arguments[arguments.length - 1];
        for (const [index, source] of Object.entries(arguments[0]))
          panel.content.widgets[Number(index)].model.sharedModel.setSource(source);
        const joined = c => Array.isArray(c.source) ? c.source.join('') : c.source;
        panel.context.save()
          .then(() => window.jupyterapp.serviceManager.contents
            .get(panel.context.path, {content: true}))
          .then(model => done(model.content.cells.map(joined)),
                error => done('failed: ' + error));""",
        edits,
    )
    assert stored == [cell.source for cell in solved.cells], (
        f"the browser storage holds another notebook: {stored}"
    )
    started = time.perf_counter()
    page.run_all(timeout=600)
    TIMINGS[f"{chapter} top to bottom"] = time.perf_counter() - started
    outputs = page.outputs()
    errors = [output for output in outputs if output["type"] == "error"]
    assert not errors, "error outputs in the solved notebook:\n" + "\n".join(
        f"cell {e['cell']}: {e['shown']}" for e in errors
    )
    text = "\n".join(output["shown"] or "" for output in outputs)
    assert "FAIL" not in text and "ok   " in text, text[-2000:]
    pictures = len(picture_alts(source_nb))
    assert text.count("picture skipped") == pictures, (
        f"{pictures} pictures, skipped lines: {text.count('picture skipped')}"
    )


def test_pictures_keep_their_alt_text(page, web):
    """A notebook saved with its pictures (as after a run online, where matplotlib loads) shows each
    with the alt text course_tools.show stored with it: what a screen reader says of the picture."""
    source_nb = nbformat.read(
        PROJECT / "chapters" / CHAPTERS[0] / f"{CHAPTERS[0]}.ipynb", as_version=4
    )
    pictures = nbformat.v4.new_notebook(
        metadata=source_nb.metadata,
        cells=[
            cell
            for cell in source_nb.cells
            if any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
        ],
    )
    alts = picture_alts(pictures)
    assert alts, f"{CHAPTERS[0]} shows no picture: choose a chapter with pictures for this test"
    page.driver.get(f"{web.base}/lab/index.html")
    wait_for(
        lambda: page.script(
            "return window.jupyterapp && window.jupyterapp.serviceManager.contents ? 1 : 0"
        ),
        120,
        "JupyterLite to start",
    )
    saved = page.driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        window.jupyterapp.serviceManager.contents.save(arguments[0],
            {type: 'notebook', format: 'json', content: JSON.parse(arguments[1])})
          .then(model => done(model.path), error => done('failed: ' + error));""",
        "pictures.ipynb",
        json.dumps(pictures),
    )
    assert saved == "pictures.ipynb", saved
    page.driver.get(LiteSite(web.base).url("pictures.ipynb"))

    def shown():
        if not page.script("return window.jupyterapp ? 1 : 0") or not page.state():
            return None
        images = [image for image in page.images() if image["output"]]
        return (
            images
            if len(images) == len(alts) and all(image["complete"] for image in images)
            else None
        )

    images = wait_for(
        shown,
        120,
        f"{len(alts)} pictures to load",
        describe=lambda _: (
            page.images()
            if page.script("return window.jupyterapp ? 1 : 0") and page.state()
            else "no notebook yet"
        ),
    )
    assert all(image["width"] > 0 for image in images), images
    assert [image["alt"] for image in images] == alts, [image["alt"] for image in images]


def test_nothing_left_loopback(proxy):
    """Every request that tried to leave 127.0.0.1 went to the refusing proxy: only Chromium's own
    services and the Pyodide CDN (the picture cells' matplotlib, which Pyodide's console report
    names) may have tried."""
    from urllib.parse import urlparse

    cdn = urlparse(kernel_constants()["cdn"]).hostname
    tried = [line for line in proxy.attempts if not any(host in line for host in BROWSER_SERVICES)]
    unexpected = [line for line in tried if f" {cdn}:" not in line and f"//{cdn}/" not in line]
    print(
        "\n"
        "requests that tried to leave loopback (all refused): "
        f"{len(proxy.attempts)}, of which the site's: "
        f"{len(tried)} (to the Pyodide CDN, for matplotlib)"
    )
    assert not unexpected, f"requests that tried to leave the machine: {unexpected}"


def test_console_clean(browser):
    """No console error but Pyodide's own report that the CDN's picture packages could not be
    fetched."""
    pyodide_report = ("The following error occurred while loading", "Failed to fetch")
    errors = [
        entry["message"]
        for entry in browser.console
        if entry["level"] == "SEVERE"
        and not any(text in entry["message"] for text in pyodide_report)
    ]
    assert not errors, "errors in the browser console:\n" + "\n".join(errors)


def test_bad_output_is_one_line(tmp_path):
    """--output naming a file, or a folder that holds something else, exits 2 with one line (nothing
    built)."""
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("x")
    for output in ("a-file", "notes"):
        result = subprocess.run(
            [sys.executable, "-m", "autograder", "site", "--output", str(tmp_path / output)],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, (
            result.stderr
        )
        assert result.stderr.startswith("microgpt-course: error: --output"), result.stderr
    assert (tmp_path / "notes" / "mine.txt").read_text() == "x"


def test_reset_brings_back_the_original(web, browser):
    """The landing page's reset: a learner's saved copy, deleted, gives back the chapter as handed
    out."""
    path = f"{CHAPTERS[0]}/{CHAPTERS[0]}.ipynb"

    def cells(js_then="done(m.content.cells.length)"):
        browser.get(f"{web.base}/lab/index.html")
        wait_for(
            lambda: browser.execute_script(
                "return window.jupyterapp && window.jupyterapp.serviceManager.contents ? 1 : 0"
            ),
            120,
            "JupyterLite to start",
        )
        return browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const contents = window.jupyterapp.serviceManager.contents;
            contents.get(arguments[0], {content: true}).then(m => { %s; })
              .catch(e => done('failed: ' + e));"""
            % js_then,
            path,
        )

    handed_out = cells()
    assert (
        cells(
            "m.content.cells = m.content.cells.slice(0, 2); contents.save(arguments[0], "
            "{type: 'notebook', format: 'json', content: m.content}).then(() => done('saved'))"
        )
        == "saved"
    )
    assert cells() == 2
    assert cells("contents.delete(arguments[0]).then(() => done('deleted'))") == "deleted"
    assert cells() == handed_out
    browser.console.extend(browser.get_log("browser"))
