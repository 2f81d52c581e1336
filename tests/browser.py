"""JupyterLab in headless Chromium, driven by Selenium, for the browser tests
(tests/learner/test_browser.py, tests/pipeline/test_site.py, ...).

- `JupyterLab`: a JupyterLab server from this interpreter's environment on a free loopback port,
  with a token and private Jupyter config, data, runtime and home folders (no user state leaks in);
- `start_chromium()`: Debian's chromium and chromedriver, headless, console logging on;
- `NotebookPage`: one notebook opened in the browser, with what a learner does (Run > Run All
  Cells, the Validate button) and what the test reads back (rendered math, images, outputs,
  the unsaved mark, console messages);
- `stub_names()`, `picture_alts()`: what a notebook should show there (its stubs, its pictures' alt
  text).

Every wait is bounded and fails with a message saying what was awaited and what was seen last.
The page is read through `window.jupyterapp` (JupyterLab's `expose_app_in_browser` option), so a
cell's outputs are matched to the cell by index, not by position on screen.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from autograder.learner import learner_jupyter_env
from autograder.notebook_format import is_solution

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--window-size=1400,2000",
]
APT_HINT = "apt-get install -y chromium chromium-driver fonts-dejavu"


def stub_names(nb):
    """Qualified names (`linear`, `Value.__add__`) of the functions in solution cells whose body
    raises NotImplementedError, in notebook order."""

    def stubs(body, prefix=""):
        for node in body:
            if isinstance(node, ast.ClassDef):
                yield from stubs(node.body, f"{node.name}.")
            elif isinstance(node, ast.FunctionDef) and any(
                isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s)
                for s in node.body
            ):
                yield prefix + node.name

    return [
        name
        for cell in nb.cells
        if cell.cell_type == "code" and is_solution(cell)
        for name in stubs(ast.parse(cell.source).body)
    ]


def picture_alts(nb):
    """The alt text of each picture output of nb, in order (course_tools.show stores it with the
    picture)."""
    return [
        output.metadata["image/png"]["alt"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]


def wait_for(probe, timeout, awaited, describe=repr, interval=0.25):
    """Call probe() until it returns something truthy; return that. After `timeout` seconds,
    raise AssertionError naming what was awaited and showing describe(last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {awaited}; last seen: {describe(value)}"
            )
        time.sleep(interval)


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- the server


class JupyterLab:
    """`jupyter lab` serving `root` on 127.0.0.1, configured as a learner's
    (autograder/learner/jupyter_config). start() returns at once, so the caller can do other work
    while the server boots; url() waits until it answers."""

    def __init__(self, root, state_dir):
        self.root = Path(root)
        self.state_dir = Path(state_dir)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = self.state_dir / "jupyterlab.log"
        self.process = None

    def _environment(self):
        env = dict(os.environ)
        for kind in ("CONFIG", "DATA", "RUNTIME"):
            folder = self.state_dir / kind.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[f"JUPYTER_{kind}_DIR"] = str(folder)
        home = self.state_dir / "home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)
        for name in (
            "JUPYTER_PATH",
            "JUPYTERLAB_SETTINGS_DIR",
            "JUPYTERLAB_WORKSPACES_DIR",
            "IPYTHONDIR",
            "MPLCONFIGDIR",
            "PYTHONPATH",
        ):
            env.pop(name, None)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        env.pop("JUPYTER_CONFIG_PATH", None)
        # the learners' JupyterLab, as `microgpt-course start` opens it
        return learner_jupyter_env(env)

    def start(self):
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",
        ]
        env = self._environment()
        with open(self.log_path, "w", encoding="utf-8") as log:
            # cwd = root: nbgrader's Validate handler reads nbgrader_config.py from the server's cwd
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log_tail(self, lines=30):
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def _request(self, path, method="GET", timeout=2):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(
                f"JupyterLab exited with code {self.process.returncode} while starting:\n"
                + self.log_tail()
            )
        try:
            return json.loads(self._request("/api/status"))
        except OSError:
            return None

    def wait_ready(self, timeout=60):
        wait_for(
            self._answers,
            timeout,
            f"JupyterLab to answer on port {self.port}",
            describe=lambda _: "no answer; server log:\n" + self.log_tail(),
        )

    def url(self, path):
        """The address that opens `path` (relative to root) in JupyterLab, with a fresh
        workspace."""
        self.wait_ready()
        return f"http://127.0.0.1:{self.port}/lab/tree/{path}?reset&token={self.token}"

    def stop_kernels(self):
        """Shut down every running kernel (the notebooks' sessions end with them)."""
        for kernel in json.loads(self._request("/api/kernels", timeout=10)):
            self._request(f"/api/kernels/{kernel['id']}", method="DELETE", timeout=10)

    def stop(self):
        """Shut down kernels and server through the API; terminate, then kill, if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self._request("/api/shutdown", method="POST", timeout=5)
            self.process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# --------------------------------------------------------------------------- the browser


# no network: every host name fails to resolve and every request goes to a proxy where nothing
# listens
OFFLINE_ARGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def start_chromium(extra_args=()):
    """A headless Chromium under Selenium, its console readable with get_log("browser"); extra_args
    are more command-line switches (OFFLINE_ARGS: no network). Raises RuntimeError saying what is
    missing if it cannot start."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        raise RuntimeError(
            f"{' and '.join(missing)} not found: install the browser with `{APT_HINT}`"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise RuntimeError(f"selenium is not installed ({exc}): pip install -e '.[test]'") from exc
    options = webdriver.ChromeOptions()
    for argument in (*CHROME_ARGS, *extra_args):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as exc:  # selenium raises several types; all mean the same to the caller
        raise RuntimeError(
            f"headless Chromium did not start ({CHROMIUM}, {CHROMEDRIVER}): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    driver.set_script_timeout(30)
    return driver


# --------------------------------------------------------------------------- one notebook on screen

# JavaScript run in the page; PANEL is the notebook shown in the main area
PANEL = "const panel = window.jupyterapp.shell.currentWidget;"

JS_STATE = (
    PANEL
    + """
if (!panel || !panel.content || !panel.context.isReady) return null;
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
const tab = document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current');
return {
  path: panel.context.path,
  cells: panel.content.widgets.length,
  attached: panel.content.node.querySelectorAll('.jp-Cell').length,
  kernel: kernel ? kernel.status : null,
  dirty_tab: tab ? tab.classList.contains('jp-mod-dirty') : null,
  dirty_model: panel.context.model.dirty,
  prompts: Array.from(panel.content.node.querySelectorAll('.jp-InputPrompt'))
    .map(e => e.textContent.trim()),
  running: panel.content.widgets
    .filter(c => c.model.type === 'code' && c.model.executionState === 'running').length,
  counted: panel.content.widgets
    .filter(c => c.model.type === 'code' && c.model.executionCount !== null).length,
};
"""
)

JS_MARKDOWN = (
    PANEL
    + """
return panel.content.widgets.map((cell, index) => {
  if (cell.model.type !== 'markdown') return null;
  const node = cell.node.querySelector('.jp-RenderedMarkdown');
  if (!node) return {index: index, rendered: false};
  const plain = node.cloneNode(true);  // the text a reader sees outside code and typeset math
  plain.querySelectorAll('code, pre, mjx-container, script').forEach(e => e.remove());
  return {index: index, rendered: true, math: node.querySelectorAll('mjx-container').length,
          math_errors: Array.from(node.querySelectorAll('mjx-merror')).map(e => e.textContent),
          text: plain.textContent};
}).filter(report => report !== null);
"""
)

JS_IMAGES = (
    PANEL
    + """
return Array.from(panel.content.node.querySelectorAll('img')).map(img => ({
  complete: img.complete, width: img.naturalWidth, src: img.src.slice(0, 60), alt: img.alt,
  output: !!img.closest('.jp-OutputArea'),
  cell: Array.from(panel.content.node.querySelectorAll('.jp-Cell'))
    .indexOf(img.closest('.jp-Cell'))}));
"""
)

JS_OUTPUTS = (
    PANEL
    + """
return panel.content.widgets.map((cell, index) => {
  if (cell.model.type !== 'code') return [];
  const area = cell.outputArea;
  return cell.model.outputs.toJSON().map((output, k) => ({
    cell: index, type: output.output_type, ename: output.ename || null,
    shown: area.widgets[k] ? area.widgets[k].node.textContent : null}));
}).flat();
"""
)


JS_FURNITURE = """
const app = window.jupyterapp;
const commands = ["nbgrader:open-formgrader", "nbgrader:open-create-assignment",
                  "nbgrader:open-course-list", "nbgrader:open-assignment-list"]
    .filter(id => app.commands.hasCommand(id));
const menus = [...document.querySelectorAll(".lm-MenuBar-itemLabel")].map(e => e.textContent)
    .filter(t => /nbgrader/i.test(t));
const toasts = [...document.querySelectorAll(".Toastify__toast")].map(e => e.textContent)
    .filter(t => /news|update/i.test(t));
return commands.concat(menus, toasts);
"""


class NotebookPage:
    """The browser showing one notebook of a JupyterLab server."""

    def __init__(self, driver, lab, screenshots):
        self.driver = driver
        self.lab = lab
        self.screenshots = Path(screenshots)
        self.seconds = {}  # step -> seconds, for the test's timing line

    def script(self, source):
        return self.driver.execute_script(source)

    def screenshot(self, name):
        path = self.screenshots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def state(self):
        return self.script(JS_STATE)

    def timed(self, step, started):
        self.seconds[step] = time.perf_counter() - started

    def timing(self):
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.seconds.items())

    def open(self, path, timeout=60):
        """Open `path` in a freshly loaded JupyterLab; return once its kernel has connected and
        answered kernel_info (the moment a notebook whose metadata is stale gets marked unsaved)."""
        started = time.perf_counter()
        self.driver.get(self.lab.url(path))

        def connected():
            state = self.script("return window.jupyterapp ? 1 : 0") and self.state()
            return state if state and state["path"] == path and state["kernel"] == "idle" else None

        wait_for(
            connected,
            timeout,
            f"{path} to open with an idle kernel",
            describe=lambda _: (
                self.state() if self.script("return window.jupyterapp ? 1 : 0") else "no app"
            ),
        )
        settled = self.driver.execute_async_script(
            PANEL
            + """
            const done = arguments[arguments.length - 1];
            // once the kernel answers, a second to let Lab apply language_info
            panel.sessionContext.session.kernel.info
              .then(() => new Promise(resolve => setTimeout(resolve, 1000)))
              .then(() => done(true), error => done(String(error)));"""
        )
        assert settled is True, f"{path}: the kernel did not answer kernel_info: {settled}"
        self.timed("open", started)

    def wait_all_cells(self, cell_count, timeout=60):
        """Wait until all `cell_count` cells are on the page (JupyterLab attaches them in the
        background)."""
        started = time.perf_counter()
        wait_for(
            lambda: self.state()["attached"] == cell_count,
            timeout,
            f"all {cell_count} cells on the page",
            describe=lambda _: f"{self.state()['attached']} cells",
        )
        self.timed("all cells shown", started)

    def unsaved(self):
        """Whether the notebook shows as modified (the dot on its tab, or the model's flag)."""
        state = self.state()
        return state["dirty_tab"] or state["dirty_model"]

    def click_menu(self, menu, item, timeout=10):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        wait = WebDriverWait(self.driver, timeout)
        wait.until(
            ec.element_to_be_clickable(
                (By.XPATH, f"//div[contains(@class,'lm-MenuBar-itemLabel') and text()='{menu}']")
            )
        ).click()
        wait.until(
            ec.element_to_be_clickable(
                (By.XPATH, f"//div[contains(@class,'lm-Menu-itemLabel') and text()='{item}']")
            )
        ).click()

    def run_all(self, timeout=90):
        """Run > Run All Cells, then wait until no cell is queued or running and the kernel is
        idle."""
        started = time.perf_counter()
        counted_before = self.state()["counted"]
        self.click_menu("Run", "Run All Cells")
        wait_for(
            lambda: (lambda st: st["running"] or st["counted"] > counted_before)(self.state()),
            15,
            "Run All Cells to start running cells",
            describe=lambda _: self.state(),
        )

        def finished():
            state = self.state()
            return (
                state["kernel"] == "idle"
                and not state["running"]
                and not any("*" in prompt for prompt in state["prompts"])
            )

        def describe(_):
            return {key: value for key, value in self.state().items() if key != "prompts"}

        # idle twice, a moment apart: the next queued cell may not have started when one poll looked
        for _ in range(2):
            wait_for(
                finished,
                timeout,
                "execution to end (no [*] prompt, kernel idle)",
                describe=describe,
            )
            time.sleep(0.5)
        self.timed("run all", started)

    def markdown(self):
        return self.script(JS_MARKDOWN)

    def images(self):
        return self.script(JS_IMAGES)

    def outputs(self):
        return self.script(JS_OUTPUTS)

    def validate(self, timeout=120):
        """Click nbgrader's Validate button (it saves, then validates on the server), wait for its
        dialog and close it. Returns {title, result: nbgrader's class for the outcome, such as
        ["validation-failed"] or ["validation-success"], text: the dialog's text}."""
        from selenium.webdriver.common.by import By

        button = self.driver.find_element(
            By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) jp-button.validate-button"
        )
        started = time.perf_counter()
        button.click()

        def results():
            return self.script("""
                const dialog = document.querySelector('.jp-Dialog');
                if (!dialog) return null;
                const body = dialog.querySelector('.jp-Dialog-body');
                const result = dialog.querySelector('[class*="validation-"]');
                const classes = result ? Array.from(result.classList) : [];
                return {title: dialog.querySelector('.jp-Dialog-header').textContent,
                        result: classes.filter(c => c.startsWith('validation-')),
                        text: body ? body.textContent : ''};""")

        shown = wait_for(
            results,
            timeout,
            "nbgrader's Validation Results dialog",
            describe=lambda _: self.lab.log_tail(10),
        )
        self.timed("validate", started)
        self.screenshot("validated")
        self.driver.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept").click()
        wait_for(
            lambda: not self.script("return document.querySelector('.jp-Dialog')"),
            10,
            "the Validation Results dialog to close",
        )
        return shown

    def instructor_furniture(self):
        """What of nbgrader's instructor side and JupyterLab's news prompt this page offers:
        commands, menu titles and notifications (empty for a learner's JupyterLab)."""
        return self.script(JS_FURNITURE)

    def console(self):
        """Console messages since the last call: [(level, message)]."""
        return [(entry["level"], entry["message"]) for entry in self.driver.get_log("browser")]
