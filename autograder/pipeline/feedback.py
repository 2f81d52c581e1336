"""Feedback pages: feedback/<student>/<chapter>/<chapter>.html, one per graded submission.

nbgrader's generate_feedback renders the autograded notebook with the score of every graded cell.
SanitizeFeedback (run after ClearHiddenTests, configured in nbgrader_config.py) makes sure a page
shows the learner's code, bounded outputs and each check's message, and never the source of a
hidden test, a traceback into the check library or the reference, or a path of the grading machine:
errors become one line `Name: message`, every output is cut to MAX_OUTPUT_CHARS, only text and
bitmap outputs are kept (a picture with its alt text), and absolute paths become <path>. A page is
checked for leaks before it is kept (`leaks`).

A page is inert (FeedbackExporter, the exporter nbgrader_config.py gives generate_feedback):
whatever HTML a learner writes in Markdown (or puts in an attachment or an output) never runs in the
browser of whoever opens the page. Rendered Markdown keeps only the tags and attributes Markdown
itself makes (bleach, an allowlist), nbconvert's sanitize_html cleans what outputs remain, and a
Content-Security-Policy lets only the template's own MathJax run.

Math renders with no network: the page loads MathJax 2 (shipped by the PyPI package
jupyter-server-mathjax) from a folder mathjax/ beside it (place_mathjax, MATHJAX_PARTS), never from
a CDN; the policy lets scripts and fonts come from the page's own origin only.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from functools import cache
from html import escape as html_escape
from pathlib import Path
from urllib.parse import urlsplit

import bleach
from bleach.css_sanitizer import CSSSanitizer
from bs4 import BeautifulSoup
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode, default

from .. import notebook_format as fmt
from ..notebook_format import graded_pieces, hidden_lines, nbgrader_meta
from .course import Course, quiet_gradebook

MAX_OUTPUT_CHARS = 20_000
MAX_IMAGE_CHARS = 1_000_000  # base64 of a picture
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")  # a picture's value: anything else is not a picture
KEPT_MIME = ("text/plain", "image/png", "image/jpeg")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
POSIX_PATH = re.compile(
    r"(?<![\w.~/\\-])(?:file://)?/(?:[^\s/'\"<>:;,()\[\]{}|]+/)+[^\s/'\"<>:;,()\[\]{}|]*"
)
WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\(?:[^\s\\'\"<>:;|]+\\)*[^\s\\'\"<>:;|]*")
HOME_PATH = re.compile(r"~/(?:[^\s/'\"<>]+/?)+")

# what rendered Markdown may hold: the tags and attributes Markdown itself makes (headings, lists,
# tables, code, links, images); nothing that runs, embeds another page, or restyles the page
MARKDOWN_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
MARKDOWN_ATTRIBUTES = {
    "*": {"class"},  # code highlighting, heading anchor links
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},  # table column alignment: text-align only (TABLE_CSS)
    **{f"h{level}": {"id"} for level in range(1, 7)},  # the targets of heading anchor links
}
TABLE_CSS = ["text-align"]
# "" is a link within the page (#heading) or a relative one
LINK_SCHEMES = ("", "http", "https", "mailto")
# attachments, pasted pictures
DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/=]*", re.I)
URL_NOISE = re.compile(r"[\x00-\x20\x7f]")
MATHJAX_FOLDER = "mathjax"  # beside each page: a learner gets it with the page's folder
# the parts of MathJax 2 a page uses (TeX in, HTML-CSS out with the STIX-Web fonts, the Safe
# extension): about 3 MB of the package's 12 (no SVG output, accessibility extensions or
# translations)
MATHJAX_PARTS = (
    "MathJax.js",
    "LICENSE",
    "config/TeX-AMS-MML_HTMLorMML-full.js",
    "config/Safe.js",
    "extensions",
    "jax/input",
    "jax/element",
    "jax/output/HTML-CSS",
    "fonts/HTML-CSS/STIX-Web/woff",
)
MATHJAX_LEFT_OUT = ("a11y",)  # inside the parts above, not copied
MATHJAX_SRC = f"{MATHJAX_FOLDER}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/feedback"
# a config file, not inline: the page's policy runs no inline script. The package has the STIX-Web
# fonts only, so HTML-CSS must not look for the TeX fonts (or for image fonts) it lacks
MATHJAX_CONFIG = """MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null,
                                  webFont: "STIX-Web", imageFont: null}, messageStyle: "none"});
MathJax.Ajax.loadComplete("[MathJax]/config/local/feedback.js");
"""


def scrub(text: str) -> str:
    """text without ANSI colours and without absolute paths (each becomes <path>)."""
    text = ANSI.sub("", text)
    for local in sorted(
        {str(Path.home()), sys.prefix, tempfile.gettempdir(), os.getcwd()}, key=len, reverse=True
    ):
        if len(local) > 1:
            text = text.replace(local, "<path>")
    for pattern in (WINDOWS_PATH, POSIX_PATH, HOME_PATH):
        text = pattern.sub("<path>", text)
    return text


def bound(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit:,} more characters not shown]"


def clean_output(output):
    """One output made safe to show: errors as one line, text scrubbed and bounded, only
    KEPT_MIME."""
    kind = output.get("output_type")
    if kind == "error":
        message = scrub(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
        output["traceback"] = [bound(message)]
        output["evalue"] = bound(scrub(output.get("evalue", "")))
        return output
    if kind == "stream":
        output["text"] = bound(scrub(output.get("text", "")))
        return output
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        kept = {}
        for mime in KEPT_MIME:
            if mime not in data:
                continue
            value = data[mime]
            if mime == "text/plain":
                kept[mime] = bound(scrub(value if isinstance(value, str) else "".join(value)))
            elif (
                isinstance(value, str) and len(value) <= MAX_IMAGE_CHARS and BASE64.fullmatch(value)
            ):
                kept[mime] = value
        if not kept:
            kept["text/plain"] = "[an output that feedback does not show]"
        output["data"] = kept
        # a picture's alt text (course_tools.show) only: nbgrader's template puts it on the <img>,
        # escaped
        pictures = {
            mime: (output.get("metadata") or {}).get(mime) for mime in kept if mime != "text/plain"
        }
        output["metadata"] = {
            mime: {"alt": bound(scrub(str(meta["alt"])))}
            for mime, meta in pictures.items()
            if isinstance(meta, dict) and meta.get("alt")
        }
        return output
    return None


class SanitizeFeedback(Preprocessor):
    """nbconvert preprocessor for feedback: see the module docstring. Also drops any cell still
    holding a hidden-test marker (a hidden block ClearHiddenTests could not remove)."""

    enabled = Bool(True).tag(config=True)  # nbconvert runs only enabled preprocessors
    course_root = Unicode(
        "", help="the course whose judged results and flags are shown (set by Course)"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not any(m in c.source for m in hidden_markers())]
        if self.course_root:
            self.add_flag_notes(nb, resources["nbgrader"])
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [
                    o for o in (clean_output(o) for o in cell.get("outputs", [])) if o is not None
                ]
            cell.metadata.pop("collapsed", None)
        nb.metadata = {
            k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info", "nbgrader")
        }
        return nb, resources

    def add_flag_notes(self, nb, about: dict):
        """Under each graded piece's test cell, a note with the points the judge gave and the
        check's message (grading/results/<chapter>/<student>.json, written by `grade`) and the
        reasons of its flags; flags of the whole notebook go at the top. The gradebook's points are
        these. Under each hand-graded answer nobody has graded yet, a note that it is pending, and
        one at the top with the points pending; their {grade_id: points} goes to about["pending"]
        (mark_pending). `about` is nbconvert's resources["nbgrader"] (student, assignment)."""
        import json

        import nbformat

        from .flags import load_flags
        from .standing import pending_manual, results_path

        student, chapter = about["student"], about["assignment"]
        course = Course(Path(self.course_root))
        results_file = results_path(course, student, chapter)
        pieces = (
            json.loads(results_file.read_text(encoding="utf-8"))["pieces"]
            if results_file.is_file()
            else []
        )
        notes = {}
        for piece in pieces:
            verdict = "passes" if piece["passed"] else "does not pass"
            text = (
                f"**Checked on its own, this piece {verdict}: "
                f"{piece['points']:g} of {piece['max_points']:g} points.**"
            )
            notes[piece["grade_id"]] = [text] + (
                [fenced(piece["message"])] if piece["message"] else []
            )
        messages = {p["grade_id"]: p["message"] for p in pieces}
        for flag in load_flags(course):
            if (flag.student, flag.chapter) == (student, chapter) and flag.reason != messages.get(
                flag.piece
            ):
                notes.setdefault(flag.piece, []).append(
                    f"**Grading note ({flag.kind}):**\n\n{fenced(flag.reason)}"
                )
        with course.gradebook() as gb:
            about["pending"] = pending = pending_manual(gb, student, chapter)
        for grade_id, points in pending.items():
            notes.setdefault(grade_id, []).append(
                f"**Not graded yet:** your instructor grades this answer by hand "
                f"({points:g} points); the score shown counts it as 0 until then."
            )
        if pending:
            notes.setdefault("", []).insert(
                0,
                f"**Not graded yet: {sum(pending.values()):g} points** "
                f"({len(pending)} answers graded by hand) are still to be graded "
                f"by your instructor; the score above counts them as 0 until then.",
            )
        for grade_id, lines in notes.items():
            where = next(
                (
                    i + 1
                    for i, c in enumerate(nb.cells)
                    if grade_id and nbgrader_meta(c).get("grade_id") == grade_id
                ),
                0,
            )
            nb.cells.insert(where, nbformat.v4.new_markdown_cell("\n\n".join(lines)))


def fenced(text: str) -> str:
    """text as a Markdown code block (shown verbatim, never rendered as HTML), scrubbed and
    bounded."""
    return "```\n" + bound(scrub(text), 2000).replace("```", "` ` `") + "\n```"


def leaks(html: str, course: Course, source_nb) -> list[str]:
    """What a feedback page must never contain, if it does: hidden-test source lines, frames of the
    check library or the reference, and paths of this machine."""
    found = []
    for marker in hidden_markers():
        if marker in html:
            found.append(f"hidden-test marker {marker!r}")
    for line in hidden_lines(source_nb):
        if line in html:
            found.append(f"hidden-test line {line!r}")
    for text in (
        str(course.root),
        sys.prefix,
        str(Path.home()),
        "autograder/checks",
        "site-packages",
        'File "',
        "Traceback (most recent call last)",
    ):
        if len(text) > 1 and text in html:
            found.append(repr(text))
    return found


def hidden_markers() -> tuple[str, str]:
    """The hidden-test delimiters (nbgrader's, as notebook_format has them): a cell or page holding
    one shows, or once held, hidden tests."""
    return fmt.BEGIN_HIDDEN, fmt.END_HIDDEN


def compact_url(value: str) -> str:
    """value without whitespace and control characters: a browser skips tabs and newlines in a URL,
    so java&#9;script: is javascript: and must be judged as such."""
    return URL_NOISE.sub("", value)


def allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Whether rendered Markdown keeps this attribute (bleach's filter): MARKDOWN_ATTRIBUTES, with
    links only to LINK_SCHEMES and pictures only from http(s) or an embedded PNG, JPEG or GIF."""
    if name not in MARKDOWN_ATTRIBUTES.get(tag, set()) | MARKDOWN_ATTRIBUTES["*"]:
        return False
    url = compact_url(value)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed [ in the host
        return False
    if name == "href":
        return scheme in LINK_SCHEMES
    if name == "src":
        return scheme in ("http", "https") or bool(DATA_IMAGE.fullmatch(url))
    return True


@cache
def markdown_cleaner() -> bleach.Cleaner:
    """The bleach Cleaner for rendered Markdown: tags outside MARKDOWN_TAGS are dropped (their text
    is kept, escaped), and so are comments and every attribute allowed_attribute refuses."""
    # "data" passes bleach's own protocol check; allowed_attribute admits it only for embedded
    # pictures
    return bleach.Cleaner(
        tags=MARKDOWN_TAGS,
        attributes=allowed_attribute,
        protocols={"http", "https", "mailto", "data"},
        strip=True,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=TABLE_CSS),
    )


def content_security_policy(script_sources: list[str]) -> str:
    """The policy of a feedback page: scripts only from script_sources (the template's MathJax), no
    inline script or event handler, no frames, plugins, forms or requests; inline styles (the
    template's) and pictures embedded or from the web."""
    # MathJax 2 runs its configuration block with eval(), hence 'unsafe-eval'; no learner code can
    # reach eval, as none of it runs
    scripts = " ".join([*script_sources, "'unsafe-eval'"]) if script_sources else "'none'"
    fonts = " ".join([*script_sources, "data:"])  # MathJax's web fonts come from where it does
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; font-src {fonts}; "
        "img-src data: https:; base-uri 'none'; form-action 'none'"
    )


def with_content_security_policy(html: str) -> str:
    """The page with MathJax loaded from beside it (MATHJAX_SRC) and a Content-Security-Policy meta
    tag first in its head; the sources it allows for scripts are the folders of the template's own
    https <script src>, or the page's own origin ('self') for a relative one (MathJax's files load
    from there)."""
    soup = BeautifulSoup(html, features="html.parser")
    if soup.head is None:
        raise ValueError("a feedback page without <head>: no place for its Content-Security-Policy")
    for script in soup.head.find_all("script", src=True):
        if "/mathjax/" in script["src"].lower() and script["src"].startswith("https://"):
            # nbgrader's template names a CDN, whatever nbconvert's mathjax_url says
            script["src"] = MATHJAX_SRC
    sources = [script["src"] for script in soup.head.find_all("script", src=True)]
    folders = sorted(
        {src.split("?")[0].rsplit("/", 1)[0] + "/" for src in sources if src.startswith("https://")}
    )
    if any(urlsplit(src).scheme == "" for src in sources):
        # a relative <script src>: on a file:// page only files beside it
        folders.insert(0, "'self'")
    policy = soup.new_tag(
        "meta",
        attrs={
            "http-equiv": "Content-Security-Policy",
            "content": content_security_policy(folders),
        },
    )
    soup.head.insert(0, policy)
    return str(soup)


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page (template `feedback`), inert: see the module docstring."""

    @default("sanitize_html")
    def _sanitize_html_default(self):
        # nbconvert's own cleaning: text/html and text/markdown outputs cleaned, JavaScript and
        # widget outputs not written. It misses Markdown cells (nbgrader's feedback template renders
        # them itself), hence markdown2html below
        return True

    @pass_context
    def markdown2html(self, context, source):
        """Markdown (cells, nbgrader comments) rendered by nbconvert, then cleaned by
        markdown_cleaner. A link to an attachment the cell does not carry becomes a link to nothing
        (nbconvert would raise, and the learner would get no page)."""
        from nbconvert.filters.markdown_mistune import InvalidNotebook

        try:
            html = super().markdown2html(context, source)
        except InvalidNotebook:
            html = super().markdown2html(
                context, source.replace("](attachment:", "](missing-attachment:")
            )
        return markdown_cleaner().clean(html)

    def from_notebook_node(self, nb, resources=None, **kw):
        """The page, its pending answers marked, with its Content-Security-Policy."""
        html, resources = super().from_notebook_node(nb, resources, **kw)
        html = mark_pending(html, resources.get("nbgrader", {}).get("pending", {}))
        html = name_pieces(html, {p.grade_id: p.solution_id for p in graded_pieces(nb)})
        return with_content_security_policy(html), resources


def name_pieces(html: str, pieces: dict) -> str:
    """The page with each tests cell (grade_id -> the piece it grades) named by its piece, in the
    table of contents and in its cell's heading, where nbgrader's template writes `Test cell` and
    the cell's id."""
    for grade_id, piece in pieces.items():
        where, name = re.escape(grade_id), html_escape(piece)
        html = re.sub(rf'(<a href="#{where}">)Test cell(</a>)', rf"\g<1>Tests of {name}\g<2>", html)
        html = re.sub(
            rf'(<a name="{where}"></a>\s*<div '
            r'class="panel-heading">\s*<span class="nbgrader-label">)'
            rf"Grade cell: <code>{where}</code>",
            rf"\g<1>Tests of <code>{name}</code>",
            html,
        )
    return html


def mark_pending(html: str, pending: dict) -> str:
    """The page with `Score: 0.0 / P` of each pending answer (grade_id -> points) in the table of
    contents and in its cell's heading written `Score: not graded yet / P` (nbgrader's template can
    only print a number there)."""
    for grade_id in pending:
        where = re.escape(grade_id)
        html = re.sub(
            rf'(<a href="#{where}">[^<]*</a> \(Score: )[-0-9.]+( / )',
            r"\g<1>not graded yet\g<2>",
            html,
        )
        html = re.sub(
            rf'(<a name="{where}"></a>\s*<div '
            r'class="panel-heading">(?:(?!</div>).)*?Score: )[-0-9.]+( / )',
            r"\g<1>not graded yet\g<2>",
            html,
            flags=re.S,
        )
    return html


def place_mathjax(folder: Path) -> Path:
    """MATHJAX_PARTS of the jupyter-server-mathjax package, and MATHJAX_CONFIG, in folder/mathjax/
    (hard links where the file system allows, else copies; replaced if present). Returns that
    folder."""
    import shutil

    import jupyter_server_mathjax

    def link_or_copy(source, target):
        try:
            os.link(source, target)
        except OSError:  # another file system, or links not allowed
            shutil.copy2(source, target)

    package = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = folder / MATHJAX_FOLDER
    shutil.rmtree(target, ignore_errors=True)
    for part in MATHJAX_PARTS:
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        if (package / part).is_dir():
            shutil.copytree(
                package / part,
                target / part,
                copy_function=link_or_copy,
                ignore=shutil.ignore_patterns(*MATHJAX_LEFT_OUT),
            )
        else:
            link_or_copy(package / part, target / part)
    (target / "config" / "local").mkdir(parents=True, exist_ok=True)
    (target / "config" / "local" / "feedback.js").write_text(MATHJAX_CONFIG, encoding="utf-8")
    return target


def generate(
    course: Course, chapters: list[str], students: list[str] | None, progress, log
) -> list[list]:
    """Feedback for every autograded submission of the chapters (and students). Returns summary rows
    [student, chapter, score, max, pending (points of answers not graded by hand yet, or ""),
    result]; a page that would leak is deleted and reported."""
    import nbformat

    from .standing import pending_manual

    api = course.api()
    work_items = [
        (s, c)
        for c in chapters
        for s in (students or course.students(c))
        if (course.autograded(s, c) / f"{c}.ipynb").is_file()
    ]
    work = progress(len(work_items), "feedback")
    rows = []
    with course.gradebook() as gb:
        for student, chapter in work_items:
            with quiet_gradebook():
                result = api.generate_feedback(chapter, student, force=True)
            log.info(
                "generate_feedback %s %s: success=%s\n%s",
                student,
                chapter,
                result.get("success"),
                result.get("log", ""),
            )
            page = course.feedback_dir(student, chapter) / f"{chapter}.html"
            submission = gb.find_submission(chapter, student)
            outcome = "written"
            if not result.get("success") or not page.is_file():
                outcome = "failed (see the log)"
            else:
                found = leaks(
                    page.read_text(encoding="utf-8"),
                    course,
                    nbformat.read(course.source_notebook(chapter), as_version=4),
                )
                if found:
                    page.unlink()
                    outcome = "withheld: would show " + ", ".join(found)
                    log.error("feedback %s %s withheld: %s", student, chapter, found)
                else:
                    place_mathjax(page.parent)
            pending = sum(pending_manual(gb, student, chapter).values())
            rows.append(
                [
                    student,
                    chapter,
                    submission.score,
                    submission.max_score,
                    f"{pending:g} points" if pending else "",
                    outcome,
                ]
            )
            work.advance(f"{student} {chapter}")
    return rows
