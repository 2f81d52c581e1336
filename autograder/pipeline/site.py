"""The course as a static JupyterLite site (`microgpt-course site`): every chapter's learner
version, a Python kernel that runs in the browser (Pyodide), and a landing page; nothing to install.

What goes in, and from where (nothing is downloaded while building):
- the learner versions: the workspace `start` makes (release.make_workspace: each release/NN_name/
  with course_tools.py and its data), as the site's contents;
- the Pyodide core from the npm package `pyodide` (autograder/jupyterlite/package.json pins the
  version the pinned jupyterlite-pyodide-kernel expects; `make site-deps` installs it), and the
  pure-Python wheels the kernel loads (autograder/jupyterlite/wheels.txt, downloaded by `make
  site-deps`), written into a copy of Pyodide's lock file in place of Pyodide's copies (file name,
  version, SHA-256). Every other package of the lock (matplotlib and its compiled dependencies)
  points at the Pyodide CDN, so it loads when the learner is online; offline, course_tools.py says
  so in one line where a picture would be;
- JupyterLab (jupyterlite-core) with only the Pyodide kernel's extension, and the kernel told never
  to fall back to PyPI. JupyterLite runs from its own environment, build/jupyterlite-tools/
  (autograder/jupyterlite/requirements.txt): installed beside the course's JupyterLab, its kernel
  extension would load there and fail.

The built site is scanned before it is kept (leaks()): the hidden checks, the reference package and
the instructor notebooks' solutions and hidden tests must not be in it.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from .. import notebook_format as fmt
from .course import REPOSITORY, Course, UsageError

# the pinned build inputs (package.json: pyodide, axe-core; wheels.txt; requirements.txt:
# JupyterLite) and what `make site-deps` made of them (node_modules/, wheels/; JupyterLite's
# environment: LITE_TOOLS)
SITE_INPUTS = REPOSITORY / "autograder" / "jupyterlite"
WHEELS = SITE_INPUTS / "wheels"
PYODIDE_NPM = SITE_INPUTS / "node_modules" / "pyodide"
# outside the package: nothing of it is shipped
LITE_TOOLS = REPOSITORY / "build" / "jupyterlite-tools"
# the parts of the npm package the browser loads (not its source maps, typings, consoles or README)
PYODIDE_CORE = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "package.json",
)
KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
KERNEL_PLUGIN = f"{KERNEL_EXTENSION}:kernel"
# written into every built site; an --output holding one may be replaced
SITE_MARK = "microgpt-site.json"
HOW_TO_GET = "run `make site-deps` (it fills autograder/jupyterlite/ from its pinned lists)"
TIME = re.compile(r"\*\*Time:\*\*\s*([^\n]+?)\.?\s*$", re.M)


class SiteError(Exception):
    """The JupyterLite build failed, or the built site holds what must not ship."""


# --------------------------------------------------------------------------- what the site bundles


def lite_python() -> Path:
    """The Python of JupyterLite's own environment (build/jupyterlite-tools/)."""
    for python in (LITE_TOOLS / "bin" / "python", LITE_TOOLS / "Scripts" / "python.exe"):
        if python.is_file():
            return python
    raise UsageError(f"JupyterLite's environment is not in {LITE_TOOLS}: {HOW_TO_GET}")


@functools.cache
def kernel_constants() -> dict:
    """{"version": the Pyodide version the pinned jupyterlite-pyodide-kernel is made for, "cdn": the
    Pyodide CDN it loads other packages from}, asked of JupyterLite's environment."""
    ask = (
        "import json; from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION, "
        "PYODIDE_CDN_URL; print(json.dumps({'version': PYODIDE_VERSION, 'cdn': PYODIDE_CDN_URL}))"
    )
    result = subprocess.run(
        [lite_python(), "-c", ask], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise UsageError(f"jupyterlite-pyodide-kernel is missing from {LITE_TOOLS}: {HOW_TO_GET}")
    return json.loads(result.stdout)


def pyodide_core() -> Path:
    """The npm package's folder, checked to be the version the kernel expects."""
    wanted = kernel_constants()["version"]
    manifest = PYODIDE_NPM / "package.json"
    if not manifest.is_file():
        raise UsageError(f"the npm package pyodide is not in {PYODIDE_NPM}: {HOW_TO_GET}")
    found = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    if found != wanted:
        raise UsageError(
            f"{PYODIDE_NPM} is pyodide {found}, but jupyterlite-pyodide-kernel expects {wanted}: "
            f"pin it in {SITE_INPUTS / 'package.json'} and {HOW_TO_GET}"
        )
    return PYODIDE_NPM


def wanted_wheels() -> dict[str, str]:
    """{canonical name: version} pinned in autograder/jupyterlite/wheels.txt."""
    pins = {}
    for line in (SITE_INPUTS / "wheels.txt").read_text(encoding="utf-8").splitlines():
        requirement = line.split("#")[0].split("--hash")[0].strip()
        if requirement:
            name, version = requirement.split("==")
            pins[canonical(name)] = version.strip()
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def kernel_wheels() -> dict[str, Path]:
    """{canonical name: wheel} of every pin in wheels.txt, found in
    autograder/jupyterlite/wheels/."""
    found = {}
    for wheel in WHEELS.glob("*.whl") if WHEELS.is_dir() else []:
        name, version = wheel.name.split("-")[:2]
        found[(canonical(name), version)] = wheel
    missing = [
        f"{name}=={version}"
        for name, version in wanted_wheels().items()
        if (name, version) not in found
    ]
    if missing:
        raise UsageError(f"wheels missing from {WHEELS}: {', '.join(missing)}: {HOW_TO_GET}")
    return {name: found[(name, version)] for name, version in wanted_wheels().items()}


def wheel_imports(wheel: Path) -> list[str]:
    """The top-level modules a wheel installs (its top_level.txt, else its folders and modules)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        listed = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        if listed:
            return [line for line in archive.read(listed[0]).decode().split() if line]
    tops = {
        n.split("/")[0].removesuffix(".py") for n in names if ".dist-info" not in n.split("/")[0]
    }
    return sorted(t for t in tops if t.isidentifier())


def bundle_pyodide(target: Path, cdn: str) -> dict:
    """Copy the Pyodide core and the kernel's wheels into target/ and write its pyodide-lock.json:
    the bundled wheels by file name (with their own SHA-256), every other package at cdn/FILE.
    Returns {"bundled": [names], "remote": number of packages left on the CDN}."""
    core = pyodide_core()
    wheels = kernel_wheels()
    target.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_CORE:
        shutil.copyfile(core / name, target / name)
    lock = json.loads((core / "pyodide-lock.json").read_text(encoding="utf-8"))
    by_name = {canonical(key): key for key in lock["packages"]}
    for name, wheel in wheels.items():
        shutil.copyfile(wheel, target / wheel.name)
        key = by_name.get(name, name)
        entry = lock["packages"].get(key) or {
            "name": name,
            "install_dir": "site",
            "package_type": "package",
            "depends": [],
            "imports": wheel_imports(wheel),
            "unvendored_tests": False,
        }
        entry.update(
            file_name=wheel.name,
            version=wheel.name.split("-")[1],
            sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
        )
        lock["packages"][key] = entry
    bundled = {by_name.get(name, name) for name in wheels}
    for key, entry in lock["packages"].items():
        if key not in bundled and "://" not in entry["file_name"]:
            entry["file_name"] = f"{cdn}/{entry['file_name']}"
    # consistent: what the bundled packages depend on is bundled too, so starting the kernel needs
    # no CDN
    unbundled = sorted(
        {
            dep
            for key in bundled
            for dep in lock["packages"][key]["depends"]
            if by_name.get(canonical(dep), dep) not in bundled
        }
    )
    if unbundled:
        raise SiteError(
            f"bundled kernel packages depend on {', '.join(unbundled)}, "
            f"which {SITE_INPUTS / 'wheels.txt'} lacks"
        )
    (target / "pyodide-lock.json").write_text(
        json.dumps(lock, indent=1, sort_keys=True), encoding="utf-8"
    )
    return {"bundled": sorted(bundled), "remote": len(lock["packages"]) - len(bundled)}


# --------------------------------------------------------------------------- the landing page


def chapter_rows(contents: Path, chapters: list[str]) -> list[dict]:
    """Per chapter: name, title (its first heading), time (its **Time:** line) and points (the
    release's grade cells)."""
    import nbformat

    from .release import max_points

    rows = []
    for chapter in chapters:
        notebook = contents / chapter / f"{chapter}.ipynb"
        text = "\n".join(
            c.source
            for c in nbformat.read(notebook, as_version=4).cells
            if c.cell_type == "markdown"
        )
        title = next(
            (line.lstrip("#").strip() for line in text.splitlines() if line.startswith("# ")),
            chapter,
        )
        time_line = TIME.search(text)
        rows.append(
            {
                "chapter": chapter,
                "title": title,
                "time": time_line.group(1) if time_line else "",
                "points": max_points(notebook),
            }
        )
    return rows


def landing_page(rows: list[dict]) -> str:
    """index.html: how the site works, the chapter table (each chapter opened in the browser, here,
    or in Colab: published.colab_url), handing in and resetting a chapter."""
    from autograder.published import colab_url

    lines = []
    for row in rows:
        link = f"lab/index.html?path={row['chapter']}/{row['chapter']}.ipynb"
        title = html.escape(row["title"])
        lines.append(
            f'      <tr><td><a href="{html.escape(link)}">{title}</a></td>'
            f"<td>{html.escape(row['time'])}</td><td>{row['points']:g}</td>"
            f'<td><a href="{html.escape(colab_url(row["chapter"]))}" '
            f'aria-label="Open in Colab: {title}">'
            f"Open in Colab</a></td></tr>"
        )
    total = sum(row["points"] for row in rows)
    table = "\n".join(lines)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="favicon.ico">
  <title>microgpt course: build a GPT in pure Python, in your browser</title>
  <!-- JupyterLite's pages below read their configuration from here (jupyter-lite.json holds it) -->
  <script id="jupyter-config-data" type="application/json" data-jupyter-lite-root=".">{{}}</script>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
           padding: 0 1rem; line-height: 1.5; color: #1a1a1a; background: #fff; }}
    table {{ border-collapse: collapse; width: 100%; }}
    th, td {{ border-bottom: 1px solid #bbb; padding: .4rem .6rem; text-align: left; }}
    td:nth-child(3), th:nth-child(3) {{ text-align: right; }}
    td:nth-child(4) {{ white-space: nowrap; }}
    a {{ color: #0645ad; }}
    code {{ background: #f2f2f2; padding: 0 .2rem; }}
  </style>
</head>
<body>
<main>
  <h1>microgpt course</h1>
  <p>Build a GPT from scratch in pure Python, in ten chapters. Everything runs in this browser
  tab (Python compiled to WebAssembly): nothing to install. The first chapter takes a few seconds
  to start Python. Click a chapter's title to open it in the browser, here; or open it in Google
  Colab, where its first cell fetches the files it needs from this site.</p>
  <h2>Chapters</h2>
  <table>
    <caption>The chapters, with the time each takes and the points its tests give</caption>
    <thead><tr><th scope="col">Chapter (open in the browser)</th><th scope="col">Time</th>
      <th scope="col">Points</th><th scope="col">Elsewhere</th></tr></thead>
    <tbody>
{table}
    </tbody>
    <tfoot><tr><td>All chapters</td><td></td><td>{total:g}</td><td></td></tr></tfoot>
  </table>
  <h2>Your work stays in this browser</h2>
  <p>What you write is saved in this browser's storage for this site, not on a server: it
  survives closing the tab, but not clearing the browser's site data, and another browser or
  computer does not see it.</p>
  <h2>Handing in a chapter</h2>
  <p>Save the notebook (<kbd>Ctrl</kbd>+<kbd>S</kbd>), then in the file browser on the left
  right-click <code>NN_name.ipynb</code> and choose <strong>Download</strong> (or, with the
  notebook open, <strong>File &gt; Download</strong>). Hand in the downloaded
  <code>.ipynb</code> file as your course asks.</p>
  <h2>Starting a chapter again</h2>
  <p>To reset a chapter to the version handed out, right-click its notebook in the file browser,
  choose <strong>Delete</strong>, and reload the page: the original comes back. Download your
  notebook first if you want to keep your answers.</p>
  <h2>Pictures</h2>
  <p>Some chapters draw pictures with matplotlib, which is loaded from the Pyodide package site when
  you are online. Offline, those cells say in one line that the picture is skipped; everything else
  runs.</p>
</main>
</body>
</html>
"""


# --------------------------------------------------------------------------- what must never ship


def secret_lines(course: Course) -> set[str]:
    """Lines (stripped, 24+ characters) of the hidden checks, the reference package and the
    instructor notebooks' solutions and hidden tests."""
    import nbformat

    from autograder.notebook_format import hidden_lines, split_regions

    texts = [
        p.read_text(encoding="utf-8")
        for folder in (REPOSITORY / "autograder" / "checks", REPOSITORY / "solutions" / "microgpt")
        for p in sorted(folder.glob("*.py"))
    ]
    for chapter in course.chapters():
        source_nb = nbformat.read(course.source_notebook(chapter), as_version=4)
        texts.append("\n".join(hidden_lines(source_nb)))
        texts += [
            "\n".join(region)
            for cell in source_nb.cells
            for region in split_regions(cell.source)[1]
        ]
    return {line.strip() for text in texts for line in text.splitlines() if len(line.strip()) >= 24}


def text_lines(path: Path) -> set[str]:
    """The stripped lines of a text file; for a notebook or JSON file also the lines of its
    strings."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return set()
    lines = {line.strip() for line in text.splitlines()}
    if path.suffix in (".ipynb", ".json"):
        try:
            document = json.loads(text)
        except ValueError:
            return lines
        stack = [document]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                lines.update(line.strip() for line in item.splitlines())
            elif isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return lines


def leaks(site: Path, contents: Path, course: Course) -> list[str]:
    """What the built site holds that must not ship: nbgrader's solution or hidden-test markers, or
    a line of the hidden checks, the reference or the instructor's solutions and hidden tests that
    the learner versions (contents) do not show anyway. Each as `file: what`."""
    shown = set().union(*(text_lines(p) for p in contents.rglob("*") if p.is_file()))
    secret = secret_lines(course) - shown
    markers = (fmt.BEGIN_HIDDEN, fmt.BEGIN_SOLUTION, fmt.END_HIDDEN)
    found = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        lines = text_lines(path)
        hits = [line for line in lines if any(marker in line for marker in markers)] + sorted(
            lines & secret
        )
        if hits:
            found.append(
                f"{path.relative_to(site)}: {hits[0][:100]!r}"
                + (f" and {len(hits) - 1} more" if len(hits) > 1 else "")
            )
    return found


# --------------------------------------------------------------------------- the build


def lite_config() -> dict:
    """jupyter-lite.json of the site: the kernel never falls back to PyPI."""
    return {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "microgpt course",
            "litePluginSettings": {KERNEL_PLUGIN: {"disablePyPIFallback": True}},
        },
    }


def check_output(output: Path) -> None:
    """Refuse an --output that is a file, or a non-empty folder that is not a site built here."""
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output} is a file, not a folder")
    if output.is_dir() and any(output.iterdir()) and not (output / SITE_MARK).is_file():
        raise UsageError(
            f"--output {output} is a non-empty folder that is not a site built by this command: "
            f"choose an empty or new folder"
        )


def build_site(course: Course, output: Path, progress, log) -> dict:
    """Build the site into output (replacing a site built there before). Returns a summary dict:
    chapters, points, files, bytes, seconds, bundled, remote."""
    from .release import make_workspace

    started = time.perf_counter()
    check_output(output)
    pyodide_core()
    kernel_wheels()  # both refuse with one line before anything is built
    work = progress(4, "site")
    with tempfile.TemporaryDirectory(prefix="microgpt-site-") as temporary:
        lite = Path(temporary)
        contents = lite / "contents"
        make_workspace(course, contents, progress, log)
        work.advance("learner versions")
        bundle = bundle_pyodide(lite / "static" / "pyodide", kernel_constants()["cdn"])
        (lite / "jupyter-lite.json").write_text(
            json.dumps(lite_config(), indent=1), encoding="utf-8"
        )
        work.advance(f"pyodide: {len(bundle['bundled'])} wheels bundled")
        extension = LITE_TOOLS / "share" / "jupyter" / "labextensions" / KERNEL_EXTENSION
        built = lite / "_output"
        command = [
            str(lite_python()),
            "-m",
            "jupyterlite_core",
            "build",
            f"--lite-dir={lite}",
            f"--output-dir={built}",
            f"--contents={contents}",
            "--apps=lab",
            "--ignore-sys-prefix",
            "--no-sourcemaps",
            "--no-unused-shared-packages",
            f"--LiteBuildConfig.federated_extensions={extension}",
        ]
        log.info("building: %s", command)
        result = subprocess.run(
            command, cwd=lite, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        log.info(
            "jupyter lite build exited %d\n%s\n%s", result.returncode, result.stdout, result.stderr
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
            raise SiteError(f"jupyter lite build failed:\n{tail}")
        work.advance("jupyter lite build")
        rows = chapter_rows(contents, course.chapters())
        (built / "index.html").write_text(landing_page(rows), encoding="utf-8")
        if (built / "lab" / "favicon.ico").is_file():  # browsers ask every host for /favicon.ico
            shutil.copyfile(built / "lab" / "favicon.ico", built / "favicon.ico")
        found = leaks(built, contents, course)
        if found:
            raise SiteError(f"the built site holds what must not ship: {'; '.join(found[:5])}")
        files = [p for p in built.rglob("*") if p.is_file()]
        summary = {
            "chapters": rows,
            "points": sum(r["points"] for r in rows),
            "files": len(files),
            "bytes": sum(p.stat().st_size for p in files),
            **bundle,
        }
        (built / SITE_MARK).write_text(
            json.dumps(
                {"chapters": [r["chapter"] for r in rows], "bundled": bundle["bundled"]}, indent=1
            ),
            encoding="utf-8",
        )
        if output.exists():
            shutil.rmtree(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(built), output)
        work.advance("landing page, checked for hidden material")
    summary["seconds"] = time.perf_counter() - started
    return summary
